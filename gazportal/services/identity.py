"""Login identifiers, e-mail addresses and phone numbers, checked and put in one canonical form.

Whatever the browser sends is checked here before it goes near the database: non-strings, huge
strings and control characters are refused with an :class:`InvalidInput` that carries a message key,
never a ``TypeError``.

* e-mail: ``email-validator`` (syntax only, no DNS), then lower-cased as a whole;
* phone: ``phonenumbers`` in the profile's region, a valid mobile number, written as E.164;
* account number: must match the profile's ``account_number_pattern`` (spaces and dashes that
  people type between digit groups are dropped first).

A login is NFKC-normalised first (a full-width ``ｖictim@`` is ``victim@``), and two logins a person
cannot tell apart (``viсtim@`` with a Cyrillic ``с``) have the same :func:`login_skeleton`: the
Unicode confusable skeleton of UTS #39 section 4, with the confusables table of Unicode's
``confusables.txt`` as the ``confusable-homoglyphs`` package ships it.
"""
from __future__ import annotations

import functools
import hashlib
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
    """The profile's login identifier (e-mail, phone or account number) in canonical form, read
    after NFKC normalisation (full-width letters and digits, ligatures and the like are their
    plain forms). InvalidInput as the identifier's own check says."""
    if isinstance(raw, str) and len(raw) <= MAX_EMAIL + 20:
        raw = unicodedata.normalize("NFKC", raw)
    kind = utility.login_identifier
    if kind == "email":
        return validate_email(raw)
    if kind == "phone":
        return validate_phone(utility, raw)
    return normalize_account_number(utility, raw)


_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f"), None)  # in the package's table around RTL letters


@functools.cache
def _prototypes() -> dict[str, str]:
    """{character: its prototype} from the package's confusables table.

    ``confusables.txt`` maps each confusable source (one code point) to its prototype (one or more
    code points, never itself a source); the package keeps each line in both directions. So every
    group of look-alikes is a star around its prototype: the multi-character member, else the
    member with several neighbours, else a member that appears inside a multi-character
    prototype; a pair of one source and one prototype gets a fixed choice (either one gives the
    same groups, which is all a skeleton is compared for). Built once, on first use (the package
    reads its tables when imported: about a second)."""
    from confusable_homoglyphs import confusables

    graph: dict[str, set[str]] = {}
    for key, items in confusables.confusables_data.items():
        a = key.translate(_BIDI_MARKS)
        for item in items:
            b = item["c"].translate(_BIDI_MARKS)
            if a and b and a != b:
                graph.setdefault(a, set()).add(b)
                graph.setdefault(b, set()).add(a)
    inside = {c for node in graph if len(node) > 1 for c in node}
    result: dict[str, str] = {}
    seen: set[str] = set()
    for node in graph:
        if node in seen:
            continue
        group, todo = set(), [node]
        while todo:
            x = todo.pop()
            if x not in group:
                group.add(x)
                todo.extend(graph[x] - group)
        seen |= group
        proto = min(group, key=lambda m: (len(m) == 1, len(graph[m]) < 2, m not in inside, not m.isascii(), m))
        result.update((m, proto) for m in group if len(m) == 1)
    return result


def login_skeleton(login: str) -> str:
    """The look-alike key of a normalised login (:func:`normalize_login`): sha256 (hex, 64
    characters) of its UTS #39 skeleton, ``NFD(prototypes(NFD(login)))``. Two logins with the same
    key look the same to a person (``victim@`` and ``viсtim@``, ``modem@`` and ``rnodem@``,
    ``user1@`` and ``userl@``); the login itself is what a person signs in with."""
    table = _prototypes()
    mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", login))
    return hashlib.sha256(unicodedata.normalize("NFD", mapped).encode()).hexdigest()
