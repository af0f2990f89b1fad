"""Disputes and staff corrections of booked readings, and the audited read-only view of an account
(issue 16 points 5 and 6), on SQLite and PostgreSQL: a correction is a new row linked to the
original (the original never edited), audited with its reason, mailed to the account's holders over
a real SMTP server, and what the billing export, the history and the next reading's base use; a
customer disputes only their own meters' readings; a dispute is decided once (the service and the
database refuse a move back); every write is refused below a supervisor (a view below an operator)
with nothing stored."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models import AuditEntry, Reading, ReadingDispute, User, UserAccountLink
from gazportal.services import corrections, dashboard, notify, readings, rollups, staff, view_as
from gazportal.services.audit import Actor, NotAllowed
from gazportal.services.billing_io import export_readings
from gazportal.services.errors import AccountNotFound, FormErrors, NotFound
from gazportal.services.readings import ReadingRefused, submit_reading
from tests.unit.test_auth_kit import make_settings, smtp_server, smtp_to  # noqa: F401
from tests.unit.test_readings import AG, NOW, add, local, make_meter
from tests.unit.test_rollups import assert_consistent

PW = "Quiet-Harbour-Lamp-71"

pytestmark = pytest.mark.usefixtures("fast_hashing")


def _world(engine, *, language="ru") -> dict:
    """A gas meter read 1 000 (Oct) and 1 090 (Nov, the customer's); its holder; a supervisor,
    an operator; another customer's account."""
    acc, mid = make_meter(engine)
    _, other_meter = make_meter(engine, number="1000000002", serial="S9")
    with write_session(engine) as s:
        user = User(login="holder@example.kz", email="holder@example.kz", email_verified=True, password_hash="!",
                    surname="Серикова", name="Айгуль", language=language)
        s.add(user)
        s.flush()
        s.add(UserAccountLink(user_id=user.id, account_id=acc))
        uid = user.id
    add(engine, mid, 1000, local(2026, 10, 25))
    sub = submit_reading(engine, AG, mid, "1090", now=NOW, user_id=uid)
    sup = staff.add_staff(engine, AG, login="sup@example.org", password=PW, role="supervisor", surname="Sup",
                          name="Saule", now=NOW)
    op = staff.add_staff(engine, AG, login="op@example.org", password=PW, role="operator", surname="Op", name="Olga",
                         now=NOW)
    return {"account": acc, "meter": mid, "other_meter": other_meter, "user": uid, "reading": sub.reading.id,
            "sup": Actor(sup.id, sup.login, sup.role), "op": Actor(op.id, op.login, op.role),
            "customer": Actor(uid, "holder@example.kz", "customer")}


def _rows(engine, mid):
    with read_session(engine) as s:
        return s.exec(select(Reading.value, Reading.source, Reading.corrects_id, Reading.period)
                      .where(Reading.meter_id == mid).order_by(Reading.taken_at, Reading.id)).all()


def _audit(engine, prefix: str) -> list[AuditEntry]:
    with read_session(engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action.like(prefix + "%")).order_by(AuditEntry.id)))


def _export(engine) -> list[str]:
    out = io.StringIO()
    export_readings(engine, AG, "2026-11", out)
    return out.getvalue().splitlines()[1:]


def test_a_correction_is_a_new_linked_row_audited_mailed_exported_and_the_next_base(engine, tmp_path,
                                                                                    smtp_server):  # noqa: F811
    box, port = smtp_server
    settings = make_settings(tmp_path, AG, smtp=smtp_to(port))
    w = _world(engine)
    rollups.rebuild(engine, AG)  # the world's October reading was written past the roll-ups
    assert [r.split(",")[4] for r in _export(engine)] == ["1090"]
    c = corrections.correct(engine, settings, AG, w["sup"], w["reading"], "1050", "The photo shows 1 050.",
                            now=NOW + timedelta(hours=1))
    assert (c.corrects_id, c.value, c.dispute_id) == (w["reading"], 1050, None)
    # the original kept as it was; the correction a new row naming it, at the original's period
    assert _rows(engine, w["meter"]) == [(1000, "inspector", None, "2026-10"), (1090, "customer", None, "2026-11"),
                                         (1050, "controller", w["reading"], "2026-11")]
    [a] = _audit(engine, "reading.correct")
    assert (a.actor, a.object_id, json.loads(a.before), json.loads(a.after), a.reason) == (
        "sup@example.org", str(w["reading"]), {"reading": w["reading"], "value": 1090},
        {"reading": c.reading_id, "value": 1050, "corrects": w["reading"]}, "The photo shows 1 050.")
    assert_consistent(engine)  # the roll-ups count it as a from-scratch aggregate does
    # the billing export sees the correction, not the original
    [line] = _export(engine)
    assert line.split(",")[4] == "1050" and line.split(",")[6] == "controller"
    # the history strikes the original with the corrected value
    with read_session(engine) as s:
        h = readings.history(s, w["meter"])
    assert [(e.value, e.replaced_by, e.corrects) for e in h] == [(1050, None, True), (1090, 1050, False),
                                                                 (1000, None, False)]
    # the customer's next reading is measured from the correction, not the corrected one
    with read_session(engine) as s:
        check = readings.check_reading(s, AG, w["meter"], "1060", now=NOW + timedelta(hours=2),
                                       allowed_account_ids=[w["account"]])
    assert check.ok and (check.base_value, check.volume) == (1050, 10)
    notify.wait_idle()
    [(rcpt, mail)] = box.messages
    assert rcpt == ["holder@example.kz"] and "исправ" in mail["Subject"].lower()
    body = mail.get_body().get_content()
    assert "The photo shows 1 050." in body and "1\u00a0090" in body and "1\u00a0050" in body


