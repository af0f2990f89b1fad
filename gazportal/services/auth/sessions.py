"""Sign-in and portal sessions.

Failed sign-ins are bound to their source (:mod:`gazportal.services.throttle`, :func:`sign_in_limits`):
a login is an HMAC'd target, the source is the browser's device cookie and the client address.
After the profile's ``max_failed_logins`` failures a source waits (1 minute, doubling, at most
``lockout_minutes``) — only that source: the holder's right password from elsewhere goes through.
Past ``max_failed_logins`` failures from sources that are not a known device of the holder (a
browser that signed in as them before), such sources must solve the CAPTCHA first, and the holder
is told once per episode. Each attempt is *counted before* the password is checked, in a write
transaction that locks the counters, so N parallel guesses from one source get exactly
``max_failed_logins`` verifications; a right password gives its count back. An unknown user's
password is "verified" against a dummy hash and counts the same way.
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
from gazportal.models._base import stored_id
from gazportal.services import identity, notify, passwords, throttle
from gazportal.services.auth._base import (
    MAX_USER_AGENT, TOUCH_EVERY, SignInRefused, _clean_token, _display_name, _identifier_hash, _lang, _lock_user,
    _message_to, _now, _settings, _token_hash, _user_by_login,
)
from gazportal.services.captcha import verify_solution
from gazportal.services.i18n import t
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
    role: str = "customer"  # customer | operator | supervisor | admin (services/staff.py)


def _throttle_key(s: "Settings", utility: "Utility", login: Any) -> tuple[str, str | None]:
    """(identifier hash, normalised login or None when it is not even well-formed)."""
    try:
        norm = identity.normalize_login(utility, login)
    except InvalidInput:
        text = login if isinstance(login, str) else repr(type(login))
        return _identifier_hash(s, utility, "login", "raw:" + text[:300].strip().lower()), None
    return _identifier_hash(s, utility, "login", norm), norm


SIGN_IN_SCOPE = "sign_in"
# Failed sign-ins from unknown sources on every login of the portal within SIGN_IN_GLOBAL_WINDOW
# after which every unknown source needs the CAPTCHA (against one guess on each of many logins).
# Our estimate, no seed gives one: in the busiest hour of a reading window a utility of 100 000
# accounts sees a few thousand sign-ins, about one in ten mistyped (~75 failures a quarter hour);
# 200 leaves room for that and stops a list of logins being tried at machine speed.
SIGN_IN_GLOBAL_CAPTCHA_AFTER = 200
SIGN_IN_GLOBAL_WINDOW = timedelta(minutes=15)


def sign_in_limits(utility: "Utility") -> throttle.Limits:
    """The sign-in limits of ``utility``: ``max_failed_logins`` free failures per (login, source)
    (SE seed: "more than 3 wrong passwords" lock), then a wait from 1 minute doubling up to
    ``lockout_minutes``; the CAPTCHA from unknown sources after ``max_failed_logins`` failures
    of such sources on the login, or :data:`SIGN_IN_GLOBAL_CAPTCHA_AFTER` on all logins."""
    return throttle.Limits(
        scope=SIGN_IN_SCOPE, free_failures=utility.max_failed_logins,
        longest_wait=timedelta(minutes=utility.lockout_minutes), captcha_after=utility.max_failed_logins,
        global_captcha_after=SIGN_IN_GLOBAL_CAPTCHA_AFTER, global_window=SIGN_IN_GLOBAL_WINDOW,
    )


def _attack_notice(s: "Settings", utility: "Utility", user: User, count: int) -> tuple | None:
    """The message that tells ``user`` their login is being guessed (by e-mail or SMS, as the
    profile reaches its customers), in their language."""
    lang = _lang(utility, user.language)
    params = {"portal": utility.short_name, "count": count, "name": user.name,
              "recover": notify.public_link("/recover", settings=s)}
    return _message_to(utility, user, s,
                       mail=(t("mail.sign_in_attack_subject", lang, **params),
                             t("mail.sign_in_attack_body", lang, **params)),
                       sms=t("sms.sign_in_attack", lang, **params))


def sign_in(engine: "Engine", utility: "Utility", login: Any, password: Any, *, remember: Any = False,
            now: datetime | None = None, user_agent: Any = "", settings: "Settings | None" = None,
            source: Any = throttle.ANONYMOUS, captcha: Any = None) -> SignIn:
    """Sign in with a login (as the profile's ``login_identifier`` spells it) and a password from
    ``source`` (a :class:`throttle.Source`; :data:`throttle.ANONYMOUS` when the caller knows
    none); ``captcha`` is the ALTCHA solution, asked for only when :func:`sign_in_limits` say so.
    Returns the new session's token for the browser (:func:`open_session`); the source's device
    becomes a known device of the user.

    Raises SignInRefused: ``errors.sign_in_failed`` (unknown login or wrong password, the same
    answer and time), ``errors.sign_in_locked`` with ``wait`` (a timedelta: this source's own
    failures; other sources are not affected), ``errors.sign_in_captcha`` (the CAPTCHA is
    required from this source and was not solved; nothing was checked or counted) and
    ``errors.sign_in_not_confirmed``. An outdated argon2 hash is replaced."""
    s = _settings(settings)
    now = _now(now)
    remember = remember is True
    src = throttle.as_source(source)
    target, norm = _throttle_key(s, utility, login)
    limits = sign_in_limits(utility)
    holder: tuple[int, str] | None = None  # a found user's id and stored hash
    notice = None
    with write_session(engine) as session:
        user = _user_by_login(session, norm) if norm is not None else None
        known = throttle.is_known_device(session, stored_id(user) if user is not None else 0, src)
        verdict = throttle.admit(session, limits, target, src, known=known, now=now,
                                 captcha=lambda: verify_solution(captcha, settings=s, now=now))
        if verdict.attempt is not None and user is not None:
            holder = (stored_id(user), user.password_hash)
            if verdict.tell_holder:
                notice = _attack_notice(s, utility, user, verdict.failures)
    attempt = verdict.attempt
    if attempt is None:
        if verdict.wait is not None:
            raise SignInRefused("errors.sign_in_locked", wait=verdict.wait)
        raise SignInRefused("errors.sign_in_captcha")

    if holder is not None:
        ok, needs_rehash = passwords.verify_password(holder[1], password)
    else:
        passwords.dummy_verify(password)
        ok = needs_rehash = False
    if not ok:
        if notice is not None:
            notify.deliver_later(notice[0], *notice[1], **notice[2])
        if verdict.wait_if_failed is not None:
            raise SignInRefused("errors.sign_in_locked", wait=verdict.wait_if_failed)
        raise SignInRefused("errors.sign_in_failed")
    assert holder is not None  # the password matched the stored hash of a found user
    user_id, stored_hash = holder

    new_hash = passwords.hash_password(password) if needs_rehash else None
    with write_session(engine) as session:
        user = _lock_user(session, user_id)
        if user is None:  # removed meanwhile
            raise SignInRefused("errors.sign_in_failed")
        throttle.succeeded(session, attempt)  # a right password never counts
        if new_hash is not None and user.password_hash == stored_hash:
            user.password_hash = new_hash
        inactive = not user.is_active
        session.add(user)
        if not inactive:
            signed = open_session(session, user, remember=remember, now=now, user_agent=user_agent, settings=s,
                                  source=src)
    if inactive:
        raise SignInRefused("errors.sign_in_not_confirmed")
    return signed


def session_token_hash(token: str, *, settings: "Settings | None" = None) -> str:
    """What the database keeps of a session token (HMAC-SHA256 with the secret key)."""
    return _token_hash(_settings(settings), "session", token)


def open_session(session: Session, user: User, *, remember: bool = False, now: datetime | None = None,
                 user_agent: Any = "", settings: "Settings | None" = None, source: Any = None) -> SignIn:
    """Start a portal session for an already authenticated, active ``user`` in the caller's
    transaction (sign-in, single sign-on); ``source``'s device (a :class:`throttle.Source`)
    becomes a known device of the user. Returns the token for the browser."""
    assert user.id is not None  # a stored user
    s = _settings(settings)
    now = _now(now)
    remember = remember is True
    token = secrets.token_urlsafe(32)  # 256 bits
    lifetime = timedelta(days=s.session_remember_days) if remember else timedelta(hours=s.session_absolute_hours)
    user.last_login_at = now
    session.add(user)
    throttle.remember_device(session, user.id, throttle.as_source(source), now)
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
                             language=user.language, remember=row.remember, role=user.role)
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
        ).values(revoked_at=now, end_reason="signed_out"))


END_REASONS = ("signed_out", "password_changed", "email_changed", "timed_out")


def session_end(engine: "Engine", token: Any, *, now: datetime | None = None,
                settings: "Settings | None" = None) -> str | None:
    """Why the session of ``token`` is over — one of :data:`END_REASONS` — or None for a token
    that names no session (or a live one). What the sign-in page tells a customer whose page
    suddenly asks them to sign in (issue 14 point 19)."""
    s = _settings(settings)
    now = _now(now)
    with read_session(engine) as session:
        row = _session_row(session, s, token)
        if row is None:
            return None
        if row.revoked_at is not None:
            return row.end_reason if row.end_reason in END_REASONS else "signed_out"
        idle = timedelta(days=s.session_remember_days) if row.remember else timedelta(minutes=s.session_idle_minutes)
        if now >= row.expires_at or now - row.last_seen_at > idle:
            return "timed_out"
    return None


def revoke_other_sessions(engine: "Engine", user_id: Any, keep_session_id: Any, *,
                          now: datetime | None = None, reason: str = "signed_out") -> int:
    """Revoke every live session of the user but ``keep_session_id`` (``reason``: one of
    :data:`END_REASONS`); returns how many."""
    now = _now(now)
    user_id = require_id(user_id)
    keep = keep_session_id if isinstance(keep_session_id, int) and not isinstance(keep_session_id, bool) else -1
    with write_session(engine) as session:
        return _revoke(session, user_id, now, keep, reason=reason)


def _revoke(session: Session, user_id: int, now: datetime, keep: int = -1, *, reason: str = "signed_out") -> int:
    result = session.exec(sa.update(AuthSession).where(
        col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None), col(AuthSession.id) != keep,
    ).values(revoked_at=now, end_reason=reason))
    return result.rowcount or 0
