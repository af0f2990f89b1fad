"""/statistics and /statement states called directly, as a browser (or an attacker speaking Reflex's
protocol) would call them, on a real SQLite database: foreign accounts refused, bad periods and
ranges refused with messages, wrong types ignored, nothing sent unless everything is right."""
from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from gazportal.db import write_session
from gazportal.models import Charge, Payment, User
from gazportal.services import charts, notify
from gazportal.services.periods import add_months
from gazportal.settings import get_settings
from gazportal.state import statistics as _statistics  # noqa: F401  (registered at collection)
from gazportal.state.views import AccountOption, PaymentRow
from test_account_states import _is_signin_redirect, _state, _token, world  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_hashing")  # cheap argon2 (tests/conftest.py)

ODD = [None, True, 1.5, math.nan, -1, 0, 2**70, "abc", "", [1], {"id": 1}, "9" * 40]


@pytest.fixture
def data(world, app_db):  # noqa: F811  (the fixture imported above)
    utility = get_settings().utility
    first, last = charts.default_range(utility, datetime.now(UTC))
    with write_session(app_db) as s:
        p = first
        i = 0
        while p <= last:
            s.add(Charge(account_id=world["mine"], period=p, service="gas", volume=D(10 + i), amount=D(1000 + i)))
            p, i = add_months(p, 1), i + 1
        s.add(Charge(account_id=world["mine"], period=last, service="water", volume=D("3"), amount=D("30")))
        s.add(Charge(account_id=world["bobs"], period=last, service="gas", volume=D("77"), amount=D("7777")))
        s.add(Payment(account_id=world["mine"], paid_at=datetime.now(UTC), amount=D("500.00"), receipt_no="R-S1",
                      channel="bank"))
    return dict(world, first=first, last=last)


def _outbox():
    return notify.read_outbox()


def _form(st, **changes) -> dict:
    """The statement's send form as the page sends it: what is shown and the submission id."""
    return {"account_id": st.account_id, "period": st.period, "submission": st.submission, **changes}


async def _send(st, form: dict | None = None) -> list:
    return [step async for step in st.send(_form(st) if form is None else form)]


async def _stats(app_db, login="alice@example.kz"):
    from gazportal.state.statistics import StatisticsState

    return await _state(StatisticsState, _token(app_db, login))


async def _statement(app_db, login="alice@example.kz"):
    from gazportal.state.statistics import StatementState

    return await _state(StatementState, _token(app_db, login))


async def test_without_a_session_nothing_loads(data):
    from gazportal.state.statistics import StatementState, StatisticsState

    for cls in (StatisticsState, StatementState):
        st = await _state(cls, "")
        assert _is_signin_redirect(await st.load())
        assert st.accounts == []


async def test_statistics_default_range_and_languages(data, app_db):
    st = await _stats(app_db)
    await st.load()
    assert st.accounts == [AccountOption(str(data["mine"]), "100000001",
                                         "100000001 · Almaty, Abai Ave 10, 100000001",
                                         "Almaty, Abai Ave 10, 100000001")]
    assert st.account_id == str(data["mine"]) and (st.first, st.last) == (data["first"], data["last"])
    assert set(st.table) == set(get_settings().utility.languages)
    assert len(st.table["en"]) == 12 and st.table["en"][-1].period == data["last"]
    assert st.figures["ru"]["monthly"]["layout"]["template"] == "none"
    assert st.summaries["en"]["monthly"] and st.error == ""


async def test_statistics_ranges(data, app_db):
    st = await _stats(app_db)
    await st.load()
    last = data["last"]
    ok = add_months(last, -2)
    await st.apply({"first": ok, "last": last})
    assert st.errors == {} and len(st.table["en"]) == 3 and st.first == ok
    cases = [
        ({"first": last, "last": ok}, "last", "is after the last"),
        ({"first": add_months(last, -130), "last": last}, "last", "at most 120 months"),
        ({"first": "2025-13", "last": last}, "first", "is not a month"),
        ({"first": "nonsense", "last": "also"}, "first", "is not a month"),
        ({"first": ok, "last": add_months(last, 5)}, "last", "has not come yet"),
    ]
    for form, field, text in cases:
        await st.apply(form)
        assert field in st.errors and text in st.errors[field], (form, st.errors)
        # issue 14 point 12: the table of the range shown before must not look like this one's answer
        assert st.table == {} and st.figures == {} and st.summaries == {} and st.shown == {}, form
        await st.apply({"first": ok, "last": last})
        assert st.errors == {} and len(st.table["en"]) == 3 and st.shown["en"].startswith("Shown: ")
    # a form with the copies Reflex adds under the input ids is fine
    await st.apply({"first": ok, "last": last, "stats_first": ok, "stats_last": last})
    assert st.errors == {}


