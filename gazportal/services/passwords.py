"""Password hashing (argon2id through argon2-cffi) and each profile's password policy.

Production parameters follow OWASP's Password Storage Cheat Sheet for argon2id (at least 19 MiB
of memory, 2 passes, 1 lane). Tests may make hashing cheaper with :func:`use_parameters`; a hash
made with other parameters than the current ones verifies and reports ``needs_rehash`` so that
sign-in replaces it.
"""
from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, TypedDict, Unpack

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gazportal.services.errors import InvalidInput, Notice

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import PasswordPolicy, Utility

MAX_LENGTH = 256  # characters; no truncation below this (argon2 hashes any length)
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


class Argon2Parameters(TypedDict, total=False):
    """The argon2 cost parameters ``PasswordHasher`` takes as keywords."""

    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int
    salt_len: int


PRODUCTION_PARAMETERS: Argon2Parameters = {
    "time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1, "hash_len": 32, "salt_len": 16,
}

_lock = threading.Lock()
_hasher = PasswordHasher(type=Type.ID, **PRODUCTION_PARAMETERS)
_dummy_hashes: dict[tuple, str] = {}


def hasher() -> PasswordHasher:
    """The PasswordHasher in use (argon2id)."""
    return _hasher


def use_parameters(**params: Unpack[Argon2Parameters]) -> PasswordHasher:
    """Replace the hashing parameters (tests use a cheaper cost; production keeps the defaults).
    Returns the previous hasher so a caller can put it back with :func:`use_hasher`."""
    merged: Argon2Parameters = {**PRODUCTION_PARAMETERS, **params}
    return use_hasher(PasswordHasher(type=Type.ID, **merged))


def use_hasher(new: PasswordHasher) -> PasswordHasher:
    global _hasher
    with _lock:
        old, _hasher = _hasher, new
    return old


def _as_text(password: Any) -> str | None:
    if not isinstance(password, str) or len(password) > MAX_LENGTH * 4:
        return None
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (NFC-normalised), in the PHC string format."""
    text = _as_text(password)
    if text is None or not text:
        raise InvalidInput("errors.password_required")
    return _hasher.hash(text)


def verify_password(password_hash: Any, password: Any) -> tuple[bool, bool]:
    """``(ok, needs_rehash)``. Never raises: a malformed hash or a non-string is simply not ok
    (and still costs one argon2 verification, so timing does not tell)."""
    text = _as_text(password)
    if text is None or not isinstance(password_hash, str) or not password_hash.startswith("$argon2"):
        dummy_verify(password if isinstance(password, str) else "")
        return False, False
    h = _hasher
    try:
        h.verify(password_hash, text)
    except VerifyMismatchError:
        return False, False
    except (VerificationError, InvalidHashError, ValueError, TypeError):
        dummy_verify("")
        return False, False
    try:
        return True, h.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):  # pragma: no cover - verified hashes parse
        return True, True


def dummy_verify(password: Any = "") -> None:
    """Spend the same time as verifying a real hash (for unknown users)."""
    h = _hasher
    key = (h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len)
    dummy = _dummy_hashes.get(key)
    if dummy is None:
        dummy = _dummy_hashes.setdefault(key, h.hash("dummy password that nobody has"))
    text = _as_text(password) or ""
    try:
        h.verify(dummy, text)
    except (VerificationError, InvalidHashError):
        pass


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    return unicodedata.normalize("NFC", password).lower() in common_passwords()


@dataclass(frozen=True)
class Rule:
    """One rule of a password policy with its own texts: ``error_key`` when a password breaks it,
    ``hint_key`` for the list of rules shown next to a new-password field (both take
    ``params(policy)``). ``applies(policy)`` says whether the profile has the rule."""

    name: str
    error_key: str
    hint_key: str
    applies: Callable[["PasswordPolicy"], bool]
    ok: Callable[[str, "PasswordPolicy"], bool]
    params: Callable[["PasswordPolicy"], dict] = lambda policy: {}


# The profile's rules, in the order they are checked and shown (settings.PasswordPolicy; OWASP
# ASVS 5 V6.2: at least 8 characters by default, a common-password list, composition rules only
# where a utility's own seed had them).
RULES: tuple[Rule, ...] = (
    Rule("min_length", "errors.password_too_short", "change_password.policy.min_length",
         lambda p: True, lambda text, p: len(text) >= p.min_length, lambda p: {"min": p.min_length}),
    Rule("upper_lower", "errors.password_needs_upper_lower", "change_password.policy.upper_lower",
         lambda p: p.require_upper_and_lower,
         lambda text, p: any(c.isupper() for c in text) and any(c.islower() for c in text)),
    Rule("digit", "errors.password_needs_digit", "change_password.policy.digit",
         lambda p: p.require_digit, lambda text, p: any(c.isdigit() for c in text)),
    Rule("symbol", "errors.password_needs_symbol", "change_password.policy.symbol",
         lambda p: p.require_symbol, lambda text, p: not all(c.isalnum() for c in text)),
    Rule("common", "errors.password_common", "change_password.policy.common",
         lambda p: p.reject_common, lambda text, p: not is_common(text)),
)


def rules(utility: "Utility") -> list[Rule]:
    """The rules ``profile``'s password policy has, in order."""
    return [rule for rule in RULES if rule.applies(utility.password_policy)]


def hints(utility: "Utility") -> list[Notice]:
    """The hint of every rule of ``profile`` as ``Notice(locales key, params)``, in order: what a
    page lists next to a new-password field (registration, reset, change)."""
    policy = utility.password_policy
    return [Notice(rule.hint_key, rule.params(policy)) for rule in rules(utility)]


def _check_text(password: Any) -> str:
    """The NFC text of an acceptable string, or the refusal every policy shares."""
    if password is None or password == "":
        raise InvalidInput("errors.password_required")
    if not isinstance(password, str):
        raise InvalidInput("errors.invalid_input")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("errors.password_too_long", max=MAX_LENGTH)
    text = unicodedata.normalize("NFC", password)
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise InvalidInput("errors.invalid_characters")
    return text


def check_password_policy(utility: "Utility", password: Any, related: Iterable[Any] = ()) -> None:
    """Raise ``InvalidInput`` with the key of the first broken rule (:data:`RULES` of the
    profile, after "required", "too long" and "control characters").

    ``related`` are the customer's own values (login, name, phone...): a password that is one of
    them, or contains one of at least 4 characters, is refused (``errors.password_like_personal``).
    """
    text = _check_text(password)
    policy = utility.password_policy
    for rule in rules(utility):
        if not rule.ok(text, policy):
            raise InvalidInput(rule.error_key, **rule.params(policy))
    low = text.lower()
    for value in related:
        if isinstance(value, str):
            v = value.strip().lower()
            if v and (v == low or (len(v) >= 4 and v in low)):
                raise InvalidInput("errors.password_like_personal")
