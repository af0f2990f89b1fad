"""gazportal.services.dashboard on SQLite and PostgreSQL: what one account's dashboard holds, and
that only the customer's own accounts (and meters) are read."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Meter, Payment, Reading, User, UserAccountLink
from gazportal.services import dashboard
from gazportal.services.accounts import AccountNotFound
from gazportal.settings import load_utility

KS = load_utility("karaganda_su")  # water, window 1..31, 1 submission a month
TZ = KS.tz


def local(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ).astimezone(UTC)


NOW = local(2026, 11, 20)


@pytest.fixture
def world(engine):
    with write_session(engine) as s:
        accs = [Account(number=n, holder_name=h, address=f"Karaganda, Bukhar-Zhyrau 1, {n}")
                for n, h in (("500000001", "Ivanova A."), ("500000002", "Bob B."))]
        s.add_all(accs)
        s.flush()
        mine, bobs = accs[0].id, accs[1].id
        meters = [Meter(account_id=mine, service="water", serial=sn, unit="m3", digits=5, installed_on=date(2020, 1, 1))
                  for sn in ("HW-2", "CW-1")]
        meters.append(Meter(account_id=bobs, service="water", serial="B-1", unit="m3", digits=5,
                            installed_on=date(2020, 1, 1)))
        s.add_all(meters)
        s.flush()
        s.add(Reading(meter_id=meters[0].id, value=120, taken_at=local(2026, 10, 3), period="2026-10",
                      source="controller"))
        s.add(Reading(meter_id=meters[0].id, value=125, taken_at=local(2026, 11, 2), period="2026-11",
                      source="customer", slot=1))
        s.add(Charge(account_id=mine, period="2026-10", service="water", volume=D("7.5"), amount=D("900.00")))
        s.add(Payment(account_id=mine, paid_at=local(2026, 10, 25), amount=D("1000.00"), receipt_no="KS-1",
                      channel="kaspi"))
        users = [User(login=f"{n}@example.kz", email=f"{n}@example.kz", password_hash="x", surname="S", name="N",
                      kind="person", is_active=True, email_verified=True, language="ru") for n in ("alice", "bob")]
        s.add_all(users)
        s.flush()
        s.add_all([UserAccountLink(user_id=users[0].id, account_id=mine),
                   UserAccountLink(user_id=users[1].id, account_id=bobs)])
        return dict(mine=mine, bobs=bobs, alice=users[0].id, bob=users[1].id, hw=meters[0].id, cw=meters[1].id)


def test_dashboard_of_an_account_with_several_water_meters(engine, world):
    with read_session(engine) as s:
        d = dashboard.account_dashboard(s, KS, world["alice"], world["mine"], now=NOW)
    assert d.account.number == "500000001" and d.account.holder_name == "Ivanova A."
    assert d.period == "2026-11" and d.last_period == "2026-10"
    assert [(v.service, v.unit, v.volume) for v in d.last_volumes] == [("water", "m3", D("7.500"))]
    assert d.last_charged == D("900.00")
    assert d.balance == D("100.00") and d.debt == D("0.00") and not d.in_debt
    assert d.window.open and d.submissions_limit == 1
    assert [m.serial for m in d.meters] == ["CW-1", "HW-2"]  # by service, then serial
    cw, hw = d.meters
    assert cw.last is None and cw.status.can_submit and cw.status.submissions_left == 1
    assert hw.last.value == 125 and hw.last.source == "customer"
    assert [h.value for h in hw.history] == [125, 120]
    assert not hw.status.can_submit and hw.status.error.key == "errors.reading_limit_reached"


def test_debt_is_positive_when_charges_exceed_payments(engine, world):
    with write_session(engine) as s:
        s.add(Charge(account_id=world["mine"], period="2026-09", service="water", volume=D("1"), amount=D("150.55")))
    with read_session(engine) as s:
        d = dashboard.account_dashboard(s, KS, world["alice"], world["mine"], now=NOW)
    assert d.balance == D("-50.55") and d.debt == D("50.55") and d.in_debt


def test_other_accounts_and_odd_ids_are_not_found(engine, world):
    with read_session(engine) as s:
        for aid in [world["bobs"], None, True, 1.0, math.nan, -1, 0, 2**70, "9" * 40, [1]]:
            with pytest.raises(AccountNotFound):
                dashboard.account_dashboard(s, KS, world["alice"], aid, now=NOW)
        with pytest.raises(AccountNotFound):  # Bob cannot see Alice's either
            dashboard.account_dashboard(s, KS, world["bob"], world["mine"], now=NOW)


def test_balances_today_are_each_own_accounts_balance_as_the_dashboard_says(engine, world):
    """Issue 14 point 18: the account cards show each account's balance; the same figure as the
    dashboard's (``billing.balance_at`` on the local day), only of the customer's own accounts."""
    with write_session(engine) as s:
        s.add(Charge(account_id=world["bobs"], period="2026-10", service="water", volume=D("1"), amount=D("77.00")))
        # paid at 00:30 local on 21 Nov (still 20 Nov in UTC): not in the balance of the 20th
        s.add(Payment(account_id=world["mine"], paid_at=datetime(2026, 11, 21, 0, 30, tzinfo=TZ).astimezone(UTC),
                      amount=D("5.00"), receipt_no="KS-2", channel="kaspi"))
    with read_session(engine) as s:
        mine = dashboard.balances_today(s, KS, world["alice"], now=NOW)
        d = dashboard.account_dashboard(s, KS, world["alice"], world["mine"], now=NOW)
        assert mine == {world["mine"]: D("100.00")} == {world["mine"]: d.balance}
        assert str(mine[world["mine"]]) == "100.00"  # Decimal with two places
        assert dashboard.balances_today(s, KS, world["bob"], now=NOW) == {world["bobs"]: D("-77.00")}
        assert dashboard.balances_today(s, KS, 999_999, now=NOW) == {}
        later = local(2026, 11, 21, 1)
        assert dashboard.balances_today(s, KS, world["alice"], now=later) == {world["mine"]: D("105.00")}


def test_allowed_ids_are_the_customers_own(engine, world):
    with read_session(engine) as s:
        assert dashboard.allowed_account_ids(s, world["alice"]) == [world["mine"]]
        assert dashboard.allowed_account_ids(s, world["bob"]) == [world["bobs"]]
        assert dashboard.allowed_account_ids(s, 999_999) == []


def test_last_month_volumes_are_per_service_with_their_unit_never_added_up(engine, world):
    """Issue 14 point 11: gas m³, water m³ and electricity kWh of one month were added into one
    unitless number (300); each service keeps its own volume and unit, in the profile's order."""
    with write_session(engine) as s:
        s.add(Charge(account_id=world["mine"], period="2026-10", service="electricity", volume=D("184"),
                     amount=D("4000.00")))
        s.add(Charge(account_id=world["mine"], period="2026-10", service="gas", volume=D("100"), amount=D("5000.00")))
        s.add(Charge(account_id=world["bobs"], period="2026-10", service="gas", volume=D("999"), amount=D("1.00")))
    with read_session(engine) as s:
        d = dashboard.account_dashboard(s, KS, world["alice"], world["mine"], now=NOW)
    by_service = {v.service: (v.unit, v.volume) for v in d.last_volumes}
    assert by_service == {"water": ("m3", D("7.500")), "gas": ("m3", D("100.000")),
                          "electricity": ("kWh", D("184.000"))}
    assert not hasattr(d, "last_volume")  # no sum over units to show by mistake
    assert d.last_charged == D("9900.00")