@pytest.mark.parametrize("form", [None, "2025-01", 5, [], {"first": "2025-01"}, {"first": 1, "last": 2},
                                  {"first": "2025-01", "last": "2025-02", "account_id": "1"},
                                  {"first": "x" * 5000, "last": "2025-02"}])
async def test_statistics_odd_forms_change_nothing(data, app_db, form):
    st = await _stats(app_db)
    await st.load()
    before = (st.first, st.last, dict(st.errors), len(st.table["en"]))
    assert await st.apply(form) is None
    assert (st.first, st.last, dict(st.errors), len(st.table["en"])) == before


async def test_statistics_foreign_account_refused(data, app_db):
    st = await _stats(app_db)
    await st.load()
    table = st.table["en"]
    for value in [str(data["bobs"]), str(data["free"]), data["bobs"], *ODD]:
        await st.pick_account(value)
        assert st.account_id == str(data["mine"]) and st.table["en"] == table
    # even if the var were forced to a foreign id, the service refuses it
    st.account_id = str(data["bobs"])
    await st.apply({"first": data["first"], "last": data["last"]})
    assert st.error == "Account not found." and st.table == {}  # nothing of the account shown before


async def test_statement_shows_and_sends(data, app_db):
    st = await _statement(app_db)
    await st.load()
    # issue 14 point 15: the last billed month, not the current (empty) one
    assert st.email_status == "ok" and st.period == data["last"]
    assert st.period != charts.current_period(get_settings().utility, datetime.now(UTC))
    assert st.charges["en"] != []
    current = charts.current_period(get_settings().utility, datetime.now(UTC))
    await st.pick_period(current)
    assert st.payments["en"] == [PaymentRow(st.payments["en"][0].date, "₸500.00", "R-S1")]
    await st.load()
    assert st.period == current  # the customer's choice stays
    await st.pick_period(data["last"])
    assert st.period == data["last"] and st.charges["en"][0].amount == "₸1,011.00"
    assert st.in_debt and st.info["en"].debt.startswith("Debt at the end of the month: ₸")
    await _send(st)
    assert st.error == "" and st.notice == "The account state has been sent to alice@example.kz."
    (item,) = _outbox()
    assert item.to == "alice@example.kz" and "₸1,011.00" in item.text and data["last"][:4] in item.subject


async def test_statement_refusals_send_nothing(data, app_db):
    st = await _statement(app_db)
    await st.load()
    period = st.period
    for value in [add_months(period, 2), "2025-13", "1999-01", *ODD]:
        await st.pick_period(value)
        assert st.period == period
    for value in [str(data["bobs"]), data["bobs"], *ODD]:
        await st.pick_account(value)
        assert st.account_id == str(data["mine"])
    st.account_id = str(data["bobs"])  # forced: the service checks ownership
    await _send(st)
    assert st.error == "Account not found." and st.notice == ""
    st.account_id, st.period = str(data["mine"]), "2999-01"
    await _send(st)
    assert "has not come yet" in st.error
    assert _outbox() == []


async def test_statement_without_email_prompts_for_one(data, app_db):
    with write_session(app_db) as s:
        u = s.get(User, data["alice"])
        u.email = None
        s.add(u)
    st = await _statement(app_db)
    await st.load()
    assert st.email_status == "none"
    await _send(st)
    assert st.email_status == "none" and "no e-mail address" in st.error
    assert _outbox() == []


async def test_statement_hourly_limit(data, app_db):
    st = await _statement(app_db)
    await st.load()
    for _ in range(5):
        await _send(st)
        assert st.error == ""
    await _send(st)
    assert "5 times this hour" in st.error
    assert len(_outbox()) == 5


async def test_statistics_service_choice(data, app_db):
    st = await _stats(app_db)
    await st.load()
    assert st.services == ["gas", "water"] and st.service == "gas"
    assert st.table["en"][-1].volume == "21\u00a0m³"
    for value in ["electricity", "GAS", None, 1, ["water"], {"a": 1}, "x" * 100]:
        await st.pick_service(value)
        assert st.service == "gas"
    await st.pick_service("water")
    assert st.service == "water" and st.table["en"][-1].volume == "3\u00a0m³"
    assert st.table["en"][0].volume == "0\u00a0m³"
    # the money column follows the service (issue 14 point 12): water's ₸30.00, not the account's
    # ₸1,041.00; the caption says that payments and the balance cover all services
    assert st.table["en"][-1].charged == "₸30.00" and st.table["en"][0].charged == "₸0.00"
    assert st.captions["en"].startswith("Volume and charges: Water supply only.")
    assert "all services" in st.captions["en"]


