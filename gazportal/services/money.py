"""The one parser for an amount of money the customer types (the last payment of a registration
proof, of adding an account, ...).

It reads what a bill or a receipt prints, in the customer's language: ``5 600 ₸``,
``5 566,70 ₸``, ``1 234,50``, ``₴1 234,56``, ``1234.5`` (kk/ru/uk, whose decimal sign is a comma)
and ``₸5,566.70`` (en). Babel's :func:`babel.numbers.parse_decimal` does the reading, strict, in
the language's locale (``i18n.BABEL_LOCALES``), after the currency sign or code and every kind of
space (regular, no-break U+00A0, narrow no-break U+202F, thin U+2009, figure U+2007) are taken off.
A Kazakh or Ukrainian bill always prints the comma, so in English a comma followed by one or two
digits at the end (``5566,70``, never a valid English grouping) is read as the decimal sign too.

Everything else — negative or zero amounts, more than two decimals, NaN, infinities, exponents,
floats, other digits than 0-9, more than :data:`MAX_INPUT` characters, amounts a ``Numeric(12, 2)``
column cannot hold — is refused with the one key :data:`ERROR_KEY`.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal

from gazportal.models._base import money
from gazportal.services.errors import InvalidInput
from gazportal.services.i18n import babel_locale

ERROR_KEY = "errors.amount_invalid"
MAX_MONEY = Decimal("10000000000")  # Numeric(12, 2) holds less than this
MAX_INPUT = 40  # characters of typed text

_CURRENCY = r"(?:₸|₴|₽|\$|€|KZT|UAH|RUB|USD|EUR|тңг|тг|тенге|грн|руб|р)\.?"
_LEADING = re.compile(rf"^{_CURRENCY}", re.IGNORECASE)
_TRAILING = re.compile(rf"{_CURRENCY}$", re.IGNORECASE)
_PLAIN = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_COMMA_DECIMAL = re.compile(r"[0-9]+,[0-9]{1,2}")


def _refuse() -> InvalidInput:
    return InvalidInput(ERROR_KEY)


def _without_spaces(text: str) -> str:
    return "".join(c for c in text if not (c.isspace() or unicodedata.category(c) == "Zs"))


def _read_text(text: str, lang: str) -> Decimal:
    if len(text) > MAX_INPUT:
        raise _refuse()
    text = _without_spaces(text)
    text = _TRAILING.sub("", _LEADING.sub("", text, count=1), count=1)
    text = text.removeprefix("+")  # an explicit plus is harmless; a minus is refused below
    if not text.isascii() or not _PLAIN.fullmatch(text):
        raise _refuse()
    try:
        return parse_decimal(text, locale=babel_locale(lang), strict=True)
    except NumberFormatError:
        if _COMMA_DECIMAL.fullmatch(text):  # a Kazakh/Ukrainian bill read in English
            return Decimal(text.replace(",", "."))
        raise _refuse() from None


def parse_amount(value: Any, lang: str = "ru") -> Decimal:
    """An amount the customer typed, as a ``Decimal`` with two places (tiyn / kopecks).

    ``value``: a string as typed (see the module's docstring), an ``int`` or a finite ``Decimal``;
    ``lang``: the customer's language (kk, ru, uk, en; anything else reads as English).
    Raises ``InvalidInput("errors.amount_invalid")`` for anything that is not a positive amount
    of at most two decimals below 10,000,000,000.
    """
    if isinstance(value, str):
        amount = _read_text(value, lang)
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value) if abs(value) < MAX_MONEY else MAX_MONEY
    elif isinstance(value, Decimal):
        amount = value
    else:
        raise _refuse()
    if not amount.is_finite() or amount <= 0 or amount >= MAX_MONEY:
        raise _refuse()
    exponent = amount.as_tuple().exponent  # an int for every finite amount
    if not isinstance(exponent, int) or exponent < -2:
        raise _refuse()
    return money(amount)
