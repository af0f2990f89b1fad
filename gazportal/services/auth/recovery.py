"""Password recovery (a link by e-mail or a code by SMS) and the change of a known password.

The reset request answers the same, in the same time, whether or not the identifier is
registered (everything is done in the background); a successful reset ends the sign-in lock and
every session; a change needs the current password and ends the other sessions."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from gazportal.db import read_session, write_session
from gazportal.models.auth import OneTimeSecret
from gazportal.models.people import User
from gazportal.services import identity, notify, passwords, throttle
from gazportal.services.auth._base import (
    CODE_TTL, RESET_LINK_TTL, SENDS_PER_HOUR, SecretRefused, _confirm,
    _greeting, _identifier_hash, _lang, _lock_user, _may_send,
    _new_password_errors, _now, _queue, _send_queued, _settings, _user_by_login, _user_id_for,
)
from gazportal.services.auth.demo import refuse_demo_changes
from gazportal.services.auth.reauth import verify_current_password
from gazportal.services.auth.secrets import _check_code, _issue_code, _issue_link, _sends_in_last_hour, _take_link
from gazportal.services.auth.sessions import SIGN_IN_SCOPE, _revoke
from gazportal.services.errors import FormErrors, NotFound, Notice
from gazportal.services.i18n import t
from gazportal.services.ids import require_id

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings


def _recovery_channel(utility: "Utility") -> str:
    return "sms" if utility.login_identifier == "phone" or utility.confirmation == "sms_code" else "email"


def request_reset(engine: "Engine", utility: "Utility", login: Any, *, now: datetime | None = None,
                  settings: "Settings | None" = None, source: Any = throttle.ANONYMOUS) -> str:
    """Send a reset link (e-mail) or code (SMS) if the identifier is registered, within the
    message limits (per destination, and per ``source``: the client address or device). Returns
    the channel ("email" | "sms"), the same whether or not it is. Works on a locked account.

    The lookup, the new secret and the message are all done in the background
    (:func:`notify.deliver_later`): the answer takes the same time for every identifier."""
    s = _settings(settings)
    now = _now(now)
    norm = identity.normalize_login(utility, login)  # a malformed identifier is a field error
    notify.deliver_later(_reset_job, engine, utility, norm, now, s, source)
    return _recovery_channel(utility)


def _reset_job(engine: "Engine", utility: "Utility", norm: str, now: datetime, s: "Settings",
               source: Any = throttle.ANONYMOUS) -> None:
    channel = _recovery_channel(utility)
    with write_session(engine) as session:
        found = _user_by_login(session, norm)
        # the user row first, then the message counters and the secrets: the order every writer
        # of a user's secrets keeps (secrets._link_owner), so two jobs never deadlock on PostgreSQL
        user = _lock_user(session, found.id) if found is not None and found.id is not None else None
        if user is None:
            return
        assert user.id is not None  # read from the database
        if _sends_in_last_hour(session, user.id, "reset", now) >= SENDS_PER_HOUR:
            return
        lang = _lang(utility, user.language)
        to = (user.phone or user.login) if channel == "sms" else user.email
        if not to or not _may_send(session, s, utility, to, source, now):
            return
        if channel == "sms":
            code = _issue_code(session, s, user.id, "reset", now)
            message: tuple = (notify.send_sms, to,
                              t("sms.reset_code", lang, code=code, portal=utility.short_name,
                                minutes=int(CODE_TTL.total_seconds() // 60)))
        else:
            token = _issue_link(session, s, user.id, "reset", RESET_LINK_TTL, now)
            link = notify.public_link("/reset", settings=s, token=token)
            message = (notify.send_mail, to, t("mail.reset_subject", lang, portal=utility.short_name),
                       t("mail.reset_body", lang, greeting=_greeting(utility, user, lang), link=link,
                         portal=utility.short_name, minutes=int(RESET_LINK_TTL.total_seconds() // 60)))
    # sent after the commit: the secret exists before the customer can use it
    message[0](*message[1:], settings=s)


def _set_password(session: Session, s: "Settings", utility: "Utility", user: User, new_hash: str,
                  now: datetime) -> None:
    user.password_hash = new_hash
    user.password_changed_at = now
    session.add(user)
    # a successful recovery proves the holder and replaces the password: the episode of failures ends
    throttle.forget_target(session, SIGN_IN_SCOPE, _identifier_hash(s, utility, "login", user.login))


def reset_password_with_link(engine: "Engine", utility: "Utility", token: Any, password: Any, password2: Any, *,
                             now: datetime | None = None, settings: "Settings | None" = None) -> int:
    """Set a new password with a reset link: clears the lock, ends every session, returns the
    user id. The link is used only when the new password is acceptable."""
    s = _settings(settings)
    now = _now(now)
    with read_session(engine) as session:
        row = _take_link(session, s, token, "reset", now)  # refuse a bad link before anything else
        owner = row.user_id
        user = session.get(User, owner)
        assert user is not None  # the link's row references the user
        related = [user.login, user.name, user.surname, user.email or "", user.phone or ""]
    errors = _new_password_errors(utility, password, password2, related)
    if errors:
        raise FormErrors(errors)
    new_hash = passwords.hash_password(password)
    with write_session(engine) as session:
        user = _lock_user(session, owner)  # the user before its secrets (secrets._link_owner)
        if user is None or user.id is None:  # removed meanwhile (never confirmed, expired)
            raise SecretRefused("errors.link_invalid")
        row = _take_link(session, s, token, "reset", now)
        row.used_at = now
        session.add(row)
        _set_password(session, s, utility, user, new_hash, now)
        if not user.is_active:  # the link proves the address like a confirmation link
            _confirm(session, s, user, "email", now)
        _revoke(session, user.id, now, reason="password_changed")
        done = user.id
    _send_queued(session)
    return done


def reset_password_with_code(engine: "Engine", utility: "Utility", login: Any, code: Any, password: Any,
                             password2: Any, *, now: datetime | None = None,
                             settings: "Settings | None" = None) -> int:
    """Set a new password with an SMS reset code (same rules as the link)."""
    s = _settings(settings)
    now = _now(now)
    errors = _new_password_errors(utility, password, password2, [login] if isinstance(login, str) else [])
    if errors:
        raise FormErrors(errors)
    new_hash = passwords.hash_password(password)
    user_id = _user_id_for(engine, utility, login)

    def ok(session: Session, user: User, row: OneTimeSecret) -> int:
        _set_password(session, s, utility, user, new_hash, now)
        if not user.is_active:
            _confirm(session, s, user, "sms", now)
        assert user.id is not None  # a stored user
        _revoke(session, user.id, now, reason="password_changed")
        return user.id

    return _check_code(engine, s, user_id, "reset", code, now, ok)


def change_password(engine: "Engine", utility: "Utility", user_id: Any, current: Any, password: Any,
                    password2: Any, *, now: datetime | None = None, keep_session_id: Any = None,
                    settings: "Settings | None" = None, source: Any = throttle.ANONYMOUS) -> None:
    """Change the password: the current one is needed (:func:`reauth.verify_current_password`: a
    wrong one counts toward the sign-in lock of the login); ends the user's other sessions and
    tells the user's e-mail address (a security message: "if it was not you, restore access").
    Raises FormErrors on ``current``, ``password``, ``password2``; NotFound for an unknown user;
    ``DemoReadOnly`` for the shared demo customer in demo mode."""
    s = _settings(settings)
    now = _now(now)
    user_id = require_id(user_id)
    with read_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("errors.not_found")
        refuse_demo_changes(user, s)
        related = [user.login, user.name, user.surname, user.email or "", user.phone or ""]
    errors = _new_password_errors(utility, password, password2, related)
    stored: str | None = None
    try:
        stored = verify_current_password(engine, utility, user_id, current, now=now, settings=s, source=source)
    except FormErrors as e:
        errors.update(e.fields)
    if "password" not in errors and stored is not None and password == current:
        errors["password"] = Notice("errors.password_same_as_current")
    if errors:
        raise FormErrors(errors)
    new_hash = passwords.hash_password(password)
    keep = keep_session_id if isinstance(keep_session_id, int) and not isinstance(keep_session_id, bool) else -1
    with write_session(engine) as session:
        user = _lock_user(session, user_id)
        assert user is not None  # found just above; users are never deleted once confirmed
        if user.password_hash != stored:  # changed meanwhile by another session
            raise FormErrors({"current": Notice("errors.current_password_wrong")})
        _set_password(session, s, utility, user, new_hash, now)
        _revoke(session, user_id, now, keep, reason="password_changed")
        _tell_password_changed(session, s, utility, user)
    _send_queued(session)


def _tell_password_changed(session: Session, s: "Settings", utility: "Utility", user: User) -> None:
    """The security message of a password change, to the user's e-mail address (none without one)."""
    if not user.email:
        return
    lang = _lang(utility, user.language)
    _queue(session, notify.send_mail, user.email, t("mail.password_changed_subject", lang, portal=utility.short_name),
           t("mail.password_changed_body", lang, greeting=_greeting(utility, user, lang), portal=utility.short_name,
             recover=notify.public_link("/recover", settings=s)),
           settings=s)
