"""One-time secrets: e-mail links (256 bits) and SMS codes (6 digits), stored only as an HMAC
keyed with ``settings.secret_key``; single use, expiring, a code allows at most
:data:`CODE_MAX_ATTEMPTS` tries; issuing a new one retires the earlier ones of that purpose, and
at most :data:`SENDS_PER_HOUR` are issued per user and purpose. A writer that changes a user and
its secrets locks the user row first (:func:`_link_owner`)."""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from gazportal.db import is_sqlite, read_session, write_session
from gazportal.models.auth import OneTimeSecret
from gazportal.models.people import User
from gazportal.services.auth._base import (
    CODE_DIGITS, CODE_MAX_ATTEMPTS, CODE_TTL, SecretRefused, _clean_token, _code_hash, _lock_user, _send_queued,
    _token_hash,
)

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Settings


def _sends_in_last_hour(session: Session, user_id: int, purpose: str, now: datetime) -> int:
    return session.exec(
        select(sa.func.count()).select_from(OneTimeSecret).where(
            OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == purpose,
            OneTimeSecret.created_at > now - timedelta(hours=1),
        )
    ).one()


def _retire(session: Session, user_id: int, purpose: str, now: datetime) -> None:
    """Earlier unused secrets of this purpose stop working when a new one is issued."""
    session.exec(
        sa.update(OneTimeSecret)
        .where(col(OneTimeSecret.user_id) == user_id, col(OneTimeSecret.purpose) == purpose,
               col(OneTimeSecret.used_at).is_(None))
        .values(used_at=now)
    )


def _retire_all(session: Session, user_id: int, now: datetime) -> None:
    """Every unused secret of the user stops working (a new registration attempt replaces the
    pending one)."""
    session.exec(
        sa.update(OneTimeSecret)
        .where(col(OneTimeSecret.user_id) == user_id, col(OneTimeSecret.used_at).is_(None))
        .values(used_at=now)
    )


def _issue_link(session: Session, settings: "Settings", user_id: int, purpose: str, ttl: timedelta,
                now: datetime, target: str | None = None, session_id: int | None = None) -> str:
    _retire(session, user_id, purpose, now)
    token = secrets.token_urlsafe(32)  # 256 bits
    session.add(OneTimeSecret(
        user_id=user_id, purpose=purpose, channel="email", kind="link",
        secret_hash=_token_hash(settings, "link", token), target=target, session_id=session_id,
        created_at=now, expires_at=now + ttl,
    ))
    session.flush()
    return token


def _issue_code(session: Session, settings: "Settings", user_id: int, purpose: str, now: datetime,
                target: str | None = None) -> str:
    _retire(session, user_id, purpose, now)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(OneTimeSecret(
        user_id=user_id, purpose=purpose, channel="sms", kind="code",
        secret_hash=_code_hash(settings, user_id, purpose, code), target=target,
        created_at=now, expires_at=now + CODE_TTL,
    ))
    session.flush()
    return code


def _link_owner(engine: "Engine", settings: "Settings", token: Any, purpose: str, now: datetime) -> int:
    """The user id of a valid link (read without a lock), or SecretRefused. Writers lock the user
    first and then :func:`_take_link` again (every writer locks a user before its secrets, so
    two of them never wait for each other)."""
    with read_session(engine) as session:
        return _take_link(session, settings, token, purpose, now).user_id


def _take_link(session: Session, settings: "Settings", token: Any, purpose: str, now: datetime) -> OneTimeSecret:
    """The valid link secret for ``token`` (locked), or SecretRefused. Does not mark it used."""
    clean = _clean_token(token)
    if clean is None:
        raise SecretRefused("errors.link_invalid")
    stmt = select(OneTimeSecret).where(
        OneTimeSecret.secret_hash == _token_hash(settings, "link", clean),
        OneTimeSecret.purpose == purpose, OneTimeSecret.kind == "link",
    )
    if not is_sqlite(session):
        stmt = stmt.with_for_update()
    row = session.exec(stmt).first()
    if row is None or row.used_at is not None:
        raise SecretRefused("errors.link_invalid")
    if row.expires_at <= now:
        raise SecretRefused("errors.link_expired")
    return row


def _clean_code(code: Any) -> str | None:
    if isinstance(code, bool) or not isinstance(code, str):
        return None
    code = code.strip()
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def _check_code(engine: "Engine", settings: "Settings", user_id: int | None, purpose: str, code: Any,
                now: datetime, on_success: Callable[[Session, User, OneTimeSecret], Any]) -> Any:
    """Count one attempt against the user's current code and, if it is right, run ``on_success``
    in the same transaction (the code is then used). Raises SecretRefused otherwise; a failed
    attempt is committed before the error is raised."""
    clean = _clean_code(code)
    refusal: str | None = None
    result: Any = None
    with write_session(engine) as session:
        user = _lock_user(session, user_id) if user_id is not None else None  # the user before its secrets
        if user is None or user_id is None:
            refusal = "errors.code_invalid"
        else:
            stmt = select(OneTimeSecret).where(
                OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == purpose,
                col(OneTimeSecret.kind) == "code", col(OneTimeSecret.used_at).is_(None),
            ).order_by(col(OneTimeSecret.id).desc())
            if not is_sqlite(session):
                stmt = stmt.with_for_update()
            row = session.exec(stmt).first()
            if row is None:
                refusal = "errors.code_invalid"
            elif row.expires_at <= now:
                refusal = "errors.code_expired"
            elif row.attempts >= CODE_MAX_ATTEMPTS:
                refusal = "errors.code_attempts_exceeded"
            else:
                row.attempts += 1
                session.add(row)
                expected = _code_hash(settings, user_id, purpose, clean or "")
                if clean is not None and hmac.compare_digest(expected, row.secret_hash):
                    row.used_at = now
                    result = on_success(session, user, row)
                else:
                    refusal = ("errors.code_attempts_exceeded" if row.attempts >= CODE_MAX_ATTEMPTS
                               else "errors.code_invalid")
    _send_queued(session)  # what on_success queued (e.g. the holders told of a confirmation)
    if refusal:
        raise SecretRefused(refusal)
    return result
