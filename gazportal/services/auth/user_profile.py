"""The customer's own data: reading and changing the profile fields, and the change of the
e-mail address (confirmed by a link sent to the new address).

A new e-mail address or phone number needs the current password (:mod:`.reauth`: a wrong one
counts toward the sign-in lock). The old address is told at once, with a link that cancels the
change while it waits and undoes it for :data:`EMAIL_UNDO_TTL` after it is made
(:func:`undo_email_change`: the old address comes back, every session ends and the password must
be chosen anew, since whoever made the change knew it). When the change is made, every other
session of the user ends. A new phone number is told to the e-mail address."""
from __future__ import annotations

import functools
import secrets as _secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable

from sqlmodel import Session, col, select

from sqlalchemy.exc import IntegrityError

from gazportal.db import read_session, write_session
from gazportal.models.auth import OneTimeSecret
from gazportal.models.people import User
from gazportal.services import identity, notify, throttle
from gazportal.services.auth._base import (
    EMAIL_CHANGE_TTL, EMAIL_UNDO_TTL, NAME_MAX, RESET_LINK_TTL, SENDS_PER_HOUR, SecretRefused, _delete_user, _field,
    _greeting, _lang, _lock_user, _mask_email, _mask_phone, _may_send, _now, _queue, _require_dict, _send_queued,
    _settings, _user_by_look,
)
from gazportal.services.auth.demo import refuse_demo_changes
from gazportal.services.auth.reauth import verify_current_password
from gazportal.services.auth.secrets import _issue_link, _link_owner, _retire, _sends_in_last_hour, _take_link
from gazportal.services.auth.sessions import _revoke
from gazportal.services.errors import FormErrors, InvalidInput, NotFound, Notice
from gazportal.services.i18n import t
from gazportal.services.ids import require_id

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings


@dataclass(frozen=True)
class UserProfile:
    """The customer's own data as the profile page shows it."""

    user_id: int
    login: str
    surname: str
    name: str
    email: str | None
    email_verified: bool
    pending_email: str | None  # a new address waiting for its confirmation link
    phone: str | None
    phone_verified: bool
    birth_date: date | None
    gender: str | None
    language: str
    kind: str
    bin: str | None


def _pending_email(session: Session, user_id: int, now: datetime) -> str | None:
    return session.exec(
        select(OneTimeSecret.target).where(
            OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == "email_change",
            col(OneTimeSecret.used_at).is_(None), col(OneTimeSecret.expires_at) > now,
        ).order_by(col(OneTimeSecret.id).desc()).limit(1)
    ).first()


