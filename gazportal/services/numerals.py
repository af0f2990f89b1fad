"""The one reader of a whole number a person types from a counter (a meter reading): what the
live check and the submit both use, so they always give the same answer.

People type what the meter shows, the way their keyboard and their habits write numbers:

* **decimal drums**: gas and water meters show one to three red decimal drums, so ``123,4`` and
  ``123.4`` (a comma or a full stop, of any width) are 123 whole units and a fraction that is
  *not counted* — the reader says that it dropped it (:attr:`Typed.fraction`); it is never 1234.
  On a counter a comma or a full stop is always the decimal mark, never digit grouping
  (``12,345`` is 12 units and 345 thousandths, as a gas meter's three red drums show it);
* **digit groups**: ``12 345`` typed or pasted with any space character (Unicode category Zs:
  the regular space, no-break U+00A0, thin U+2009, narrow no-break U+202F, figure U+2007,
  ideographic U+3000) is 12345. When spaces are used, the groups are of three digits from the
  right (``12 345``, ``00 011``); ``12 3`` is refused with its own reason;
* **digits of any script**: full-width ``１２３`` (East Asian keyboards), Arabic-Indic ``١٢٣`` or
  Devanagari digits are read with :func:`unicodedata.decimal` (category Nd), never a hand table;
  one number's digits come from one script (a mix such as ``١2`` is refused, like a look-alike).
  Superscripts, fractions and other "numeric" characters that are not decimal digits (``²``,
  ``½``) are refused.

Babel's parsers are not used here on purpose: they read a number *in a language*, where a comma
is grouping in English and a decimal mark in Russian; a meter's face is the same in every
language. Babel formats the result (``i18n.format_number``).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Problem = Literal["empty", "not_digits", "groups"]

_SEPARATORS = frozenset(",.\u066b")  # after NFKC; U+066B is the Arabic decimal separator


@dataclass(frozen=True)
class Typed:
    """A typed whole number: its ASCII digits (leading zeros kept, as the meter shows them) and
    the fraction that was typed after a decimal mark ("" when there was none)."""

    digits: str
    fraction: str = ""

    @property
    def significant(self) -> str:
        """The digits without leading zeros ("0" for zero)."""
        return self.digits.lstrip("0") or "0"


class NotANumber(ValueError):
    """The text is not a whole number as a counter shows it; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem: Problem = problem


def _kind(ch: str) -> str:
    if unicodedata.category(ch) == "Nd":
        return "digit"
    if unicodedata.category(ch) == "Zs":
        return "space"
    if unicodedata.normalize("NFKC", ch) in _SEPARATORS or ch in _SEPARATORS:
        return "mark"
    return "other"


def read_counter(text: str) -> Typed:
    """``text`` as typed -> :class:`Typed`; raises :class:`NotANumber` (``empty``, ``not_digits``
    or ``groups``). Surrounding whitespace is ignored. See the module docstring for the rules."""
    text = text.strip()
    if not text:
        raise NotANumber("empty")
    groups: list[list[str]] = [[]]
    fraction: list[str] | None = None
    zero: int | None = None  # the code point of the script's zero: one script per number
    for ch in text:
        kind = _kind(ch)
        if kind == "digit":
            value = unicodedata.decimal(ch)
            script_zero = ord(ch) - value
            if zero is None:
                zero = script_zero
            elif zero != script_zero:
                raise NotANumber("not_digits")
            (groups[-1] if fraction is None else fraction).append(str(value))
        elif kind == "space" and fraction is None and groups[-1]:
            groups.append([])  # a group ends; a second space in a row leaves an empty group
        elif kind == "mark" and fraction is None and groups[-1]:
            fraction = []
        else:
            raise NotANumber("not_digits")
    if not groups[-1]:
        raise NotANumber("not_digits")  # "12 " inside, "12  345": an empty group
    if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
        raise NotANumber("groups")
    return Typed("".join("".join(g) for g in groups), "".join(fraction or ()))
