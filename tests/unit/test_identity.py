"""Login identifiers, e-mail and phone numbers in canonical form; garbage refused cleanly."""
from __future__ import annotations

import pytest

from gazportal.services.errors import InvalidInput
from gazportal.services.identity import (
    clean_text, normalize_account_number, normalize_login, validate_email, validate_phone,
)
from gazportal.settings import load_utility

SE = load_utility("shygysenergotrade")
KG = load_utility("kremenchukgaz")
AG = load_utility("almaty_gas")

GARBAGE = [None, 0, 12345678, 1.5, float("nan"), True, [], ["a@b.kz"], {}, {"a": 1}, b"a@b.kz", "x" * 1_000_000]


@pytest.mark.parametrize("raw, expected", [
    ("Aigerim.Ivanova@Example.KZ", "aigerim.ivanova@example.kz"),
    ("  user@mail.kz ", "user@mail.kz"),
    ("user@MAIL.kz", "user@mail.kz"),
])
def test_email_normalised(raw, expected):
    assert validate_email(raw) == expected
    assert normalize_login(AG, raw) == expected


@pytest.mark.parametrize("raw", ["user", "user@", "@mail.kz", "a b@mail.kz", "user@@mail.kz", "user@mail",
                                 "u" * 65 + "@mail.kz", "user@" + "a" * 250 + ".kz"])
def test_bad_email(raw):
    with pytest.raises(InvalidInput) as e:
        validate_email(raw)
    assert e.value.key == "errors.email_invalid"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_missing_email(raw):
    with pytest.raises(InvalidInput) as e:
        validate_email(raw)
    assert e.value.key == "errors.email_required"


@pytest.mark.parametrize("utility, raw, expected", [
    (KG, "067 505 63 12", "+380675056312"),
    (KG, "+38 (067) 505-63-12", "+380675056312"),
    (KG, "0675056312", "+380675056312"),
    (SE, "8 701 234 56 78", "+77012345678"),
    (SE, "+7 (701) 234-56-78", "+77012345678"),
])
def test_phone_e164(utility, raw, expected):
    assert validate_phone(utility, raw) == expected


@pytest.mark.parametrize("raw", ["12", "+7 701 234", "phone", "+380 67 505 63 12 99", "+1 202 555 0", "1" * 33])
def test_bad_phone(raw):
    with pytest.raises(InvalidInput) as e:
        validate_phone(KG, raw)
    assert e.value.key == "errors.phone_invalid"


def test_landline_is_not_a_mobile():
    with pytest.raises(InvalidInput):
        validate_phone(KG, "+38 0536 70 12 12")  # the utility's own office line


def test_account_number_by_profile_pattern():
    assert normalize_account_number(SE, "4001 2345") == "40012345"
    assert normalize_account_number(SE, "4001-2345") == "40012345"
    assert normalize_login(SE, "40012345") == "40012345"
    for bad in ["4001234", "400123456", "4001234a", "٤٠٠١٢٣٤٥"]:  # Arabic-Indic digits too
        with pytest.raises(InvalidInput) as e:
            normalize_account_number(SE, bad)
        assert e.value.key == "errors.account_number_invalid" and e.value.params == {"example": "40012345"}


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("fn", [
    validate_email, lambda g: validate_phone(KG, g), lambda g: normalize_account_number(SE, g),
    lambda g: normalize_login(AG, g), lambda g: normalize_login(KG, g), lambda g: normalize_login(SE, g),
    lambda g: clean_text(g, max_len=100),
])
def test_garbage_is_invalid_input(fn, garbage):
    with pytest.raises(InvalidInput):
        fn(garbage)


def test_clean_text():
    assert clean_text("  Айгерим ", max_len=100) == "Айгерим"
    with pytest.raises(InvalidInput) as e:
        clean_text("a" * 101, max_len=100)
    assert e.value.key == "errors.field_too_long" and e.value.params == {"max": 100}
    for bad in ["a\x00b", "a\u202eb", "a\nb"]:
        with pytest.raises(InvalidInput) as e:
            clean_text(bad, max_len=100)
        assert e.value.key == "errors.invalid_characters"
