"""Kazakh business and individual identification numbers (BIN / IIN).

Both are 12 digits whose last digit is a check digit: the first 11 digits are weighted 1..11 and
summed modulo 11; if that gives 10, the weights 3..11, 1, 2 are used instead; if that gives 10
again, the number is not valid (no such number is ever issued).

A BIN is laid out as YYMM (registration), a type digit (4 resident legal entity, 5 non-resident
legal entity, 6 individual entrepreneur in joint venture), an attribute digit (0 head office,
1 branch, 2 representative office, 4 farm), five serial digits and the check digit.
"""
from __future__ import annotations

import random

_W1 = tuple(range(1, 12))
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

LEGAL_ENTITY_TYPE_DIGITS = ("4", "5", "6")


def check_digit(first11: str) -> int | None:
    """The check digit for 11 leading digits, or None if no valid number starts with them."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError("need exactly 11 digits")
    digits = [ord(c) - 48 for c in first11]
    c = sum(d * w for d, w in zip(digits, _W1)) % 11
    if c == 10:
        c = sum(d * w for d, w in zip(digits, _W2)) % 11
        if c == 10:
            return None
    return c


def iin_is_valid(s: str) -> bool:
    """12 ASCII digits with a correct check digit (the same rule for IIN and BIN)."""
    if not isinstance(s, str) or len(s) != 12 or not s.isascii() or not s.isdigit():
        return False
    return check_digit(s[:11]) == ord(s[11]) - 48


def bin_is_valid(s: str) -> bool:
    """A BIN: 12 digits whose last one is the correct check digit.

    Only the check digit is checked (an individual entrepreneur's BIN is their IIN); see
    :func:`is_legal_entity_bin` for the layout of a legal entity's number.
    """
    return iin_is_valid(s)


def is_legal_entity_bin(s: str) -> bool:
    """A valid BIN laid out as a legal entity's: a real month (digits 3-4), type digit 4, 5 or 6."""
    return iin_is_valid(s) and 1 <= int(s[2:4]) <= 12 and s[4] in LEGAL_ENTITY_TYPE_DIGITS


def make_bin(rng: random.Random, *, year: int | None = None, month: int | None = None) -> str:
    """A valid BIN for demo data, drawn from ``rng`` (deterministic for a seeded Random)."""
    while True:
        yy = (year if year is not None else rng.randint(1995, 2024)) % 100
        mm = month if month is not None else rng.randint(1, 12)
        kind = rng.choices(LEGAL_ENTITY_TYPE_DIGITS, weights=(90, 4, 6))[0]
        attr = rng.choices("0124", weights=(85, 10, 3, 2))[0]
        first11 = f"{yy:02d}{mm:02d}{kind}{attr}{rng.randint(0, 99999):05d}"
        c = check_digit(first11)
        if c is not None:
            return first11 + str(c)
