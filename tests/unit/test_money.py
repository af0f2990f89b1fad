"""The one parser of a typed amount of money (services/money.py), per language."""
from decimal import Decimal as D

import pytest

from gazportal.services.errors import InvalidInput
from gazportal.services.money import ERROR_KEY, parse_amount

LANGS = ("kk", "ru", "uk", "en")

# what a bill or receipt prints, in every language: text -> amount
EVERYWHERE = {
    "5 600 ₸": D("5600.00"),
    "5 566,70 ₸": D("5566.70"),
    "5\u00a0566,70\u00a0₸": D("5566.70"),  # Babel's own kk/ru format
    "1 234,50": D("1234.50"),
    "1\u202f234,50": D("1234.50"),  # narrow no-break space
    "1\u2009234,50 грн": D("1234.50"),  # thin space, a word for the currency
    "₴1 234,56": D("1234.56"),
    "1234.5": D("1234.50"),
    "1234,5": D("1234.50"),
    "7": D("7.00"),
    "+1234.50": D("1234.50"),
    "  42 тг ": D("42.00"),
    "KZT 100": D("100.00"),
    "100 UAH": D("100.00"),
    "9999999999.99": D("9999999999.99"),
}
# the English way of grouping, accepted in English only
ENGLISH_ONLY = {"₸5,566.70": D("5566.70"), "1,234.50": D("1234.50"), "1,234": D("1234.00")}

REFUSED = [
    None, "", "   ", "₸", "0", "0,00", "-1", "-1234.50", "++5", "+-5", "1234.567", "1234.500", "1234,567",
    "1e3", "NaN", "nan", "inf", "-Infinity", "0x10", "١٢٣٤.٥٠", "12,34.5", "1.234.50", "1.234,50",
    "1234.", ".50", "12 34 5x", "1₸2", "10000000000", "99999999999999999999.99", "1" * 41,
    "9" * 10_000, 1234.5, float("nan"), float("inf"), D("NaN"), D("sNaN"), D("-Infinity"), D("0.001"),
    D("1E+30"), D("-0.01"), -5, 0, 10**100, True, {"amount": "1"}, ["1"], b"1234.50",
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text, amount", sorted(EVERYWHERE.items()))
def test_what_a_bill_prints_is_read_in_every_language(lang, text, amount):
    got = parse_amount(text, lang)
    assert got == amount and got.as_tuple().exponent == -2


@pytest.mark.parametrize("text, amount", sorted(ENGLISH_ONLY.items()))
def test_english_grouping(text, amount):
    assert parse_amount(text, "en") == amount
    for lang in ("kk", "ru", "uk"):
        with pytest.raises(InvalidInput) as e:
            parse_amount(text, lang)
        assert e.value.key == ERROR_KEY


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_refused_with_one_key(lang, value):
    with pytest.raises(InvalidInput) as e:
        parse_amount(value, lang)
    assert e.value.key == ERROR_KEY


def test_numbers_and_decimals():
    assert parse_amount(5) == D("5.00") and parse_amount(D("12.3")) == D("12.30")
    assert parse_amount("1 234,5", "xx") == D("1234.50")  # an unknown language reads as English


def test_the_key_is_translated():
    from gazportal.services.i18n import raw_messages

    for lang in LANGS:
        assert raw_messages(lang).get(ERROR_KEY)
