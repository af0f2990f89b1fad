"""Sign-in and portal sessions.

Lockout per login identifier (an HMAC of it, so the table does not list who tried): the attempt
is *counted before* the password is checked, in a write transaction that locks the throttle row
(:mod:`gazportal.services.throttle`), so N parallel guesses get exactly ``max_failed_logins``
verifications and then the lock; an unknown user's password is "verified" against a dummy hash.
Sessions are opaque 256-bit tokens kept as an HMAC: absolute lifetime (``remember``: days, else
hours), idle timeout, revocation on sign-out, password change (other sessions) and reset (all)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from gazportal.db import read_session, write_session
from gazportal.models.auth import AuthSession
from gazportal.models.people import User
from gazportal.services import identity, passwords, throttle
from gazportal.services.auth._base import (
    MAX_USER_AGENT, TOUCH_EVERY, SignInRefused, _clean_token, _display_name, _identifier_hash, _lock_user, _now,
    _settings, _token_hash, _user_by_login,
)
from gazportal.services.errors import InvalidInput
from gazportal.services.ids import require_id

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings


@dataclass(frozen=True)
class SignIn:
    """A new session: the opaque token for the cookie, whose user, until when (UTC)."""

    token: str
    user_id: int
    expires_at: datetime
    remember: bool


@dataclass(frozen=True)
class SessionUser:
    """Who a live session belongs to, as :func:`resolve_session` finds it."""

    user_id: int
    session_id: int
    login: str
    display_name: str
    kind: str
    language: str
    remember: bool


def _throttle_key(s: "Settings", utility: "Utility", login: Any) -> tuple[str, str | None]:
    """(identifier hash, normalised login or None when it is not even well-formed)."""
    try:
        norm = identity.normalize_login(utility, login)
    except InvalidInput:
        text = login if isinstance(login, str) else repr(type(login))
        return _identifier_hash(s, utility, "login", "raw:" + text[:300].strip().lower()), None
    return _identifier_hash(s, utility, "login", norm), norm


def sign_in_policy(utility: "Utility") -> throttle.Policy:
    """The sign-in lock of ``profile``: ``max_failed_logins`` failures in a row (never forgotten
    until a success, a recovery or the end of the lock) lock for ``lockout_minutes``."""
    return throttle.Policy(max_failures=utility.max_failed_logins, lock=timedelta(minutes=utility.lockout_minutes))


def sign_in(engine: "Engine", utility: "Utility", login: Any, password: Any, *, remember: Any = False,
            now: datetime | None = None, user_agent: Any = "", settings: "Settings | None" = None) -> SignIn:
    """Sign in with a login (as the profile's ``login_identifier`` spells it) and a password;
    returns the new session's token for the browser (:func:`open_session`).

    Raises SignInRefused: ``errors.sign_in_failed`` (unknown login or wrong password, the same
    answer and time), ``errors.sign_in_locked`` with ``minutes`` (after the profile's
    ``max_failed_logins`` failures, :func:`sign_in_policy`; the right password is refused too
    while it lasts) and ``errors.sign_in_not_confirmed``. An outdated argon2 hash is replaced."""
    s = _settings(settings)
    now = _now(now)
    remember = remember is True
    ident, norm = _throttle_key(s, utility, login)
    locked_minutes: int | None = None
    just_locked = False
    user_id: int | None = None
    stored_hash: str | None = None
    policy = sign_in_policy(utility)
    with write_session(engine) as session:
        row = throttle.row(session, ident)
        locked_minutes = throttle.check(row, policy, now)  # an ended lock starts afresh
        if locked_minutes is None:
            # counted before the check: parallel guesses cannot overtake it
            just_locked = throttle.fail(session, row, policy, now)
            if norm is not None:
                user = _user_by_login(session, norm)
                if user is not None:
                    user_id, stored_hash = user.id, user.password_hash
    if locked_minutes is not None:
        raise SignInRefused("errors.sign_in_locked", minutes=locked_minutes)

    if stored_hash is not None:
        ok, needs_rehash = passwords.verify_password(stored_hash, password)
    else:
        passwords.dummy_verify(password)
        ok = needs_rehash = False
    if not ok:
        if just_locked:
            raise SignInRefused("errors.sign_in_locked", minutes=utility.lockout_minutes)
        raise SignInRefused("errors.sign_in_failed")
    assert user_id is not None  # the password matched the stored hash of a found user

    new_hash = passwords.hash_password(password) if needs_rehash else None
    with write_session(engine) as session:
        throttle.clear(session, throttle.row(session, ident))
        user = _lock_user(session, user_id)
        if user is None:  # removed meanwhile
            raise SignInRefused("errors.sign_in_failed")
        if new_hash is not None and user.password_hash == stored_hash:
            user.password_hash = new_hash
        inactive = not user.is_active
        session.add(user)
        if not inactive:
            signed = open_session(session, user, remember=remember, now=now, user_agent=user_agent, settings=s)
    if inactive:
        raise SignInRefused("errors.sign_in_not_confirmed")
    return signed


def session_token_hash(token: str, *, settings: "Settings | None" = None) -> str:
    """What the database keeps of a session token (HMAC-SHA256 with the secret key)."""
    return _token_hash(_settings(settings), "session", token)


def open_session(session: Session, user: User, *, remember: bool = False, now: datetime | None = None,
                 user_agent: Any = "", settings: "Settings | None" = None) -> SignIn:
    """Start a portal session for an already authenticated, active ``user`` in the caller's
    transaction (sign-in, single sign-on). Returns the token for the browser."""
    assert user.id is not None  # a stored user
    s = _settings(settings)
    now = _now(now)
    remember = remember is True
    token = secrets.token_urlsafe(32)  # 256 bits
    lifetime = timedelta(days=s.session_remember_days) if remember else timedelta(hours=s.session_absolute_hours)
    user.last_login_at = now
    session.add(user)
    session.add(AuthSession(
        user_id=user.id, token_hash=_token_hash(s, "session", token), remember=remember, created_at=now,
        last_seen_at=now, expires_at=now + lifetime,
        user_agent=user_agent[:MAX_USER_AGENT] if isinstance(user_agent, str) else "",
    ))
    session.flush()
    return SignIn(token=token, user_id=user.id, expires_at=now + lifetime, remember=remember)


def _session_row(session: Session, s: "Settings", token: Any) -> AuthSession | None:
    clean = _clean_token(token)
    if clean is None:
        return None
    return session.exec(
        select(AuthSession).where(AuthSession.token_hash == _token_hash(s, "session", clean))
    ).first()


def resolve_session(engine: "Engine", token: Any, *, now: datetime | None = None,
                    settings: "Settings | None" = None) -> SessionUser | None:
    """The signed-in user of a session token, or None (unknown, revoked, expired, idle)."""
    s = _settings(settings)
    now = _now(now)
    with read_session(engine) as session:
        row = _session_row(session, s, token)
        if row is None or row.revoked_at is not None or now >= row.expires_at:
            return None
        idle = timedelta(days=s.session_remember_days) if row.remember else timedelta(minutes=s.session_idle_minutes)
        if now - row.last_seen_at > idle:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        assert user.id is not None and row.id is not None  # both read from the database
        result = SessionUser(user_id=user.id, session_id=row.id, login=user.login,
                             display_name=_display_name(user), kind=user.kind,
                             language=user.language, remember=row.remember)
        touch = now - row.last_seen_at >= TOUCH_EVERY
        session_id = row.id
    if touch:
        with write_session(engine) as session:
            session.execute(sa.update(AuthSession).where(
                col(AuthSession.id) == session_id, col(AuthSession.last_seen_at) < now).values(last_seen_at=now))
    return result


def sign_out(engine: "Engine", token: Any, *, now: datetime | None = None,
             settings: "Settings | None" = None) -> None:
    """End the session of ``token`` (nothing happens for an unknown or malformed one)."""
    s = _settings(settings)
    now = _now(now)
    clean = _clean_token(token)
    if clean is None:
        return
    with write_session(engine) as session:
        session.execute(sa.update(AuthSession).where(
            col(AuthSession.token_hash) == _token_hash(s, "session", clean), col(AuthSession.revoked_at).is_(None),
        ).values(revoked_at=now))


def revoke_other_sessions(engine: "Engine", user_id: Any, keep_session_id: Any, *,
                          now: datetime | None = None) -> int:
    """Revoke every live session of the user but ``keep_session_id``; returns how many."""
    now = _now(now)
    user_id = require_id(user_id)
    keep = keep_session_id if isinstance(keep_session_id, int) and not isinstance(keep_session_id, bool) else -1
    with write_session(engine) as session:
        return _revoke(session, user_id, now, keep)


def _revoke(session: Session, user_id: int, now: datetime, keep: int = -1) -> int:
    result = session.exec(sa.update(AuthSession).where(
        col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None), col(AuthSession.id) != keep,
    ).values(revoked_at=now))
    return result.rowcount or 0
