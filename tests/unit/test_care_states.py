"""View as customer (/staff/view, issue 16 point 5) and disputes with staff corrections (the review
queue's "disputed" tab, the dashboard's dispute form; point 6) as the browser calls them, on SQLite
and PostgreSQL:

* an operator opens an account with a reason: one audit row (who, which account, when, why) before
  anything is shown; the page holds exactly the vars the customer's own dashboard holds; a reload
  forgets it; staff cannot call the customer's handlers (a reading or a dispute sent "as" them);
* Alice disputes her reading; the dispute shows in the disputed tab; an operator cannot decide it;
  a supervisor corrects it (a double submit books once), Alice is mailed over a real SMTP server
  and sees the correction in her history and the note; a dismissal likewise; the correction form
  corrects a month's reading without a dispute.
"""
from __future__ import annotations

import pytest
from reflex.istate.data import RouterData
from sqlmodel import func, select

from gazportal.db import read_session
from gazportal.models import AuditEntry, Reading, ReadingDispute
from gazportal.services import notify, staff
from gazportal.settings import get_settings
from gazportal.state.dashboard import DashboardState
from gazportal.state.reviews import StaffReviewState
from gazportal.state.view_as import StaffViewState
from tests.conftest import drain, sign_in_token, state_of
from tests.unit.test_auth_kit import smtp_server  # noqa: F401
from tests.unit.test_dashboard_states import OPEN, _alice, _form, clock, world  # noqa: F401

PW = "Quiet-Harbour-Lamp-71"

pytestmark = pytest.mark.usefixtures("fast_hashing")


def _staff(app_db, role: str) -> str:
    login = f"{role}@example.org"
    staff.add_staff(app_db, get_settings().utility, login=login, password=PW, role=role, surname="Staff",
                    name=role.title(), now=OPEN)
    return sign_in_token(app_db, login, PW)


async def _page(cls, token: str, path: str, query: dict | None = None):
    page = await state_of(cls, token, path=path)
    from urllib.parse import urlencode

    full = path + ("?" + urlencode(query) if query else "")
    page.router = RouterData.from_router_data({"pathname": path, "query": query or {}, "asPath": full,
                                               "headers": {}})
    await page.load()
    return page


def _count(app_db, model, *where) -> int:
    with read_session(app_db) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


async def test_view_as_customer_is_audited_read_only_and_shows_the_customers_dashboard(app_db, world):  # noqa: F811
    op = _staff(app_db, "operator")
    page = await _page(StaffViewState, op, "/staff/view", {"account": "100000001"})
    assert page.number == "100000001" and not page.viewing
    # no reason, an unknown account: refused on the field, nothing shown, nothing logged
    await page.open({"account": "100000001", "reason": "", "submission": page.submission})
    assert "reason" in page.errors and not page.viewing and page.meters == []
    await page.open({"account": "999999999", "reason": "On the phone", "submission": page.submission})
    assert "account" in page.errors and not page.viewing
    assert _count(app_db, AuditEntry, AuditEntry.action == "account.view") == 0
    form = {"account": "100000001", "reason": "Customer on the phone about the bill", "submission": page.submission}
    await page.open(form)
    await page.open(form)  # a double submit: one look, one row
    assert page.viewing and page.errors == {} and page.reason == "Customer on the phone about the bill"
    with read_session(app_db) as s:
        [row] = s.exec(select(AuditEntry).where(AuditEntry.action == "account.view")).all()
    assert (row.actor, row.object_type, row.object_id, row.reason) == (
        "operator@example.org", "account", str(world["mine"]), "Customer on the phone about the bill")
    # exactly what Alice's dashboard holds for that account
    alice = await _alice(app_db)
    for name in ("account_id", "info", "in_debt", "last_volumes", "window_open", "window_text", "meters",
                 "review_notes"):
        assert getattr(page, name) == getattr(alice, name), name
    assert {k: [(r.value, r.date) for r in v] for k, v in page.history.items()} == {
        k: [(r.value, r.date) for r in v] for k, v in alice.history.items()}
    # a reload asks again: every look is logged
    await page.load()
    assert not page.viewing and page.meters == [] and page.info.number == ""


async def test_staff_cannot_act_as_the_customer(app_db, world):  # noqa: F811
    """The customer's handlers refuse a staff session: no reading, no dispute is stored for them."""
    op = _staff(app_db, "admin")
    dash = await state_of(DashboardState, op, path="/dashboard")
    before = _count(app_db, Reading), _count(app_db, ReadingDispute)
    await drain(dash.submit(_form(dash, world["gas"], "1001")))
    await drain(dash.dispute({"meter": str(world["gas"]), "reading": "1", "reason": "As staff",
                              "submission": dash.submission}))
    await drain(dash.load())
    assert (_count(app_db, Reading), _count(app_db, ReadingDispute)) == before
    assert dash.meters == [] and dash.disputed == {}


