"""The account dashboard's state (gazportal/state/dashboard.py) called directly, as a browser (or an
attacker speaking Reflex's protocol) would call it, on a real SQLite database, with the clock fixed
through ``gazportal.state.dashboard.now`` (so the reading window does not depend on today).

Checked: no session -> sign-in; another customer's account / meter ids refused like missing ones;
wrong types, NaN, huge values do nothing; the live check says what is wrong (digits, capacity, below
the previous reading), the volume and cost, and asks to confirm a jump; a submission is stored or
refused with the reason; after the month's last submission the form gives way to a note; outside
the window a note says when it opens.
"""
from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from reflex.istate.data import ReflexURL, RouterData
from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Meter, Payment, Reading, Tariff, TariffStep, UserAccountLink
from gazportal.services import i18n
from gazportal.state import dashboard as dash_mod
from gazportal.state.dashboard import DashboardState
from gazportal.state.views import Verdict
from tests.conftest import sign_in_token, state_of
from tests.conftest import add_user

PASSWORD = "Sturdy-Lantern-42"
ALMATY = ZoneInfo("Asia/Almaty")  # the default profile's time zone; window 15..31, 2 submissions


def local(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=ALMATY).astimezone(UTC)


OPEN = local(2026, 11, 20)
CLOSED = local(2026, 11, 10)
ODD = [None, True, 1.5, math.nan, math.inf, -1, 0, 2**70, "1e3", "abc", " 1", "", [1], {"id": 1}, "9" * 40]


CHECK_FORM = i18n.t("errors.form_invalid", "en")  # what a refused (malformed) call says, if anything


pytestmark = pytest.mark.usefixtures("fast_hashing")  # cheap argon2 (tests/conftest.py)


@pytest.fixture
def clock(monkeypatch):
    """Set the page's clock: clock(moment)."""
    def set_(moment: datetime) -> None:
        monkeypatch.setattr(dash_mod, "now", lambda: moment)

    set_(OPEN)
    return set_


def _user(s, login) -> int:
    return add_user(s, login, password=PASSWORD)


def _reading(s, meter_id, value, when, source="inspector"):
    s.add(Reading(meter_id=meter_id, value=value, taken_at=when, period=f"{when.astimezone(ALMATY):%Y-%m}",
                  source=source, slot=1 if source == "customer" else None))


@pytest.fixture
def world(app_db, clock):
    with write_session(app_db) as s:
        def account(number, holder):
            a = Account(number=number, holder_name=holder, address=f"Almaty, Abai Ave 10, {number}")
            s.add(a)
            s.flush()
            return a.id

        def meter(acc, service, serial, digits=6):
            m = Meter(account_id=acc, service=service, serial=serial, unit="m3", digits=digits,
                      installed_on=date(2020, 1, 1))
            s.add(m)
            s.flush()
            return m.id

        mine, second, bobs = account("100000001", "Ivanova A."), account("100000002", "Ivanova A."), \
            account("100000003", "Bob B.")
        gas = meter(mine, "gas", "G-1")
        w1, w2 = meter(mine, "water", "W-1", digits=5), meter(mine, "water", "W-2", digits=5)
        bob_meter = meter(bobs, "gas", "B-1")
        # A year of monthly inspector readings: 10 m3 of gas a month; water 3 m3 a month.
        for i in range(12, 0, -1):
            when = local(2026, 11, 5) - timedelta(days=30 * i)
            _reading(s, gas, 1000 - 10 * i, when)
            _reading(s, w1, 500 - 3 * i, when)
        _reading(s, gas, 1000, local(2026, 11, 5))
        _reading(s, w1, 500, local(2026, 11, 5), source="controller")
        _reading(s, bob_meter, 700, local(2026, 11, 5))
        for service in ("gas", "water"):
            t = Tariff(service=service, name=service, valid_from=date(2020, 1, 1))
            s.add(t)
            s.flush()
            s.add(TariffStep(tariff_id=t.id, position=1, up_to=None, price=D("25.5")))
        s.add(Charge(account_id=mine, period="2026-10", service="gas", volume=D("50"), amount=D("1275.00")))
        s.add(Payment(account_id=mine, paid_at=local(2026, 10, 1), amount=D("275.00"), receipt_no="R-1",
                      channel="bank"))
        alice, bob = _user(s, "alice@example.kz"), _user(s, "bob@example.kz")
        s.add_all([UserAccountLink(user_id=alice, account_id=mine), UserAccountLink(user_id=alice, account_id=second),
                   UserAccountLink(user_id=bob, account_id=bobs)])
    return dict(mine=mine, second=second, bobs=bobs, gas=gas, w1=w1, w2=w2, bob_meter=bob_meter)


async def _state(token=None):
    return await state_of(DashboardState, token or None, path="/dashboard")


def _token(engine, login="alice@example.kz") -> str:
    return sign_in_token(engine, login, PASSWORD)


def _form(s, meter, reading, **extra) -> dict:
    """The reading form as the page sends it, with the state's current submission id."""
    return {"meter": str(meter), "reading": reading, "submission": s.submission, **extra}


async def _alice(app_db):
    s = await _state(_token(app_db))
    assert "gp-reading-" in repr(await s.load())  # the script that keeps typed readings in the tab
    return s


def _stored(engine) -> list[tuple]:
    with read_session(engine) as s:
        return s.exec(sa.select(Reading.meter_id, Reading.value, Reading.source, Reading.slot)
                      .where(Reading.source == "customer").order_by(Reading.id)).all()


