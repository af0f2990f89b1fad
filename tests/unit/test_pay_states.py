"""The dashboard's "Pay" handler called directly, as a browser (or an attacker speaking Reflex's
protocol) would: the amount is whatever the customer chose within the limits, checked on the
server; a forged amount (negative, above the limit, NaN, a dict, too many decimals), another
customer's account or no session makes no order; a good one makes one order (a repeated submit
too) and sends the browser to the provider; the page's debt is pre-filled."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, PaymentOrder, User, UserAccountLink
from gazportal.services import i18n, passwords
from gazportal.state.payments import PayState
from tests.conftest import sign_in_token, state_of

PASSWORD = "Sturdy-Lantern-42"
pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def world(app_db) -> dict:
    ids = {}
    with write_session(app_db) as s:
        for login in ("alice@example.kz", "bob@example.kz"):
            u = User(login=login, email=login, password_hash=passwords.hash_password(PASSWORD), surname="S",
                     name="N", kind="person", is_active=True, email_verified=True, language="en")
            s.add(u)
            s.flush()
            ids[login.split("@")[0]] = u.id
        for number, owner in (("100000001", "alice"), ("100000002", "bob")):
            a = Account(number=number, holder_name="H", address="addr")
            s.add(a)
            s.flush()
            s.add(UserAccountLink(user_id=ids[owner], account_id=a.id))
            s.add(Charge(account_id=a.id, period="2026-01", service="gas", volume=Decimal("10.000"),
                         amount=Decimal("5600.00")))
            ids[f"{owner}_acc"] = a.id
    return ids


def _orders(engine) -> list[tuple]:
    with read_session(engine) as s:
        return [(o.account_id, o.amount, o.currency, o.status) for o in s.exec(select(PaymentOrder)).all()]


async def _pay(token, account, amount, **extra):
    s = await state_of(PayState, token, path="/dashboard")
    form = {"account": str(account), "amount": amount, "submission": s.submission, **extra}
    return s, await s.start(form)


@pytest.mark.parametrize("amount", ["-100", "0", "0.5", "1e9", "NaN", "100.001", "105600.01", "", "abc",
                                    {"value": 1}, ["1"], 10**30, None])
async def test_a_forged_amount_makes_no_order(world, app_db, amount):
    token = sign_in_token(app_db, "alice@example.kz", PASSWORD)
    s, result = await _pay(token, world["alice_acc"], amount)
    assert "/_gp/pay/go/" not in repr(result)
    assert s.error not in ("", i18n.t("errors.account_not_found", "en"))  # refused for the amount itself
    assert _orders(app_db) == []


async def test_another_customers_account_or_no_session_makes_no_order(world, app_db):
    token = sign_in_token(app_db, "alice@example.kz", PASSWORD)
    s, result = await _pay(token, world["bob_acc"], "100")
    assert s.error != "" and "/_gp/pay/go/" not in repr(result)
    _s, result = await _pay(None, world["alice_acc"], "100")
    assert "/signin" in repr(result)
    _s, result = await _pay(token, world["alice_acc"], "100", user_id=str(world["bob"]))  # an extra field
    assert "/_gp/pay/go/" not in repr(result)
    assert _orders(app_db) == []


async def test_a_good_amount_makes_one_order_and_goes_to_the_provider(world, app_db):
    token = sign_in_token(app_db, "alice@example.kz", PASSWORD)
    s = await state_of(PayState, token, path="/dashboard")
    form = {"account": str(world["alice_acc"]), "amount": "1 234,50", "submission": s.submission}
    result = await s.start(form)
    assert "/_gp/pay/go/" in repr(result) and s.error == "", (s.error, s.errors)
    again = await s.start(form)  # a double click / a replayed event: nothing new
    assert "/_gp/pay/go/" not in repr(again)
    assert _orders(app_db) == [(world["alice_acc"], Decimal("1234.50"), "KZT", "created")]


async def test_the_dashboard_prefills_the_debt(world, app_db):
    from gazportal.state.dashboard import DashboardState

    token = sign_in_token(app_db, "alice@example.kz", PASSWORD)
    d = await state_of(DashboardState, token, path="/dashboard")
    await d.load()
    assert (d.pay_default, d.pay_open, d.pay_text) == ("5,600.00", True, "")
