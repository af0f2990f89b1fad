"""Registration, confirmation, sign-in, sessions, password recovery and the customer's profile.

One module per concern; this package re-exports the public names, so callers keep writing
``from gazportal.services import auth`` and ``auth.register(...)``:

* :mod:`.sessions` — sign-in (failures bound to their source), portal sessions, sign-out;
* :mod:`.secrets` — one-time links and codes (issued, checked, retired);
* :mod:`.registration` — registration (with the proof of an account), confirmation, resending;
* :mod:`.recovery` — password reset by link or code, and the change of a known password;
* :mod:`.user_profile` — the customer's own data and the change of the e-mail address (with the
  old address's cancel/undo link);
* :mod:`.reauth` — the current password asked again before a change (counted like a sign-in);
* :mod:`._base` — what they share (limits, errors, HMACs, lookups, form helpers).

Rules (OWASP ASVS level 2, see ENGINEERING.md "Security baseline"):

* Unknown identifiers behave exactly like known ones: registration of a taken identifier (or of a
  look-alike of one) answers like a success (and tells the owner, once a day), sign-in gives the same ``errors.sign_in_failed`` and makes
  a source wait the same way, recovery answers the same. Messages that only a real account would get are sent
  in the background (:func:`notify.deliver_later`) so the SMTP server's latency does not show, and
  an unknown user's password is "verified" against a dummy argon2 hash.
* Every link token (256 bits), session token (256 bits) and 6-digit code is stored only as
  HMAC-SHA256 keyed with ``settings.secret_key``.

Every public function takes plain values; whatever the browser sends (None, numbers, lists,
NaN, megabytes) ends in a :class:`DomainError`/:class:`FormErrors`, never a TypeError.
"""
from __future__ import annotations

from gazportal.services.auth._base import (
    ALREADY_REGISTERED_EVERY, CODE_DIGITS, CODE_MAX_ATTEMPTS, CODE_TTL, CONFIRM_LINK_TTL, EMAIL_CHANGE_TTL,
    EMAIL_UNDO_TTL, MAX_TOKEN, MAX_USER_AGENT, MESSAGE_WINDOW, MESSAGES_PER_DESTINATION, MESSAGES_PER_SOURCE,
    NAME_MAX, RESET_LINK_TTL, SENDS_PER_HOUR, TOUCH_EVERY, SecretRefused, SignInRefused,
)
from gazportal.services.auth.reauth import verify_current_password
from gazportal.services.auth.recovery import (
    change_password, request_reset, reset_password_with_code, reset_password_with_link,
)
from gazportal.services.auth.registration import (
    PROOF_CAPTCHA_AFTER, PROOF_FAILURES, PROOF_LIMITS, PURGE_BATCH, RegistrationOutcome, confirm_code, confirm_link,
    purge_unconfirmed, register, resend_confirmation,
)
from gazportal.services.auth.sessions import (
    END_REASONS, SIGN_IN_SCOPE, SessionUser, SignIn, open_session, resolve_session, revoke_other_sessions,
    session_end, session_token_hash, sign_in, sign_in_limits, sign_out,
)
from gazportal.services.auth.user_profile import (
    PROFILE_FIELDS, EmailUndone, UserProfile, confirm_email_change, get_user_profile, undo_email_change,
    update_user_profile,
)

__all__ = [
    "ALREADY_REGISTERED_EVERY", "CODE_DIGITS", "CODE_MAX_ATTEMPTS", "CODE_TTL", "CONFIRM_LINK_TTL",
    "EMAIL_CHANGE_TTL", "EMAIL_UNDO_TTL", "MAX_TOKEN", "MAX_USER_AGENT", "MESSAGES_PER_DESTINATION",
    "MESSAGES_PER_SOURCE", "MESSAGE_WINDOW", "NAME_MAX", "PROFILE_FIELDS", "PROOF_CAPTCHA_AFTER", "PROOF_FAILURES",
    "PROOF_LIMITS", "PURGE_BATCH", "RESET_LINK_TTL", "SENDS_PER_HOUR", "TOUCH_EVERY", "EmailUndone",
    "RegistrationOutcome", "SecretRefused", "SessionUser", "SignIn", "SignInRefused", "UserProfile",
    "change_password", "confirm_code", "confirm_email_change", "confirm_link", "get_user_profile", "open_session",
    "purge_unconfirmed", "register", "request_reset", "resend_confirmation", "reset_password_with_code",
    "reset_password_with_link", "resolve_session", "session_end", "END_REASONS", "revoke_other_sessions", "session_token_hash", "sign_in",
    "SIGN_IN_SCOPE", "sign_in_limits", "sign_out", "undo_email_change", "update_user_profile", "verify_current_password",
]
