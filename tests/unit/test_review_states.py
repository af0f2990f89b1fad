"""The readings review of the staff console (/staff/readings, issue 16 point 6) as the browser
calls it: a customer's implausible reading goes to review from the dashboard; the operator sees it
in the held tab, rejects it with a reason (a reason is required; a double submit decides once; the
customer gets one e-mail over a real SMTP server) and the customer sees the decision and the
reason next to the meter; accept books it as a reading. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from reflex.istate.data import RouterData
from sqlmodel import func, select

from gazportal.db import read_session
from gazportal.models import AuditEntry, Reading, ReadingReview
from gazportal.services import notify, staff
from gazportal.settings import get_settings
from gazportal.state.reviews import StaffReviewState
from tests.conftest import sign_in_token, state_of
from tests.unit.test_auth_kit import smtp_server  # noqa: F401
from tests.unit.test_dashboard_states import OPEN, _alice, _form, clock, world  # noqa: F401

PW = "Quiet-Harbour-Lamp-71"

pytestmark = pytest.mark.usefixtures("fast_hashing")


async def _held(app_db, world,  # noqa: F811
                meter_key="gas", value="999999") -> object:
    """Alice sends an implausible reading of one of her meters: it is held. Returns her dashboard."""
    d = await _alice(app_db)
    await d.submit(_form(d, world[meter_key], value))
    assert d.result[str(world[meter_key])].kind == "review"
    return d


async def _operator(app_db):
    staff.add_staff(app_db, get_settings().utility, login="op@example.org", password=PW, role="operator",
                    surname="Op", name="Olga", now=OPEN)
    page = await state_of(StaffReviewState, sign_in_token(app_db, "op@example.org", PW), path="/staff/readings")
    page.router = RouterData.from_router_data({"pathname": "/staff/readings", "query": {},
                                               "asPath": "/staff/readings", "headers": {}})
    await page.load()
    return page


async def test_reject_with_a_reason_the_customer_sees_and_gets_by_mail(app_db, world, monkeypatch,  # noqa: F811
                                                                       smtp_server):  # noqa: F811
    box, port = smtp_server
    monkeypatch.setenv("GAZPORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GAZPORTAL_SMTP_PORT", str(port))
    get_settings.cache_clear()
    dash = await _held(app_db, world)
    await dash.load()
    gas = str(world["gas"])
    assert dash.review_notes[gas]["status"] == "open" and "999,999" in dash.review_notes[gas]["text"]

    page = await _operator(app_db)
    assert page.tab == "held" and page.counts == {"held": 1, "accepted": 0, "rejected": 0, "disputed": 0}
    [row] = page.rows
    assert row.status == "open" and row.value["en"] == "999,999\u00a0m³" and row.service == "gas"
    await page.pick(row.id)
    assert page.picked == row.id
    # no decision chosen, then a reject without a reason: refused, said on the field, nothing decided
    await page.decide({"review_id": row.id, "decision": "", "reason": "", "submission": page.submission})
    assert "decision" in page.errors
    await page.decide({"review_id": row.id, "decision": "reject", "reason": " ", "submission": page.submission})
    assert "reason" in page.errors and page.done == "" and page.counts["held"] == 1
    form = {"review_id": row.id, "decision": "reject", "reason": "The photo shows 1 012, please send it again.",
            "submission": page.submission}
    await page.decide(form)
    await page.decide(form)  # a double submit: the same submission id decides once
    assert page.error == "" and page.done == "rejected" and page.picked == ""
    assert page.counts == {"held": 0, "accepted": 0, "rejected": 1, "disputed": 0} and page.rows == []
    await page.set_tab("rejected")
    assert [r.reason for r in page.rows] == ["The photo shows 1 012, please send it again."]
    notify.wait_idle()
    assert len(box.messages) == 1 and box.messages[0][0] == ["alice@example.kz"]
    assert "The photo shows 1 012" in box.messages[0][1].get_body().get_content()
    with read_session(app_db) as s:
        assert s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "review.reject")).one() == 1
        assert s.exec(select(func.count()).select_from(Reading).where(Reading.value == 999999)).one() == 0

    await dash.load()
    note = dash.review_notes[gas]
    assert note["status"] == "rejected" and note["reason"] == "The photo shows 1 012, please send it again."
    assert "did not accept" in note["text"]


async def test_accept_books_the_reading(app_db, world):  # noqa: F811
    await _held(app_db, world)
    page = await _operator(app_db)
    [row] = page.rows
    await page.pick(row.id)
    await page.decide({"review_id": row.id, "decision": "accept", "reason": "", "submission": page.submission})
    assert page.error == "" and page.done == "accepted" and page.counts["accepted"] == 1
    with read_session(app_db) as s:
        review = s.exec(select(ReadingReview)).one()
        booked = s.exec(select(Reading).where(Reading.review_id == review.id)).one()
    assert (booked.value, booked.meter_id, review.status) == (999999, world["gas"], "accepted")
    dash = await _alice(app_db)
    assert dash.review_notes[str(world["gas"])]["status"] == "accepted"
    assert dash.meters[0].last_value.startswith("999,999")


async def test_the_flag_tabs_list_roll_overs_and_zero_use(app_db, world):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    from gazportal.db import write_session
    from gazportal.services.periods import reading_period

    when = datetime.now(UTC) - timedelta(hours=1)  # the tabs look back from the handler's clock
    with write_session(app_db) as s:  # Bob's gas meter passed zero: 700, then 5 on a dial turned once
        s.add(Reading(meter_id=world["bob_meter"], value=5, taken_at=when, source="inspector", rollovers=1,
                      period=reading_period(when, get_settings().utility)))
    page = await _operator(app_db)
    await page.set_tab("rollovers")
    assert page.tab == "rollovers" and page.rows == []
    [flag] = page.flags
    assert (flag.serial, flag.value["en"]) == ("B-1", "5\u00a0m³")
    await page.set_tab("zero")
    assert page.flags == []  # every meter of the world was used, or has no readings
    await page.set_tab("held")
    assert page.flags == [] and page.counts == {"held": 0, "accepted": 0, "rejected": 0, "disputed": 0}


async def test_the_late_tab_books_a_reading_of_a_closed_period(app_db, world):  # noqa: F811
    page = await _operator(app_db)
    await page.set_tab("late")
    assert page.tab == "late" and page.flags == []
    form = {"account": "100000001", "serial": "G-1", "day": "", "value": "1005", "reason": "Phoned in",
            "submission": page.submission}
    await page.book_late(form)
    assert "day" in page.errors and page.done == ""
    # the gas meter read 990 on 6 October and 1000 on 5 November (world): 995 on 20 October fits
    good = {**form, "day": "2026-10-20", "value": "995", "submission": page.submission}
    await page.book_late(good)
    assert page.error == "" and page.done == "late.saved", (page.error, page.errors)
    await page.book_late(good)  # a double submit: the same submission id books once
    [row] = page.flags
    assert row.value["en"] == "995\u00a0m³" and row.serial == "G-1"
    with read_session(app_db) as s:
        assert s.exec(select(func.count()).select_from(Reading).where(Reading.value == 995)).one() == 1
    await page.book_late({**form, "day": "2026-10-21", "value": "2000", "submission": page.submission})
    assert page.error != "" and len(page.flags) == 1  # above the later reading: refused, said once
