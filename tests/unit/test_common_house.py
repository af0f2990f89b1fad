"""Common-house meter (KS): exact largest-remainder allocation, and a small building on a real DB."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal as D
from fractions import Fraction

import pytest
import sqlalchemy as sa

from gazportal.db import read_session, write_session
from gazportal.models import (
    Account,
    Branch,
    BuildingMeter,
    BuildingReading,
    House,
    Meter,
    Reading,
    Settlement,
    Street,
    Tariff,
    TariffStep,
)
from gazportal.services.billing import AccountNotFound
from gazportal.services.common_house import (
    DECREASED,
    NO_PREVIOUS,
    NO_READING,
    OK,
    AccountWithoutHouse,
    BuildingReadingDecreased,
    BuildingReadingMissing,
    HouseNotFound,
    NoBuildingMeter,
    account_share,
    allocate,
    allocate_money,
    building_allocation,
)
from gazportal.services.errors import DomainError, InvalidInput
from gazportal.services.tariffs import NoTariff

# ----------------------------------------------------------------------------- allocate()


def _random_case(rnd: random.Random):
    n = rnd.choice([1, 2, 3, rnd.randint(1, 12), rnd.randint(1, 60)])
    vols = {}
    for i in range(n):
        kind = rnd.random()
        if kind < 0.15:
            v = D(0)
        elif kind < 0.3:
            v = D(rnd.randint(1, 5))  # many equal volumes -> ties
        else:
            v = D(rnd.randint(1, 10**rnd.randint(1, 7))).scaleb(-rnd.randint(0, 3))
        vols[f"acc{rnd.randint(0, 10**6):07d}-{i}"] = v
    diff = D(rnd.randint(1, 10**rnd.randint(1, 9))).scaleb(-3)
    return diff, vols


@pytest.mark.parametrize("seed", range(4))
def test_allocate_many_random_cases(seed):
    rnd = random.Random(1000 + seed)
    for _ in range(500):  # 4 seeds x 500 = 2,000 cases
        diff, vols = _random_case(rnd)
        places = rnd.choice([3, 3, 2, 0, 1, 4])
        unit = D(1).scaleb(-places)
        target = diff.quantize(unit, rounding="ROUND_HALF_UP")
        shares = allocate(diff, vols, places=places)
        assert list(shares) == list(vols)  # same keys, input order
        assert sum(shares.values(), D(0)) == target  # exact
        total = sum(vols.values(), D(0))
        for k, sh in shares.items():
            assert isinstance(sh, D) and sh.as_tuple().exponent == -places
            assert sh >= 0
            exact = (Fraction(target) * Fraction(vols[k]) / Fraction(total) if total
                     else Fraction(target) / len(vols))
            assert abs(Fraction(sh) - exact) < Fraction(unit), (k, sh, exact)
        # monotone: a larger volume never gets a smaller share
        ordered = sorted(vols, key=lambda k: vols[k])
        for lo, hi in zip(ordered, ordered[1:]):
            if vols[hi] > vols[lo]:
                assert shares[hi] >= shares[lo]
        # deterministic: the same input gives the same answer, whatever the key order
        reversed_vols = dict(reversed(list(vols.items())))
        assert allocate(diff, reversed_vols, places=places) == shares


def test_allocate_money_random_cases_add_up_to_the_tiyn():
    rnd = random.Random(42)
    for _ in range(300):
        _diff, vols = _random_case(rnd)
        total = D(rnd.randint(1, 10**11)).scaleb(-2)
        money = allocate_money(total, vols)
        assert sum(money.values(), D(0)) == total
        assert all(m.as_tuple().exponent == -2 and m >= 0 for m in money.values())


def test_allocate_simple_proportion_and_rounding():
    assert allocate(D("55"), {"a": D(31), "b": D(21)}) == {"a": D("32.788"), "b": D("22.212")}
    assert allocate(D("10"), {"a": D(1), "b": D(1), "c": D(2)}) == {"a": D("2.500"), "b": D("2.500"),
                                                                   "c": D("5.000")}
    assert allocate_money(D("5252.50"), {"a": D(31), "b": D(21)}) == {"a": D("3131.30"), "b": D("2121.20")}


def test_allocate_ties_larger_volume_first_then_key():
    # remainders equal (0.5 unit each): the larger volume takes the last unit
    assert allocate(D("0.002"), {"a": D(1), "b": D(3)}) == {"a": D("0.000"), "b": D("0.002")}
    assert allocate(D("0.002"), {"b": D(3), "a": D(1)}) == {"b": D("0.002"), "a": D("0.000")}
    # equal volumes and remainders: the smaller key takes it
    assert allocate(D("0.001"), {"b": D(5), "a": D(5)}) == {"b": D("0.000"), "a": D("0.001")}
    assert allocate(D("0.001"), {2: D(5), 10: D(5)}) == {2: D("0.001"), 10: D("0.000")}
    # keys that do not compare still give a deterministic answer
    mixed = allocate(D("0.001"), {1: D(1), "x": D(1)})
    assert mixed == allocate(D("0.001"), {"x": D(1), 1: D(1)})
    assert sum(mixed.values()) == D("0.001")


def test_allocate_all_zero_volumes_split_equally_and_exactly():
    shares = allocate(D("10"), {"a": D(0), "b": D(0), "c": D(0)})
    assert shares == {"a": D("3.334"), "b": D("3.333"), "c": D("3.333")}
    money = allocate_money(D("100.00"), {k: D(0) for k in range(7)})
    assert sum(money.values()) == D("100.00") and max(money.values()) - min(money.values()) == D("0.01")


@pytest.mark.parametrize("diff", [D("0"), D("-5.5"), D("0.0004"), "-1"])
def test_allocate_nothing_to_share_gives_zero_shares(diff):
    shares = allocate(diff, {"a": D(3), "b": D(0)})
    assert shares == {"a": D("0.000"), "b": D("0.000")}
    assert all(s.as_tuple().exponent == -3 and not s.is_signed() for s in shares.values())
    assert allocate(diff, {}) == {}


def test_allocate_rounds_the_difference_to_the_places():
    shares = allocate(D("1.23456"), {"a": D(1), "b": D(2)})
    assert sum(shares.values()) == D("1.235")
    assert allocate(D("7"), {"a": D(1), "b": D(1)}, places=0) == {"a": D(4), "b": D(3)}


def test_allocate_accepts_ints_and_strings_as_volumes():
    assert allocate("3", {"a": 1, "b": "2"}) == {"a": D("1.000"), "b": D("2.000")}


@pytest.mark.parametrize("call, key", [
    (lambda: allocate(D(1), {"a": D(-1)}), "errors.negative_volume"),
    (lambda: allocate(D(1), {}), "errors.allocation_no_flats"),
    (lambda: allocate(D(1), {"a": D(1)}, places=7), "errors.invalid_input"),
    (lambda: allocate(D(1), {"a": D(1)}, places=-1), "errors.invalid_input"),
    (lambda: allocate(D(1), {"a": D(1)}, places=True), "errors.invalid_input"),
    (lambda: allocate(D("NaN"), {"a": D(1)}), "errors.bad_volume"),
    (lambda: allocate(D(1), {"a": D("Infinity")}), "errors.bad_volume"),
    (lambda: allocate(D(1), {"a": "x"}), "errors.bad_volume"),
    (lambda: allocate(D(1), {"a": None}), "errors.bad_volume"),
])
def test_allocate_refuses_bad_input(call, key):
    with pytest.raises(InvalidInput) as e:
        call()
    assert e.value.key == key


# ----------------------------------------------------------------------------- a small building

PERIOD = "2025-03"
T = datetime(2025, 3, 20, 6, tzinfo=UTC)


def _reading(s, meter_id, value, period, day=20, hour=6, source="inspector", slot=None):
    y, m = int(period[:4]), int(period[5:])
    s.add(Reading(meter_id=meter_id, value=value, taken_at=datetime(y, m, day, hour, tzinfo=UTC),
                  period=period, source=source, slot=slot))


def _meter(s, account_id, serial, service="water", active=True):
    m = Meter(account_id=account_id, service=service, serial=serial, unit="kWh" if service == "electricity" else "m3",
              installed_on=date(2020, 1, 1), is_active=active)
    s.add(m)
    s.flush()
    return m.id


def _account(s, number, house_id):
    a = Account(number=number, holder_name="Holder " + number, address="Ermekov 1", house_id=house_id)
    s.add(a)
    s.flush()
    return a.id


@pytest.fixture
def building(engine):
    """House 1 with a building water meter and flats:

    A: one meter, 50 -> 81 (31), with an older reading and a customer's correction in March;
    B: two meters, 10 -> 25 and 100 -> 106 (21 in all);
    C: a meter with no readings at all (counts 0, listed);
    D: a meter read in February but not in March (counts 0, listed);
    E: an electricity meter only (takes no part in water);
    F: a new meter with a March reading only (no earlier reading: counts 0);
    G: an inactive meter without a March reading (not listed at all, so G takes no part).
    House 2 has a flat with a big water meter that must not leak into house 1.
    Building: 1000 (Feb) -> 1107 (Mar) = 107; flats 52; difference 55.
    """
    with write_session(engine) as s:
        br = Branch(name="Karaganda")
        s.add(br)
        s.flush()
        st = Settlement(branch_id=br.id, name="Karaganda")
        s.add(st)
        s.flush()
        street = Street(settlement_id=st.id, name="Ermekov")
        s.add(street)
        s.flush()
        h1, h2, h3 = House(street_id=street.id, number="1"), House(street_id=street.id, number="2"), \
            House(street_id=street.id, number="3")
        s.add_all([h1, h2, h3])
        s.flush()
        bm = BuildingMeter(house_id=h1.id, service="water", serial="B-1", unit="m3", installed_on=date(2020, 1, 1))
        bm2 = BuildingMeter(house_id=h2.id, service="water", serial="B-2", unit="m3", installed_on=date(2020, 1, 1))
        s.add_all([bm, bm2])
        s.flush()
        for meter, period, value in [(bm, "2025-01", 900), (bm, "2025-02", 1000), (bm, "2025-03", 1107),
                                     (bm, "2025-04", 1150), (bm2, "2025-03", 5)]:
            s.add(BuildingReading(building_meter_id=meter.id, value=value, period=period,
                                  taken_at=datetime(int(period[:4]), int(period[5:]), 25, tzinfo=UTC)))
        ids = {}
        ids["A"] = a = _account(s, "100000001", h1.id)
        ma = _meter(s, a, "A-1")
        _reading(s, ma, 20, "2025-01")
        _reading(s, ma, 50, "2025-02")
        _reading(s, ma, 90, PERIOD, day=20, source="customer", slot=1)
        _reading(s, ma, 81, PERIOD, day=21, source="customer", slot=2)  # the correction wins
        _reading(s, ma, 95, "2025-04")
        ids["B"] = b = _account(s, "100000002", h1.id)
        mb1, mb2 = _meter(s, b, "B-1"), _meter(s, b, "B-2")
        _reading(s, mb1, 10, "2025-02")
        _reading(s, mb1, 25, PERIOD)
        _reading(s, mb2, 100, "2024-11")  # older previous reading still counts as "before"
        _reading(s, mb2, 106, PERIOD)
        ids["C"] = c = _account(s, "100000003", h1.id)
        _meter(s, c, "C-1")
        ids["D"] = d = _account(s, "100000004", h1.id)
        md = _meter(s, d, "D-1")
        _reading(s, md, 7, "2025-02")
        ids["E"] = e = _account(s, "100000005", h1.id)
        me = _meter(s, e, "E-1", service="electricity")
        _reading(s, me, 100, "2025-02")
        _reading(s, me, 500, PERIOD)
        ids["F"] = f = _account(s, "100000006", h1.id)
        mf = _meter(s, f, "F-1")
        _reading(s, mf, 3, PERIOD)
        ids["G"] = g = _account(s, "100000007", h1.id)
        mg = _meter(s, g, "G-1", active=False)
        _reading(s, mg, 1, "2025-01")
        ids["X"] = x = _account(s, "200000001", h2.id)
        mx = _meter(s, x, "X-1")
        _reading(s, mx, 0, "2025-02")
        _reading(s, mx, 10_000, PERIOD)
        ids["nohouse"] = _account(s, "300000001", None)
        t = Tariff(service="water", name="Water 2025", valid_from=date(2025, 1, 1))
        s.add(t)
        s.flush()
        s.add_all([TariffStep(tariff_id=t.id, position=1, up_to=D("10"), price=D("95.5")),
                   TariffStep(tariff_id=t.id, position=2, price=D("150"))])
    return engine, h1.id, h2.id, h3.id, ids


def test_building_allocation_of_a_small_building(building):
    engine, h1, _h2, _h3, ids = building
    with read_session(engine) as s:
        r = building_allocation(s, h1, "water", PERIOD)
    assert [(m.serial, m.previous, m.current, m.volume) for m in r.building_meters] == [
        ("B-1", 1000, 1107, D("107.000"))]
    assert r.building_volume == D("107.000")
    by = {f.account_id: f for f in r.flats}
    assert set(by) == {ids[k] for k in "ABCDF"}  # E has no water meter, G only a silent inactive one
    a, b, c, d, f = (by[ids[k]] for k in "ABCDF")
    assert a.volume == D("31.000") and [(m.previous, m.current, m.status) for m in a.meters] == [(50, 81, OK)]
    assert b.volume == D("21.000") and [m.volume for m in b.meters] == [D("15.000"), D("6.000")]
    assert c.volume == D("0.000") and [(m.serial, m.status, m.current) for m in c.meters] == [
        ("C-1", NO_READING, None)]
    assert d.meters[0].status == NO_READING and d.meters[0].previous == 7
    assert f.meters[0].status == NO_PREVIOUS and f.volume == D("0.000")
    assert a.complete and b.complete and not c.complete and not f.complete
    assert r.flats_volume == D("52.000") and r.difference == D("55.000") and r.shared == D("55.000")
    assert not r.nothing_to_share
    assert r.shares == {ids["A"]: D("32.788"), ids["B"]: D("22.212"), ids["C"]: D("0.000"),
                        ids["D"]: D("0.000"), ids["F"]: D("0.000")}
    assert sum(r.shares.values()) == r.difference
    assert r.tariff_name == "Water 2025" and r.price == D("95.5")
    assert r.total_money == D("5252.50")  # 55 x 95.50, first step although 55 > 10
    assert r.money == {ids["A"]: D("3131.30"), ids["B"]: D("2121.20"), ids["C"]: D("0.00"),
                       ids["D"]: D("0.00"), ids["F"]: D("0.00")}
    assert sum(r.money.values()) == r.total_money
    assert a.share == D("32.788") and a.money == D("3131.30")
    for x in (r.building_volume, r.flats_volume, r.difference, *r.shares.values()):
        assert isinstance(x, D) and x.as_tuple().exponent == -3
    for x in (r.total_money, *r.money.values()):
        assert isinstance(x, D) and x.as_tuple().exponent == -2


def test_flats_using_more_than_the_building_pay_nothing_extra(building):
    engine, h1, _h2, _h3, ids = building
    # April: building 1107 -> 1150 = 43; flat A 81 -> 95 = 14; B's meters have no April reading
    with write_session(engine) as s:
        _reading(s, _meter_id(s, ids["B"], "B-1"), 60, "2025-04")  # 25 -> 60 = 35
    with read_session(engine) as s:
        r = building_allocation(s, h1, "water", "2025-04")
        assert r.building_volume == D("43.000") and r.flats_volume == D("49.000")
        assert r.difference == D("-6.000") and r.shared == D("0.000") and r.nothing_to_share
        assert set(r.shares.values()) == {D("0.000")} and set(r.money.values()) == {D("0.00")}
        assert r.total_money == D("0.00")
        mine = account_share(s, ids["A"], "water", "2025-04")
        assert mine.nothing_to_share and mine.share == D("0.000") and mine.money == D("0.00")
        assert mine.volume == D("14.000") and mine.difference == D("-6.000")


def _meter_id(s, account_id, serial):
    from sqlmodel import select

    return s.exec(select(Meter.id).where(Meter.account_id == account_id, Meter.serial == serial)).one()


def test_all_flats_at_zero_share_equally(building):
    engine, _h1, h2, _h3, ids = building
    with write_session(engine) as s:
        x2 = _account(s, "200000002", h2)
        m = _meter(s, x2, "X2-1")
        _reading(s, m, 40, "2025-01")
        _reading(s, m, 40, PERIOD)
        mx = _meter_id(s, ids["X"], "X-1")
        _reading(s, mx, 10_000, "2025-04")
        s.add(BuildingReading(building_meter_id=_bm(s, h2), value=15, period="2025-04", taken_at=T))
    with read_session(engine) as s:
        r = building_allocation(s, h2, "water", "2025-04")
        # X: 10000 -> 10000 = 0 in April; X2 has no April reading: everyone at 0, 10 m3 split equally
        assert r.flats_volume == D("0.000") and r.shared == D("10.000")
        assert sorted(r.shares.values()) == [D("5.000"), D("5.000")]
        assert r.total_money == D("955.00") and sum(r.money.values()) == D("955.00")


def _bm(s, house_id):
    from sqlmodel import select

    return s.exec(select(BuildingMeter.id).where(BuildingMeter.house_id == house_id)).one()


def test_account_share_is_what_the_customer_sees(building):
    engine, h1, _h2, _h3, ids = building
    with read_session(engine) as s:
        a = account_share(s, ids["A"], "water", PERIOD)
        assert a.included and a.volume == D("31.000") and a.share == D("32.788") and a.money == D("3131.30")
        assert a.building_volume == D("107.000") and a.flats_volume == D("52.000") and a.flats_count == 5
        assert a.price == D("95.5") and [m.serial for m in a.meters] == ["A-1"]
        c = account_share(s, ids["C"], "water", PERIOD)
        assert c.included and c.share == D("0.000") and c.meters[0].status == NO_READING
        e = account_share(s, ids["E"], "water", PERIOD)
        assert not e.included and e.share == D("0.000") and e.money == D("0.00")
        with pytest.raises(AccountWithoutHouse) as err:
            account_share(s, ids["nohouse"], "water", PERIOD)
        assert err.value.key == "errors.account_without_house"
        with pytest.raises(AccountNotFound):
            account_share(s, ids["nohouse"] + 100, "water", PERIOD)
        with pytest.raises(InvalidInput):
            account_share(s, str(ids["A"]), "water", PERIOD)


def test_a_replaced_meter_counts_zero_not_negative(building):
    engine, h1, _h2, _h3, ids = building
    with write_session(engine) as s:
        m = _meter_id(s, ids["B"], "B-1")
        _reading(s, m, 2, "2025-04")  # lower than 25: a replaced meter
        _reading(s, _meter_id(s, ids["A"], "A-1"), 100, "2025-05")
        s.add(BuildingReading(building_meter_id=_bm(s, h1), value=1200, period="2025-05", taken_at=T))
    with read_session(engine) as s:
        r = building_allocation(s, h1, "water", "2025-04")
        b = r.flat(ids["B"])
        assert b.meters[0].status == DECREASED and b.meters[0].volume == D("0.000")
        assert all(v >= 0 for v in r.shares.values())
        # May: only A has a reading (95 -> 100); the building took 50, so A carries all 45
        may = building_allocation(s, h1, "water", "2025-05")
        assert may.shares[ids["A"]] == D("45.000") and may.money[ids["A"]] == D("4297.50")


def test_a_meter_that_passed_zero_counts_its_real_volume(building):
    """Issue 14 point 4: B-2 read 106 in March; in April its 3-digit dial shows 4 after passing zero
    (rollovers 1): 106 ... 999, 000 ... 004 is 898 units, not "decreased", not negative."""
    engine, h1, _h2, _h3, ids = building
    with write_session(engine) as s:
        m = _meter_id(s, ids["B"], "B-2")
        s.execute(sa.update(Meter).where(Meter.id == m).values(digits=3))
        s.add(Reading(meter_id=m, value=4, taken_at=datetime(2025, 4, 20, 6, tzinfo=UTC), period="2025-04",
                      source="inspector", rollovers=1))
    with read_session(engine) as s:
        b = building_allocation(s, h1, "water", "2025-04").flat(ids["B"])
        b2 = next(x for x in b.meters if x.serial == "B-2")
        assert b2.status != DECREASED and b2.volume == D("898.000")


def test_building_errors_have_keys(building):
    engine, h1, h2, h3, ids = building
    with read_session(engine) as s:
        with pytest.raises(BuildingReadingMissing) as e:
            building_allocation(s, h1, "water", "2025-05")  # no May reading yet
        assert e.value.key == "errors.building_reading_missing"
        assert e.value.params == {"house_id": h1, "service": "water", "serial": "B-1", "period": "2025-05"}
        with pytest.raises(BuildingReadingMissing) as e:
            building_allocation(s, h1, "water", "2025-01")  # no December reading
        assert e.value.params["period"] == "2024-12"
        with pytest.raises(NoBuildingMeter) as e:
            building_allocation(s, h3, "water", PERIOD)
        assert e.value.key == "errors.no_building_meter"
        with pytest.raises(NoBuildingMeter):
            building_allocation(s, h1, "gas", PERIOD)
        with pytest.raises(HouseNotFound) as e:
            building_allocation(s, h3 + 100, "water", PERIOD)
        assert e.value.key == "errors.house_not_found" and e.value.params == {"house_id": h3 + 100}
        for bad, key in [(("heat", PERIOD), "errors.bad_service"), (("water", "2025-3"), "errors.bad_period")]:
            with pytest.raises(InvalidInput) as e:
                building_allocation(s, h1, *bad)
            assert e.value.key == key
        with pytest.raises(InvalidInput):
            building_allocation(s, str(h1), "water", PERIOD)
    with write_session(engine) as s:
        s.add(BuildingReading(building_meter_id=_bm(s, h1), value=1100, period="2025-05", taken_at=T))
    with read_session(engine) as s:
        with pytest.raises(BuildingReadingDecreased) as e:
            building_allocation(s, h1, "water", "2025-05")
        assert e.value.key == "errors.building_reading_decreased"
        assert e.value.params == {"serial": "B-1", "period": "2025-05", "previous": 1150, "current": 1100}
        assert isinstance(e.value, DomainError)


def test_no_tariff_only_matters_when_there_is_something_to_share(building):
    engine, h1, _h2, _h3, _ids = building
    with write_session(engine) as s:
        for period, value in [("2024-12", 800), ("2024-11", 700)]:
            s.add(BuildingReading(building_meter_id=_bm(s, h1), value=value, period=period, taken_at=T))
    with read_session(engine) as s:
        with pytest.raises(NoTariff):  # January 2025 has a tariff, December 2024 does not
            building_allocation(s, h1, "water", "2024-12")
        # 2025-01 is priced with the tariff in force on 31 January
        r = building_allocation(s, h1, "water", "2025-01")
        assert r.price == D("95.5") and r.shared == D("100.000")
    with write_session(engine) as s:
        s.add(BuildingReading(building_meter_id=_bm(s, h1), value=700, period="2024-10", taken_at=T))
    with read_session(engine) as s:
        r = building_allocation(s, h1, "water", "2024-11")  # 700 -> 700: nothing, no tariff needed
        assert r.nothing_to_share and r.price is None and r.total_money == D("0.00")


# --------------------------------------------------------------------------------------------
# The split as a property (Hypothesis shrinks a failure to its smallest case).

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_vol = st.decimals(min_value=0, max_value=10**5, places=3)


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value="-10", max_value=10**5, places=4), st.lists(_vol, min_size=1, max_size=12),
       st.integers(min_value=0, max_value=4))
def test_property_shares_add_up_exactly_and_each_is_within_one_unit(diff, volumes, places):
    flats = {f"flat-{i}": v for i, v in enumerate(volumes)}
    shares = allocate(diff, flats, places=places)
    unit = D(1).scaleb(-places)
    wanted = diff.quantize(unit, rounding="ROUND_HALF_UP") if diff > 0 else D(0)
    assert list(shares) == list(flats)  # input order
    assert all(s >= 0 and s.as_tuple().exponent == -places for s in shares.values())
    assert sum(shares.values(), D(0)) == wanted
    total = sum((Fraction(v) for v in volumes), Fraction(0))
    for k, v in flats.items():
        exact = Fraction(wanted) * (Fraction(v) / total if total else Fraction(1, len(flats)))
        assert abs(Fraction(shares[k]) - exact) < Fraction(unit)


# --------------------------------------------------------------------------------------------
# What mutation testing found (scripts/mutation.py common_house): error keys and their values,
# every field of the results, and the edges of the rules.

def _refusal(call) -> tuple[str, dict]:
    with pytest.raises(DomainError) as e:
        call()
    return e.value.key, e.value.params


def test_allocate_refusals_name_their_values():
    assert _refusal(lambda: allocate(D(1), {"a": True})) == ("errors.bad_volume", {"volume": "True"})
    assert _refusal(lambda: allocate(D(1), {"a": "x" * 30})) == ("errors.bad_volume", {"volume": "x" * 20})
    assert _refusal(lambda: allocate(D(1), {"a": "Infinity" + " " * 20})) == (
        "errors.bad_volume", {"volume": "Infinity" + " " * 12})
    assert _refusal(lambda: allocate(D(1), {"a": D("NaN")})) == ("errors.bad_volume", {"volume": "NaN"})
    assert _refusal(lambda: allocate(D(1), {"k" * 50: D("-1.5")})) == (
        "errors.negative_volume", {"key": "k" * 40, "volume": "-1.5"})
    assert _refusal(lambda: allocate(D(1), {"a": 1}, places=7)) == ("errors.invalid_input", {"field": "places"})


def test_allocate_reads_a_float_by_its_shortest_text_and_allows_six_places():
    # 0.0045 as a binary float is 0.00449999...: read as "0.0045" it rounds half up to 0.005
    assert allocate(0.0045, {"a": 1}) == {"a": D("0.005")}
    assert allocate(D(1), {"a": 0.1, "b": 0.2}, places=6) == {"a": D("0.333333"), "b": D("0.666667")}
    assert str(allocate(D(1), {"a": 1}, places=6)["a"]) == "1.000000"


def test_meter_statuses_carry_every_field(building):
    engine, h1, _h2, _h3, ids = building
    with write_session(engine) as s:
        a2 = _meter(s, ids["A"], "A-2", active=False)  # inactive, silent in March: skipped, not the end
        _reading(s, a2, 5, "2025-01")
        mb = _meter_id(s, ids["B"], "B-1")
    with read_session(engine) as s:
        r = building_allocation(s, h1, "water", PERIOD)
        assert (r.house_id, r.service, r.period) == (h1, "water", PERIOD)
        assert [(m.meter_id, m.serial) for m in r.building_meters] == [(_bm(s, h1), "B-1")]
        assert [(f.account_id, f.account_number) for f in r.flats] == [
            (ids[k], n) for k, n in zip("ABCDF", ("100000001", "100000002", "100000003", "100000004", "100000006"))]
        meters = {m.serial: m for f in r.flats for m in f.meters}
        assert set(meters) == {"A-1", "B-1", "B-2", "C-1", "D-1", "F-1"}
        got = {k: (m.meter_id, m.previous, m.current, m.volume, m.status) for k, m in meters.items()}
        assert got["B-1"] == (mb, 10, 25, D("15.000"), OK)
        assert got["C-1"] == (_meter_id(s, ids["C"], "C-1"), None, None, D("0.000"), NO_READING)
        assert got["D-1"] == (_meter_id(s, ids["D"], "D-1"), 7, None, D("0.000"), NO_READING)
        assert got["F-1"] == (_meter_id(s, ids["F"], "F-1"), None, 3, D("0.000"), NO_PREVIOUS)
    with write_session(engine) as s:
        _reading(s, mb, 2, "2025-04")
    with read_session(engine) as s:
        b = building_allocation(s, h1, "water", "2025-04").flat(ids["B"])
        assert (b.meters[0].meter_id, b.meters[0].serial, b.meters[0].previous, b.meters[0].current,
                b.meters[0].volume, b.meters[0].status) == (mb, "B-1", 25, 2, D("0.000"), DECREASED)


def test_the_latest_reading_is_by_time_not_by_entry(building):
    engine, h1, _h2, _h3, ids = building
    with write_session(engine) as s:  # entered after the March readings, taken earlier in March
        _reading(s, _meter_id(s, ids["A"], "A-1"), 60, PERIOD, day=3)
    with read_session(engine) as s:
        a = building_allocation(s, h1, "water", PERIOD).flat(ids["A"])
        assert (a.meters[0].current, a.volume) == (81, D("31.000"))


def _third_house(engine, h3, *, tariff_price=None, building=(100, 101), flat_readings=(5, 5)):
    """House 3: a gas building meter (Feb -> Mar) and one flat in flat "7" with a gas meter."""
    from gazportal.models import Flat

    with write_session(engine) as s:
        bm = BuildingMeter(house_id=h3, service="gas", serial="G-B", unit="m3", installed_on=date(2020, 1, 1))
        s.add(bm)
        s.flush()
        for period, value in zip(("2025-02", PERIOD), building):
            s.add(BuildingReading(building_meter_id=bm.id, value=value, period=period, taken_at=T))
        flat = Flat(house_id=h3, number="7")
        s.add(flat)
        s.flush()
        acc = Account(number="400000001", holder_name="Gas Holder", address="Ermekov 3", house_id=h3,
                      flat_id=flat.id)
        s.add(acc)
        s.flush()
        if flat_readings is not None:
            m = _meter(s, acc.id, "G-1", service="gas")
            _reading(s, m, flat_readings[0], "2025-02")
            _reading(s, m, flat_readings[1], PERIOD)
        t = Tariff(service="gas", name="Gas 2025", valid_from=date(2025, 1, 1))
        s.add(t)
        s.flush()
        if tariff_price is not None:
            s.add(TariffStep(tariff_id=t.id, position=1, price=D(tariff_price)))
        return acc.id, flat.id


def test_one_unit_is_shared_and_its_money_rounded_half_up(building):
    engine, _h1, _h2, h3, _ids = building
    acc, flat_id = _third_house(engine, h3, tariff_price="0.125")
    with read_session(engine) as s:
        r = building_allocation(s, h3, "gas", PERIOD)
        assert r.difference == D("1.000") and r.shared == D("1.000") and not r.nothing_to_share
        f = r.flat(acc)
        assert (f.account_number, f.flat_id, f.volume, f.share) == ("400000001", flat_id, D("0.000"), D("1.000"))
        assert f.meters[0].status == OK and (f.meters[0].previous, f.meters[0].current) == (5, 5)
        assert r.total_money == D("0.13") == f.money  # 1 x 0.125 half up, not 0.12
        mine = account_share(s, acc, "gas", PERIOD)
        assert (mine.account_id, mine.service, mine.period, mine.included) == (acc, "gas", PERIOD, True)
        assert (mine.share, mine.money, mine.flats_count) == (D("1.000"), D("0.13"), 1)


def test_a_tariff_without_steps_is_no_tariff(building):
    engine, _h1, _h2, h3, _ids = building
    _third_house(engine, h3, tariff_price=None)
    with read_session(engine) as s:
        assert _refusal(lambda: building_allocation(s, h3, "gas", PERIOD)) == (
            "errors.no_tariff", {"service": "gas", "day": "2025-03-31"})


def test_a_building_without_flats_shares_nothing(building):
    engine, _h1, _h2, h3, _ids = building
    _third_house(engine, h3, tariff_price="10", flat_readings=None)
    with read_session(engine) as s:
        r = building_allocation(s, h3, "gas", PERIOD)
        assert r.flats == () and r.nothing_to_share and r.shares == {} and r.money == {}
        assert str(r.flats_volume) == "0.000" and r.difference == D("1.000") and str(r.shared) == "0.000"
        assert r.tariff_name == "Gas 2025" and r.price == D("10")


def test_no_tariff_and_nothing_to_share_leaves_no_name(building):
    engine, h1, _h2, _h3, _ids = building
    with write_session(engine) as s:
        s.add(BuildingReading(building_meter_id=_bm(s, h1), value=1000, period="2024-12", taken_at=T))
        s.add(BuildingReading(building_meter_id=_bm(s, h1), value=1000, period="2024-11", taken_at=T))
    with read_session(engine) as s:
        r = building_allocation(s, h1, "water", "2024-12")
        assert r.nothing_to_share and r.tariff_name is None and r.price is None


def test_building_refusals_name_their_values(building):
    engine, h1, _h2, h3, ids = building
    with read_session(engine) as s:
        assert _refusal(lambda: building_allocation(s, str(h1), "water", PERIOD)) == (
            "errors.invalid_input", {"field": "house_id"})
        assert _refusal(lambda: building_allocation(s, h1, "h" * 30, PERIOD)) == (
            "errors.bad_service", {"service": "h" * 20})
        assert _refusal(lambda: building_allocation(s, h3, "water", PERIOD)) == (
            "errors.no_building_meter", {"house_id": h3, "service": "water"})
        assert _refusal(lambda: account_share(s, True, "water", PERIOD)) == (
            "errors.invalid_input", {"field": "account_id"})
        assert _refusal(lambda: account_share(s, ids["nohouse"], "water", PERIOD)) == (
            "errors.account_without_house", {"account_id": ids["nohouse"]})
        missing = ids["nohouse"] + 100
        assert _refusal(lambda: account_share(s, missing, "water", PERIOD)) == (
            "errors.account_not_found", {"account_id": missing})
