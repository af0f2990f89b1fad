"""argon2id hashing and the password policies of the seeds."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type
from argon2.low_level import Type as LowType

from gazportal.services import passwords
from gazportal.services.errors import InvalidInput
from gazportal.services.passwords import check_password_policy, hash_password, verify_password
from gazportal.settings import load_utility

SE = load_utility("shygysenergotrade")
KG = load_utility("kremenchukgaz")
DEFAULT = load_utility("default")


def test_production_parameters_are_argon2id_owasp():
    h = passwords.PasswordHasher(**passwords.PRODUCTION_PARAMETERS)
    assert passwords.hasher().type is Type.ID
    p = passwords.PRODUCTION_PARAMETERS
    assert p["memory_cost"] >= 19 * 1024 and p["time_cost"] >= 2 and p["parallelism"] >= 1
    assert h.memory_cost >= 19 * 1024
    encoded = passwords.hasher().hash("x")
    assert encoded.startswith("$argon2id$") and f"m={p['memory_cost']}" in encoded


def test_hash_and_verify(fast_hashing):
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse battery") == (True, False)
    assert verify_password(h, "correct horse batterY") == (False, False)
    # NFC: the same letter composed or not is the same password
    h2 = hash_password("café latte ok")
    assert verify_password(h2, "cafe\u0301 latte ok")[0]


def test_long_passwords_are_not_truncated(fast_hashing):
    pw = "a" * 200 + "b"
    h = hash_password(pw)
    assert verify_password(h, pw)[0] and not verify_password(h, "a" * 200 + "c")[0]


def test_needs_rehash_when_parameters_change(fast_hashing):
    weak = PasswordHasher(type=LowType.ID, time_cost=1, memory_cost=256, parallelism=1).hash("pw words 1")
    assert verify_password(weak, "pw words 1") == (True, True)
    argon2i = PasswordHasher(type=LowType.I, time_cost=1, memory_cost=1024, parallelism=1).hash("pw words 1")
    assert verify_password(argon2i, "pw words 1") == (True, True)


@pytest.mark.parametrize("h", [None, "", "plain", "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$broken", 5, [], {}])
@pytest.mark.parametrize("pw", ["pw", None, 5, "x" * 1_000_000])
def test_verify_never_raises(fast_hashing, h, pw):
    assert verify_password(h, pw) == (False, False)


def test_hash_refuses_garbage(fast_hashing):
    for bad in [None, "", 5, [], "x" * 1_000_000]:
        with pytest.raises(InvalidInput):
            hash_password(bad)


def test_dummy_verify_takes_as_long_as_a_real_one():
    import time

    h = hash_password("some password 1")
    passwords.dummy_verify("warm")
    t0 = time.perf_counter()
    for _ in range(3):
        verify_password(h, "wrong password")
    real = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(3):
        passwords.dummy_verify("wrong password")
    dummy = time.perf_counter() - t0
    assert 0.5 < real / dummy < 2


def _key(utility, pw, related=()):
    try:
        check_password_policy(utility, pw, related)
    except InvalidInput as e:
        return e.key
    return None


@pytest.mark.parametrize("pw, key", [
    ("Ab1!xy", None), ("Vostok-7km!", None),
    ("Ab1!x", "errors.password_too_short"), ("ab1!xy", "errors.password_needs_upper_lower"),
    ("AB1!XY", "errors.password_needs_upper_lower"), ("Abc!xy", "errors.password_needs_digit"),
    ("Abc1xy", "errors.password_needs_symbol"), ("Пароль1!", None),
])
def test_shygysenergotrade_policy(pw, key):
    assert _key(SE, pw) == key


@pytest.mark.parametrize("pw, key", [
    ("dnipro", None), ("abcdez", None), ("abcde", "errors.password_too_short"), ("qwerty", "errors.password_common"),
    ("ЙЦУКЕН", "errors.password_common"),
])
def test_kremenchukgaz_policy(pw, key):
    assert _key(KG, pw) == key


@pytest.mark.parametrize("pw, key", [
    ("green apple orchard", None), ("iloveyou", "errors.password_common"), ("Password1", "errors.password_common"),
    ("1234567", "errors.password_too_short"), ("qwertyuiop", "errors.password_common"),
    ("x" * 257, "errors.password_too_long"), ("x" * 256, None), ("", "errors.password_required"),
    (None, "errors.password_required"), (12345678, "errors.invalid_input"), (["a" * 9], "errors.invalid_input"),
    ("tab\x00in password", "errors.invalid_characters"),
])
def test_default_policy(pw, key):
    assert _key(DEFAULT, pw) == key


def test_password_must_not_contain_personal_values():
    assert _key(DEFAULT, "aigerim-1990-xyz", ["Aigerim", "Ivanova"]) == "errors.password_like_personal"
    assert _key(DEFAULT, "user@mail.kz", ["user@mail.kz"]) == "errors.password_like_personal"
    assert _key(DEFAULT, "green apple orchard", ["Al", None, 5]) is None


def test_common_list_is_shipped_and_large():
    common = passwords.common_passwords()
    assert len(common) > 10_000 and "123456" in common and "password" in common


def test_each_rule_carries_its_hint_and_the_hints_follow_the_profile():
    from gazportal.services.errors import Notice
    from gazportal.services.i18n import raw_messages
    from gazportal.settings import load_utility

    for rule in passwords.RULES:
        for lang in ("kk", "ru", "uk", "en"):
            assert raw_messages(lang).get(rule.hint_key) and raw_messages(lang).get(rule.error_key)
    for name in ("default", "almaty_gas", "kremenchukgaz", "karaganda_su", "shygysenergotrade"):
        utility = load_utility(name)
        p = utility.password_policy
        hints = passwords.hints(utility)
        assert hints[0] == Notice("change_password.policy.min_length", {"min": p.min_length})
        flags = [p.require_upper_and_lower, p.require_digit, p.require_symbol, p.reject_common]
        assert len(hints) == 1 + sum(flags)
        # a password breaking exactly one rule is refused with that rule's error key
        for rule in passwords.rules(utility):
            assert rule.applies(p)