def test_a_reading_is_corrected_once_then_its_correction_is(engine, tmp_path):
    settings = make_settings(tmp_path, AG)
    w = _world(engine)
    c = corrections.correct(engine, settings, AG, w["sup"], w["reading"], 1050, "First look.", now=NOW)
    with pytest.raises(corrections.AlreadyCorrected):
        corrections.correct(engine, settings, AG, w["sup"], w["reading"], 1040, "Again.", now=NOW)
    c2 = corrections.correct(engine, settings, AG, w["sup"], c.reading_id, 1040, "Second look.", now=NOW)
    assert c2.corrects_id == c.reading_id
    assert [r[0] for r in _rows(engine, w["meter"])] == [1000, 1090, 1050, 1040]
    assert [r.split(",")[4] for r in _export(engine)] == ["1040"]
    # the database itself refuses a second correction of one row
    with pytest.raises(sa.exc.IntegrityError), write_session(engine) as s:
        s.add(Reading(meter_id=w["meter"], value=1045, taken_at=NOW, period="2026-11", source="controller",
                      corrects_id=c.reading_id))


def test_a_correction_that_does_not_fit_or_lacks_a_reason_or_role_stores_nothing(engine, tmp_path):
    settings = make_settings(tmp_path, AG)
    w = _world(engine)
    before = _rows(engine, w["meter"])
    for actor in (w["op"], w["customer"]):
        with pytest.raises(NotAllowed):
            corrections.correct(engine, settings, AG, actor, w["reading"], 1050, "Fine reason.", now=NOW)
    for bad in ("", " ", "x", "y" * 501, None, 7):
        with pytest.raises(FormErrors):
            corrections.correct(engine, settings, AG, w["sup"], w["reading"], 1050, bad, now=NOW)
    with pytest.raises(ReadingRefused):  # below October's 1 000
        corrections.correct(engine, settings, AG, w["sup"], w["reading"], 990, "Too low.", now=NOW)
    with pytest.raises(ReadingRefused):
        corrections.correct(engine, settings, AG, w["sup"], w["reading"], "12a", "Not a number.", now=NOW)
    for rid in (None, "x", -1, 10**9, {"id": 1}):
        with pytest.raises(NotFound):
            corrections.correct(engine, settings, AG, w["sup"], rid, 1050, "Nothing there.", now=NOW)
    assert _rows(engine, w["meter"]) == before and _audit(engine, "reading.") == []


