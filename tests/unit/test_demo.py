"""The demo-data generator: real databases (SQLite file and PostgreSQL), every profile."""
from collections import defaultdict
from datetime import UTC
from decimal import Decimal as D
from statistics import mean

import pytest
import sqlalchemy as sa

from gazportal.db import make_engine, read_session, write_session
from gazportal.models import (
    Account, BuildingMeter, BuildingReading, Charge, Meter, Payment, Reading, Tariff, TariffStep,
)
from gazportal.demo import TABLES, DemoDatabaseNotEmpty, generate_demo
from gazportal.services.errors import InvalidInput
from gazportal.services.identifiers import bin_is_valid
from gazportal.services.periods import period_of, period_start, reading_period
from gazportal.services.tariffs import calculate, tariff_at
from gazportal.settings import UNITS, available_utilities, load_utility
from tests.conftest import migrate

LAST = "2025-06"  # 14 months from 2024-05: one July and one January in the history


def _dump(engine) -> dict[str, list[tuple]]:
    with engine.connect() as c:
        return {t.name: [tuple(r) for r in c.execute(sa.select(t).order_by(t.c.id))] for t in TABLES}


def _effective(session, meter_ids=None):
    """meter_id -> {period: value of the last reading of the period}, and the raw rows."""
    rows = session.execute(sa.select(Reading.meter_id, Reading.period, Reading.value, Reading.taken_at,
                                     Reading.source, Reading.slot).order_by(Reading.meter_id, Reading.taken_at,
                                                                           Reading.id)).all()
    eff: dict[int, dict[str, int]] = defaultdict(dict)
    for r in rows:
        eff[r.meter_id][r.period] = r.value
    return eff, rows


@pytest.mark.parametrize("utility_id", available_utilities())
def test_demo_data_is_consistent_for_every_profile(engine, utility_id):
    utility = load_utility(utility_id)
    res = generate_demo(engine, utility, accounts=40, months=14, seed=11, last_period=LAST, batch_size=15)
    assert res.accounts == 40 and res.first_period == "2024-05" and res.last_period == LAST
    with read_session(engine) as s:
        accounts = s.execute(sa.select(Account)).scalars().all()
        assert len(accounts) == 40 == len({a.number for a in accounts})
        assert all(utility.valid_account_number(a.number) for a in accounts)
        assert all(a.address and a.holder_name and a.house_id for a in accounts)
        for a in accounts:
            if a.kind == "legal":
                assert utility.legal_entities and bin_is_valid(a.bin), a
            else:
                assert a.bin is None

        meters = {m.id: m for m in s.execute(sa.select(Meter)).scalars()}
        assert {m.service for m in meters.values()} == set(utility.services)
        for m in meters.values():
            assert m.unit == UNITS[m.service] and 5 <= m.digits <= 8 and m.serial
        per_account = defaultdict(list)
        for m in meters.values():
            per_account[m.account_id].append(m)
        for ms in per_account.values():  # each meter of an account has its own serial
            assert len({m.serial for m in ms}) == len(ms)
        if utility_id == "karaganda_su":
            assert any(len(ms) == 2 for ms in per_account.values())

        eff, rows = _effective(s)
        last_value: dict[int, int] = {}
        sources = set()
        for r in rows:
            m = meters[r.meter_id]
            assert r.taken_at.tzinfo is not None and r.taken_at.utcoffset().total_seconds() == 0
            assert reading_period(r.taken_at, utility) == r.period  # the profile's rule (issue 14.9)
            assert 0 <= r.value <= 10 ** m.digits - 1
            assert r.value >= last_value.get(r.meter_id, 0), "readings must never go down"
            last_value[r.meter_id] = r.value
            assert (r.source == "customer") == (r.slot is not None)
            sources.add(r.source)
        assert {"customer", "estimate"} <= sources and sources & {"inspector", "controller"}

        # charges are the tariff of the month applied to the month's volume
        charges = s.execute(sa.select(Charge)).scalars().all()
        assert len(charges) == 40 * 14 * len(utility.services)
        periods = sorted({c.period for c in charges})
        volume = defaultdict(int)
        for m in meters.values():
            for i, p in enumerate(periods):
                prev = eff[m.id][periods[i - 1]] if i else eff[m.id]["2024-04"]
                volume[(m.account_id, p, m.service)] += eff[m.id][p] - prev
        tariffs = {}
        for c in charges:
            key = (c.service, c.period)
            if key not in tariffs:
                tariffs[key] = tariff_at(s, c.service, period_start(c.period))[1]
            assert c.volume == volume[(c.account_id, c.period, c.service)]
            assert c.amount == calculate(tariffs[key], c.volume).amount
            assert c.amount.as_tuple().exponent == -2
        names = {t.name for t in s.execute(sa.select(Tariff)).scalars()}
        assert len(names) == 2 * len(utility.services)  # one change in the history
        steps = s.execute(sa.select(TariffStep)).scalars().all()
        assert all(2 <= sum(1 for x in steps if x.tariff_id == t) <= 3 for t in {x.tariff_id for x in steps})
        changed = {tariffs[(svc, p)][0].price for svc in utility.services for p in periods}
        assert len(changed) == 2 * len(utility.services)

        payments = s.execute(sa.select(Payment)).scalars().all()
        assert len({p.receipt_no for p in payments}) == len(payments) > 0
        assert all(p.amount > 0 and p.amount.as_tuple().exponent == -2 for p in payments)
        paid_months = defaultdict(set)
        for p in payments:
            assert p.paid_at.astimezone(utility.tz).day >= utility.payment_from_day
            paid_months[p.account_id].add(period_of(p.paid_at, utility.tz))
        payable = len(periods) - 1  # the last month's bill is paid next month
        skipped = [payable - len(paid_months[a.id]) for a in accounts]
        assert any(n >= 3 for n in skipped), "some debtors skip months"
        assert sum(n <= 1 for n in skipped) > 26, "most pay (almost) every month"
        if utility.currency.code == "KZT":
            assert {p.channel for p in payments} >= {"kaspi", "bank", "card"}
        else:
            assert "kaspi" not in {p.channel for p in payments}

        # a common-house meter reads a bit more than its flats' meters together
        bms = s.execute(sa.select(BuildingMeter)).scalars().all()
        assert bms
        by_house = defaultdict(list)
        for a in accounts:
            by_house[a.house_id].append(a.id)
        for bm in bms:
            brs = {r.period: r.value for r in s.execute(
                sa.select(BuildingReading).where(BuildingReading.building_meter_id == bm.id)).scalars()}
            assert len(brs) == 15
            flats = set(by_house[bm.house_id])
            assert len(flats) >= 8
            for i, p in enumerate(periods):
                prev = periods[i - 1] if i else "2024-04"
                flats_sum = sum(volume[(a, p, bm.service)] for a in flats)
                assert flats_sum <= brs[p] - brs[prev] <= flats_sum * D("1.13") + 1