def get_user_profile(session: Session, user_id: Any, *, now: datetime | None = None) -> UserProfile:
    """The customer's own data, with the e-mail address waiting for its link; NotFound for an
    unknown or malformed id."""
    user_id = require_id(user_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("errors.not_found")
    assert user.id is not None  # read from the database
    return UserProfile(
        user_id=user.id, login=user.login, surname=user.surname, name=user.name, email=user.email,
        email_verified=user.email_verified, pending_email=_pending_email(session, user.id, _now(now)),
        phone=user.phone, phone_verified=user.phone_verified, birth_date=user.birth_date,
        gender=user.gender, language=user.language, kind=user.kind, bin=user.bin,
    )


def _birth_date(raw: Any, now: datetime) -> date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 10:
        raise InvalidInput("errors.bad_date")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("errors.bad_date") from None
    if not date(1900, 1, 1) <= value <= now.date():
        raise InvalidInput("errors.birth_date_out_of_range")
    return value


def _gender(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    if raw in ("female", "male"):
        return raw
    raise InvalidInput("errors.gender_invalid")


def _language(utility: "Utility", raw: Any) -> str:
    if isinstance(raw, str) and raw in utility.languages:
        return raw
    raise InvalidInput("errors.language_invalid")


# field -> its check: (profile, the value sent, now) -> the value to store, or InvalidInput
_FIELD_CHECKS: dict[str, Callable[["Utility", Any, datetime], Any]] = {
    "surname": lambda utility, raw, now: identity.clean_text(raw, max_len=NAME_MAX),
    "name": lambda utility, raw, now: identity.clean_text(raw, max_len=NAME_MAX),
    "phone": lambda utility, raw, now: identity.validate_phone(utility, raw),
    "email": lambda utility, raw, now: identity.validate_email(raw),
    "birth_date": lambda utility, raw, now: _birth_date(raw, now),
    "gender": lambda utility, raw, now: _gender(raw),
    "language": lambda utility, raw, now: _language(utility, raw),
}
PROFILE_FIELDS = tuple(_FIELD_CHECKS)


def _read_changes(utility: "Utility", data: dict, now: datetime,
                  errors: dict[str, Notice]) -> dict[str, Any]:
    """The checked values of the fields present in ``data`` (errors for the wrong ones)."""
    values: dict[str, Any] = {}
    for key, check in _FIELD_CHECKS.items():
        if key in data:
            value = _field(errors, key, functools.partial(check, utility, data[key], now))
            if key not in errors:
                values[key] = value
    return values


def _contact_changes(user: User, values: dict[str, Any], new_email: str | None) -> bool:
    """Whether the form changes the e-mail address or the phone number."""
    return bool(new_email and new_email != user.email) or ("phone" in values and values["phone"] != user.phone)


def update_user_profile(engine: "Engine", utility: "Utility", user_id: Any, data: Any, *,
                        now: datetime | None = None, settings: "Settings | None" = None,
                        current_password: Any = None, session_id: Any = None,
                        source: Any = throttle.ANONYMOUS) -> UserProfile:
    """Change the fields present in ``data`` (a dict with some of :data:`PROFILE_FIELDS`; a birth
    date as ``YYYY-MM-DD``; gender female | male | empty; a language of the profile). A new e-mail
    or phone needs ``current_password`` (a wrong one counts toward the sign-in lock). A new e-mail
    is not set here: a confirmation link goes to the new address (see :func:`confirm_email_change`)
    and a notice with a cancel link to the old one; ``session_id`` is the session that asks (it
    stays signed in when the change is made). ``source``: the client address or device, for the
    message limits.
    Raises FormErrors per wrong field (``current`` for the password: nothing is changed then),
    NotFound for an unknown user, InvalidInput ("errors.too_many_requests") after too many
    e-mail changes in an hour, ``DemoReadOnly`` for the shared demo customer in demo mode."""
    s = _settings(settings)
    now = _now(now)
    user_id = require_id(user_id)
    errors: dict[str, Notice] = {}
    values = _read_changes(utility, _require_dict(data), now, errors)
    new_email = values.pop("email", None)
    with read_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("errors.not_found")
        refuse_demo_changes(user, s)
        if (utility.login_identifier == "phone" and "phone" in values and values["phone"]
                and values["phone"] != user.phone):
            errors["phone"] = Notice("errors.phone_is_login")
        asks_password = _contact_changes(user, values, new_email)
    if errors:
        raise FormErrors(errors)
    stored = None
    if asks_password and current_password in (None, ""):
        raise FormErrors({"current": Notice("errors.current_password_for_contact")})
    if asks_password:
        stored = verify_current_password(engine, utility, user_id, current_password, now=now, settings=s,
                                         source=source)
    keep = session_id if isinstance(session_id, int) and not isinstance(session_id, bool) else None
    with write_session(engine) as session:
        user = _lock_user(session, user_id)
        assert user is not None  # found just above; a confirmed user is never removed
        if _contact_changes(user, values, new_email) and user.password_hash != stored:
            raise FormErrors({"current": Notice("errors.current_password_for_contact")})  # changed meanwhile
        old_phone = user.phone
        for key, value in values.items():
            if key == "phone" and value != user.phone:
                user.phone_verified = False
            setattr(user, key, value)
        session.add(user)
        if new_email and new_email != user.email:
            _request_email_change(session, s, utility, user, new_email, now, keep, source)
        if user.phone != old_phone:
            _tell_phone_changed(session, s, utility, user)
        session.flush()
        result = get_user_profile(session, user_id, now=now)
    _send_queued(session)
    return result


def _tell(session: Session, s: "Settings", utility: "Utility", user: User, to: str, key: str, **params: Any) -> None:
    """A security message ``mail.<key>_subject`` / ``mail.<key>_body`` to ``to`` (after the commit)."""
    lang = _lang(utility, user.language)
    _queue(session, notify.send_mail, to, t(f"mail.{key}_subject", lang, portal=utility.short_name),
           t(f"mail.{key}_body", lang, greeting=_greeting(utility, user, lang), portal=utility.short_name, **params),
           settings=s)


def _tell_phone_changed(session: Session, s: "Settings", utility: "Utility", user: User) -> None:
    if user.email and user.phone:
        _tell(session, s, utility, user, user.email, "phone_changed", phone=_mask_phone(user.phone),
              recover=notify.public_link("/recover", settings=s))


def _undo_link(session: Session, s: "Settings", user: User, now: datetime) -> str:
    """A new "it was not me" link for the user's current (old) address."""
    assert user.id is not None and user.email is not None  # a stored user with an address
    token = _issue_link(session, s, user.id, "email_undo", EMAIL_UNDO_TTL, now, target=user.email)
    return notify.public_link("/email-undo", settings=s, token=token)


def _request_email_change(session: Session, s: "Settings", utility: "Utility", user: User, new_email: str,
                          now: datetime, keep_session: int | None, source: Any) -> None:
    assert user.id is not None  # a stored user
    if (_sends_in_last_hour(session, user.id, "email_change", now) >= SENDS_PER_HOUR
            or not _may_send(session, s, utility, new_email, source, now)):
        raise InvalidInput("errors.too_many_requests")
    token = _issue_link(session, s, user.id, "email_change", EMAIL_CHANGE_TTL, now, target=new_email,
                        session_id=keep_session)
    lang = _lang(utility, user.language)
    link = notify.public_link("/confirm-email", settings=s, token=token)
    # no name: the new address has not proved yet that it wants our mail
    _queue(
        session, notify.send_mail, new_email, t("mail.email_change_subject", lang, portal=utility.short_name),
        t("mail.email_change_body", lang, greeting=t("mail.hello", lang), link=link, portal=utility.short_name,
          hours=int(EMAIL_CHANGE_TTL.total_seconds() // 3600)),
        settings=s,
    )
    if user.email:
        _tell(session, s, utility, user, user.email, "email_change_requested", new=_mask_email(new_email),
              undo=_undo_link(session, s, user, now), days=EMAIL_UNDO_TTL.days)


def _login_follows_email(user: User) -> bool:
    return user.email is not None and user.login == user.email and "@" in user.login


def _free_login(session: Session, user: User, login: str) -> bool:
    """Whether ``user`` may take ``login``: nobody else has it or a look-alike of it, or only a
    registration that was never confirmed (removed here: it has not proved the address)."""
    other = _user_by_look(session, login)
    if other is None or other.id == user.id:
        return True
    if other.is_active or other.id is None:
        return False
    try:
        with session.begin_nested():
            _delete_user(session, other.id)
    except IntegrityError:
        return False
    return True


def _set_login(user: User, login: str) -> None:
    user.login, user.login_skeleton = login, identity.login_skeleton(login)


def confirm_email_change(engine: "Engine", token: Any, *, now: datetime | None = None,
                         settings: "Settings | None" = None) -> int:
    """Set the new e-mail address of a change link; returns the user id. Every session of the
    user but the one that asked for the change ends, and the old address gets a notice with an
    undo link. If the e-mail is also the login and the new address (or a look-alike of it) is a
    confirmed user's meanwhile, the link is refused (SecretRefused ``errors.email_taken``)."""
    s = _settings(settings)
    now = _now(now)
    owner = _link_owner(engine, s, token, "email_change", now)
    taken = False
    with write_session(engine) as session:
        user = _lock_user(session, owner)  # the user before its secrets
        assert user is not None and user.id is not None  # a confirmed user is never removed
        row = _take_link(session, s, token, "email_change", now)
        row.used_at = now
        session.add(row)
        new_email = row.target
        assert new_email is not None  # an email_change link always carries the new address
        old_email = user.email
        if _login_follows_email(user) and new_email != user.login:
            if _free_login(session, user, new_email):
                _set_login(user, new_email)
            else:
                taken = True
        if not taken:
            undo = _undo_link(session, s, user, now) if old_email else ""
            user.email = new_email
            user.email_verified = True
            session.add(user)
            _revoke(session, user.id, now, row.session_id if row.session_id is not None else -1,
                    reason="email_changed")
            if old_email:
                _tell(session, s, s.utility, user, old_email, "email_changed", new=_mask_email(new_email),
                      undo=undo, days=EMAIL_UNDO_TTL.days)
        user_id = user.id
    _send_queued(session)
    if taken:
        raise SecretRefused("errors.email_taken")
    return user_id


@dataclass(frozen=True)
class EmailUndone:
    """What :func:`undo_email_change` did: the address in use now (the old one), whether a change
    that was made is undone (False: a waiting change was cancelled) and a one-time token of the
    password reset page (``/reset?token=...``) where the customer chooses a new password."""

    user_id: int
    email: str
    undone: bool
    reset_token: str


def undo_email_change(engine: "Engine", token: Any, *, now: datetime | None = None,
                      settings: "Settings | None" = None) -> EmailUndone:
    """The "it was not me" link sent to the old address of an e-mail change: a waiting change is
    cancelled, a change made less than :data:`EMAIL_UNDO_TTL` ago is undone (the old address, and
    the login where it is the login, come back), every session of the user ends and the password
    stops working (whoever made the change knew it): the answer carries a reset token to choose a
    new one. Raises SecretRefused (``errors.link_invalid`` / ``link_expired``; ``email_taken``
    when the old address is a confirmed user's login meanwhile)."""
    s = _settings(settings)
    now = _now(now)
    owner = _link_owner(engine, s, token, "email_undo", now)
    with write_session(engine) as session:
        user = _lock_user(session, owner)
        assert user is not None and user.id is not None  # a confirmed user is never removed
        row = _take_link(session, s, token, "email_undo", now)
        old_email = row.target
        assert old_email is not None  # an email_undo link always carries the old address
        undone = user.email != old_email
        if undone and _login_follows_email(user):
            if not _free_login(session, user, old_email):
                raise SecretRefused("errors.email_taken")
            _set_login(user, old_email)
        row.used_at = now
        session.add(row)
        _retire(session, user.id, "email_change", now)
        user.email, user.email_verified = old_email, True
        user.password_hash = "!" + _secrets.token_hex(16)  # no password works until a new one is chosen
        session.add(user)
        _revoke(session, user.id, now, reason="email_changed")
        reset = _issue_link(session, s, user.id, "reset", RESET_LINK_TTL, now)
        return EmailUndone(user_id=user.id, email=old_email, undone=undone, reset_token=reset)