def _refusal(s, meter_id):
    """A refused submit's reason: said once, in the form under the input (the live line, an error
    or the warning to confirm), never as a second box or a toast (issue 14 point 8)."""
    key = str(meter_id)
    assert key not in s.result
    return s.live[key]


def _meter(s, meter_id) -> dict:
    return next(m for m in s.meters if m.id == str(meter_id))


# ------------------------------------------------------------------------------ the page


async def test_without_a_session_every_handler_sends_to_sign_in(app_db, world):
    for name, args in [("load", ()), ("switch_account", (str(world["mine"]),)),
                       ("type_reading", (str(world["gas"]), "1001")),
                       ("submit", None)]:
        s = await _state(None)
        if args is None:
            args = (_form(s, world["gas"], "1001"),)
        result = await getattr(s, name)(*args)
        assert result is not None and "/signin" in repr(result), name
        assert s.meters == [] and s.live == {}
    assert _stored(app_db) == []


async def test_dashboard_shows_the_first_account_with_balance_meters_and_window(app_db, world):
    s = await _alice(app_db)
    assert s.account_id == str(world["mine"])
    assert [a.id for a in s.accounts] == [str(world["mine"]), str(world["second"])]
    assert s.info.number == "100000001" and s.info.holder == "Ivanova A."
    assert s.in_debt is True and s.info.balance.startswith("Debt: ") and "1,000.00" in s.info.balance
    assert s.info.last_period == "October 2026" and s.info.last_charged == "₸1,275.00"
    assert [(v.service, v.label, v.text) for v in s.last_volumes] == [("gas", "Gas supply", "50\u00a0m³")]
    assert s.window_open and "30 Nov 2026" in s.window_text
    assert [m.serial for m in s.meters] == ["G-1", "W-1", "W-2"]  # several water meters, each by serial
    gas, w1, w2 = (_meter(s, world[k]) for k in ("gas", "w1", "w2"))
    assert gas.last_value == "1,000\u00a0m³" and gas.last_date == "5 Nov 2026" and gas.last_source == "taken by an inspector"
    assert w1.last_source == "taken by a controller"
    assert w2.last_value == "" and s.history[str(world["w2"])] == []
    assert [h.value for h in s.history[str(world["gas"])]][:3] == ["1,000\u00a0m³", "990\u00a0m³", "980\u00a0m³"]
    assert all(m.can_submit and m.left == "2 of 2 submissions left for November 2026" for m in s.meters)


async def test_switching_accounts_and_foreign_or_odd_ids(app_db, world):
    s = await _alice(app_db)
    await s.switch_account(str(world["second"]))
    assert s.account_id == str(world["second"]) and s.meters == [] and s.in_debt is False
    assert s.info.balance == "Nothing owed"
    await s.switch_account(str(world["bobs"]))  # Bob's account: refused, nothing of it shown
    assert s.account_id == str(world["second"]) and s.error == "Account not found."
    assert "100000003" not in repr(s.info)
    for odd in ODD:
        await s.switch_account(odd)
        assert s.account_id == str(world["second"])
    await s.switch_account(world["mine"])  # an int id is fine too
    assert s.account_id == str(world["mine"])


# ------------------------------------------------------------------------------ live check


async def test_live_check_says_what_is_wrong_and_what_it_costs(app_db, world):
    s = await _alice(app_db)
    gas, w1 = str(world["gas"]), str(world["w1"])
    await s.type_reading(gas, "12a")
    assert s.live[gas].kind == "error" and s.live[gas].text.startswith("Type the reading in digits")
    await s.type_reading(gas, "1234567")
    assert s.live[gas].text == "This meter shows at most 999,999 (6 digits)."
    await s.type_reading(gas, "999")
    assert s.live[gas].text == "The reading cannot be below the last one, 1,000\u00a0m³ of 5 Nov 2026."
    await s.type_reading(gas, " 1012 ")
    assert s.live[gas] == Verdict("ok", "Looks right: 12\u00a0m³ since the reading 1,000\u00a0m³ of 5 Nov 2026, "
                                        "about ₸306.00.",
                                  volume="12\u00a0m³", cost="₸306.00")
    await s.type_reading(w1, "00503")  # leading zeros as the meter shows them
    assert s.live[w1].kind == "ok" and s.live[w1].volume == "3\u00a0m³"
    await s.type_reading(gas, "1200")  # 200 m3 in 15 days against 10 a month: a jump to confirm
    assert s.live[gas].kind == "warning" and "Check the digits, or confirm" in s.live[gas].text
    assert "200" in s.live[gas].text and s.live[gas].cost
    await s.type_reading(gas, "")
    assert gas not in s.live
    assert _stored(app_db) == []


async def test_decimals_and_digit_groups_read_the_same_live_and_on_submit(app_db, world):
    """Issue 14 point 3: "1 012,5" is 1012 whole units with a note, live and stored; never 10125."""
    s = await _alice(app_db)
    gas = str(world["gas"])
    note = "Digits after the decimal mark (the red drums) are not counted: the reading is 1,012."
    await s.type_reading(gas, "1\u00a0012,5")
    assert s.live[gas].kind == "ok" and s.live[gas].volume == "12\u00a0m³" and s.live[gas].note == note
    await s.type_reading(gas, "１０１２")  # full-width digits: no decimals, no note
    assert s.live[gas].kind == "ok" and s.live[gas].volume == "12\u00a0m³" and s.live[gas].note == ""
    await s.type_reading(gas, "1 01")
    assert s.live[gas].kind == "error" and s.live[gas].text.startswith("Group the digits in threes")
    await s.submit(_form(s, gas, "1\u2009012.5"))
    assert s.result[gas].kind == "ok" and s.result[gas].text.startswith(
        "Reading 1,012\u00a0m³ for meter G-1 received as the reading for November 2026.")
    assert s.result[gas].text.endswith(note)
    assert _stored(app_db) == [(world["gas"], 1012, "customer", 1)]