async def test_the_period_form_is_busy_while_it_is_applied(data, app_db):
    """"Please wait" on Show: ``begin("apply")`` raises it (other names do nothing), ``apply``
    lowers it, accepted or refused."""
    st = await _stats(app_db)
    await st.load()
    for odd in ("send", "", None, 1, ["apply"]):
        await st.begin(odd)
        assert st.busy == "", odd
    last = data["last"]
    for form in ({"first": add_months(last, -2), "last": last}, {"first": last, "last": add_months(last, -2)}):
        await st.begin("apply")
        assert st.busy == "apply"
        await st.apply(form)
        assert st.busy == "", form


async def test_the_send_form_sent_twice_sends_one_email(data, app_db):
    """A double click / a replayed event: the submission id is used once; the repeat does nothing."""
    st = await _statement(app_db)
    await st.load()
    form = _form(st)
    await _send(st, dict(form))
    after = (st.notice, st.error, st.email_status, st.sending, st.submission)
    assert st.notice and after[-1] != form["submission"]
    assert await _send(st, dict(form)) == []
    assert (st.notice, st.error, st.email_status, st.sending, st.submission) == after
    assert len(_outbox()) == 1
    await _send(st)  # the next click (the fresh id) is a new request
    assert len(_outbox()) == 2


@pytest.mark.parametrize("submission", ["x" * 15, "stale-id", None, 7])
async def test_a_wrong_or_missing_submission_id_sends_nothing(data, app_db, submission):
    st = await _statement(app_db)
    await st.load()
    form = _form(st)
    if submission is None:
        del form["submission"]
    else:
        form["submission"] = submission
    assert await _send(st, form) == []
    assert st.notice == "" and _outbox() == []


async def test_a_send_form_for_what_is_no_longer_shown_sends_nothing(data, app_db):
    st = await _statement(app_db)
    await st.load()
    await _send(st, _form(st, period=add_months(data["last"], 1)))  # another month than the one shown
    await _send(st, _form(st, account_id=str(data["bobs"])))
    assert st.notice == "" and _outbox() == []


async def test_the_account_choice_keeps_the_whole_address(data, app_db):
    """Issue 14 point 20: the account select cut each address at 120 characters (mid-word); the
    switcher now shows the whole address of each account, wrapped by the page."""
    from gazportal.models import Account

    long = "Almaty, Medeu District, Microdistrict Samal-2, Zheltoksan Street, building 111, " * 2 + "flat 345"
    with write_session(app_db) as s:
        s.get(Account, data["mine"]).address = long
    for st in (await _stats(app_db), await _statement(app_db)):
        await st.load()
        assert [a.address for a in st.accounts] == [long] and len(long) > 120


@pytest.mark.parametrize("query", ["bobs", "abc", "-1", "9" * 40, "mine"])
async def test_the_account_in_the_address_of_statistics_and_statement(data, app_db, query):
    """Found by this session's attacker: /statistics?account=<another's id> and /statement?... showed
    the customer's own account while the address kept the other id. Now the account asked for is
    shown when it is theirs; otherwise "Account not found." and the address names the account shown
    (as /dashboard does; issue 14 point 18). Nothing of the other account is shown."""
    import re

    from reflex.istate.data import RouterData

    value = str(data[query]) if query in data else query
    for make, path in ((_stats, "/statistics"), (_statement, "/statement")):
        st = await make(app_db)
        st.router = RouterData.from_router_data({"pathname": path, "query": {"account": value},
                                                 "asPath": f"{path}?account={value}", "headers": {}})
        result = await st.load()
        assert st.account_id == str(data["mine"]), path
        assert "7777" not in repr(st.get_value("table") if path == "/statistics" else st.get_value("charges"))
        scripts = [] if result is None else [result.args[0][1]._var_value]
        found = [p for sc in scripts for p in re.findall(r"replaceState\(null, '', \"([^\"]*)\"\)", sc)]
        if query == "mine":
            assert found == [] and st.error == "", path
        else:
            assert found == [f"{path}?account={data['mine']}"], (path, found)
            assert st.error == "Account not found.", path
