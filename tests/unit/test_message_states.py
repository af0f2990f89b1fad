"""The contacts / messages state called directly, as a browser (or an attacker speaking Reflex's
protocol) would call it, on a real SQLite database: no session -> refused; wrong types, huge
values, NaN and extra fields -> nothing happens; a foreign account id -> the same field error as a
missing one; a valid message -> exactly one row, shown in "my messages"."""
from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import Account, CustomerMessage, User, UserAccountLink
from gazportal.services import auth, i18n, passwords
from gazportal.services.messages import BODY_MAX
from gazportal.state.messages import RAW_LIMITS, MessagesState
from gazportal.state.views import AccountOption
from tests.conftest import sign_in_token, state_of

PASSWORD = "Sturdy-Lantern-42"
GOOD = {"kind": "support", "subject": "Chart does not load", "body": "The statistics page stays empty.",
        "account_id": ""}


CHECK_FORM = i18n.t("errors.form_invalid", "en")


pytestmark = pytest.mark.usefixtures("fast_hashing")  # cheap argon2 (tests/conftest.py)


@pytest.fixture
def world(app_db) -> dict:
    with write_session(app_db) as s:
        ids = {}
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
            ids[f"{owner}_acc"] = a.id
    return ids


def _token(engine, login) -> str:
    return sign_in_token(engine, login, PASSWORD)


async def _state(token=""):
    return await state_of(MessagesState, token or None, path="/support")


def _sub(s, form: dict) -> dict:
    """The message form as the page sends it: with the state's current submission id."""
    return {**form, "submission": s.submission}


def _rows(engine) -> list[tuple]:
    with read_session(engine) as s:
        return [(m.user_id, m.account_id, m.kind, m.subject, m.body, m.status)
                for m in s.exec(select(CustomerMessage).order_by(CustomerMessage.id)).all()]


def _is_signin_redirect(result) -> bool:
    return result is not None and "/signin" in repr(result)


@pytest.mark.parametrize("token", ["", "not-a-token", "A" * 43])
async def test_refused_without_a_session(world, app_db, token):
    s = await _state(token)
    assert _is_signin_redirect(await s.send(_sub(s, dict(GOOD))))
    assert _is_signin_redirect(await s.load_list())
    assert s.items == []
    # the contacts page itself is public: a guest sees the contacts and no form
    s = await _state(token)
    assert await s.load_contacts("feedback") is None
    assert (s.loaded, s.signed_in, s.accounts, s.kind) == (True, False, [], "feedback")
    assert _rows(app_db) == []


async def test_a_revoked_session_is_refused(world, app_db):
    token = _token(app_db, "alice@example.kz")
    auth.sign_out(app_db, token, now=datetime.now(UTC))
    s = await _state(token)
    assert _is_signin_redirect(await s.send(_sub(s, dict(GOOD))))
    assert _rows(app_db) == []


async def test_success_stores_exactly_one_message_and_lists_it(world, app_db):
    token = _token(app_db, "alice@example.kz")
    s = await _state(token)
    await s.load_contacts("contact")
    assert s.signed_in and s.accounts == [AccountOption(str(world["alice_acc"]), "100000001")]
    key = s.form_key
    result = await s.send(_sub(s, dict(GOOD, account_id=str(world["alice_acc"]))))
    assert "toast" in repr(result).lower()
    assert s.errors == {} and s.error == "" and "Chart does not load" in s.notice and s.form_key == key + 1
    assert s.sent_subject == "Chart does not load"
    assert _rows(app_db) == [(world["alice"], world["alice_acc"], "support", "Chart does not load",
                              "The statistics page stays empty.", "new")]
    await s.load_list()
    assert len(s.items) == 1
    item = s.items[0]
    assert (item.subject, item.status, item.kind, item.account) == (
        "Chart does not load", "new", "support", "100000001")
    assert item.status_text == "New" and item.kind_text == "Technical support"
    # the date in each of the profile's languages (the page shows the current one without a reload)
    from gazportal.settings import get_settings

    langs = get_settings().utility.languages
    assert set(item.dates) == set(langs)
    assert len({item.dates[lg] for lg in langs}) > 1 and item.date_iso.endswith("+00:00")
    # bob sees none of it
    b = await _state(_token(app_db, "bob@example.kz"))
    await b.load_list()
    assert b.items == []


async def test_reflex_input_id_copies_are_accepted(world, app_db):
    s = await _state(_token(app_db, "alice@example.kz"))
    await s.send(_sub(s, dict(GOOD, msg_subject=GOOD["subject"], msg_body=GOOD["body"], msg_account_id="")))
    assert len(_rows(app_db)) == 1


async def test_foreign_account_refused_as_a_field_error(world, app_db):
    s = await _state(_token(app_db, "alice@example.kz"))
    for n, foreign in enumerate((str(world["bob_acc"]), "999999"), start=1):
        result = await s.send(_sub(s, dict(GOOD, account_id=foreign)))
        # once, in the form (its error summary takes the focus: issue 14 points 8 and 16), no toast
        assert result is None and s.refusals == n
        assert s.errors == {"account_id": "Account not found."}
    assert _rows(app_db) == []