def test_seasonal_consumption(sqlite_engine):
    generate_demo(sqlite_engine, load_utility("default"), accounts=300, months=14, seed=5, last_period=LAST)
    with read_session(sqlite_engine) as s:
        rows = s.execute(sa.select(Charge.service, Charge.period, Charge.volume)).all()
    vol = defaultdict(list)
    for service, period, v in rows:
        vol[(service, period[5:])].append(v)
    assert mean(vol[("gas", "01")]) > 2 * mean(vol[("gas", "07")])
    assert mean(vol[("electricity", "01")]) > mean(vol[("electricity", "07")])
    assert mean(vol[("water", "07")]) > mean(vol[("water", "01")])


def test_same_seed_same_rows_whatever_the_batch_size_and_another_seed_differs(sqlite_engine, tmp_path):
    def fresh(name):
        e = make_engine(f"sqlite:///{tmp_path / name}")
        migrate(e)
        return e

    utility = load_utility("karaganda_su")
    generate_demo(sqlite_engine, utility, accounts=60, months=6, seed=3, last_period=LAST)
    other = fresh("b.db")
    generate_demo(other, utility, accounts=60, months=6, seed=3, last_period=LAST, batch_size=7, chunk_rows=50)
    third = fresh("c.db")
    generate_demo(third, utility, accounts=60, months=6, seed=4, last_period=LAST)
    a, b, c = _dump(sqlite_engine), _dump(other), _dump(third)
    assert a == b
    assert a["account"] != c["account"] and a["reading"] != c["reading"]
    for e in (other, third):
        e.dispose()


def test_refuses_a_database_with_data_unless_if_empty(engine):
    utility = load_utility("almaty_gas")
    first = generate_demo(engine, utility, accounts=10, months=2, seed=1, last_period=LAST)
    assert not first.skipped and first.accounts == 10
    before = _dump(engine)
    with pytest.raises(DemoDatabaseNotEmpty) as e:
        generate_demo(engine, utility, accounts=10, months=2, seed=2, last_period=LAST)
    assert e.value.key == "errors.demo_database_not_empty" and "account" in e.value.params["tables"]
    again = generate_demo(engine, utility, accounts=10, months=2, seed=2, if_empty=True, last_period=LAST)
    assert again.skipped and again.accounts == 0
    assert _dump(engine) == before


