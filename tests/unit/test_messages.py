"""Customer messages (contact / feedback / support) on the real database (SQLite and PostgreSQL):
validation of every field, foreign and garbage account ids, the hourly limit (also under parallel
sends), and the list of the customer's messages."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import Account, CustomerMessage, User, UserAccountLink
from gazportal.services.errors import FormErrors, NotFound, Notice
from gazportal.services.messages import (
    BODY_MAX, MAX_PER_HOUR, SUBJECT_MAX, TooManyMessages, list_messages, send_message, sent_within,
)
from gazportal.settings import load_utility

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PROFILE = load_utility("default")
BODY = "The meter in the kitchen shows a strange value."


@dataclass
class World:
    alice: int
    bob: int
    mine: int  # alice's account
    foreign: int  # bob's account


@pytest.fixture
def world(engine) -> World:
    with write_session(engine) as s:
        users = []
        for login in ("alice", "bob"):
            u = User(login=login, password_hash="x", surname="S", name=login, kind="person", is_active=True)
            s.add(u)
            s.flush()
            users.append(u.id)
        accs = []
        for number, uid in (("100000001", users[0]), ("100000002", users[1])):
            a = Account(number=number, holder_name="H", address="addr")
            s.add(a)
            s.flush()
            s.add(UserAccountLink(user_id=uid, account_id=a.id))
            accs.append(a.id)
    return World(alice=users[0], bob=users[1], mine=accs[0], foreign=accs[1])


def _count(engine) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(CustomerMessage)).one()


def _send(engine, w, *, user_id="ALICE", kind="contact", subject="Meter question", body=BODY, account_id=None,
          now=NOW):
    uid = w.alice if user_id == "ALICE" else user_id
    return send_message(engine, PROFILE, uid, kind, subject, body, account_id, now=now)


def test_send_and_list(engine, world):
    m1 = _send(engine, world, subject="  First  ", body="\r\n Line one of the text\r\nline two\t \r\n")
    m2 = _send(engine, world, kind="support", subject="Second", account_id=world.mine,
               now=NOW + timedelta(minutes=1))
    with pytest.raises(FormErrors):  # ids are ints (the web layer converts); a string is refused
        _send(engine, world, account_id=str(world.mine))
    m3 = _send(engine, world, kind="feedback", subject="Third", account_id=world.mine,
               now=NOW + timedelta(minutes=2))
    assert (m1.subject, m1.body, m1.status, m1.account_number) == (
        "First", "Line one of the text\nline two", "new", None)
    assert m2.account_number == "100000001" and m3.account_number == "100000001"
    with read_session(engine) as s:
        got = list_messages(s, world.alice)
        assert [m.id for m in got] == [m3.id, m2.id, m1.id]
        assert [m.kind for m in got] == ["feedback", "support", "contact"]
        assert got[0].created_at == NOW + timedelta(minutes=2) and got[0].created_at.tzinfo is not None
        assert list_messages(s, world.bob) == []
        for odd in (None, True, "1", 1.0, -1, 0, 2**70):
            assert list_messages(s, odd) == []
        row = s.get(CustomerMessage, m2.id)
        assert (row.user_id, row.account_id, row.kind, row.status) == (world.alice, world.mine, "support", "new")
        assert sent_within(s, world.alice, now=NOW + timedelta(minutes=2)) == 3


def test_reregistration_requests_are_not_listed(engine, world):
    with write_session(engine) as s:
        s.add(CustomerMessage(user_id=world.alice, kind="reregistration", subject="Rereg", body="x" * 20,
                              created_at=NOW))
    with read_session(engine) as s:
        assert list_messages(s, world.alice) == []


@pytest.mark.parametrize(
    "field,value,key",
    [
        ("kind", "reregistration", "errors.message_kind_invalid"),
        ("kind", "CONTACT", "errors.message_kind_invalid"),
        ("kind", None, "errors.message_kind_invalid"),
        ("kind", ["contact"], "errors.message_kind_invalid"),
        ("subject", "", "errors.field_required"),
        ("subject", "   ", "errors.field_required"),
        ("subject", None, "errors.field_required"),
        ("subject", "ab", "errors.field_too_short"),
        ("subject", "x" * (SUBJECT_MAX + 1), "errors.field_too_long"),
        ("subject", "x" * 10_000_000, "errors.field_too_long"),
        ("subject", "two\nlines", "errors.invalid_characters"),
        ("subject", "bell\x07bell", "errors.invalid_characters"),
        ("subject", "zero\u200bwidth", "errors.invalid_characters"),
        ("subject", 12345, "errors.invalid_input"),
        ("subject", math.nan, "errors.invalid_input"),
        ("subject", {"$gt": ""}, "errors.invalid_input"),
        ("body", "too short", "errors.field_too_short"),
        ("body", "x" * (BODY_MAX + 1), "errors.field_too_long"),
        ("body", "nul\x00byte in the text", "errors.invalid_characters"),
        ("body", "escape \x1b[31m red text", "errors.invalid_characters"),
        ("body", "rtl override \u202e here", "errors.invalid_characters"),
        ("body", b"bytes are not text", "errors.invalid_input"),
        ("body", math.inf, "errors.invalid_input"),
        ("account_id", "FOREIGN", "errors.account_not_found"),
        ("account_id", 999_999, "errors.account_not_found"),
        ("account_id", -1, "errors.account_not_found"),
        ("account_id", True, "errors.account_not_found"),
        ("account_id", 1.0, "errors.account_not_found"),
        ("account_id", math.nan, "errors.account_not_found"),
        ("account_id", 2**70, "errors.account_not_found"),
        ("account_id", "1 OR 1=1", "errors.account_not_found"),
    ],
)
def test_field_errors(engine, world, field, value, key):
    if value == "FOREIGN":
        value = world.foreign
    with pytest.raises(FormErrors) as err:
        _send(engine, world, **{field: value})
    assert err.value.fields[field].key == key
    assert set(err.value.fields) == {field}
    assert _count(engine) == 0


def test_limits_are_inclusive(engine, world):
    m = _send(engine, world, subject="abc", body="x" * 10)
    assert (m.subject, m.body) == ("abc", "x" * 10)
    m = _send(engine, world, subject="s" * SUBJECT_MAX, body="b" * BODY_MAX, now=NOW + timedelta(seconds=1))
    assert len(m.subject) == SUBJECT_MAX and len(m.body) == BODY_MAX
    err = pytest.raises(FormErrors, _send, engine, world, subject="s" * (SUBJECT_MAX + 1)).value
    assert err.fields["subject"] == Notice("errors.field_too_long", {"max": SUBJECT_MAX})


def test_all_fields_wrong_at_once(engine, world):
    with pytest.raises(FormErrors) as err:
        _send(engine, world, kind="spam", subject="", body="short", account_id=world.foreign)
    assert set(err.value.fields) == {"kind", "subject", "body", "account_id"}
    assert _count(engine) == 0


def test_unknown_user(engine, world):
    for uid in (999_999, None, "1", True, -5, 2**70):
        with pytest.raises(NotFound):
            _send(engine, world, user_id=uid)
    assert _count(engine) == 0


def test_rate_limit(engine, world):
    for i in range(MAX_PER_HOUR):
        _send(engine, world, now=NOW + timedelta(minutes=i))
    with pytest.raises(TooManyMessages) as err:
        _send(engine, world, now=NOW + timedelta(minutes=30))
    assert err.value.key == "errors.messages_too_many"
    assert err.value.params == {"max": MAX_PER_HOUR, "minutes": 30}
    assert _count(engine) == MAX_PER_HOUR
    # another customer is not affected
    _send(engine, world, user_id=world.bob, now=NOW + timedelta(minutes=30))
    # an hour after the first one, one more is accepted
    _send(engine, world, now=NOW + timedelta(hours=1, seconds=1))
    with pytest.raises(TooManyMessages):
        _send(engine, world, now=NOW + timedelta(hours=1, seconds=2))
    assert _count(engine) == MAX_PER_HOUR + 2


def test_rate_limit_holds_under_parallel_sends(engine, world):
    start = threading.Barrier(MAX_PER_HOUR + 5)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker():
        start.wait()
        try:
            _send(engine, world)
            result = "ok"
        except TooManyMessages:
            result = "limited"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(MAX_PER_HOUR + 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("ok") == MAX_PER_HOUR
    assert _count(engine) == MAX_PER_HOUR
