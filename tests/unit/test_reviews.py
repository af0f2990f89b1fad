"""The readings review queue (issue 16 point 6), on SQLite and PostgreSQL: a reading held above
the hard plausibility limit (issue 14 point 5) is accepted — booked once as a new reading linked to
its review, even by 50 concurrent accepts — or rejected with a stated reason; both audited before →
after; the customer is told over a real SMTP server in their language and sees the decision next to
the meter; a review's status never moves back (the service and the database refuse it)."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import AuditEntry, Reading, ReadingReview, User
from gazportal.services import notify, reviews, staff
from gazportal.services.audit import Actor, NotAllowed
from gazportal.services.errors import FormErrors, NotFound
from gazportal.services.readings import ReadingSentToReview, submit_reading
from tests.unit.test_auth_kit import make_settings, smtp_server, smtp_to  # noqa: F401
from tests.unit.test_readings import AG, NOW, add, local, make_meter

PW = "Quiet-Harbour-Lamp-71"

pytestmark = pytest.mark.usefixtures("fast_hashing")


def _held(engine, *, language="ru") -> dict:
    """An electricity meter at 4 858 and its customer's 9 999 999, held for review."""
    _, mid = make_meter(engine, digits=7, service="electricity")
    with write_session(engine) as s:
        user = User(login="rev@example.kz", email="rev@example.kz", email_verified=True, password_hash="!",
                    surname="Серикова", name="Айгуль", language=language)
        s.add(user)
        s.flush()
        uid = user.id
    add(engine, mid, 4858, local(2026, 10, 25))
    with pytest.raises(ReadingSentToReview) as e:
        submit_reading(engine, AG, mid, "9999999", now=NOW, user_id=uid)
    who = staff.add_staff(engine, AG, login="op@example.org", password=PW, role="operator", surname="Op", name="Olga",
                          now=NOW)
    return {"meter": mid, "user": uid, "review": e.value.review_id,
            "actor": Actor(user_id=who.id, label=who.login, role=who.role)}


def _readings(engine, mid):
    with read_session(engine) as s:
        return s.exec(select(Reading.value, Reading.source, Reading.review_id, Reading.user_id, Reading.period)
                      .where(Reading.meter_id == mid).order_by(Reading.taken_at, Reading.id)).all()


def _review(engine, rid) -> ReadingReview:
    with read_session(engine) as s:
        return s.get(ReadingReview, rid)


def _audit(engine) -> list[AuditEntry]:
    with read_session(engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action.like("review.%")).order_by(AuditEntry.id)).all())


def test_the_held_tab_lists_open_reviews_with_counts(engine):
    w = _held(engine)
    with read_session(engine) as s:
        q = reviews.queue(s, "held")
    assert q.counts == {"held": 1, "accepted": 0, "rejected": 0}
    [item] = q.items
    assert (item.id, item.value, item.volume, item.limit_volume, item.unit, item.period, item.status) == (
        w["review"], 9999999, 9995141, 10000, "kWh", "2026-11", "open")
    assert item.customer == "Серикова Айгуль" and item.account_number == "1000000001"
    with read_session(engine) as s:
        assert reviews.queue(s, "accepted").items == [] and reviews.queue(s, "nonsense").items == q.items


def test_reject_with_a_reason_books_nothing_is_audited_mailed_and_shown(engine, tmp_path, smtp_server):  # noqa: F811
    box, port = smtp_server
    settings = make_settings(tmp_path, AG, smtp=smtp_to(port))
    w = _held(engine)
    for bad in ("", "  ", "x", "y" * 501, None, 5):
        with pytest.raises(FormErrors) as e:
            reviews.reject(engine, settings, AG, w["actor"], w["review"], bad, now=NOW)
        assert "reason" in e.value.fields
    assert _review(engine, w["review"]).status == "open" and _audit(engine) == []
    d = reviews.reject(engine, settings, AG, w["actor"], w["review"], "The photo shows 5 112, not 9 999 999.",
                       now=NOW + timedelta(hours=1))
    assert (d.status, d.reading_id) == ("rejected", None)
    assert _readings(engine, w["meter"]) == [(4858, "inspector", None, None, "2026-10")]  # nothing booked
    r = _review(engine, w["review"])
    assert (r.status, r.decision_reason, r.decided_by) == ("rejected", "The photo shows 5 112, not 9 999 999.",
                                                           w["actor"].user_id)
    [a] = _audit(engine)
    assert (a.action, a.object_type, a.object_id, json.loads(a.before), json.loads(a.after)["status"], a.reason) == (
        "review.reject", "reading_review", str(w["review"]), {"status": "open"}, "rejected",
        "The photo shows 5 112, not 9 999 999.")
    notify.wait_idle()
    [(rcpt, mail)] = box.messages
    assert rcpt == ["rev@example.kz"] and "не принято" in mail["Subject"]  # in the customer's language (ru)
    body = mail.get_body().get_content()
    assert "The photo shows 5 112, not 9 999 999." in body and "9\u00a0999\u00a0999\u00a0кВт·ч" in body and "ноябрь 2026" in body
    with read_session(engine) as s:
        notice = reviews.notices_for(s, [w["meter"]], now=NOW + timedelta(days=1))[w["meter"]]
    assert (notice.status, notice.reason, notice.value, notice.unit) == (
        "rejected", "The photo shows 5 112, not 9 999 999.", 9999999, "kWh")
    # decided once: neither a second reject nor an accept moves it
    with pytest.raises(reviews.AlreadyDecided):
        reviews.accept(engine, settings, AG, w["actor"], w["review"], now=NOW)
    assert _readings(engine, w["meter"]) == [(4858, "inspector", None, None, "2026-10")]
    assert len(_audit(engine)) == 1