async def test_a_dispute_is_corrected_by_a_supervisor_and_the_customer_sees_it(app_db, world, monkeypatch,  # noqa: F811
                                                                                smtp_server):  # noqa: F811
    box, port = smtp_server
    monkeypatch.setenv("GAZPORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GAZPORTAL_SMTP_PORT", str(port))
    get_settings.cache_clear()
    alice = await _alice(app_db)
    gas = str(world["gas"])
    latest = alice.history[gas][0]  # the inspector's 1 000 m³ of 5 November
    assert latest.counts and latest.value == "1,000\u00a0m³"
    await alice.dispute({"meter": gas, "reading": "", "reason": "x", "submission": alice.submission})
    assert alice.disputed[gas].kind == "error"
    await alice.dispute({"meter": gas, "reading": latest.id, "reason": "The meter shows 996.",
                         "submission": alice.submission})
    assert alice.disputed[gas].kind == "ok" and alice.review_notes[gas]["status"] == "open", alice.disputed[gas]

    op = await _page(StaffReviewState, _staff(app_db, "operator"), "/staff/readings", {"tab": "disputed"})
    assert op.tab == "disputed" and op.counts["disputed"] == 1
    [row] = op.disputes
    assert (row.reason, row.account, row.value["en"]) == ("The meter shows 996.", "100000001", "1,000\u00a0m³")
    await op.pick(row.id)
    form = {"dispute_id": row.id, "decision": "correct", "value": "996", "reason": "Agreed with the photo.",
            "submission": op.submission}
    await drain(op.resolve(form))  # an operator: refused by the frame
    assert _count(app_db, Reading, Reading.corrects_id.is_not(None)) == 0 and op.done == ""

    sup = await _page(StaffReviewState, _staff(app_db, "supervisor"), "/staff/readings", {"tab": "disputed"})
    await sup.pick(row.id)
    await sup.resolve({**form, "reason": "", "submission": sup.submission})
    assert "reason" in sup.errors and sup.done == ""
    await sup.resolve({**form, "decision": "correct", "value": "", "submission": sup.submission})
    assert "value" in sup.errors
    good = {**form, "submission": sup.submission}
    await sup.resolve(good)
    await sup.resolve(good)  # a double submit: corrected once
    assert sup.error == "" and sup.done == "disputes.corrected" and sup.counts["disputed"] == 0, sup.error
    assert _count(app_db, Reading, Reading.corrects_id.is_not(None)) == 1
    with read_session(app_db) as s:
        assert s.exec(select(AuditEntry.action).where(AuditEntry.action == "reading.correct")).all() == [
            "reading.correct"]
    notify.wait_idle()
    [(rcpt, mail)] = box.messages
    assert rcpt == ["alice@example.kz"] and "Agreed with the photo." in mail.get_body().get_content()

    await alice.load()
    first, second = alice.history[gas][:2]
    assert (first.value, first.corrects, first.counts) == ("996\u00a0m³", True, True)
    assert (second.value, second.replaced, second.counts) == ("1,000\u00a0m³", True, False)
    assert alice.review_notes[gas]["status"] == "corrected" and "996" in alice.review_notes[gas]["text"]


async def test_a_dismissal_and_the_correction_form(app_db, world):  # noqa: F811
    alice = await _alice(app_db)
    gas = str(world["gas"])
    await alice.dispute({"meter": gas, "reading": alice.history[gas][0].id, "reason": "Too high.",
                         "submission": alice.submission})
    sup = await _page(StaffReviewState, _staff(app_db, "supervisor"), "/staff/readings", {"tab": "disputed"})
    [row] = sup.disputes
    await sup.resolve({"dispute_id": row.id, "decision": "dismiss", "value": "", "reason": "The photo shows 1 000.",
                       "submission": sup.submission})
    assert sup.done == "disputes.dismissed" and sup.disputes == []
    await alice.load()
    assert alice.review_notes[gas]["status"] == "rejected" and alice.review_notes[gas]["reason"] == (
        "The photo shows 1 000.")
    # the correction form: the November reading of G-1 (the inspector's 1 000) to 998
    fix = {"account": "100000001", "serial": "G-1", "period": "2026-11", "value": "998", "reason": "Misread.",
           "submission": sup.submission}
    await sup.correct({**fix, "period": ""})
    assert "period" in sup.errors
    await sup.correct({**fix, "serial": "nope", "submission": sup.submission})
    assert sup.error != "" and sup.done == ""
    await sup.correct({**fix, "submission": sup.submission})
    assert sup.error == "" and sup.done == "disputes.corrected", sup.error
    with read_session(app_db) as s:
        new = s.exec(select(Reading).where(Reading.corrects_id.is_not(None))).one()
        assert (new.value, new.source, new.period) == (998, "controller", "2026-11")
