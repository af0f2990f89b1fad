"""The current password, asked again of a signed-in customer before a change that matters (a new
password, a new e-mail address or phone number).

A wrong current password is a wrong password for the login: it counts toward the sign-in lock of
that login exactly as a failed sign-in does (the same throttle row, :func:`sessions.sign_in_policy`),
counted *before* the argon2 check in a transaction that locks the row, so parallel guesses get
exactly the profile's ``max_failed_logins`` checks; a right one clears the count like a sign-in.
Rule from: issue 15 point 4; OWASP ASVS 5 V6 (re-authentication before a change of credentials or
of the recovery address).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gazportal.db import read_session, write_session
from gazportal.models.people import User
from gazportal.services import passwords, throttle
from gazportal.services.auth._base import _identifier_hash, _now, _settings
from gazportal.services.auth.sessions import sign_in_policy
from gazportal.services.errors import FormErrors, NotFound, Notice

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings

FIELD = "current"  # the form field that holds the current password


def _throttle_key(s: "Settings", utility: "Utility", login: str) -> str:
    """The sign-in lock's row of ``login`` (a stored, normalised login)."""
    return _identifier_hash(s, utility, "login", login)


def verify_current_password(engine: "Engine", utility: "Utility", user_id: int, password: Any, *,
                            now: datetime | None = None, settings: "Settings | None" = None,
                            source: str | None = None) -> str:
    """Check the signed-in user's current password; returns the stored hash it matched (for a
    compare-and-set of the change that follows).

    Raises FormErrors on the ``current`` field: ``errors.password_required`` (nothing typed: not
    counted), ``errors.current_password_wrong`` (counted toward the sign-in lock) or
    ``errors.current_password_locked`` with ``minutes`` (the login is locked: not checked at all);
    NotFound for an unknown user. ``source`` (the client address or device) is taken for the
    source-bound lock and not used yet."""
    s = _settings(settings)
    now = _now(now)
    with read_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("errors.not_found")
        login, stored = user.login, user.password_hash
    if password is None or password == "":
        passwords.dummy_verify("")
        raise FormErrors({FIELD: Notice("errors.password_required")})
    policy = sign_in_policy(utility)
    key = _throttle_key(s, utility, login)
    with write_session(engine) as session:
        row = throttle.row(session, key)
        minutes = throttle.check(row, policy, now)
        just_locked = False
        if minutes is None:
            just_locked = throttle.fail(session, row, policy, now)  # counted before the check
    if minutes is not None:
        raise FormErrors({FIELD: Notice("errors.current_password_locked", {"minutes": minutes})})
    if not passwords.verify_password(stored, password)[0]:
        if just_locked:
            raise FormErrors({FIELD: Notice("errors.current_password_locked", {"minutes": utility.lockout_minutes})})
        raise FormErrors({FIELD: Notice("errors.current_password_wrong")})
    with write_session(engine) as session:
        throttle.clear(session, throttle.row(session, key))
    return stored
