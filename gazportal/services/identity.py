"""Login identifiers, e-mail addresses and phone numbers, checked and put in one canonical form.

Whatever the browser sends is checked here before it goes near the database: non-strings, huge
strings and control characters are refused with an :class:`InvalidInput` that carries a message key,
never a ``TypeError``.

* e-mail: ``email-validator`` (syntax only, no DNS), then lower-cased as a whole;
* phone: ``phonenumbers`` in the profile's region, a valid mobile number, written as E.164;
* account number: must match the profile's ``account_number_pattern`` (spaces and dashes that
  people type between digit groups are dropped first).
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

import phonenumbers
from email_validator import EmailNotValidError
from email_validator import validate_email as _validate_email

from gazportal.services.errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Utility

MAX_EMAIL = 254
MAX_PHONE_INPUT = 32
MAX_ACCOUNT_INPUT = 40
MAX_NAME = 100

_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
_ACCOUNT_SEPARATORS = re.compile(r"[\s\-]")


def clean_text(raw: Any, *, max_len: int, required_key: str = "errors.field_required",
               too_long_key: str = "errors.field_too_long") -> str:
    """A one-line text field: a string, stripped, NFC, no control characters, at most ``max_len``."""
    if raw is None:
        raise InvalidInput(required_key)
    if not isinstance(raw, str):
        raise InvalidInput("errors.invalid_input")
    if len(raw) > max_len * 4 + 100:  # refuse megabytes before normalising them
        raise InvalidInput(too_long_key, max=max_len)
    value = unicodedata.normalize("NFC", raw).strip()
    if not value:
        raise InvalidInput(required_key)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in value):
        raise InvalidInput("errors.invalid_characters")
    if len(value) > max_len:
        raise InvalidInput(too_long_key, max=max_len)
    return value


def validate_email(raw: Any) -> str:
    """A normalised, lower-case e-mail address, or InvalidInput("errors.email_invalid")."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput("errors.email_required")
    if not isinstance(raw, str) or len(raw) > MAX_EMAIL + 20:
        raise InvalidInput("errors.email_invalid")
    try:
        info = _validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=True)
    except (EmailNotValidError, ValueError, TypeError):
        raise InvalidInput("errors.email_invalid") from None
    value = info.normalized.lower()
    if len(value) > MAX_EMAIL or len(value.rpartition("@")[0]) > 64:  # RFC 5321 limits
        raise InvalidInput("errors.email_invalid")
    return value


def validate_phone(utility: "Utility", raw: Any) -> str:
    """A mobile number in E.164 (``+77011234567``), read in the profile's region when it has no
    ``+``; InvalidInput("errors.phone_invalid") otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput("errors.phone_required")
    if not isinstance(raw, str) or len(raw) > MAX_PHONE_INPUT:
        raise InvalidInput("errors.phone_invalid")
    try:
        number = phonenumbers.parse(raw.strip(), utility.phone_region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("errors.phone_invalid") from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidInput("errors.phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_account_number(utility: "Utility", raw: Any) -> str:
    """The account number as the profile writes it (digits only for every seed)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput("errors.account_number_required")
    if not isinstance(raw, str) or len(raw) > MAX_ACCOUNT_INPUT:
        raise InvalidInput("errors.account_number_invalid", example=utility.account_number_example)
    value = _ACCOUNT_SEPARATORS.sub("", raw)
    if not value.isascii() or not utility.valid_account_number(value):
        raise InvalidInput("errors.account_number_invalid", example=utility.account_number_example)
    return value


def normalize_login(utility: "Utility", raw: Any) -> str:
    """The profile's login identifier (e-mail, phone or account number) in canonical form."""
    kind = utility.login_identifier
    if kind == "email":
        return validate_email(raw)
    if kind == "phone":
        return validate_phone(utility, raw)
    return normalize_account_number(utility, raw)
