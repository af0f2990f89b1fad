"""What the parts of :mod:`gazportal.services.auth` share: limits, errors, the clock and the
settings, HMACs of tokens and identifiers, user lookups, form-field helpers and the queue of
messages sent after a commit. Private to the package."""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from gazportal.db import is_sqlite, read_session
from gazportal.models.accounts import AccountLinkRemoval, UserAccountLink
from gazportal.models.auth import AuthSession, KnownDevice, OneTimeSecret
from gazportal.models.people import User
from gazportal.services import identity, notify, passwords, throttle
from gazportal.services.errors import DomainError, InvalidInput, Notice
from gazportal.services.i18n import t

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CONFIRM_LINK_TTL = timedelta(hours=24)
RESET_LINK_TTL = timedelta(hours=1)
EMAIL_CHANGE_TTL = timedelta(hours=24)
EMAIL_UNDO_TTL = timedelta(days=7)  # the old address can cancel or undo an e-mail change this long
SENDS_PER_HOUR = 5  # confirmation / reset messages per user and purpose
# Messages that anyone can make the portal send (confirmation, "already registered", reset, a new
# address's link), counted per destination (e-mail address or phone number, every purpose
# together) and per source (the client address or device that asked), in a sliding hour:
MESSAGES_PER_DESTINATION = 10
MESSAGES_PER_SOURCE = 20
MESSAGE_WINDOW = timedelta(hours=1)
ALREADY_REGISTERED_EVERY = timedelta(hours=24)  # "someone tried to register": once a day per login
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 200
MAX_USER_AGENT = 300
NAME_MAX = 100

# the message helpers live in notify (accounts use them too); the auth package's old names
_mask_email, _mask_phone = notify.mask_email, notify.mask_phone
_message_to, _queue, _send_queued = notify.message_to, notify.queue, notify.send_queued


class SignInRefused(DomainError):
    """Sign-in refused: failed, locked (``minutes``) or not confirmed yet."""

    key = "errors.sign_in_failed"


class SecretRefused(DomainError):
    """A link or code that is unknown, used, expired, foreign or out of attempts."""

    key = "errors.link_invalid"


def _settings(settings: "Settings | None") -> "Settings":
    if settings is not None:
        return settings
    from gazportal.settings import get_settings

    return get_settings()


def _now(now: Any) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidInput("errors.invalid_input")
    return now.astimezone(UTC)


