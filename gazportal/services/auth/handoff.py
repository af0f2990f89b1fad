"""Handing a new session to the browser as an HttpOnly cookie.

A sign-in happens over the websocket, which cannot set an HttpOnly cookie. So the sign-in opens
the session on the server and leaves a **hand-over code** (256 random bits, single use, 60
seconds; the database keeps only its HMAC, as ``OneTimeSecret(purpose='sign_in', channel='web',
target=<session id>)``). The page posts the code to ``/_gp/session`` (``gazportal/session_http.py``),
which calls :func:`claim` and answers with the cookie. :func:`claim` gives the session a **new**
token, so the token that ``open_session`` made never leaves the server, and nothing that travels
over the websocket can be used as a session.

Rule from: OWASP ASVS 5 V7.2 (session tokens in HttpOnly cookies), V7.2.4 (a new token at
authentication).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col, select

from gazportal.db import write_session
from gazportal.models.auth import AuthSession, OneTimeSecret
from gazportal.services.auth._base import _clean_token, _now, _settings, _token_hash
from gazportal.services.auth.sessions import _session_row
from gazportal.services.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

HANDOFF_TTL = timedelta(seconds=60)
PURPOSE = "sign_in"


class HandoffRefused(DomainError):
    key = "errors.link_invalid"


@dataclass(frozen=True)
class Claimed:
    """The session a hand-over code stood for, with its new token (for the cookie)."""

    token: str
    user_id: int
    remember: bool
    expires_at: datetime


def issue(engine: "Engine", token: str, *, now: datetime | None = None) -> str:
    """A hand-over code for the session of ``token`` (just made by ``sign_in`` or ``open_session``).
    Raises HandoffRefused when the token names no live session."""
    s = _settings(None)
    now = _now(now)
    code = secrets.token_urlsafe(32)
    with write_session(engine) as session:
        row = _session_row(session, s, token)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise HandoffRefused()
        session.add(OneTimeSecret(
            user_id=row.user_id, purpose=PURPOSE, channel="web", kind="link",
            secret_hash=_token_hash(s, "handoff", code), target=str(row.id),
            created_at=now, expires_at=now + HANDOFF_TTL,
        ))
    return code


def claim(engine: "Engine", code: Any, *, now: datetime | None = None) -> Claimed:
    """Use a hand-over code once: the session gets a new token, returned for the cookie.

    Raises HandoffRefused for an unknown, used or expired code, or a session that has ended."""
    s = _settings(None)
    now = _now(now)
    clean = _clean_token(code)
    if clean is None:
        raise HandoffRefused()
    with write_session(engine) as session:
        stmt = select(OneTimeSecret).where(
            OneTimeSecret.secret_hash == _token_hash(s, "handoff", clean),
            OneTimeSecret.purpose == PURPOSE,
        )
        row = session.exec(stmt.with_for_update()).first()
        if row is None or row.used_at is not None or row.expires_at <= now or not (row.target or "").isdigit():
            raise HandoffRefused()
        row.used_at = now
        session.add(row)
        live = session.get(AuthSession, int(row.target or 0))
        if live is None or live.revoked_at is not None or live.expires_at <= now:
            raise HandoffRefused()
        token = secrets.token_urlsafe(32)
        session.execute(sa.update(AuthSession).where(col(AuthSession.id) == live.id).values(
            token_hash=_token_hash(s, "session", token), last_seen_at=now))
        return Claimed(token=token, user_id=live.user_id, remember=live.remember, expires_at=live.expires_at)