def test_a_customer_disputes_their_own_reading_once_and_the_supervisor_corrects_it(engine, tmp_path,
                                                                                    smtp_server):  # noqa: F811
    box, port = smtp_server
    settings = make_settings(tmp_path, AG, smtp=smtp_to(port))
    w = _world(engine, language="en")
    mine = [w["account"]]
    with read_session(engine) as s:
        foreign = s.exec(select(Reading.id).where(Reading.meter_id == w["meter"])).first()
    add(engine, w["other_meter"], 500, local(2026, 10, 25))
    with read_session(engine) as s:
        others = s.exec(select(Reading.id).where(Reading.meter_id == w["other_meter"])).one()
    with pytest.raises(NotFound):  # another customer's reading: the same answer as none
        corrections.dispute(engine, w["user"], mine, others, "Not mine but let me.", now=NOW)
    with pytest.raises(FormErrors):
        corrections.dispute(engine, w["user"], mine, w["reading"], "", now=NOW)
    with pytest.raises(corrections.NotCurrent):  # disputing a reading that no longer counts
        submit_reading(engine, AG, w["meter"], "1095", now=NOW + timedelta(minutes=5), user_id=w["user"])
        corrections.dispute(engine, w["user"], mine, w["reading"], "The first one.", now=NOW)
    with read_session(engine) as s:
        latest = readings.history(s, w["meter"])[0].id
    did = corrections.dispute(engine, w["user"], mine, latest, "I typed 1095 by mistake: it is 1059.", now=NOW)
    with pytest.raises(corrections.DisputeOpen):
        corrections.dispute(engine, w["user"], mine, latest, "Again.", now=NOW)
    with read_session(engine) as s:
        items, open_count = corrections.disputes(s, "open")
    assert open_count == 1 and [(i.id, i.value, i.reason, i.customer) for i in items] == [
        (did, 1095, "I typed 1095 by mistake: it is 1059.", "Серикова Айгуль")]
    with pytest.raises(NotFound):  # a dispute names its reading
        corrections.correct(engine, settings, AG, w["sup"], foreign, 1059, "Wrong pair.", now=NOW, dispute_id=did)
    c = corrections.correct(engine, settings, AG, w["sup"], latest, 1059, "Agreed with the photo.",
                            now=NOW + timedelta(hours=1), dispute_id=did)
    with read_session(engine) as s:
        d = s.get(ReadingDispute, did)
        assert (d.status, d.correction_id, d.decided_by) == ("corrected", c.reading_id, w["sup"].user_id)
        items, open_count = corrections.disputes(s, "corrected")
        assert open_count == 0 and items[0].corrected_to == 1059
        notice = corrections.notices_for(s, [w["meter"]], now=NOW + timedelta(days=1))[w["meter"]]
    assert (notice.status, notice.corrected_to, notice.reason) == ("corrected", 1059, "Agreed with the photo.")
    with pytest.raises(corrections.DisputeDecided):
        corrections.dismiss(engine, settings, AG, w["sup"], did, "Too late.", now=NOW)
    assert [r.split(",")[4] for r in _export(engine)] == ["1059"]
    notify.wait_idle()
    [(rcpt, mail)] = box.messages  # in the holder's language (en)
    assert rcpt == ["holder@example.kz"] and mail["Subject"].endswith(": your reading was corrected")
    assert "Agreed with the photo." in mail.get_body().get_content()


def test_a_dismissed_dispute_books_nothing_tells_the_customer_and_never_moves_back(engine, tmp_path,
                                                                                  smtp_server):  # noqa: F811
    box, port = smtp_server
    settings = make_settings(tmp_path, AG, smtp=smtp_to(port))
    w = _world(engine, language="kk")
    did = corrections.dispute(engine, w["user"], [w["account"]], w["reading"], "Too high for me.", now=NOW)
    with pytest.raises(NotAllowed):
        corrections.dismiss(engine, settings, AG, w["op"], did, "Operator tries.", now=NOW)
    before = _rows(engine, w["meter"])
    corrections.dismiss(engine, settings, AG, w["sup"], did, "The meter photo shows 1 090.", now=NOW)
    assert _rows(engine, w["meter"]) == before
    [a] = _audit(engine, "dispute.")
    assert (a.action, a.reason, json.loads(a.after)) == ("dispute.dismiss", "The meter photo shows 1 090.",
                                                         {"status": "dismissed"})
    with pytest.raises(Exception, match="forward only"), write_session(engine) as s:
        s.execute(sa.update(ReadingDispute).where(ReadingDispute.id == did).values(status="open"))
    notify.wait_idle()
    [(rcpt, mail)] = box.messages
    assert rcpt == ["holder@example.kz"] and "The meter photo shows 1 090." in mail.get_body().get_content()


def test_view_as_customer_is_audited_first_and_shows_the_customers_dashboard(engine):
    w = _world(engine)
    for actor in (w["customer"], Actor(None, "nobody", "")):
        with pytest.raises(NotAllowed):
            view_as.open_account(engine, AG, actor, "1000000001", "Customer on the phone.", now=NOW)
    with pytest.raises(FormErrors):
        view_as.open_account(engine, AG, w["op"], "1000000001", "", now=NOW)
    for number in ("1000000099", "abc", None, "", 5):
        with pytest.raises(AccountNotFound):
            view_as.open_account(engine, AG, w["op"], number, "Customer on the phone.", now=NOW)
    assert _audit(engine, "account.") == []
    aid = view_as.open_account(engine, AG, w["op"], "1000 0000 01", "Customer on the phone.", now=NOW)
    assert aid == w["account"]
    [a] = _audit(engine, "account.view")
    assert (a.actor, a.object_type, a.object_id, a.reason, a.at) == (
        "op@example.org", "account", str(aid), "Customer on the phone.", NOW)
    with read_session(engine) as s:
        seen = dashboard.staff_view(s, AG, aid, now=NOW)
        own = dashboard.account_dashboard(s, AG, w["user"], aid, now=NOW)
        with pytest.raises(AccountNotFound):
            dashboard.staff_view(s, AG, 10**9, now=NOW)
    assert seen == own  # exactly what the customer sees