async def test_live_check_refuses_foreign_meters_and_odd_values(app_db, world):
    s = await _alice(app_db)
    await s.type_reading(str(world["bob_meter"]), "701")
    assert str(world["bob_meter"]) not in s.live and s.error == "Meter not found."
    s.error = ""
    for odd in ODD:
        await s.type_reading(odd, "1001")
        await s.type_reading(str(world["gas"]), odd if not isinstance(odd, str) else "x" * 41)
    assert s.live == {} and s.error in ("", CHECK_FORM)  # refused before anything ran
    await s.set_confirm(str(world["gas"]), "yes")
    await s.set_confirm(str(world["bob_meter"]), True)
    await s.set_confirm(math.nan, True)
    assert s.confirm == {}


# ------------------------------------------------------------------------------ submitting


async def test_submit_stores_the_reading_and_says_so(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    key = s.form_key
    result = await s.submit(_form(s, gas, "1012", **{f"rd_{gas}": "1012"}))
    assert "toast" in repr(result).lower() and "success" in repr(result).lower()
    assert s.result[gas].kind == "ok"
    assert s.result[gas].text == ("Reading 1,012\u00a0m³ for meter G-1 received as the reading for November 2026. "
                                  "Submissions left: 1 of 2.")
    assert s.form_key == key + 1 and gas not in s.live
    assert _stored(app_db) == [(world["gas"], 1012, "customer", 1)]
    assert _meter(s, world["gas"]).left == "1 of 2 submissions left for November 2026"
    assert s.history[gas][0].value == "1,012\u00a0m³" and s.history[gas][0].source == "sent by you"


async def test_submit_refusals_are_shown_and_nothing_is_stored(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    result = await s.submit(_form(s, gas, "999"))
    assert "toast" not in repr(result).lower()  # said once, in the form
    assert _refusal(s, gas) == Verdict("error", "The reading cannot be below the last one, 1,000\u00a0m³ of 5 Nov 2026.")
    await s.submit(_form(s, gas, "1200"))  # a jump, not confirmed
    assert _refusal(s, gas).kind == "warning" and "Check the digits, or confirm" in s.live[gas].text
    await s.submit(_form(s, str(world["bob_meter"]), "701"))  # Bob's meter
    assert _refusal(s, world["bob_meter"]).text == "Meter not found."
    assert _stored(app_db) == []
    # Confirmed, the jump goes through.
    await s.set_confirm(gas, True)
    assert s.confirm == {gas: True}
    await s.submit(_form(s, gas, "1200"))
    assert s.result[gas].kind == "ok" and _stored(app_db) == [(world["gas"], 1200, "customer", 1)]
    assert gas not in s.confirm


@pytest.mark.parametrize("form", [
    None, "1012", [1], {"meter": "1"}, {"reading": "1012"},
    {"meter": "1", "reading": 1012}, {"meter": 1.5, "reading": "1012"}, {"meter": "1", "reading": math.nan},
    {"meter": "1", "reading": "1012", "confirm": True}, {"meter": "1", "reading": "1012", "user_id": "2"},
    {"meter": "1", "reading": "9" * 10_000}, {"meter": "9" * 40, "reading": "1012"},
    {"meter": "1", "reading": "1012", "rd_1": 5},
])
async def test_malformed_forms_do_nothing(app_db, world, form):
    s = await _alice(app_db)
    if isinstance(form, dict) and form.get("meter") == "1":
        form = {**form, "meter": str(world["gas"])}
    if isinstance(form, dict):
        form = {**form, "submission": s.submission}
    before = (s.result, s.live, s.submission)
    assert await s.submit(form) is None
    assert (s.result, s.live, s.submission) == before and _stored(app_db) == []
    assert s.error == CHECK_FORM  # "check the form", nothing else


async def test_the_same_form_sent_twice_stores_one_reading(app_db, world):
    """A double click / a replayed event: the submission id is used once, the repeat does nothing."""
    s = await _alice(app_db)
    gas = str(world["gas"])
    form = _form(s, gas, "1012")
    await s.submit(dict(form))
    after = (s.result, s.live, s.meters, s.history, s.form_key, s.submission, s.error)
    assert after[5] != form["submission"]  # a fresh id for the next form
    assert await s.submit(dict(form)) is None
    assert (s.result, s.live, s.meters, s.history, s.form_key, s.submission, s.error) == after
    assert _stored(app_db) == [(world["gas"], 1012, "customer", 1)]
    await s.submit(_form(s, gas, "1013"))  # the next form (the fresh id) goes through
    assert len(_stored(app_db)) == 2


@pytest.mark.parametrize("submission", ["x" * 15, "stale-id", None, 7])
async def test_a_wrong_or_missing_submission_id_stores_nothing(app_db, world, submission):
    s = await _alice(app_db)
    gas = str(world["gas"])
    form = _form(s, gas, "1012")
    if submission is None:
        del form["submission"]
    else:
        form["submission"] = submission
    current = s.submission
    assert await s.submit(form) is None
    assert _stored(app_db) == [] and gas not in s.result and s.submission == current


async def test_huge_reading_is_refused_without_parsing(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    await s.submit(_form(s, gas, "9" * 40))
    assert _refusal(s, gas).text == "This meter shows at most 999,999 (6 digits)."
    assert _stored(app_db) == []


async def test_after_the_last_submission_the_form_gives_way_to_a_note(app_db, world):
    s = await _alice(app_db)
    w1 = str(world["w1"])
    await s.submit(_form(s, w1, "503"))
    await s.submit(_form(s, w1, "504"))  # the second corrects the first
    assert _stored(app_db) == [(world["w1"], 503, "customer", 1), (world["w1"], 504, "customer", 2)]
    m = _meter(s, world["w1"])
    assert not m.can_submit and m.left == "0 of 2 submissions left for November 2026"
    assert m.note == ("You have sent 2 of 2 readings for November 2026 for this meter. "
                         "The next window opens on 15 Dec 2026.")
    await s.submit(_form(s, w1, "505"))  # the server says no all the same
    assert _refusal(s, w1).text == "You have already sent 2 of 2 readings for November 2026 for this meter."
    assert len(_stored(app_db)) == 2
    assert _meter(s, world["w2"]).can_submit  # the other water meter is unaffected


async def test_outside_the_window_a_note_says_when_it_opens(app_db, world, clock):
    clock(CLOSED)
    s = await _alice(app_db)
    assert not s.window_open
    assert s.window_text == ("Readings are not accepted now. Readings for November 2026 are accepted "
                             "from 15 Nov 2026 to 30 Nov 2026.")
    for m in s.meters:
        assert not m.can_submit and m.note == (
            "The reading window is closed. You can send the reading for November 2026 from 15 Nov 2026 to 30 Nov 2026.")
    gas = str(world["gas"])
    await s.type_reading(gas, "1012")
    assert s.live[gas].text == "Readings are accepted from 15 Nov 2026 to 30 Nov 2026."
    await s.submit(_form(s, gas, "1012"))
    assert _refusal(s, gas).kind == "error" and _stored(app_db) == []
    clock(local(2026, 12, 1))  # after the window: the next one is December's
    await s.load()
    assert "15 Dec 2026" in s.window_text


async def test_language_follows_the_customer(app_db, world):
    from gazportal.state.i18n import I18nState

    s = await _state(_token(app_db))
    (await s.get_state(I18nState)).lang_pref = "ru"
    await s.load()
    assert s.info.balance.startswith("Долг: ")
    await s.type_reading(str(world["gas"]), "999")
    assert "1 000" in s.live[str(world["gas"])].text.replace("\u00a0", " ")


async def test_switching_language_says_it_all_again(app_db, world):
    from gazportal.state.i18n import I18nState

    s = await _alice(app_db)
    assert s.shown_lang == "en" and s.info.balance.startswith("Debt: ")
    await s.type_reading(str(world["gas"]), "1012")
    await s.relang()  # the same language: nothing to do
    assert str(world["gas"]) in s.live
    (await s.get_state(I18nState)).lang_pref = "kk"
    await s.relang()
    assert s.shown_lang == "kk" and s.info.balance.startswith("Қарыз: ") and s.live == {}
    assert s.account_id == str(world["mine"])


async def test_a_late_echo_of_the_sent_value_does_not_undo_the_fresh_form(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    await s.submit(_form(s, gas, "1012"))
    await s.type_reading(gas, "1012")  # the debounced change of the input arrives after the submit
    assert gas not in s.live and s.result[gas].kind == "ok"
    await s.type_reading(gas, "1013")  # typing again: checked as usual (a correction of the first)
    assert s.live[gas].kind == "ok" and s.result[gas].kind == "ok"
    await s.type_reading(gas, "99")
    assert s.live[gas].kind == "error"


@pytest.mark.parametrize("query", ["bobs", "abc", "-1", "9" * 40, "mine"])
async def test_the_account_in_the_address(app_db, world, query):
    from reflex.istate.data import RouterData

    s = await _state(_token(app_db))
    value = str(world[query]) if query in world else query
    s.router = RouterData.from_router_data({"pathname": "/dashboard", "query": {"account": value},
                                            "asPath": f"/dashboard?account={value}", "headers": {}})
    result = await s.load()
    assert s.account_id == str(world["mine"])  # the first of her own, when the id is not one of hers
    assert s.error == ("" if query == "mine" else "Account not found.")
    assert "100000003" not in repr(s.info) + repr(s.accounts)
    # issue 14 point 18: the address never disagrees with the page — a foreign or odd id is
    # replaced by the account shown; the right one is left alone
    if query == "mine":
        assert _addresses_in(result) == []
    else:
        assert _address_in(result) == f"/dashboard?account={world['mine']}"
        assert value not in _address_in(result)


def _addresses_in(result) -> list[str]:
    """The paths a handler's answer (one event or a list) puts in the browser's address bar
    (history.replaceState)."""
    import re

    found = []
    for spec in result if isinstance(result, list) else [result]:
        if spec is None:
            continue
        script = spec.args[0][1]._var_value  # rx.call_script's code
        found += re.findall(r"replaceState\(null, '', \"([^\"]*)\"\)", script)
    return found


def _address_in(result) -> str:
    """The one path a handler's answer puts in the browser's address bar."""
    found = _addresses_in(result)
    assert len(found) == 1, repr(result)
    return found[0]


async def test_a_switch_puts_the_account_shown_in_the_address(app_db, world):
    s = await _alice(app_db)
    assert _address_in(await s.switch_account(str(world["second"]))) == f"/dashboard?account={world['second']}"
    assert await s.switch_account(str(world["bobs"])) is None  # refused: the address stays
    assert s.account_id == str(world["second"])


async def test_a_sentence_ending_in_a_dotted_date_has_one_dot(app_db, world):
    from gazportal.state.i18n import I18nState

    s = await _state(_token(app_db))
    (await s.get_state(I18nState)).lang_pref = "uk"
    await s.load()
    assert s.window_text.endswith("2026\u202fр.") and not s.window_text.endswith("..")


async def test_a_reading_form_is_busy_while_it_is_sent(app_db, world):
    """"Please wait" on a reading form: ``begin`` takes only "reading-<id>" of a meter shown (not
    Bob's, not junk); the submit that follows lowers it, accepted or refused."""
    s = await _alice(app_db)
    gas = str(world["gas"])
    for odd in (f"reading-{world['bob_meter']}", "reading-", "reading-abc", gas, "save", None, 7, ["x"]):
        await s.begin(odd)
        assert s.busy == "", odd
    await s.begin(f"reading-{gas}")
    assert s.busy == f"reading-{gas}"
    await s.submit(_form(s, gas, "999"))
    assert s.busy == "" and _refusal(s, gas).kind == "error"
    await s.begin(f"reading-{gas}")
    await s.submit(_form(s, gas, "1012"))
    assert s.busy == "" and s.result[gas].kind == "ok"


async def test_a_language_switch_on_the_dashboard_is_followed_by_relang(app_db, world):
    """The page's texts are made on the server: switching the language on /dashboard (and on
    /accounts) runs the page's ``relang`` next; elsewhere nothing more."""
    from reflex.istate.data import RouterData

    import gazportal.state.accounts  # noqa: F401  (registers /accounts, as the app does)
    import gazportal.state.user_profile  # noqa: F401  (registers /profile)
    from gazportal.state.i18n import I18nState

    s = await _alice(app_db)
    lang = await s.get_state(I18nState)
    for path, handler in (("/dashboard", "DashboardState.relang"), ("/dashboard/", "DashboardState.relang"),
                          ("/accounts", "AccountsState.relang"), ("/profile", "ProfileState.relang"),
                          ("/statistics", None), ("/", None)):
        lang.router = RouterData.from_router_data({"pathname": path, "query": {}, "asPath": path, "headers": {}})
        events = await lang.set_language("kk")
        follow = [e for e in events if "relang" in repr(e)]
        if handler is None:
            assert follow == [], path
        else:
            assert len(follow) == 1 and follow[0].fn.__qualname__ == handler, (path, follow)
    assert await lang.set_language("xx") is None  # not a profile language: nothing at all
    await s.relang()
    assert s.shown_lang == "kk" and s.info.balance.startswith("Қарыз: ")


# ------------------------------------------------------------------------------ roll-over (issue 14 point 4)


def _dial_meter(engine, account_id, value=99986) -> str:
    """A 5-digit gas meter of ``account_id`` near the top of its dial."""
    with write_session(engine) as s:
        m = Meter(account_id=account_id, service="gas", serial="G-5", unit="m3", digits=5, installed_on=date(2020, 1, 1))
        s.add(m)
        s.flush()
        _reading(s, m.id, value, local(2026, 10, 25))
        return str(m.id)


def _turns(engine, meter_id) -> list[tuple]:
    with read_session(engine) as s:
        return s.exec(sa.select(Reading.value, Reading.rollovers).where(Reading.meter_id == int(meter_id))
                      .order_by(Reading.id)).all()


async def test_a_roll_over_is_offered_confirmed_by_its_own_tick_and_stored_with_its_real_volume(app_db, world):
    mid = _dial_meter(app_db, world["mine"])
    s = await _alice(app_db)
    await s.type_reading(mid, "00011")
    v = s.live[mid]
    assert v.kind == "warning" and v.confirm_kind == "rollover" and v.volume == "25\u00a0m³"
    assert v.text == ("11\u00a0m³ is below the last reading, 99,986\u00a0m³. If the meter went past 99,999 and "
                      "started again from zero, you used 25\u00a0m³: confirm it. Otherwise check the digits.")
    assert v.confirm_label == "Yes, the meter went past 99,999 and started again from zero."
    await s.submit(_form(s, mid, "00011"))  # not ticked: asked, nothing stored
    assert _refusal(s, mid).kind == "warning" and _turns(app_db, mid) == [(99986, 0)]
    await s.set_confirm(mid, True)
    await s.submit(_form(s, mid, "00011"))
    assert s.result[mid].kind == "ok" and _turns(app_db, mid) == [(99986, 0), (11, 1)]


async def test_a_tick_confirms_only_the_warning_and_the_value_it_was_given_for(app_db, world):
    mid = _dial_meter(app_db, world["mine"])
    gas = str(world["gas"])
    s = await _alice(app_db)
    await s.type_reading(gas, "1200")  # a jump: ticked
    await s.set_confirm(gas, True)
    await s.submit(_form(s, gas, "1300"))  # another value sent before its live check: asked again
    assert _refusal(s, gas).kind == "warning" and "Check the digits, or confirm" in s.live[gas].text
    assert s.confirm[gas] is False and _stored(app_db) == []
    await s.type_reading(mid, "11")  # the roll-over's box is a box of its own
    await s.set_confirm(mid, True)
    await s.type_reading(mid, "12")  # the value changed after the tick: the tick goes
    assert s.confirm[mid] is False
    await s.submit(_form(s, mid, "12"))
    assert _refusal(s, mid).kind == "warning" and _turns(app_db, mid) == [(99986, 0)]


async def test_far_from_the_top_a_smaller_reading_is_refused_live_and_on_submit(app_db, world):
    mid = _dial_meter(app_db, world["mine"], value=50000)
    s = await _alice(app_db)
    await s.type_reading(mid, "11")
    assert s.live[mid].kind == "error" and s.live[mid].text.startswith("The reading cannot be below the last one, 50,000")
    await s.set_confirm(mid, True)
    await s.submit(_form(s, mid, "11"))
    assert _refusal(s, mid).kind == "error" and _turns(app_db, mid) == [(50000, 0)]


# ------------------------------------------------------------------------------ zero use (issue 14 point 6)


async def test_zero_use_asks_before_it_uses_a_submission(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    await s.type_reading(gas, "1000")  # the same as the last reading
    v = s.live[gas]
    assert v.kind == "warning" and v.confirm_kind == "zero"
    assert v.text == "No consumption this month — correct? The reading is the same as the last one, 1,000\u00a0m³ of 5 Nov 2026."
    assert v.confirm_label == "Yes, nothing was used this month."
    await s.submit(_form(s, gas, "1000"))
    assert _refusal(s, gas).kind == "warning" and _stored(app_db) == []
    assert _meter(s, world["gas"]).left == "2 of 2 submissions left for November 2026"
    await s.set_confirm(gas, True)
    await s.submit(_form(s, gas, "1000"))
    assert s.result[gas].kind == "ok" and _stored(app_db) == [(world["gas"], 1000, "customer", 1)]
    assert _meter(s, world["gas"]).left == "1 of 2 submissions left for November 2026"


async def test_never_looks_right_next_to_a_warning(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    looks_right = i18n.t("dashboard.live.ok_volume", "en", volume="").split(":")[0]  # "Looks right"
    for typed in ("1000", "1200"):  # zero use; a jump
        await s.type_reading(gas, typed)
        v = s.live[gas]
        assert v.kind == "warning" and looks_right not in v.text + v.ok + v.note + v.confirm_label
    assert s.live[gas].ok == "200\u00a0m³ since the reading 1,000\u00a0m³ of 5 Nov 2026, about ₸5,100.00."
    await s.type_reading(gas, "1012")
    assert s.live[gas].kind == "ok" and s.live[gas].text.startswith(looks_right)  # the control


# ------------------------------------------------------------------------------ staff review (issue 14 point 5)


async def test_an_implausible_reading_goes_to_review_and_the_customer_is_told(app_db, world):
    from gazportal.models import ReadingReview

    s = await _alice(app_db)
    gas = str(world["gas"])
    await s.type_reading(gas, "999999")  # 998 999 m³ in 15 days: above 3 000 a month
    v = s.live[gas]
    assert v.kind == "warning" and v.confirm_kind == "review" and v.confirm_label == ""  # no tick to give
    assert "will not be billed until staff have checked it" in v.text and "Looks right" not in v.ok
    result = await s.submit(_form(s, gas, "999999"))
    assert "toast" not in repr(result).lower()  # said once, in the form's box
    assert s.result[gas] == Verdict(
        "review", "Reading 999,999\u00a0m³ (a use of 998,999\u00a0m³) went to staff review and is not billed yet. "
                  "Staff will check it and contact you if needed.")
    assert gas not in s.live and _stored(app_db) == []
    assert _meter(s, world["gas"]).left == "2 of 2 submissions left for November 2026"
    with read_session(app_db) as db:
        rows = db.exec(sa.select(ReadingReview.value, ReadingReview.status)).all()
    assert rows == [(999999, "open")]
    await s.submit(_form(s, gas, "999998"))  # a second one waits for the first
    assert _refusal(s, gas).kind == "error" and s.live[gas].text.startswith("A reading of this meter from 20 Nov 2026")
    await s.submit(_form(s, gas, "1012"))  # a plausible reading is booked
    assert s.result[gas].kind == "ok" and _stored(app_db) == [(world["gas"], 1012, "customer", 1)]


# ------------------------------------------------------------------------------ a correction (issue 14 point 7)


async def test_a_correction_says_what_it_replaces_before_and_after_and_the_history_marks_it(app_db, world):
    """Correcting 1,012 to 1,013: the form says before and after that 1,012 is replaced, the volume
    is counted from 1,000 (as 1,012's was) and says so, the history strikes 1,012 "replaced by"."""
    s = await _alice(app_db)
    gas = str(world["gas"])
    assert _meter(s, gas).replaces == ""  # the month's first reading replaces nothing
    await s.submit(_form(s, gas, "1012"))
    m = _meter(s, gas)
    assert m.replaces == ("You have sent a reading for November 2026: a new one replaces your reading "
                          "1,012\u00a0m³ of 20 Nov 2026.")
    assert (m.last_value, m.last_source) == ("1,012\u00a0m³", "sent by you")
    await s.type_reading(gas, "1013")
    assert s.live[gas].text == "Looks right: 13\u00a0m³ since the reading 1,000\u00a0m³ of 5 Nov 2026, about ₸331.50."
    await s.submit(_form(s, gas, "1013"))
    assert s.result[gas].text == ("Reading 1,013\u00a0m³ for meter G-1 received as the reading for November 2026. "
                                  "Submissions left: 0 of 2. It replaces your reading 1,012\u00a0m³ of 20 Nov 2026.")
    rows = s.history[gas]
    assert [(r.value, r.source, r.replaced, r.replaced_by) for r in rows[:3]] == [
        ("1,013\u00a0m³", "sent by you", False, ""),
        ("1,012\u00a0m³", "sent by you", True, "replaced by 1,013\u00a0m³"),
        ("1,000\u00a0m³", "taken by an inspector", False, "")]


async def test_sent_by_you_only_for_what_this_user_sent(app_db, world):
    """A reading sent before Alice linked the account (no portal user) or by another holder of it
    is not "sent by you"; nor does a correction call another holder's reading "your reading"."""
    w2 = str(world["w2"])
    with write_session(app_db) as s:
        carol = _user(s, "carol@example.kz")
        s.add(UserAccountLink(user_id=carol, account_id=world["mine"]))
        _reading(s, world["w2"], 10, local(2026, 10, 20), source="customer")  # before the portal
    c = await _state(_token(app_db, "carol@example.kz"))
    await c.load()
    await c.submit(_form(c, w2, "12"))
    assert c.history[w2][0].source == "sent by you"
    s = await _alice(app_db)
    assert [r.source for r in s.history[w2]] == ["sent by a customer", "sent by a customer"]
    assert _meter(s, w2).last_source == "sent by a customer"
    assert _meter(s, w2).replaces == ("A reading for November 2026 was already sent: a new one replaces the reading "
                                      "12\u00a0m³ of 20 Nov 2026.")
    await s.submit(_form(s, w2, "13"))
    assert s.result[w2].text.endswith("It replaces the reading 12\u00a0m³ of 20 Nov 2026.")
    assert [(r.source, r.replaced) for r in s.history[w2]] == [
        ("sent by you", False), ("sent by a customer", True), ("sent by a customer", False)]


# ------------------------------------------------------------------------------ quiet while typing (issue 14 point 8)


async def test_a_prefix_is_quiet_while_typing_and_said_after_a_pause_or_the_blur(app_db, world):
    s = await _alice(app_db)
    gas = str(world["gas"])
    for prefix in ("1", "10", "101"):  # on the way to 1,012: each below the last reading, 1,000
        await s.type_reading(gas, prefix, True)
        assert gas not in s.live
    await s.type_reading(gas, "1012", True)
    assert s.live[gas].kind == "ok"
    await s.settle_reading(gas)  # a pause after a good value says nothing new
    assert s.live[gas].kind == "ok"
    await s.type_reading(gas, "10", True)  # typed back: the stale "looks right" goes, no red yet
    assert gas not in s.live
    await s.settle_reading(gas)  # the pause: now it is said
    assert s.live[gas].kind == "error" and s.live[gas].text.startswith("The reading cannot be below the last one")
    await s.type_reading(gas, "1 01", True)  # a digit group on its way to "1 012"
    assert gas not in s.live
    await s.type_reading(gas, "1 01")  # the blur: said at once
    assert s.live[gas].text.startswith("Group the digits in threes")
    await s.type_reading(gas, "12a", True)  # more digits cannot put a letter right: said at once
    assert s.live[gas].kind == "error" and s.live[gas].text.startswith("Type the reading in digits")
    await s.type_reading(gas, "1000", True)  # the base itself, on the way to 10 005: no "no use?" yet
    assert gas not in s.live
    await s.settle_reading(gas)
    assert s.live[gas].kind == "warning" and s.live[gas].confirm_kind == "zero"
    await s.type_reading(gas, "9", True)
    await s.type_reading(gas, "99", True)  # the kept error is the last value's
    await s.settle_reading(gas)
    assert "1,000" in s.live[gas].text
    for odd in (world["bob_meter"], "abc", None, math.nan):
        await s.settle_reading(odd)
    assert str(world["bob_meter"]) not in s.live


async def test_a_refused_submit_says_why_once_in_the_form(app_db, world):
    """Typed fast and sent before any check: the reason is said once, under the input; the input's
    late, debounced change and the pause after it neither take it away nor say it again."""
    s = await _alice(app_db)
    gas = str(world["gas"])
    result = await s.submit(_form(s, gas, "99"))
    assert "toast" not in repr(result).lower() and s.error == ""
    below = "The reading cannot be below the last one, 1,000\u00a0m³ of 5 Nov 2026."
    assert _refusal(s, gas) == Verdict("error", below)
    await s.type_reading(gas, "99", True)
    await s.settle_reading(gas)
    assert _refusal(s, gas) == Verdict("error", below)


async def test_a_refused_submit_is_an_alert_that_takes_the_focus_and_typing_calms_it(app_db, world):
    """Issue 14 point 16 on the reading form (one field): a refused submit raises the meter's
    refusal count (the page's script then focuses the message under the input and scrolls to it)
    and makes that message an alert; the input's late echo keeps it; typing anew makes the
    message a polite live result again. A plain live check never counts as a refusal."""
    s = await _alice(app_db)
    gas = str(world["gas"])
    await s.type_reading(gas, "99")  # control: a live check (after the blur) is no refusal
    assert s.live[gas].kind == "error" and s.refused == {} and s.alerting == {}
    await s.submit(_form(s, gas, "99"))
    assert s.refused == {gas: 1} and s.alerting == {gas: True}
    await s.type_reading(gas, "99", True)  # the late, debounced echo of what was sent
    assert s.alerting == {gas: True}
    await s.submit(_form(s, gas, "98"))  # refused again: counted again (the focus comes back)
    assert s.refused == {gas: 2}
    await s.type_reading(gas, "1012", True)
    assert s.alerting == {} and s.refused == {gas: 2}


# ------------------------------------------------------------------------------ a session that ended (issue 14 point 10)


async def test_a_session_that_ended_while_the_form_was_open_stores_nothing_and_sends_to_sign_in(app_db, world):
    from gazportal.services.auth import sign_out

    token = _token(app_db)
    s = await _state(token)
    keep = repr(await s.load())
    uid = next(iter(_stored_users(app_db, "alice@example.kz")))
    assert f"gp-reading-{uid}-" in keep  # what is typed is kept in this tab, under this user
    gas = str(world["gas"])
    root = s._get_root_state()
    root.router = dataclasses.replace(
        RouterData(), url=ReflexURL(f"https://portal.example/dashboard?account={world['mine']}"))
    sign_out(app_db, token)  # signed out elsewhere (or timed out) while the form was open
    result = await s.submit(_form(s, gas, "1012"))
    assert f"'/signin?next=%2Fdashboard%3Faccount%3D{world['mine']}&why=signed_out'" in repr(result)
    assert _stored(app_db) == [] and gas not in s.result
    assert "sessionStorage.removeItem" not in repr(result)  # the typed value stays in the tab
    # The input's late, debounced events arrive from the sign-in page: they leave it (and its next) be.
    root.router = dataclasses.replace(RouterData(), url=ReflexURL(
        f"https://portal.example/signin?next=%2Fdashboard%3Faccount%3D{world['mine']}&why=signed_out"))
    assert await s.type_reading(gas, "1012", True) is None and await s.settle_reading(gas) is None
    s = await _alice(app_db)  # signed in again
    refused = repr(await s.submit(_form(s, gas, "999")))
    assert f"sessionStorage.removeItem('gp-reading-{uid}-{gas}')" in refused  # answered: no longer kept
    stored = repr(await s.submit(_form(s, gas, "1012")))
    assert f"sessionStorage.removeItem('gp-reading-{uid}-{gas}')" in stored and "success" in stored
    assert _stored(app_db) == [(world["gas"], 1012, "customer", 1)]


def _stored_users(engine, login) -> list[int]:
    from gazportal.models import User

    with read_session(engine) as s:
        return list(s.exec(sa.select(User.id).where(User.login == login)).scalars())


async def test_a_load_does_not_empty_what_is_being_typed(app_db, world):
    """The page's load may answer after the customer began to type (the meters of the last visit are
    shown at once): the forms are not remounted, so the typed value and its check (which comes
    after the load) stay."""
    s = await _alice(app_db)
    key = s.form_key
    await s.load()
    assert s.form_key == key
    await s.switch_account(str(world["second"]))  # another account: its forms are new
    assert s.form_key == key + 1


# ------------------------------------------------------------------------------ the period (issue 14.9)

KYIV = ZoneInfo("Europe/Kyiv")


async def test_kremenchukgaz_form_says_the_month_the_reading_counts_for(app_db, world, clock, monkeypatch):
    """Kremenchukgaz: a reading sent by the 5th is November's meter when sent on 3 December; the
    window, the form's label, the submissions left and the success message say so in every
    language, and the stored period is November; on the 6th (00:30 in Kyiv, still the 5th in UTC)
    the window is closed and the next one is for December."""
    from gazportal.settings import load_utility
    from gazportal.state.i18n import I18nState

    kg = load_utility("kremenchukgaz")
    monkeypatch.setattr(dash_mod, "utility", lambda: kg)
    clock(datetime(2026, 12, 3, 12, 0, tzinfo=KYIV).astimezone(UTC))
    expected = {
        "en": ("Reading for November 2026", "Readings for November 2026 are accepted until 5 Dec 2026."),
        "uk": ("Показник за листопад 2026", "Показники за листопад 2026 приймаються до 5 груд. 2026\u202fр."),
        "ru": ("Показание за ноябрь 2026", "Показания за ноябрь 2026 принимаются до 5 дек. 2026\u202fг."),
        "kk": ("Көрсеткіш кезеңі: қараша 2026", "Көрсеткіштер 2026\u202fж. 05 жел. дейін қабылданады (кезеңі: қараша 2026)."),
    }
    for lang, (label, window) in expected.items():
        s = await _state(_token(app_db))
        (await s.get_state(I18nState)).lang_pref = lang
        await s.load()
        gas = _meter(s, world["gas"])
        assert (gas.reading_for, s.window_text.replace("\u00a0", " ")) == (label, window.replace("\u00a0", " ")), lang
    s = await _alice(app_db)
    gas = str(world["gas"])
    assert _meter(s, world["gas"]).left == "2 of 2 submissions left for November 2026"
    await s.submit(_form(s, gas, "1012"))
    assert s.result[gas].text.startswith("Reading 1,012\u00a0m³ for meter G-1 received as the reading for November 2026.")
    with read_session(app_db) as db:
        assert db.exec(sa.select(Reading.period).where(Reading.source == "customer")).all() == [("2026-11",)]
    clock(datetime(2026, 12, 5, 22, 30, tzinfo=UTC))  # 6 December 00:30 in Kyiv
    s = await _alice(app_db)
    assert not s.window_open
    assert s.window_text == ("Readings are not accepted now. Readings for December 2026 are accepted "
                             "from 1 Jan 2027 to 5 Jan 2027.")
    assert _meter(s, world["gas"]).left == "2 of 2 submissions left for December 2026"
