"""The current password, asked again of a signed-in customer before a change that matters (a new
password, a new e-mail address or phone number).

A wrong current password is a wrong password for the login: it is admitted and counted exactly as
a failed sign-in from the same source (:func:`sessions.sign_in_limits`, :func:`throttle.admit`),
*before* the argon2 check in a transaction that locks the rows, so parallel guesses from one source
get exactly the profile's ``max_failed_logins`` checks before that source waits; a right one gives
its count back like a sign-in. The signed-in browser is treated as a known device of the user (its
session proves an earlier sign-in), so it never needs the CAPTCHA and its failures wait only itself.
Rule from: issue 15 point 4; OWASP ASVS 5 V6 (re-authentication before a change of credentials or
of the recovery address).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gazportal.db import read_session, write_session
from gazportal.models.people import User
from gazportal.services import passwords, throttle
from gazportal.services.auth._base import _now, _settings
from gazportal.services.auth.sessions import _throttle_key, sign_in_limits
from gazportal.services.errors import FormErrors, NotFound, Notice

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings

FIELD = "current"  # the form field that holds the current password


def verify_current_password(engine: "Engine", utility: "Utility", user_id: int, password: Any, *,
                            now: datetime | None = None, settings: "Settings | None" = None,
                            source: Any = throttle.ANONYMOUS) -> str:
    """Check the signed-in user's current password; returns the stored hash it matched (for a
    compare-and-set of the change that follows).

    Raises FormErrors on the ``current`` field: ``errors.password_required`` (nothing typed: not
    counted), ``errors.current_password_wrong`` (counted toward the sign-in lock) or
    ``errors.current_password_locked`` with ``minutes`` (the login is locked: not checked at all);
    NotFound for an unknown user. ``source``: a :class:`throttle.Source` (the page's ``ctx.source``)."""
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
    target = _throttle_key(s, utility, login)[0]
    src = throttle.as_source(source)
    with write_session(engine) as session:
        verdict = throttle.admit(session, sign_in_limits(utility), target, src, known=True, now=now,
                                 captcha=lambda: True)  # known: never asked
    attempt = verdict.attempt
    if attempt is None:
        assert verdict.wait is not None  # a known device is never asked for the CAPTCHA
        raise FormErrors({FIELD: Notice("errors.current_password_locked",
                                        {"minutes": throttle.minutes_left(now + verdict.wait, now)})})
    if not passwords.verify_password(stored, password)[0]:
        if verdict.wait_if_failed is not None:
            raise FormErrors({FIELD: Notice("errors.current_password_locked",
                                            {"minutes": throttle.minutes_left(now + verdict.wait_if_failed, now)})})
        raise FormErrors({FIELD: Notice("errors.current_password_wrong")})
    with write_session(engine) as session:
        throttle.succeeded(session, attempt)
    return stored
