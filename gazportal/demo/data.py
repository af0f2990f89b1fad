"""The words of demo data — people's names, companies, the address directory, tariff names,
payment channels — read from JSON files, so that a new utility needs no Python edit.

``data/regions/<region>.json`` holds a country's words (``kz``, ``ua``); the region of a profile is
its ``phone_region`` (lower case). ``data/utilities/<profile id>.json``, when present, names its
region and replaces what differs: ``directory`` (its own branches, settlements and streets) and
``people_weights`` (the share of each naming style, e.g. Kazakh and Russian names). A profile with
no file of its own gets its region's words and directory.

Directory entries: ``{branch: [{"type": "г.", "name": "Алматы", "weight": 10, "streets": [...]}]}``;
``"streets": "village"`` means the region's ``village_streets``. A naming style: ``weight``,
``female_share``, ``surnames`` (groups of ``[male, female]`` pairs, each group with a weight),
``male_names``, ``female_names``, ``patronymics`` (``[male, female]`` pairs).
"""
from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any

from gazportal.settings import Utility

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Settlement:
    type: str  # г., с., м., смт ...
    name: str
    weight: float  # share of the accounts, relative to the other settlements
    streets: tuple[str, ...]


@dataclass(frozen=True)
class _Style:
    weight: float
    female_share: float
    surname_groups: tuple[tuple[float, tuple[tuple[str, str], ...]], ...]
    male_names: tuple[str, ...]
    female_names: tuple[str, ...]
    patronymics: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DemoWords:
    """Everything country- and utility-specific the generator writes."""

    directory: dict[str, tuple[Settlement, ...]]  # branch -> its settlements
    city_types: frozenset[str]  # settlement types with apartment blocks
    house_word: str  # "д." / "буд."
    flat_word: str  # "кв."
    house_letters: str  # "АБВ": house 12А
    styles: tuple[_Style, ...]
    company_forms: tuple[str, ...]
    company_words: tuple[str, ...]
    company_tails: tuple[str, ...]
    company_tail_share: float
    tariff_name: str  # with {d}, the first day
    service_words: dict[str, str]  # service -> its name in a tariff's name
    tariff_steps: dict[str, list[tuple[Decimal | None, Decimal]]]  # service -> (up to, price) of the older tariff
    payment_channels: tuple[tuple[str, int], ...]  # (channel, weight)
    payment_rounding: Decimal  # customers pay round sums of this

    def person(self, rng: Random) -> str:
        """A person's full name: surname, name, patronymic."""
        style = _pick(rng, self.styles, [s.weight for s in self.styles])
        female = rng.random() < style.female_share
        group = _pick(rng, style.surname_groups, [g[0] for g in style.surname_groups])[1]
        surname = rng.choice(group)[female]
        name = rng.choice(style.female_names if female else style.male_names)
        return f"{surname} {name} {rng.choice(style.patronymics)[female]}"

    def company(self, rng: Random) -> str:
        """A legal entity's name: its form and a name in quotes."""
        name = rng.choice(self.company_words)
        if self.company_tails and rng.random() < self.company_tail_share:
            name += " " + rng.choice(self.company_tails)
        return f"{rng.choice(self.company_forms)} «{name}»"


def _pick(rng: Random, items, weights: list[float]):
    cum = list(accumulate(weights))
    return items[min(len(items) - 1, bisect_right(cum, rng.random() * cum[-1]))]


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _directory(raw: dict[str, list[dict]], village: list[str]) -> dict[str, tuple[Settlement, ...]]:
    return {
        branch: tuple(Settlement(s["type"], s["name"], float(s["weight"]),
                                 tuple(village if s["streets"] == "village" else s["streets"])) for s in places)
        for branch, places in raw.items()
    }


def _style(raw: dict[str, Any], weight: float) -> _Style:
    return _Style(
        weight=weight, female_share=float(raw["female_share"]),
        surname_groups=tuple((float(g["weight"]), tuple(tuple(p) for p in g["pairs"])) for g in raw["surnames"]),
        male_names=tuple(raw["male_names"]), female_names=tuple(raw["female_names"]),
        patronymics=tuple(tuple(p) for p in raw["patronymics"]),
    )


@lru_cache(maxsize=16)
def words_for(utility_id: str, phone_region: str) -> DemoWords:
    """The words for a profile (by its id and ``phone_region``); see the module's docstring.
    Raises FileNotFoundError when neither the utility's file nor its region's exists."""
    own_path = DATA_DIR / "utilities" / f"{utility_id}.json"
    own = _read(own_path) if own_path.is_file() else {}
    region = _read(DATA_DIR / "regions" / f"{own.get('region', phone_region.lower())}.json")
    weights = own.get("people_weights", {})
    address = region["address"]
    return DemoWords(
        directory=_directory(own.get("directory", region["directory"]), region["village_streets"]),
        city_types=frozenset(address["city_types"]), house_word=address["house"], flat_word=address["flat"],
        house_letters=address["house_letters"],
        styles=tuple(_style(raw, float(weights.get(name, raw["weight"]))) for name, raw in region["people"].items()),
        company_forms=tuple(region["companies"]["forms"]), company_words=tuple(region["companies"]["words"]),
        company_tails=tuple(region["companies"]["tails"]),
        company_tail_share=float(region["companies"]["tail_share"]),
        tariff_name=region["tariff_name"], service_words=dict(region["service_words"]),
        tariff_steps={service: [(None if up is None else Decimal(up), Decimal(price)) for up, price in steps]
                      for service, steps in region["tariff_steps"].items()},
        payment_channels=tuple((c, int(w)) for c, w in region["payment_channels"]),
        payment_rounding=Decimal(region["payment_rounding"]),
    )


def words(utility: Utility) -> DemoWords:
    """The demo words of ``profile``."""
    return words_for(utility.id, utility.phone_region)