async def test_field_errors_are_shown_inline(world, app_db):
    s = await _state(_token(app_db, "alice@example.kz"))
    await s.send(_sub(s, {"kind": "spam", "subject": "x", "body": "short", "account_id": ""}))
    assert set(s.errors) == {"kind", "subject", "body"}
    assert s.errors["subject"] == "Use at least 3 characters."
    await s.send(_sub(s, dict(GOOD, body="b" * (BODY_MAX + 1))))
    assert set(s.errors) == {"body"} and s.errors["body"].startswith("Use at most")
    assert _rows(app_db) == []


ODD_FORMS = [
    None, "form", 1, math.nan, [GOOD], {},
    {k: v for k, v in GOOD.items() if k != "body"},  # a field missing
    dict(GOOD, extra="x"),  # a field too many
    dict(GOOD, subject=None), dict(GOOD, subject=12), dict(GOOD, subject=math.nan), dict(GOOD, body=["x"]),
    dict(GOOD, body={"$gt": ""}), dict(GOOD, body="x" * 1_000_000), dict(GOOD, subject="s" * 100_000),
    dict(GOOD, account_id=1.5), dict(GOOD, account_id=math.inf), dict(GOOD, account_id="1e3"),
    dict(GOOD, account_id="-1"), dict(GOOD, account_id="9" * 40), dict(GOOD, account_id=True),
    dict(GOOD, msg_subject=123), dict(GOOD, kind="x" * 1000),
]


@pytest.mark.parametrize("form", ODD_FORMS, ids=range(len(ODD_FORMS)))
async def test_garbage_is_dropped(world, app_db, form):
    s = await _state(_token(app_db, "alice@example.kz"))
    if isinstance(form, dict):
        form = _sub(s, form)  # only the junk is wrong
    assert await s.send(form) is None
    assert s.notice == "" and s.errors == {} and s.error == CHECK_FORM
    assert _rows(app_db) == []


@pytest.mark.parametrize("value", [None, 5, math.nan, ["support"], "reregistration", "x" * 10_000])
async def test_kind_and_counters_ignore_odd_values(world, app_db, value):
    s = await _state("")
    await s.set_kind(value)
    await s.count_subject(value)
    await s.count_body(value)
    assert s.kind == "contact"
    # a counter counts a string the form could hold, nothing else
    fits = isinstance(value, str)
    assert s.subject_len == (len(value) if fits and len(value) <= RAW_LIMITS["subject"] else 0)
    assert s.body_len == (len(value) if fits and len(value) <= RAW_LIMITS["body"] else 0)
    await s.set_kind("feedback")
    assert s.kind == "feedback"


async def test_rate_limit_is_a_clear_message(world, app_db):
    from gazportal.services.messages import MAX_PER_HOUR

    s = await _state(_token(app_db, "alice@example.kz"))
    for _ in range(MAX_PER_HOUR):
        await s.send(_sub(s, dict(GOOD)))
        assert s.error == ""
    result = await s.send(_sub(s, dict(GOOD)))
    assert result is None and s.refusals == 1  # said once, in the form's error summary
    assert s.error.startswith(f"You can send at most {MAX_PER_HOUR} messages an hour")
    with read_session(app_db) as db:
        assert db.exec(select(func.count()).select_from(CustomerMessage)).one() == MAX_PER_HOUR


def test_dates_in_the_profile_time_zone_and_language(app_db):
    from gazportal.state.messages import format_when

    moment = datetime(2026, 3, 12, 9, 5, tzinfo=UTC)  # 14:05 in Almaty (default profile, UTC+5)
    assert format_when(moment, "en") == "12 Mar 2026, 14:05"
    assert format_when(moment, "ru").startswith("12 мар. 2026") and format_when(moment, "ru").endswith("14:05")


async def test_the_message_form_is_busy_while_it_is_sent(world, app_db):
    """"Please wait" on Send: raised by ``begin("send")`` only, lowered by ``send`` however it ends."""
    s = await _state(_token(app_db, "alice@example.kz"))
    await s.load_contacts("contact")
    await s.begin("apply")
    assert s.busy == ""
    for form in (dict(GOOD), dict(GOOD, subject=""), "junk"):
        await s.begin("send")
        assert s.busy == "send"
        await s.send(_sub(s, form) if isinstance(form, dict) else form)
        assert s.busy == "", form


async def test_the_same_form_sent_twice_sends_one_message(world, app_db):
    """A double click / a replayed event: the submission id is used once; the repeat does nothing."""
    s = await _state(_token(app_db, "alice@example.kz"))
    await s.load_contacts("support")
    form = _sub(s, GOOD)
    await s.send(dict(form))
    after = (s.notice, s.error, s.errors, s.sent_subject, s.form_key, s.submission)
    assert after[-1] != form["submission"] and s.notice
    assert await s.send(dict(form)) is None
    assert (s.notice, s.error, s.errors, s.sent_subject, s.form_key, s.submission) == after
    assert len(_rows(app_db)) == 1
    await s.send(_sub(s, GOOD))  # the next form (with the fresh id) is a new message
    assert len(_rows(app_db)) == 2


@pytest.mark.parametrize("submission", ["x" * 15, "stale-id", None, 7])
async def test_a_wrong_or_missing_submission_id_sends_nothing(world, app_db, submission):
    s = await _state(_token(app_db, "alice@example.kz"))
    form = dict(GOOD)
    if submission is not None:
        form["submission"] = submission
    current = s.submission
    assert await s.send(form) is None
    assert _rows(app_db) == [] and s.notice == "" and s.submission == current
