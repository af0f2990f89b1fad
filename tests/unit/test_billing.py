"""Billing service: balances on edge days, statements, yearly sums, account state, calculator.

Every DB test runs on SQLite and PostgreSQL (the ``engine`` fixture) against real tables.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Payment, Tariff, TariffStep
from gazportal.services import billing
from gazportal.services.billing import (
    AccountNotFound,
    account_state,
    balance_at,
    calculator,
    debt_at,
    last_payments,
    monthly_statement,
    monthly_volumes,
    parse_volume,
    year_comparison,
    yearly_summary,
)
from gazportal.services.errors import DomainError, InvalidInput
from gazportal.services.periods import add_months, months_between, period_end
from gazportal.services.tariffs import NoTariff

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5 (since March 2024)
KYIV = ZoneInfo("Europe/Kyiv")  # UTC+2 / +3 in summer
UTCZ = ZoneInfo("UTC")


def is_money(x) -> bool:
    return isinstance(x, D) and x.as_tuple().exponent == -2


def is_volume(x) -> bool:
    return isinstance(x, D) and x.as_tuple().exponent == -3


_receipts = iter(range(1, 10**9))


def make_account(s, number: str) -> int:
    acc = Account(number=number, holder_name="Test Holder", address="Somewhere 1")
    s.add(acc)
    s.flush()
    return acc.id


def charge(s, account_id, period, amount, volume="0", service="gas"):
    s.add(Charge(account_id=account_id, period=period, service=service, volume=D(volume), amount=D(amount)))


def pay(s, account_id, paid_at: datetime, amount, channel="bank"):
    s.add(Payment(account_id=account_id, paid_at=paid_at, amount=D(amount),
                  receipt_no=f"R{next(_receipts):09d}", channel=channel))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ----------------------------------------------------------------------------- balances


def test_balance_on_the_edge_days_of_a_month(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000001")
        charge(s, a, "2025-01", "100.00", "10.5")
        pay(s, a, utc(2025, 1, 31, 18, 30), "40.00")  # 23:30 on 31 Jan in Almaty
        pay(s, a, utc(2025, 1, 31, 19, 30), "25.00")  # 00:30 on 1 Feb in Almaty, still 31 Jan in UTC
        pay(s, a, utc(2025, 1, 1, 0, 0), "1.00")  # 05:00 on 1 Jan local
        pay(s, a, utc(2024, 12, 31, 18, 59, 59), "2.00")  # 23:59:59 on 31 Dec local
    with read_session(engine) as s:
        assert balance_at(s, a, date(2024, 12, 30), ALMATY) == D("0.00")
        assert balance_at(s, a, date(2024, 12, 31), ALMATY) == D("2.00")
        assert balance_at(s, a, date(2025, 1, 1), ALMATY) == D("3.00")
        # the January charge is posted on 31 January, not before
        assert balance_at(s, a, date(2025, 1, 30), ALMATY) == D("3.00")
        assert balance_at(s, a, date(2025, 1, 31), ALMATY) == D("-57.00")
        assert debt_at(s, a, date(2025, 1, 31), ALMATY) == D("57.00")
        assert balance_at(s, a, date(2025, 2, 1), ALMATY) == D("-32.00")
        # in UTC both late payments fall on 31 January
        assert balance_at(s, a, date(2025, 1, 31), UTCZ) == D("-32.00")
        # Kyiv is UTC+2 in winter: 20:30 and 21:30 on 31 Jan
        assert balance_at(s, a, date(2025, 1, 31), KYIV) == D("-32.00")
        for d in (date(2024, 12, 30), date(2025, 1, 31), date(2025, 2, 1)):
            b = balance_at(s, a, d, ALMATY)
            assert is_money(b) and is_money(debt_at(s, a, d, ALMATY))
        rows = monthly_statement(s, a, "2025-01", "2025-02", ALMATY)
        assert [(r.period, r.charged, r.paid) for r in rows] == [
            ("2025-01", D("100.00"), D("41.00")), ("2025-02", D("0.00"), D("25.00"))]
        assert rows[0].opening == D("2.00") and rows[0].closing == D("-57.00") and rows[1].closing == D("-32.00")
        rows_utc = monthly_statement(s, a, "2025-01", "2025-02", UTCZ)
        assert [r.paid for r in rows_utc] == [D("66.00"), D("0.00")]


def test_summer_time_boundary_in_kyiv(engine):
    """Kyiv is UTC+3 in summer: 21:30 UTC on 30 June is 00:30 on 1 July."""
    with write_session(engine) as s:
        a = make_account(s, "100000002")
        pay(s, a, utc(2025, 6, 30, 20, 59), "10.00")  # 23:59 on 30 Jun
        pay(s, a, utc(2025, 6, 30, 21, 0), "20.00")  # 00:00 on 1 Jul
    with read_session(engine) as s:
        assert balance_at(s, a, date(2025, 6, 30), KYIV) == D("10.00")
        assert balance_at(s, a, date(2025, 7, 1), KYIV) == D("30.00")
        rows = monthly_statement(s, a, "2025-06", "2025-07", KYIV)
        assert [r.paid for r in rows] == [D("10.00"), D("20.00")]


def test_zero_balance_and_debt_are_plain_zero(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000003")
        charge(s, a, "2025-03", "10.00")
        pay(s, a, utc(2025, 3, 5, 6), "10.00")
    with read_session(engine) as s:
        for d in (date(2025, 1, 1), date(2025, 3, 31)):
            b, debt = balance_at(s, a, d, ALMATY), debt_at(s, a, d, ALMATY)
            assert str(b) == "0.00" and str(debt) == "0.00", (b, debt)
        st = account_state(s, a, "2025-03", ALMATY)
        assert str(st.debt) == "0.00" and not st.in_debt and str(st.closing) == "0.00"


def test_balance_matches_a_reference_model_on_every_day(engine):
    """Random charges and payments; the service must agree with a plain Python model, day by day."""
    rnd = random.Random(20250131)
    charges: dict[str, D] = {}
    payments: list[tuple[datetime, D]] = []
    with write_session(engine) as s:
        a = make_account(s, "100000004")
        other = make_account(s, "100000005")  # rows of another account never leak in
        for p in months_between("2024-10", "2025-03"):
            amt = D(rnd.randint(0, 5_000_00)) / 100
            charges[p] = amt
            charge(s, a, p, amt, D(rnd.randint(0, 99_999)) / 1000)
            charge(s, other, p, "777.77")
        start = utc(2024, 9, 25)
        for _ in range(60):
            moment = start + timedelta(minutes=rnd.randint(0, 60 * 24 * 200))
            amt = D(rnd.randint(1, 3_000_00)) / 100
            payments.append((moment, amt))
            pay(s, a, moment, amt)
            pay(s, other, moment, "5.55")
        # a payment exactly at local midnight (counts on the new day)
        midnight = datetime(2025, 1, 1, tzinfo=ALMATY).astimezone(UTC)
        payments.append((midnight, D("0.01")))
        pay(s, a, midnight, "0.01")

    def expected(day: date) -> D:
        paid = sum((amt for t, amt in payments if t.astimezone(ALMATY).date() <= day), D(0))
        charged = sum((amt for p, amt in charges.items() if period_end(p) <= day), D(0))
        return (paid - charged).quantize(D("0.01"))

    with read_session(engine) as s:
        day = date(2024, 9, 28)
        while day <= date(2025, 4, 3):
            got = balance_at(s, a, day, ALMATY)
            assert got == expected(day), day
            assert is_money(got)
            day += timedelta(days=1)
        rows = monthly_statement(s, a, "2024-09", "2025-04", ALMATY)
        for r in rows:
            assert r.closing == expected(period_end(r.period))
            assert r.charged == charges.get(r.period, D(0))


# ----------------------------------------------------------------------------- statements


def test_statement_with_gaps_chains_opening_and_closing(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000006")
        charge(s, a, "2024-11", "1500.50", "12.345")
        charge(s, a, "2025-01", "2000.00", "20.001")
        charge(s, a, "2025-01", "300.25", "3.000", service="water")  # two services in one month
        charge(s, a, "2025-03", "999.99", "9.999")
        pay(s, a, utc(2024, 11, 10, 5), "1000.00")
        pay(s, a, utc(2025, 1, 15, 5), "2500.75")
        pay(s, a, utc(2025, 4, 2, 5), "100.00")
    with read_session(engine) as s:
        rows = monthly_statement(s, a, "2024-12", "2025-05", ALMATY)
        assert [r.period for r in rows] == ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
        assert rows[0].opening == D("-500.50")  # everything before December
        assert balance_at(s, a, date(2024, 11, 30), ALMATY) == rows[0].opening
        for prev, nxt in zip(rows, rows[1:]):
            assert prev.closing == nxt.opening
        for r in rows:
            assert r.closing == r.opening + r.paid - r.charged
            assert r.closing == balance_at(s, a, period_end(r.period), ALMATY)
            assert all(is_money(x) for x in (r.charged, r.paid, r.opening, r.closing))
            assert is_volume(r.volume)
        empty = rows[0]
        assert (empty.volume, empty.charged, empty.paid) == (D("0.000"), D("0.00"), D("0.00"))
        jan = rows[1]
        assert (jan.volume, jan.charged, jan.paid) == (D("23.001"), D("2300.25"), D("2500.75"))
        assert rows[2].charged == D("0") and rows[2].opening == rows[2].closing
        assert rows[3].charged == D("999.99") and rows[3].closing == D("-1299.99")
        assert rows[3].debt == D("1299.99") and rows[4].closing == D("-1199.99")
        assert rows[5].debt == D("1199.99") and is_money(rows[5].debt)
        # a single month
        one = monthly_statement(s, a, "2025-01", "2025-01", ALMATY)
        assert one == [rows[1]]


def test_yearly_summary_equals_the_sum_of_its_months(engine):
    rnd = random.Random(7)
    with write_session(engine) as s:
        a = make_account(s, "100000007")
        charge(s, a, "2022-12", "123.45", "1.5")  # before the range: only in the opening balance
        for p in months_between("2023-01", "2025-12"):
            if rnd.random() < 0.85:
                charge(s, a, p, D(rnd.randint(0, 900_000_00)) / 100, D(rnd.randint(0, 9_999_999)) / 1000)
        for _ in range(80):
            pay(s, a, utc(2023, 1, 1) + timedelta(minutes=rnd.randint(-2000, 60 * 24 * 365 * 3 + 2000)),
                D(rnd.randint(1, 1_000_000_00)) / 100)
        # payments on the year boundary, in local time
        pay(s, a, datetime(2023, 12, 31, 23, 59, 59, tzinfo=ALMATY).astimezone(UTC), "11.11")
        pay(s, a, datetime(2024, 1, 1, 0, 0, 0, tzinfo=ALMATY).astimezone(UTC), "22.22")
    with read_session(engine) as s:
        years = yearly_summary(s, a, 2023, 2025, ALMATY)
        months = monthly_statement(s, a, "2023-01", "2025-12", ALMATY)
        assert [y.year for y in years] == [2023, 2024, 2025]
        assert years[0].opening == balance_at(s, a, date(2022, 12, 31), ALMATY) != D(0)
        for y in years:
            mine = [m for m in months if m.period.startswith(f"{y.year}-")]
            assert len(mine) == 12
            assert y.volume == sum((m.volume for m in mine), D(0))
            assert y.charged == sum((m.charged for m in mine), D(0))
            assert y.paid == sum((m.paid for m in mine), D(0))
            assert y.opening == mine[0].opening and y.closing == mine[-1].closing
            assert y.closing == balance_at(s, a, date(y.year, 12, 31), ALMATY)
            assert all(is_money(x) for x in (y.charged, y.paid, y.opening, y.closing)) and is_volume(y.volume)
        for prev, nxt in zip(years, years[1:]):
            assert prev.closing == nxt.opening
        # a year before any data: all zero
        assert yearly_summary(s, a, 2020, 2020, ALMATY)[0].charged == D("0.00")


def test_large_values_are_exact(engine):
    big = D("9999999999.99")  # the largest a Numeric(12, 2) holds
    big_volume = D("99999999999.999")
    with write_session(engine) as s:
        a = make_account(s, "100000008")
        for p in months_between("2025-01", "2025-12"):
            charge(s, a, p, big, big_volume)
            pay(s, a, utc(int(p[:4]), int(p[5:]), 10), big)
            pay(s, a, utc(int(p[:4]), int(p[5:]), 11), "0.01")
    with read_session(engine) as s:
        y = yearly_summary(s, a, 2025, 2025, ALMATY)[0]
        assert y.charged == D("119999999999.88")
        assert y.paid == D("120000000000.00")
        assert y.volume == D("1199999999999.988")
        assert y.closing == D("0.12") and is_money(y.closing)
        assert balance_at(s, a, date(2025, 6, 29), ALMATY) == D("10000000000.05")
        assert balance_at(s, a, date(2025, 6, 30), ALMATY) == D("0.06")
        st = account_state(s, a, "2025-12", ALMATY)
        assert st.charged == big and st.paid == D("10000000000.00") and st.closing == D("0.12")


# ----------------------------------------------------------------------------- volumes


def test_monthly_volumes_and_year_comparison(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000009")
        charge(s, a, "2024-03", "10", "5.5", service="water")
        charge(s, a, "2024-03", "10", "100", service="electricity")
        charge(s, a, "2025-03", "10", "7.25", service="water")
        charge(s, a, "2025-12", "10", "1.001", service="water")
        charge(s, a, "2023-12", "10", "999", service="water")  # outside both years
    with read_session(engine) as s:
        vols = monthly_volumes(s, a, "2024-02", "2024-04")
        assert [(v.period, v.volume) for v in vols] == [
            ("2024-02", D("0.000")), ("2024-03", D("105.500")), ("2024-04", D("0.000"))]
        assert all(is_volume(v.volume) for v in vols)
        water = monthly_volumes(s, a, "2024-03", "2024-03", service="water")
        assert water[0].volume == D("5.500")
        cmp = year_comparison(s, a, 2025, service="water")
        assert len(cmp) == 12 and [c.month for c in cmp] == list(range(1, 13))
        assert (cmp[2].period, cmp[2].volume, cmp[2].previous_period, cmp[2].previous_volume) == (
            "2025-03", D("7.250"), "2024-03", D("5.500"))
        assert cmp[2].change == D("1.750")
        assert cmp[11].volume == D("1.001") and cmp[11].previous_volume == D("0.000")
        assert sum((c.previous_volume for c in cmp), D(0)) == D("5.500")
        assert year_comparison(s, a, 2025)[2].previous_volume == D("105.500")
        with pytest.raises(InvalidInput) as e:
            monthly_volumes(s, a, "2024-01", "2024-02", service="heat")
        assert e.value.key == "errors.bad_service"


# ----------------------------------------------------------------------------- account state


def test_account_state_for_a_period(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000010")
        b = make_account(s, "100000011")
        charge(s, a, "2025-04", "500.00")
        charge(s, a, "2025-05", "1200.40", "40.5", service="gas")
        charge(s, a, "2025-05", "300.10", "12", service="water")
        charge(s, b, "2025-05", "9999.00")
        pay(s, a, utc(2025, 4, 30, 19, 30), "450.00", channel="kaspi")  # 1 May 00:30 local
        pay(s, a, utc(2025, 5, 20, 7), "600.00", channel="card")
        pay(s, a, utc(2025, 5, 31, 19, 0), "1.00")  # 1 June local
        pay(s, b, utc(2025, 5, 20, 7), "7.00")
    with read_session(engine) as s:
        st = account_state(s, a, "2025-05", ALMATY)
        assert st.opening == D("-500.00")
        assert [(c.service, c.volume, c.amount) for c in st.charges] == [
            ("gas", D("40.500"), D("1200.40")), ("water", D("12.000"), D("300.10"))]
        assert st.charged == D("1500.50")
        assert [(p.day, p.amount, p.channel) for p in st.payments] == [
            (date(2025, 5, 1), D("450.00"), "kaspi"), (date(2025, 5, 20), D("600.00"), "card")]
        assert all(p.receipt_no.startswith("R") and p.paid_at.tzinfo is not None for p in st.payments)
        assert st.paid == D("1050.00")
        assert st.closing == D("-950.50") == balance_at(s, a, date(2025, 5, 31), ALMATY)
        assert st.debt == D("950.50") and st.in_debt
        for x in (st.opening, st.charged, st.paid, st.closing, st.debt, *(p.amount for p in st.payments)):
            assert is_money(x)
        june = account_state(s, a, "2025-06", ALMATY)
        assert june.opening == st.closing and june.charges == () and june.paid == D("1.00")
        assert june.closing == D("-949.50")
        quiet = account_state(s, a, "2020-01", ALMATY)
        assert quiet.opening == quiet.closing == D("0.00") and not quiet.in_debt


def test_last_payments_newest_first(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000012")
        b = make_account(s, "100000013")
        for i in range(15):
            pay(s, a, utc(2025, 1, 1) + timedelta(days=i), f"{i + 1}.00")
        pay(s, b, utc(2026, 1, 1), "9.99")
    with read_session(engine) as s:
        ten = last_payments(s, a)
        assert [p.amount for p in ten] == [D(f"{i}.00") for i in range(15, 5, -1)]
        assert all(is_money(p.amount) for p in ten)
        three = last_payments(s, a, limit=3, tz=ALMATY)
        assert [p.day for p in three] == [date(2025, 1, 15), date(2025, 1, 14), date(2025, 1, 13)]
        assert last_payments(s, a, limit=100)[-1].amount == D("1.00")
        for bad in (0, -1, 101, "5", True, 2.5):
            with pytest.raises(InvalidInput) as e:
                last_payments(s, a, limit=bad)
            assert e.value.key == "errors.bad_limit"
        assert last_payments(s, make_account(s, "100000014")) == []


# ----------------------------------------------------------------------------- calculator


def test_calculator_uses_the_tariff_in_force(engine):
    with write_session(engine) as s:
        t = Tariff(service="electricity", name="2025", valid_from=date(2025, 1, 1))
        s.add(t)
        s.flush()
        s.add_all([TariffStep(tariff_id=t.id, position=1, up_to=D("100"), price=D("20.5")),
                   TariffStep(tariff_id=t.id, position=2, price=D("31"))])
    with read_session(engine) as s:
        c = calculator(s, "electricity", "150,5", date(2025, 6, 1))
        assert c.volume == D("150.500") and c.amount == D("3615.50")
        assert [p.amount for p in c.parts] == [D("2050.00"), D("1565.50")]
        assert calculator(s, "electricity", D("42.5"), date(2025, 6, 1)).amount == D("871.25")
        assert calculator(s, "electricity", 0, date(2025, 6, 1)).amount == D("0.00")
        with pytest.raises(NoTariff) as e:
            calculator(s, "electricity", "1", date(2024, 12, 31))
        assert e.value.key == "errors.no_tariff"
        with pytest.raises(NoTariff):
            calculator(s, "gas", "1", date(2025, 6, 1))
        with pytest.raises(InvalidInput) as e:
            calculator(s, "heat", "1", date(2025, 6, 1))
        assert e.value.key == "errors.bad_service"
        with pytest.raises(InvalidInput) as e:
            calculator(s, "electricity", "1", datetime(2025, 6, 1, tzinfo=UTC))
        assert e.value.key == "errors.bad_date"


@pytest.mark.parametrize("text, value", [
    ("12", D("12.000")), ("12,5", D("12.500")), (" 1 234.125 ", D("1234.125")), (7, D("7.000")),
    (D("0.001"), D("0.001")), (2.5, D("2.500")), ("0", D("0.000")),
])
def test_parse_volume_accepts(text, value):
    got = parse_volume(text)
    assert got == value and got.as_tuple().exponent == -3


@pytest.mark.parametrize("bad", [
    "", "abc", "-1", "1e3", "1.2345", "1.2.3", "NaN", "inf", D("-0.5"), D("NaN"), D("1E+20"),
    "100000000000", None, True, [1], float("nan"),
])
def test_parse_volume_refuses(bad):
    with pytest.raises(InvalidInput) as e:
        parse_volume(bad)
    assert e.value.key == "errors.bad_volume"


# ----------------------------------------------------------------------------- invalid input


def test_invalid_input_is_refused_with_keys(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000015")
    with read_session(engine) as s:
        missing = a + 1000
        calls = [
            lambda: balance_at(s, missing, date(2025, 1, 1), ALMATY),
            lambda: debt_at(s, missing, date(2025, 1, 1), ALMATY),
            lambda: monthly_statement(s, missing, "2025-01", "2025-02", ALMATY),
            lambda: yearly_summary(s, missing, 2025, 2025, ALMATY),
            lambda: monthly_volumes(s, missing, "2025-01", "2025-02"),
            lambda: year_comparison(s, missing, 2025),
            lambda: account_state(s, missing, "2025-01", ALMATY),
            lambda: last_payments(s, missing),
        ]
        for call in calls:
            with pytest.raises(AccountNotFound) as e:
                call()
            assert e.value.key == "errors.account_not_found" and e.value.params == {"account_id": missing}
            assert isinstance(e.value, DomainError)

        def key_of(call):
            with pytest.raises(DomainError) as e:
                call()
            return e.value.key, e.value.params

        assert key_of(lambda: balance_at(s, "1", date(2025, 1, 1), ALMATY))[0] == "errors.invalid_input"
        assert key_of(lambda: balance_at(s, True, date(2025, 1, 1), ALMATY))[0] == "errors.invalid_input"
        assert key_of(lambda: balance_at(s, a, "2025-01-01", ALMATY))[0] == "errors.bad_date"
        assert key_of(lambda: balance_at(s, a, date(1, 1, 1), ALMATY))[0] == "errors.bad_date"
        assert key_of(lambda: monthly_statement(s, a, "2025-13", "2026-01", ALMATY)) == (
            "errors.bad_period", {"period": "2025-13"})
        assert key_of(lambda: monthly_statement(s, a, "2025-01", "25-02", ALMATY))[0] == "errors.bad_period"
        assert key_of(lambda: monthly_statement(s, a, "2025-03", "2025-01", ALMATY)) == (
            "errors.period_range_reversed", {"first": "2025-03", "last": "2025-01"})
        assert key_of(lambda: monthly_statement(s, a, "2005-01", "2024-12", ALMATY)) == (
            "errors.period_range_too_long", {"first": "2005-01", "last": "2024-12", "max_months": 120})
        assert len(monthly_statement(s, a, "2015-01", "2024-12", ALMATY)) == 120  # exactly the limit
        assert key_of(lambda: monthly_volumes(s, a, "2000-01", "2020-01"))[0] == "errors.period_range_too_long"
        assert key_of(lambda: account_state(s, a, "2025-1", ALMATY))[0] == "errors.bad_period"
        assert key_of(lambda: yearly_summary(s, a, 2025, 2024, ALMATY)) == (
            "errors.year_range_reversed", {"first": 2025, "last": 2024})
        assert key_of(lambda: yearly_summary(s, a, 2000, 2019, ALMATY)) == (
            "errors.year_range_too_long", {"first": 2000, "last": 2019, "max_years": 10})
        assert key_of(lambda: yearly_summary(s, a, "2024", 2025, ALMATY))[0] == "errors.bad_year"
        assert key_of(lambda: year_comparison(s, a, 99999))[0] == "errors.bad_year"


# ----------------------------------------------------------------------------- speed


def test_queries_use_the_account_indices(sqlite_engine):
    """At a million accounts no query may scan a whole table: check SQLite's plans."""
    with write_session(sqlite_engine) as s:
        a = make_account(s, "100000016")
        charge(s, a, "2025-01", "1.00")
        pay(s, a, utc(2025, 1, 5), "1.00")
    seen: list[str] = []

    @sa.event.listens_for(sqlite_engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with read_session(sqlite_engine) as s:
        balance_at(s, a, date(2025, 3, 1), ALMATY)
        monthly_statement(s, a, "2024-01", "2025-12", ALMATY)
        yearly_summary(s, a, 2020, 2025, ALMATY)
        account_state(s, a, "2025-01", ALMATY)
        last_payments(s, a)
    sa.event.remove(sqlite_engine, "before_cursor_execute", _capture)
    assert len(seen) >= 10
    with sqlite_engine.connect() as conn:
        for statement, params in seen:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            details = [row[-1] for row in plan]
            for d in details:
                words = d.split()
                if len(words) > 1 and words[1] in ("charge", "payment", "account"):
                    assert words[0] == "SEARCH" and ("INDEX" in d or "PRIMARY KEY" in d), (statement, details)


def test_range_limits_are_documented_constants():
    assert billing.MAX_MONTHS == 120 and billing.MAX_YEARS == 10
    assert add_months("2015-01", billing.MAX_MONTHS - 1) == "2024-12"


# ----------------------------------------------------------------------------- balances as properties
# Hypothesis draws an account's charges and payments; the service must agree with the arithmetic
# of the module's conventions: balance = payments - charges (positive a credit, negative a debt),
# debt = max(0, -balance), money Decimal with two places, and every total the sum of its parts.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PERIODS = months_between("2024-11", "2025-04")
_money = st.decimals(min_value="0.01", max_value="99999.99", places=2)
_charges = st.lists(st.tuples(st.sampled_from(_PERIODS), st.sampled_from(["gas", "water"]), _money,
                              st.decimals(min_value=0, max_value="9999.999", places=3)),
                    max_size=8, unique_by=lambda c: (c[0], c[1]))  # one charge per month and service
# moments from 1 Nov 2024 to 1 May 2025 (UTC), minute steps: local midnights and month edges included
_moments = st.integers(min_value=0, max_value=181 * 24 * 60).map(lambda m: utc(2024, 11, 1) + timedelta(minutes=m))
_payments = st.lists(st.tuples(_moments, _money), max_size=10)
_numbers = iter(range(200_000_001, 300_000_000))
_property = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fill(engine, charges, payments) -> tuple[int, int]:
    """A fresh account with these rows, next to a neighbour with the same rows doubled."""
    with write_session(engine) as s:
        a = make_account(s, str(next(_numbers)))
        other = make_account(s, str(next(_numbers)))
        for period, service, amount, volume in charges:
            charge(s, a, period, amount, volume, service=service)
            charge(s, other, period, amount * 2, volume, service=service)
        for moment, amount in payments:
            pay(s, a, moment, amount)
            pay(s, other, moment, amount * 2)
    return a, other


def _expected_balance(charges, payments, day: date, tz: ZoneInfo) -> D:
    paid = sum((amt for t, amt in payments if t.astimezone(tz).date() <= day), D("0.00"))
    charged = sum((amt for p, _s, amt, _v in charges if period_end(p) <= day), D("0.00"))
    return paid - charged


@_property
@given(_charges, _payments, st.sampled_from([ALMATY, KYIV, UTCZ]))
def test_property_balance_is_payments_minus_charges_with_signs_and_two_places(sqlite_engine, charges, payments, tz):
    a, _other = _fill(sqlite_engine, charges, payments)
    days = {date(2024, 10, 31), date(2025, 5, 1)}
    days |= {period_end(p) for p in _PERIODS} | {period_end(p) - timedelta(days=1) for p in _PERIODS}
    days |= {t.astimezone(tz).date() for t, _amt in payments}
    days |= {t.astimezone(tz).date() - timedelta(days=1) for t, _amt in payments}
    with read_session(sqlite_engine) as s:
        for day in sorted(days):
            want = _expected_balance(charges, payments, day, tz)
            got, debt = balance_at(s, a, day, tz), debt_at(s, a, day, tz)
            assert got == want and is_money(got), (day, got, want)
            assert is_money(debt) and debt >= 0
            if want < 0:  # a debt: what is owed, positive
                assert debt == -want
            else:  # settled or overpaid: no debt, the credit stays in the balance
                assert debt == D("0.00") and str(debt) == "0.00"


@_property
@given(_charges, _payments, st.sampled_from([ALMATY, KYIV]))
def test_property_statements_and_states_are_sums_of_their_parts(sqlite_engine, charges, payments, tz):
    a, _other = _fill(sqlite_engine, charges, payments)
    with read_session(sqlite_engine) as s:
        rows = monthly_statement(s, a, _PERIODS[0], _PERIODS[-1], tz)
        opening = rows[0].opening
        assert opening == D("0.00")  # nothing before November 2024 (payments start on 1 Nov UTC)
        for r in rows:
            assert r.charged == sum((amt for p, _s, amt, _v in charges if p == r.period), D("0.00"))
            assert r.volume == sum((v for p, _s, _a, v in charges if p == r.period), D("0.000"))
            assert r.paid == sum((amt for t, amt in payments
                                  if f"{t.astimezone(tz).date():%Y-%m}" == r.period), D("0.00"))
            assert r.opening == opening and r.closing == r.opening + r.paid - r.charged
            assert r.closing == _expected_balance(charges, payments, period_end(r.period), tz)
            assert r.debt == max(D("0.00"), -r.closing) and all(
                is_money(x) for x in (r.charged, r.paid, r.opening, r.closing, r.debt))
            opening = r.closing
            st_ = account_state(s, a, r.period, tz)
            assert (st_.opening, st_.charged, st_.paid, st_.closing, st_.debt) == (
                r.opening, r.charged, r.paid, r.closing, r.debt)
            assert st_.charged == sum((c.amount for c in st_.charges), D("0.00"))
            assert st_.paid == sum((p.amount for p in st_.payments), D("0.00"))
            assert st_.in_debt == (r.closing < 0)
            assert [c.service for c in st_.charges] == sorted({sv for p, sv, _a, _v in charges if p == r.period})
        total_paid = sum((amt for t, amt in payments
                          if _PERIODS[0] <= f"{t.astimezone(tz).date():%Y-%m}" <= _PERIODS[-1]), D("0.00"))
        assert sum((r.paid for r in rows), D("0.00")) == total_paid
        assert sum((r.charged for r in rows), D("0.00")) == sum((c[2] for c in charges), D("0.00"))
        years = yearly_summary(s, a, 2024, 2025, tz)
        for y in years:
            mine = [r for r in rows if r.period.startswith(f"{y.year}-")]
            assert y.charged == sum((m.charged for m in mine), D("0.00"))
            assert y.paid == sum((m.paid for m in mine), D("0.00")) + sum(
                (amt for t, amt in payments if t.astimezone(tz).year == y.year
                 and f"{t.astimezone(tz).date():%Y-%m}" not in _PERIODS), D("0.00"))
            assert y.closing == _expected_balance(charges, payments, date(y.year, 12, 31), tz)


# ----------------------------------------------------------------------------- what mutation testing found
# (scripts/mutation.py billing): the edges of the ranges, refusals' values, every field of the
# results, the local start of the first month and year, and orderings by time rather than entry.


def _refusal(call) -> tuple[str, dict]:
    with pytest.raises(DomainError) as e:
        call()
    return e.value.key, e.value.params


def test_the_first_month_and_year_start_at_local_midnight(engine):
    """Almaty is UTC+5: 00:30 on 1 January 2025 is 19:30 UTC on 31 December."""
    with write_session(engine) as s:
        a = make_account(s, "100000017")
        pay(s, a, utc(2024, 12, 31, 19, 30), "7.00")  # 1 Jan 00:30 local
        pay(s, a, utc(2024, 12, 31, 18, 30), "1.00")  # 31 Dec 23:30 local
        charge(s, a, "2025-01", "3.00", "1.5")
    with read_session(engine) as s:
        jan = monthly_statement(s, a, "2025-01", "2025-01", ALMATY)[0]
        assert (jan.opening, jan.paid, jan.charged, jan.closing) == (D("1.00"), D("7.00"), D("3.00"), D("5.00"))
        y = yearly_summary(s, a, 2025, 2025, ALMATY)[0]
        assert (y.opening, y.paid, y.charged, y.closing) == (D("1.00"), D("7.00"), D("3.00"), D("5.00"))
        st = account_state(s, a, "2025-01", ALMATY)
        assert (st.account_id, st.period, st.opening, st.paid) == (a, "2025-01", D("1.00"), D("7.00"))
        # a year with nothing in it is zero, not one thousandth or one tiyn
        empty = yearly_summary(s, a, 2026, 2026, ALMATY)[0]
        assert (str(empty.volume), str(empty.charged), str(empty.paid)) == ("0.000", "0.00", "0.00")
        assert empty.opening == empty.closing == D("5.00")


def test_year_and_range_edges(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000018")
    with read_session(engine) as s:
        assert yearly_summary(s, a, 1900, 1900, UTCZ)[0].year == 1900
        assert yearly_summary(s, a, 2999, 2999, UTCZ)[0].year == 2999
        assert len(yearly_summary(s, a, 2000, 2009, UTCZ)) == 10  # exactly MAX_YEARS
        assert _refusal(lambda: yearly_summary(s, a, 2000, 2010, UTCZ)) == (
            "errors.year_range_too_long", {"first": 2000, "last": 2010, "max_years": 10})
        assert _refusal(lambda: yearly_summary(s, a, 1899, 1900, UTCZ)) == ("errors.bad_year", {"year": "1899"})
        assert _refusal(lambda: yearly_summary(s, a, 2999, 3000, UTCZ)) == ("errors.bad_year", {"year": "3000"})
        assert _refusal(lambda: yearly_summary(s, a, "2" * 30, 2000, UTCZ)) == ("errors.bad_year", {"year": "2" * 20})
        assert year_comparison(s, a, 1901)[0].previous_period == "1900-01"
        assert _refusal(lambda: year_comparison(s, a, 1900)) == ("errors.bad_year", {"year": "1900"})
        assert _refusal(lambda: monthly_volumes(s, a, "2025-01", "2025-01", "h" * 30)) == (
            "errors.bad_service", {"service": "h" * 20})
        assert _refusal(lambda: calculator(s, "h" * 30, "1", date(2025, 1, 1))) == (
            "errors.bad_service", {"service": "h" * 20})


def test_payments_are_ordered_by_time_not_by_entry_and_carry_their_ids(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000019")
        pay(s, a, utc(2025, 5, 20, 7), "2.00")
        pay(s, a, utc(2025, 5, 10, 7), "1.00")  # entered later, paid earlier
        s.flush()
        ids = dict(s.execute(sa.select(Payment.amount, Payment.id).where(Payment.account_id == a)).all())
    with read_session(engine) as s:
        st = account_state(s, a, "2025-05", ALMATY)
        assert [(p.amount, p.id) for p in st.payments] == [(D("1.00"), ids[D("1.00")]), (D("2.00"), ids[D("2.00")])]
        last = last_payments(s, a)
        assert [(p.amount, p.id) for p in last] == [(D("2.00"), ids[D("2.00")]), (D("1.00"), ids[D("1.00")])]
        assert [p.amount for p in last_payments(s, a, limit=1)] == [D("2.00")]
        assert _refusal(lambda: last_payments(s, a, limit=101)) == ("errors.bad_limit", {"limit": "101", "max": 100})
        assert _refusal(lambda: last_payments(s, a, limit="9" * 30)) == (
            "errors.bad_limit", {"limit": "9" * 20, "max": 100})


def test_last_payments_without_a_zone_give_utc_days_whatever_the_machine_zone(engine, monkeypatch):
    import time

    with write_session(engine) as s:
        a = make_account(s, "100000020")
        pay(s, a, utc(2025, 5, 20, 22), "2.00")  # 21 May in Tokyo
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        with read_session(engine) as s:
            assert [p.day for p in last_payments(s, a)] == [date(2025, 5, 20)]
            rows = monthly_statement(s, a, "2025-05", "2025-05", UTCZ)
            assert rows[0].paid == D("2.00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_parse_volume_edges_and_refusal_values():
    assert parse_volume("1\u00a0234,5") == D("1234.500")  # a no-break space between thousands
    assert parse_volume("99999999999.999") == billing.MAX_CALC_VOLUME
    assert _refusal(lambda: parse_volume(True)) == ("errors.bad_volume", {"volume": "True"})
    assert _refusal(lambda: parse_volume("x" * 30)) == ("errors.bad_volume", {"volume": "x" * 20})
    assert _refusal(lambda: parse_volume("1" * 30)) == ("errors.bad_volume", {"volume": "1" * 20})


def test_day_account_and_month_range_edges(engine):
    with write_session(engine) as s:
        a = make_account(s, "100000021")
        pay(s, a, utc(2025, 1, 10, 6), "0.50")
    with read_session(engine) as s:
        # a credit below one unit is still a credit, not a debt of -0.50
        assert balance_at(s, a, date(2025, 1, 10), UTCZ) == D("0.50")
        assert str(debt_at(s, a, date(2025, 1, 10), UTCZ)) == "0.00"
        assert balance_at(s, a, date(1900, 1, 1), UTCZ) == D("0.00")
        assert balance_at(s, a, date(2999, 12, 31), UTCZ) == D("0.50")
        assert _refusal(lambda: balance_at(s, a, date(1899, 12, 31), UTCZ)) == ("errors.bad_date", {"day": "1899-12-31"})
        assert _refusal(lambda: balance_at(s, a, "x" * 40, UTCZ)) == ("errors.bad_date", {"day": "x" * 30})
        assert _refusal(lambda: balance_at(s, str(a), date(2025, 1, 1), UTCZ)) == (
            "errors.invalid_input", {"field": "account_id"})
        assert _refusal(lambda: monthly_statement(s, a, "2015-01", "2025-01", UTCZ)) == (  # 121 months
            "errors.period_range_too_long", {"first": "2015-01", "last": "2025-01", "max_months": 120})