def test_accept_books_a_new_reading_linked_to_the_review(engine, tmp_path, smtp_server):  # noqa: F811
    box, port = smtp_server
    settings = make_settings(tmp_path, AG, smtp=smtp_to(port))
    w = _held(engine, language="kk")
    d = reviews.accept(engine, settings, AG, w["actor"], w["review"], "", now=NOW + timedelta(hours=1))
    assert d.status == "accepted" and d.reading_id is not None
    assert _readings(engine, w["meter"]) == [(4858, "inspector", None, None, "2026-10"),
                                             (9999999, "controller", w["review"], w["user"], "2026-11")]
    [a] = _audit(engine)
    assert a.action == "review.accept" and json.loads(a.after) == {"status": "accepted", "reason": "",
                                                                   "reading": d.reading_id}
    notify.wait_idle()
    [(rcpt, mail)] = box.messages
    assert rcpt == ["rev@example.kz"] and "қабылданды" in mail["Subject"]  # Kazakh
    with read_session(engine) as s:
        assert reviews.queue(s, "accepted").counts == {"held": 0, "accepted": 1, "rejected": 0}
    # it used none of the customer's submissions: a plausible correction of the month is still taken
    assert submit_reading(engine, AG, w["meter"], "9999999", now=NOW + timedelta(hours=2),
                          confirm_zero=True).reading.slot == 1


def test_50_concurrent_accepts_book_one_reading(engine, tmp_path):
    settings = make_settings(tmp_path, AG)
    w = _held(engine)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def one():
        start.wait()
        try:
            reviews.accept(engine, settings, AG, w["actor"], w["review"], "ok", now=NOW)
            r = "booked"
        except reviews.AlreadyDecided:
            r = "decided"
        except Exception as e:  # noqa: BLE001 - counted, the test shows which
            r = repr(e)
        with lock:
            outcomes.append(r)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(outcomes)) == ["booked", "decided"] and outcomes.count("booked") == 1, outcomes
    with read_session(engine) as s:
        assert s.exec(select(func.count()).select_from(Reading).where(Reading.review_id == w["review"])).one() == 1
    assert len(_audit(engine)) == 1


def test_the_database_refuses_a_review_moving_back_and_a_second_booking(engine, tmp_path):
    settings = make_settings(tmp_path, AG)
    w = _held(engine)
    reviews.accept(engine, settings, AG, w["actor"], w["review"], now=NOW)
    with pytest.raises(sa.exc.DBAPIError):
        with write_session(engine) as s:
            s.execute(sa.update(ReadingReview).where(ReadingReview.id == w["review"]).values(status="open"))
    with pytest.raises(sa.exc.IntegrityError):
        with write_session(engine) as s:
            s.add(Reading(meter_id=w["meter"], value=9999999, taken_at=NOW + timedelta(days=1), period="2026-11",
                          source="controller", review_id=w["review"]))
    assert _review(engine, w["review"]).status == "accepted"


def test_only_staff_decide_and_bad_ids_are_not_found(engine, tmp_path):
    settings = make_settings(tmp_path, AG)
    w = _held(engine)
    customer = Actor(user_id=w["user"], label="rev@example.kz", role="customer")
    with pytest.raises(NotAllowed):
        reviews.reject(engine, settings, AG, customer, w["review"], "No reason", now=NOW)
    for bad in (10**9, "x", None, -1, True):
        with pytest.raises(NotFound):
            reviews.accept(engine, settings, AG, w["actor"], bad, now=NOW)
    assert _review(engine, w["review"]).status == "open" and _audit(engine) == []


def _put(engine, meter_id, value, y, m, d, rollovers=0):
    when = local(y, m, d)
    with write_session(engine) as s:
        s.add(Reading(meter_id=meter_id, value=value, taken_at=when, period=f"{y:04d}-{m:02d}", source="inspector",
                      rollovers=rollovers))


