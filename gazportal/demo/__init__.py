"""Demo data for any utility profile at any size: the generator (:mod:`.generator`) and the
words it writes — names, companies, streets, tariff names — read from JSON files per region and
utility (:mod:`.data`, ``data/``), so that a new utility needs no Python edit.

Outside ``services/``: it is a tool for a demo or a benchmark (``cli demo``, ``bench/``), not a
rule of the domain; it uses the services (tariffs, periods, identifiers) like any other caller.
"""
from __future__ import annotations

from gazportal.demo.generator import (
    MAX_ACCOUNTS, MAX_MONTHS, MIN_ACCOUNTS, TABLES, DemoDatabaseNotEmpty, DemoResult, default_last_period,
    generate_demo, nonempty_tables,
)

__all__ = [
    "MAX_ACCOUNTS", "MAX_MONTHS", "MIN_ACCOUNTS", "TABLES", "DemoDatabaseNotEmpty", "DemoResult",
    "default_last_period", "generate_demo", "nonempty_tables",
]