def _mac(settings: "Settings", label: str, value: str) -> str:
    return hmac.new(settings.secret_key, f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _token_hash(settings: "Settings", kind: str, token: str) -> str:
    return _mac(settings, kind, token)


def _code_hash(settings: "Settings", user_id: int, purpose: str, code: str) -> str:
    return _mac(settings, "code", f"{user_id}:{purpose}:{code}")


def _identifier_hash(settings: "Settings", utility: "Utility", scope: str, login: str) -> str:
    return throttle.identifier_hash(settings, utility.id, scope, login)


def _clean_token(token: Any) -> str | None:
    if not isinstance(token, str) or not 16 <= len(token) <= MAX_TOKEN:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", token):
        return None
    return token


def _lock_user(session: Session, user_id: int) -> User | None:
    stmt = select(User).where(User.id == user_id)
    if not is_sqlite(session):
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _user_by_login(session: Session, login: str) -> User | None:
    return session.exec(select(User).where(User.login == login)).first()


def _user_by_look(session: Session, login: str) -> User | None:
    """The user whose login is ``login``, else a confirmed user whose login looks like it
    (:func:`identity.login_skeleton`). A registration not confirmed yet holds only its own
    spelling: a look-alike registered by someone else is another attempt, and whichever is
    confirmed first keeps the look (:func:`_confirm_look`)."""
    return _user_by_login(session, login) or session.exec(
        select(User).where(User.login_skeleton == identity.login_skeleton(login), col(User.is_active))).first()


def _confirm_look(session: Session, user: User) -> None:
    """Before ``user`` (locked, not confirmed yet) is confirmed: SecretRefused("errors.login_taken")
    when a look-alike login was confirmed meanwhile (the other attempts of look-alike logins stay
    until the purge of registrations never confirmed; their links get this answer)."""
    if user.login_skeleton is None or user.is_active:
        return
    if session.exec(select(User.id).where(User.login_skeleton == user.login_skeleton, User.id != user.id,
                                          col(User.is_active))).first() is not None:
        raise SecretRefused("errors.login_taken")


def _attempt_mark(settings: "Settings", password_hash: str) -> str:
    """What a confirmation secret keeps of the registration attempt it belongs to (each attempt
    has its own password hash, salted afresh)."""
    return _mac(settings, "attempt", password_hash)


def _greeting(utility: "Utility", user: User, lang: str) -> str:
    """The first line of a message to ``user.email``: with the name only when the address is
    confirmed (the name was typed by whoever registered: a stranger's text never goes to an
    address that has not proved it wants our mail)."""
    if user.email_verified and user.name:
        return t("mail.hello_name", lang, name=user.name)
    return t("mail.hello", lang)


def _may_send(session: Session, settings: "Settings", utility: "Utility", to: str, source: Any,
              now: datetime) -> bool:
    """Count one message to ``to`` (an e-mail address or a phone number) asked for by ``source``
    (a :class:`throttle.Source`: its address, else its device; anonymous when not known) in this transaction. False, and nothing
    counted for the address, when the source has asked for :data:`MESSAGES_PER_SOURCE` messages in
    the last :data:`MESSAGE_WINDOW`; False when the address has been sent
    :data:`MESSAGES_PER_DESTINATION`. The caller then sends nothing and answers as usual."""
    src = throttle.as_source(source)
    key = src.address_key() or src.device  # the address first: a device cookie is easy to drop
    if key:
        row = throttle.row(session, _identifier_hash(settings, utility, "message_from", key))
        if throttle.count_in_window(session, row, MESSAGES_PER_SOURCE, MESSAGE_WINDOW, now) is not None:
            return False
    row = throttle.row(session, _identifier_hash(settings, utility, "message_to", to.strip().lower()))
    return throttle.count_in_window(session, row, MESSAGES_PER_DESTINATION, MESSAGE_WINDOW, now) is None


def _delete_user(session: Session, user_id: int) -> None:
    """Remove a user who never confirmed the registration, with the secrets, sessions and account
    links that belong to it, its known devices and the holders' removals of its links
    (IntegrityError when anything else still refers to it)."""
    for model in (OneTimeSecret, AuthSession, UserAccountLink, KnownDevice, AccountLinkRemoval):
        session.execute(sa.delete(model).where(col(model.user_id) == user_id))
    session.execute(sa.update(AccountLinkRemoval).where(col(AccountLinkRemoval.removed_by) == user_id)
                    .values(removed_by=None))
    session.execute(sa.delete(User).where(col(User.id) == user_id))


def _display_name(user: User) -> str:
    return f"{user.name} {user.surname}".strip()


def _lang(utility: "Utility", lang: Any) -> str:
    return lang if isinstance(lang, str) and lang in utility.languages else utility.default_language


def _field(errors: dict[str, Notice], name: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except InvalidInput as e:
        errors[name] = Notice(e.key, dict(e.params))
        return None


def _require_dict(form: Any) -> dict:
    if not isinstance(form, dict):
        raise InvalidInput("errors.invalid_input")
    return form


def _bool_field(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "on", "1", "yes"))


def _activate(user: User, channel: str) -> None:
    user.is_active = True
    if channel == "email":
        user.email_verified = True
    else:
        user.phone_verified = True


def _confirm(session: Session, settings: "Settings", user: User, channel: str, now: datetime) -> None:
    """A registration is confirmed (by its link or code, or a reset that proves the address): no
    look-alike was confirmed meanwhile (:func:`_confirm_look`), the user is active, and the holders
    of its accounts hear of the new holder (queued: the caller sends after the commit)."""
    from gazportal.services.accounts import holders  # accounts builds on notify, not on auth

    _confirm_look(session, user)
    _activate(user, channel)
    session.add(user)
    holders.tell_on_confirmation(session, settings, settings.utility, user, now)


def _user_id_for(engine: "Engine", utility: "Utility", login: Any) -> int | None:
    try:
        norm = identity.normalize_login(utility, login)
    except InvalidInput:
        return None
    with read_session(engine) as session:
        user = _user_by_login(session, norm)
        return user.id if user is not None else None


def _new_password_errors(utility: "Utility", password: Any, password2: Any, related=()) -> dict[str, Notice]:
    errors: dict[str, Notice] = {}
    _field(errors, "password", lambda: passwords.check_password_policy(utility, password, related))
    if "password" not in errors and password2 != password:
        errors["password2"] = Notice("errors.password_mismatch")
    return errors
