"""The customer's own data: reading and changing the profile fields, and the change of the
e-mail address (confirmed by a link sent to the new address)."""
from __future__ import annotations

import functools

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable

from sqlmodel import Session, col, select

from gazportal.db import read_session, write_session
from gazportal.models.auth import OneTimeSecret
from gazportal.models.people import User
from gazportal.services import identity, notify
from gazportal.services.auth._base import (
    EMAIL_CHANGE_TTL, NAME_MAX, SENDS_PER_HOUR, SecretRefused, _field, _lang, _lock_user, _now, _queue,
    _require_dict, _send_queued, _settings, _user_by_login,
)
from gazportal.services.auth.secrets import _issue_link, _sends_in_last_hour, _take_link
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


def update_user_profile(engine: "Engine", utility: "Utility", user_id: Any, data: Any, *,
                        now: datetime | None = None, settings: "Settings | None" = None) -> UserProfile:
    """Change the fields present in ``data`` (a dict with some of :data:`PROFILE_FIELDS`; a birth
    date as ``YYYY-MM-DD``; gender female | male | empty; a language of the profile). A new e-mail
    is not set here: a confirmation link goes to the new address (see :func:`confirm_email_change`).
    Raises FormErrors per wrong field, NotFound for an unknown user, InvalidInput
    ("errors.too_many_requests") after too many e-mail changes in an hour."""
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
        if (utility.login_identifier == "phone" and "phone" in values and values["phone"]
                and values["phone"] != user.phone):
            errors["phone"] = Notice("errors.phone_is_login")
    if errors:
        raise FormErrors(errors)
    with write_session(engine) as session:
        user = _lock_user(session, user_id)
        assert user is not None  # found just above; users are never deleted
        for key, value in values.items():
            if key == "phone" and value != user.phone:
                user.phone_verified = False
            setattr(user, key, value)
        session.add(user)
        if new_email and new_email != user.email:
            _request_email_change(session, s, utility, user, new_email, now)
        session.flush()
        result = get_user_profile(session, user_id, now=now)
    _send_queued(session)
    return result


def _request_email_change(session: Session, s: "Settings", utility: "Utility", user: User, new_email: str,
                          now: datetime) -> None:
    assert user.id is not None  # a stored user
    if _sends_in_last_hour(session, user.id, "email_change", now) >= SENDS_PER_HOUR:
        raise InvalidInput("errors.too_many_requests")
    token = _issue_link(session, s, user.id, "email_change", EMAIL_CHANGE_TTL, now, target=new_email)
    lang = _lang(utility, user.language)
    link = notify.public_link("/confirm-email", settings=s, token=token)
    _queue(
        session, notify.send_mail, new_email, t("mail.email_change_subject", lang, portal=utility.short_name),
        t("mail.email_change_body", lang, name=user.name, link=link, portal=utility.short_name,
          hours=int(EMAIL_CHANGE_TTL.total_seconds() // 3600)),
        settings=s,
    )


def confirm_email_change(engine: "Engine", token: Any, *, now: datetime | None = None,
                         settings: "Settings | None" = None) -> int:
    """Set the new e-mail address of a change link; returns the user id. If the e-mail is also the
    login and the new address is taken meanwhile, the link is refused."""
    s = _settings(settings)
    now = _now(now)
    taken = False
    with write_session(engine) as session:
        row = _take_link(session, s, token, "email_change", now)
        row.used_at = now
        session.add(row)
        user = _lock_user(session, row.user_id)
        # the link's row references the user; users are never deleted
        assert user is not None and user.id is not None
        new_email = row.target
        assert new_email is not None  # an email_change link always carries the new address
        login_is_email = user.login == user.email and "@" in user.login
        if login_is_email and new_email != user.login:
            other = _user_by_login(session, new_email)
            if other is not None:
                taken = True
            else:
                user.login = new_email
        if not taken:
            user.email = new_email
            user.email_verified = True
            session.add(user)
        user_id = user.id
    if taken:
        raise SecretRefused("errors.email_taken")
    return user_id
