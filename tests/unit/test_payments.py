"""Online payments exactly once (issue 17): orders fixed on the server, the payment window and
limits, booking only from matching callbacks, forward-only statuses, late successes flagged,
100 concurrent duplicate callbacks → one payment, and the re-check of stale orders — on SQLite and
PostgreSQL (the ``engine`` fixture)."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Payment, PaymentIncident, PaymentOrder, UserAccountLink
from gazportal.services import billing, payments
from gazportal.services.errors import AccountNotFound, DomainError, InvalidInput
from gazportal.services.payments.providers import Notification
from gazportal.settings import load_utility
from tests.conftest import add_user

pytestmark = pytest.mark.timeout(120)

KG = load_utility("kremenchukgaz")
NOW = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)  # the 12th in Kyiv: the window is open


def setup_account(engine, debt=Decimal("250.40")):
    """A customer with one account owing ``debt`` (a charge for October)."""
    with write_session(engine) as s:
        uid = add_user(s, "payer@example.com")
        other = add_user(s, "other@example.com")
        acc = Account(number="0512345678", holder_name="Петренко Ґалина", address="Кременчук")
        s.add(acc)
        s.flush()
        s.add(UserAccountLink(user_id=uid, account_id=acc.id))
        s.add(Charge(account_id=acc.id, period="2026-10", service="gas", volume=Decimal("30.000"), amount=debt))
        return uid, other, acc.id


def order(engine, uid, acc, amount="250.40", provider="demo", now=NOW, utility=KG):
    return payments.create_order(engine, utility, user_id=uid, account_id=acc, amount=amount, lang="uk",
                                 provider=provider, now=now)


def success(o, tx="T1", amount=None, currency=None):
    return Notification(order=o.public_id, outcome="success", transaction_id=tx,
                        amount=o.amount if amount is None else amount, currency=currency or o.currency)


def count(engine, model):
    with read_session(engine) as s:
        return s.exec(select(sa.func.count()).select_from(model)).one()


def test_order_is_fixed_on_the_server(engine):
    uid, other, acc = setup_account(engine)
    o = order(engine, uid, acc, "250,40")
    assert (o.amount, o.currency, o.status, o.account_id) == (Decimal("250.40"), "UAH", "created", acc)
    assert len(o.public_id) >= 22
    with pytest.raises(AccountNotFound):
        order(engine, other, acc)  # another customer's account
    with pytest.raises(InvalidInput):
        order(engine, uid, acc, "-5")
    with pytest.raises(DomainError) as e:
        order(engine, uid, acc, "0.50")
    assert e.value.key == "errors.payment_limits"
    with pytest.raises(DomainError):
        order(engine, uid, acc, str(Decimal("250.40") + KG.payment_advance_limit + Decimal("0.01")))
    assert order(engine, uid, acc, "100").amount == Decimal("100.00")  # partial
    assert order(engine, uid, acc, "1000").amount == Decimal("1000.00")  # advance


def test_payment_window_is_enforced_on_the_server(engine):
    uid, _, acc = setup_account(engine)
    with pytest.raises(DomainError) as e:
        order(engine, uid, acc, now=datetime(2026, 11, 9, 12, 0, tzinfo=UTC))
    assert e.value.key == "errors.payment_window" and e.value.params == {"day": 10}
    # 22:30 UTC on the 9th is 00:30 on the 10th in Kyiv: open
    assert order(engine, uid, acc, now=datetime(2026, 11, 9, 22, 30, tzinfo=UTC)).status == "created"
    assert payments.window_open(load_utility("default"), datetime(2026, 11, 1, tzinfo=UTC))


def test_a_matching_success_is_booked_and_shows_in_the_balance(engine):
    uid, _, acc = setup_account(engine)
    o = order(engine, uid, acc)
    assert payments.apply(engine, KG, "demo", success(o), now=NOW) == "booked"
    assert payments.apply(engine, KG, "demo", success(o), now=NOW) == "duplicate"
    with read_session(engine) as s:
        p = s.exec(select(Payment)).one()
        assert (p.amount, p.provider, p.transaction_id, p.channel) == (Decimal("250.40"), "demo", "T1", "portal")
        assert billing.balance_at(s, acc, date(2026, 11, 12), KG.tz) == Decimal("0.00")
        st = billing.account_state(s, acc, "2026-11", KG.tz)
        assert st.paid == Decimal("250.40")
        got = s.exec(select(PaymentOrder)).one()
        assert (got.status, got.payment_id, got.late) == ("paid", p.id, False)


@pytest.mark.parametrize("amount,currency", [(Decimal("250.39"), "UAH"), (Decimal("25040"), "UAH"),
                                             (Decimal("250.40"), "KZT"), (Decimal("-250.40"), "UAH")])
def test_a_mismatch_is_refused_not_booked_and_recorded(engine, amount, currency):
    uid, _, acc = setup_account(engine)
    o = order(engine, uid, acc)
    assert payments.apply(engine, KG, "demo", success(o, amount=amount, currency=currency), now=NOW) == "mismatch"
    assert payments.apply(engine, KG, "demo", success(o, amount=amount, currency=currency), now=NOW) == "mismatch"
    assert count(engine, Payment) == 0
    with read_session(engine) as s:
        inc = s.exec(select(PaymentIncident)).all()
        assert [(i.kind, i.order_id) for i in inc] == [("mismatch", o.id)]  # recorded once for staff
        assert s.exec(select(PaymentOrder)).one().status == "created"


def test_unknown_order_and_other_provider_are_refused(engine):
    uid, _, acc = setup_account(engine)
    o = order(engine, uid, acc)
    assert payments.apply(engine, KG, "liqpay", success(o), now=NOW) == "unknown_order"
    assert payments.apply(engine, KG, "demo", Notification("nope" * 5, "success", "T9", o.amount, "UAH"),
                          now=NOW) == "unknown_order"
    assert count(engine, Payment) == 0


def test_statuses_only_move_forward_and_a_late_success_is_booked_and_flagged(engine):
    uid, _, acc = setup_account(engine)
    o = order(engine, uid, acc)
    fail = Notification(o.public_id, "failure", "T0", o.amount, "UAH")
    pend = Notification(o.public_id, "pending", None, o.amount, "UAH")
    assert payments.apply(engine, KG, "demo", pend, now=NOW) == "updated"
    assert payments.apply(engine, KG, "demo", fail, now=NOW) == "updated"
    assert payments.apply(engine, KG, "demo", pend, now=NOW) == "ignored"  # failed never goes back
    assert payments.apply(engine, KG, "demo", success(o), now=NOW) == "booked"
    assert payments.apply(engine, KG, "demo", fail, now=NOW) == "ignored"  # paid is final
    assert payments.apply(engine, KG, "demo", success(o, tx="T2"), now=NOW) == "second_success"
    with read_session(engine) as s:
        got = s.exec(select(PaymentOrder)).one()
        assert (got.status, got.late, got.transaction_id) == ("paid", True, "T1")
        kinds = sorted(i.kind for i in s.exec(select(PaymentIncident)).all())
        assert kinds == ["late_success", "second_success"]
    assert count(engine, Payment) == 1


def test_100_concurrent_duplicate_callbacks_book_exactly_one_payment(engine):
    uid, _, acc = setup_account(engine)
    o = order(engine, uid, acc)
    n = 100
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait(timeout=30)
        return payments.apply(engine, KG, "demo", success(o), now=NOW)

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    assert sorted(set(results)) == ["booked", "duplicate"] and results.count("booked") == 1
    assert count(engine, Payment) == 1
    with read_session(engine) as s:
        assert billing.balance_at(s, acc, date(2026, 11, 12), KG.tz) == Decimal("0.00")


def test_the_database_refuses_a_second_payment_of_one_transaction(engine):
    uid, _, acc = setup_account(engine)
    with pytest.raises(sa.exc.IntegrityError):
        with write_session(engine) as s:
            for r in ("A", "B"):
                s.add(Payment(account_id=acc, paid_at=NOW, amount=Decimal("1.00"), receipt_no=r, channel="portal",
                              provider="liqpay", transaction_id="X"))
                s.flush()


class StubProvider:
    name = "demo"

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def status(self, o):
        self.asked.append(o.public_id)
        make = self.answers.get(o.public_id)
        if make == "down":
            raise ConnectionError("provider down")
        return make(o) if make else Notification(o.public_id, "unknown")


def test_recheck_asks_the_provider_about_orders_older_than_15_minutes(engine):
    uid, _, acc = setup_account(engine)
    paid, failed, lost, down = (order(engine, uid, acc, now=NOW) for _ in range(4))
    fresh = order(engine, uid, acc, now=NOW + timedelta(minutes=10))
    payments.mark_pending(engine, paid.public_id, NOW)
    stub = StubProvider({paid.public_id: lambda o: success(o, tx="S1"),
                         failed.public_id: lambda o: Notification(o.public_id, "failure", "F1", o.amount, "UAH"),
                         down.public_id: "down"})
    later = NOW + timedelta(minutes=20)
    counts = payments.recheck(engine, KG, now=later, provider=stub)
    assert counts == {"booked": 1, "updated": 1, "expired": 1, "unreachable": 1}
    assert fresh.public_id not in stub.asked
    with read_session(engine) as s:
        st = {o.public_id: o.status for o in s.exec(select(PaymentOrder)).all()}
    assert (st[paid.public_id], st[failed.public_id], st[lost.public_id], st[down.public_id], st[fresh.public_id]) == \
        ("paid", "failed", "expired", "created", "created")
    # a success that comes after the order expired is booked and flagged
    assert payments.apply(engine, KG, "demo", success(lost, tx="L1"), now=later) == "booked"
    with read_session(engine) as s:
        assert s.exec(select(PaymentOrder).where(PaymentOrder.public_id == lost.public_id)).one().late


def test_cli_recheck_expires_what_the_provider_never_saw(sqlite_engine, capsys, monkeypatch):
    from gazportal import cli

    monkeypatch.delenv("GAZPORTAL_PROFILE", raising=False)
    uid, _, acc = setup_account(sqlite_engine)
    default = load_utility("default")  # open from the 1st: the test runs on any day
    old = order(sqlite_engine, uid, acc, now=datetime.now(UTC) - timedelta(hours=1), utility=default)
    new = order(sqlite_engine, uid, acc, now=datetime.now(UTC), utility=default)
    payments.apply(sqlite_engine, KG, "demo", success(new, amount=Decimal("1.00")), now=NOW)  # a mismatch
    url = str(sqlite_engine.url)
    assert cli.main(["payments", "recheck", "--db-url", url]) == cli.EXIT_OK
    assert "1 expired" in capsys.readouterr().out
    with read_session(sqlite_engine) as s:
        got = {o.public_id: o.status for o in s.exec(select(PaymentOrder)).all()}
    assert (got[old.public_id], got[new.public_id]) == ("expired", "created")
    assert cli.main(["payments", "incidents", "--db-url", url]) == cli.EXIT_OK
    assert "mismatch demo" in capsys.readouterr().out