def test_the_rollovers_tab_lists_dials_that_passed_zero_in_the_last_periods(engine):
    _, turned = make_meter(engine, digits=5, serial="R1")
    _, long_ago = make_meter(engine, digits=5, serial="R2")
    _, plain = make_meter(engine, digits=5, serial="R3")
    _put(engine, turned, 99000, 2026, 8, 25)
    _put(engine, turned, 99986, 2026, 10, 25)
    _put(engine, turned, 11, 2026, 11, 21, rollovers=1)
    _put(engine, long_ago, 99990, 2026, 4, 25)
    _put(engine, long_ago, 5, 2026, 5, 25, rollovers=1)  # before the last three periods
    _put(engine, long_ago, 40, 2026, 10, 25, rollovers=1)
    _put(engine, plain, 100, 2026, 10, 25)
    _put(engine, plain, 120, 2026, 11, 21)
    with read_session(engine) as s:
        items = reviews.flagged(s, AG, "rollovers", now=NOW)
    assert [(i.serial, i.value, i.previous, i.period) for i in items] == [("R1", 11, 99986, "2026-11")]


def test_the_zero_tab_lists_active_meters_without_use_three_periods_in_a_row(engine):
    _, idle = make_meter(engine, serial="Z1")
    _, used = make_meter(engine, serial="Z2")
    _, gap = make_meter(engine, serial="Z3")
    _, off = make_meter(engine, serial="Z4", active=False)
    for mid in (idle, used, off):
        for month in (7, 8, 9, 10):
            _put(engine, mid, 500 if (mid != used or month < 10) else 501, 2026, month, 25)
    for month in (7, 9, 10):  # no reading in August: not known to be three months of zero use
        _put(engine, gap, 300, 2026, month, 25)
    with read_session(engine) as s:
        items = reviews.flagged(s, AG, "zero", now=NOW)
    assert [(i.serial, i.value, i.period) for i in items] == [("Z1", 500, "2026-10")]


def test_staff_book_a_late_reading_for_a_closed_period_only(engine):
    from datetime import date

    from gazportal.services.readings import ReadingRefused

    _, mid = make_meter(engine, serial="L1")
    _put(engine, mid, 100, 2026, 9, 25)
    _put(engine, mid, 160, 2026, 11, 21)
    who = staff.add_staff(engine, AG, login="op@example.org", password=PW, role="operator", surname="Op",
                          name="Olga", now=NOW)
    actor = Actor(user_id=who.id, label=who.login, role=who.role)
    with pytest.raises(reviews.NotClosed):  # November is the current period: the customer sends it
        reviews.book_late(engine, AG, actor, "1000000001", "L1", "150", date(2026, 11, 2), "Phoned in", now=NOW)
    with pytest.raises(FormErrors):
        reviews.book_late(engine, AG, actor, "1000000001", "L1", "130", date(2026, 10, 24), "", now=NOW)
    with pytest.raises(NotFound):
        reviews.book_late(engine, AG, actor, "1000000001", "NOPE", "130", date(2026, 10, 24), "Phoned in", now=NOW)
    with pytest.raises(ReadingRefused):  # above the later reading (160 on 21 November)
        reviews.book_late(engine, AG, actor, "1000000001", "L1", "170", date(2026, 10, 24), "Phoned in", now=NOW)
    rid = reviews.book_late(engine, AG, actor, "1000000001", "L1", "130", date(2026, 10, 24),
                            "Phoned in on 3 November", now=NOW)
    assert _readings(engine, mid) == [(100, "inspector", None, None, "2026-09"), (130, "controller", None, None, "2026-10"),
                                      (160, "inspector", None, None, "2026-11")]
    with read_session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "reading.late")).one()
        items = reviews.late(s, AG, now=NOW + timedelta(days=20))
    assert entry.object_id == str(rid) and entry.reason == "Phoned in on 3 November"
    assert [(i.reading_id, i.value, i.period) for i in items] == [(rid, 130, "2026-10")]


def test_an_accepted_reading_goes_to_the_billing_export_a_held_one_does_not(engine, tmp_path):
    from gazportal.services.billing_io import iter_readings

    settings = make_settings(tmp_path, AG)
    w = _held(engine)
    with read_session(engine) as s:
        assert list(iter_readings(s, AG, "2026-11")) == []  # held: not billed
    reviews.accept(engine, settings, AG, w["actor"], w["review"], now=NOW + timedelta(hours=1))
    with read_session(engine) as s:
        [row] = list(iter_readings(s, AG, "2026-11"))
    assert (row[4], row[6], row[7]) == (9999999, "controller", None)
    # a later plausible correction by the customer in the month is the one exported
    submit_reading(engine, AG, w["meter"], "9999999", now=NOW + timedelta(hours=2), confirm_zero=True)
    with read_session(engine) as s:
        [row] = list(iter_readings(s, AG, "2026-11"))
    assert (row[4], row[6], row[7]) == (9999999, "customer", 1)