def test_ids_continue_after_generation(engine):
    """Ids were given explicitly; the next ordinary insert must still get a fresh id (PG sequences)."""
    generate_demo(engine, load_utility("shygysenergotrade"), accounts=12, months=2, seed=1, last_period=LAST)
    with write_session(engine) as s:
        acc = Account(number="49999999", holder_name="New", address="x")
        s.add(acc)
        s.flush()
        assert acc.id == 13
        r = Reading(meter_id=1, value=10**6, taken_at=__import__("datetime").datetime(2025, 7, 2, tzinfo=UTC),
                    period="2025-07", source="inspector")
        s.add(r)
        s.flush()
        assert r.id > 1


@pytest.mark.parametrize("accounts,months", [(9, 12), (1_000_001, 12), (10, 0), (10, 241)])
def test_bad_sizes_refused(sqlite_engine, accounts, months):
    with pytest.raises(InvalidInput):
        generate_demo(sqlite_engine, load_utility("default"), accounts=accounts, months=months)


def test_a_new_utility_needs_only_a_data_file(engine, tmp_path, monkeypatch):
    """A utility's own JSON file in demo/data/utilities/ gives its branches, streets and name shares."""
    import json
    import shutil
    from random import Random

    from gazportal.demo import data

    shutil.copytree(data.DATA_DIR, tmp_path / "data")
    (tmp_path / "data" / "utilities" / "new_water.json").write_text(json.dumps({
        "region": "kz", "people_weights": {"kazakh": 1, "russian": 0},
        "directory": {"Новый участок": [{"type": "г.", "name": "Новоград", "weight": 1,
                                         "streets": ["ул. Первая", "ул. Вторая"]},
                                        {"type": "с.", "name": "Село", "weight": 1, "streets": "village"}]},
    }, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path / "data")
    data.words_for.cache_clear()
    try:
        utility = load_utility("karaganda_su").model_copy(update={"id": "new_water"})
        words = data.words(utility)
        assert list(words.directory) == ["Новый участок"]
        assert words.directory["Новый участок"][1].streets[0] == "ул. Абая"  # the region's village streets
        assert all(n.split()[2].endswith(("ович", "овна")) for n in (words.person(Random(i)) for i in range(50)))
        generate_demo(engine, utility, accounts=12, months=2, seed=3, last_period=LAST)
        with read_session(engine) as s:
            addresses = s.execute(sa.select(Account.address)).scalars().all()
        assert addresses and all("Новоград" in a or "Село" in a for a in addresses)
    finally:
        data.words_for.cache_clear()


def test_demo_numbers_do_not_follow_the_addresses(engine):
    """Issue 15: in the demo data flats 10 and 11 had numbers 20 apart, so a neighbour's number
    could be guessed from one's own. Now neighbours' numbers are far apart and in no order."""
    utility = load_utility("default")
    generate_demo(engine, utility, accounts=60, months=2, seed=5, last_period=LAST, batch_size=60)
    with read_session(engine) as s:
        rows = s.execute(sa.select(Account.number, Account.house_id, Account.flat_id).order_by(Account.id)).all()
    numbers = [int(r.number) for r in rows]
    gaps = [abs(b - a) for a, b in zip(numbers, numbers[1:])]
    assert min(gaps) > 1000, gaps  # neighbours (made one after another) are far apart
    ups = sum(b > a for a, b in zip(numbers, numbers[1:]))
    assert 0 < ups < len(gaps)  # and not increasing: the order says nothing


def test_kremenchukgaz_demo_readings_are_sent_in_the_window_of_their_period(sqlite_engine):
    """Issue 14.9: a Kremenchukgaz reading sent on the 1st-5th counts for the month before, so the
    demo sends period P's reading on the 1st-5th of the month after P, and its last period is the
    last one whose window has closed."""
    from datetime import datetime

    from gazportal.demo.generator import default_last_period

    utility = load_utility("kremenchukgaz")
    kyiv = utility.tz
    assert default_last_period(utility, datetime(2026, 12, 3, 12, tzinfo=kyiv)) == "2026-10"
    assert default_last_period(utility, datetime(2026, 12, 6, 0, 30, tzinfo=kyiv)) == "2026-11"
    assert default_last_period(load_utility("almaty_gas"), datetime(2026, 12, 3, 12, tzinfo=UTC)) == "2026-11"
    generate_demo(sqlite_engine, utility, accounts=20, months=4, seed=3, last_period="2025-06")
    with read_session(sqlite_engine) as s:
        rows = s.execute(sa.select(Reading.taken_at, Reading.period).where(Reading.source == "customer")).all()
    assert rows
    for taken_at, period in rows:
        local = taken_at.astimezone(kyiv)
        assert local.day <= 5 and period_start(period).month % 12 + 1 == local.month, (taken_at, period)
