"""The staff console's handlers called as a browser (or an attacker speaking Reflex's protocol)
would call them (issue 16 points 1, 2, 7):

* every staff handler of the app, sent through the event gate and called directly, with a
  customer's session, with none, and with a lower staff role: refused on the server, nothing
  changes (no state var, no row) — 0 customer-callable staff events; staff are refused the
  customer's handlers;
* staff sign in on /signin and land on /staff; customers never do;
* the operator's inbox flow: filters, open, note, reply (a double submit stores one reply; the
  reply goes over a real SMTP server and shows under the customer's "My messages"), status moves;
* the admin's audit page and CSV export.
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from reflex.state import State
from reflex_base.event import Event
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import AuditEntry, CustomerMessage, MessageEvent
from gazportal.services import notify, staff
from gazportal.settings import get_settings
from tests.staff_samples import staff_sample
from gazportal.state.contract import CUSTOMER, STAFF_LEVELS, declaration_of
from gazportal.state.gate import EventGate
from gazportal.state.messages import MessagesState
from gazportal.state.session import SessionState, landing
from gazportal.state.signin import SignInState
from gazportal.state.staff import StaffAuditState, StaffInboxState, StaffMessageState
from tests.conftest import add_user, cookie_for, drain, sign_in_token, state_of
from tests.unit.test_auth_kit import smtp_server  # noqa: F401

PW = "Quiet-Harbour-Lamp-71"
CUSTOMER_PW = "Sturdy-Lantern-42"

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def world(app_db) -> dict:
    utility = get_settings().utility
    now = datetime.now(UTC)
    ids = {}
    for role, login in (("operator", "op@example.org"), ("admin", "admin@example.org")):
        ids[role] = staff.add_staff(app_db, utility, login=login, password=PW, role=role, surname="Staff",
                                    name=role.title(), now=now).id
    with write_session(app_db) as s:
        ids["anna"] = add_user(s, "anna@example.kz", password=CUSTOMER_PW)
        m = CustomerMessage(user_id=ids["anna"], kind="support", subject="Bill missing",
                            body="My bill did not arrive this month.", status="new", created_at=now - timedelta(hours=30))
        s.add(m)
        s.flush()
        ids["msg"] = m.id
        m2 = CustomerMessage(user_id=ids["anna"], kind="feedback", subject="Nice portal",
                             body="The new statistics page is great.", status="new", created_at=now)
        s.add(m2)
        s.flush()
        ids["msg2"] = m2.id
    ids["op_token"] = sign_in_token(app_db, "op@example.org", PW)
    ids["admin_token"] = sign_in_token(app_db, "admin@example.org", PW)
    ids["anna_token"] = sign_in_token(app_db, "anna@example.kz", CUSTOMER_PW)
    return ids


def _rows(engine) -> tuple:
    with read_session(engine) as s:
        return (s.exec(select(func.count()).select_from(AuditEntry)).one(),
                s.exec(select(func.count()).select_from(MessageEvent)).one(),
                tuple(s.exec(select(CustomerMessage.status).order_by(CustomerMessage.id)).all()))


def _staff_handlers() -> list[tuple[type, str, str]]:
    """Every handler of the app declared for a staff role: (state class, name, access)."""
    import gazportal.gazportal  # noqa: F401  (every page and state)

    out, todo = [], list(State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        for name, h in cls.event_handlers.items():
            decl = declaration_of(h)
            if decl is not None and decl.access in STAFF_LEVELS:
                out.append((cls, name, decl.access))
    return sorted(out, key=lambda x: (x[0].get_full_name(), x[1]))


def _payload(cls, name: str, world: dict, submission: str) -> dict:
    """Arguments our staff pages send to each staff handler (valid ones: only the access may refuse)."""
    return staff_sample(cls, name, message_id=str(world["msg"]), submission=submission)


def _snapshot(state) -> dict:
    return {k: getattr(state, k) for k in type(state).base_vars if k not in ("submission",)}


async def test_every_staff_handler_is_refused_to_a_customer_to_no_session_and_to_a_lower_role(world, app_db):
    handlers = _staff_handlers()
    assert {(c.__name__, n) for c, n, _ in handlers} >= {
        ("StaffInboxState", "load"), ("StaffMessageState", "add"), ("StaffMessageState", "move"),
        ("StaffAuditState", "export"), ("StaffReviewState", "decide"), ("StaffReviewState", "pick")}
    before = _rows(app_db)
    callable_by_customer = []
    for cls, name, access in handlers:
        callers = [("customer", world["anna_token"]), ("nobody", "")]
        if access != "operator":
            callers.append(("operator", world["op_token"]))
        for who, token in callers:
            # through the gate, as the socket would deliver it
            root = State()
            root.router_data = cookie_for(token)
            sub = await root.get_state(cls)
            shot = _snapshot(sub)
            ev = Event(name=f"{cls.get_full_name()}.{name}",
                       payload=_payload(cls, name, world, getattr(sub, "submission", "")),
                       router_data=cookie_for(token))
            update = await EventGate().preprocess(app=None, state=root, event=ev)
            if update is None:
                callable_by_customer.append((cls.__name__, name, who))
            elif who == "nobody":
                assert any(e.name == "_redirect" and "/signin" in e.payload["path"] for e in update.events)
            else:
                assert update.events == [], (cls.__name__, name, who)
            assert _snapshot(sub) == shot, (cls.__name__, name, who)
            # called directly (a chained event the gate did not see): the frame refuses as well
            direct = await state_of(cls, token or None, path="/staff")
            shot = _snapshot(direct)
            result = await drain(getattr(direct, name)(**_payload(cls, name, world,
                                                                  getattr(direct, "submission", ""))))
            assert _snapshot(direct) == shot, (cls.__name__, name, who)
            assert all("download" not in repr(r) for r in result)
    assert callable_by_customer == []  # 0 customer-callable staff events
    assert _rows(app_db) == before  # not a row written


def test_a_staff_state_has_no_handler_below_staff():
    """Every handler of a state that has a staff handler is itself declared for staff (the
    attacker called the staff message page's inherited public ``begin``): Reflex's own setters
    aside, nothing on a staff page is PUBLIC or CUSTOMER."""
    from gazportal.state.contract import declared_handlers

    staff_states = {cls for cls, _, _ in _staff_handlers()}
    below = [(cls.__name__, name, decl.access if decl else None)
             for cls in staff_states for name, decl in declared_handlers(cls).items()
             if decl is not None and decl.access not in STAFF_LEVELS]
    assert staff_states and below == []


async def test_staff_are_not_customers(world, app_db):
    """A staff session is refused the customer's handlers (it holds no accounts, sends no messages)
    and the customer's pages send it to the staff console."""
    s = await state_of(MessagesState, world["op_token"], path="/messages")
    await s.load_list()
    assert s.items == [] and s.list_loaded is False
    form = {"kind": "support", "subject": "From staff", "body": "Staff writing as a customer", "account_id": "",
            "submission": s.submission}
    assert await s.send(form) is None
    assert _rows(app_db)[1:] == (0, ("new", "new"))
    session = await state_of(SessionState, world["op_token"], path="/dashboard")
    assert "/staff" in repr(await session.require_user())
    session = await state_of(SessionState, world["anna_token"], path="/staff")
    assert "/accounts" in repr(await session.require_staff())
    session = await state_of(SessionState, None, path="/staff")
    assert "/signin" in repr(await session.require_staff())
    session = await state_of(SessionState, world["op_token"], path="/staff")
    assert await session.require_staff() is None


def test_where_a_sign_in_lands():
    class U:
        def __init__(self, role):
            self.role = role

    op, anna = U("operator"), U("customer")
    assert landing(op, None) == "/staff" and landing(op, "/dashboard") == "/staff"
    assert landing(op, "/staff/message?id=5") == "/staff/message?id=5"
    assert landing(anna, None) == "/accounts" and landing(anna, "/staff") == "/accounts"
    assert landing(anna, "/staff/audit") == "/accounts" and landing(anna, "/statistics") == "/statistics"
    assert landing(anna, "//evil.example") == "/accounts"


async def test_staff_sign_in_on_the_same_page_and_land_on_the_console(world, app_db):
    s = await state_of(SignInState, None, path="/signin")
    out = await drain(s.submit({"login": "op@example.org", "password": PW, "altcha": "", "remember": False}))
    assert s.error == "" and any('"/staff"' in repr(step) for step in out), out


async def test_the_operators_inbox_flow_with_real_smtp(world, app_db, monkeypatch, smtp_server):  # noqa: F811
    box, port = smtp_server
    monkeypatch.setenv("GAZPORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GAZPORTAL_SMTP_PORT", str(port))
    get_settings.cache_clear()

    inbox = await state_of(StaffInboxState, world["op_token"], path="/staff")
    await inbox.load()
    assert [i.id for i in inbox.items] == [str(world["msg"]), str(world["msg2"])]
    assert inbox.breached == 1 and inbox.items[0].breached and not inbox.items[1].breached
    await inbox.set_kind_filter("feedback")
    assert [i.id for i in inbox.items] == [str(world["msg2"])]
    await inbox.set_kind_filter("")
    await inbox.set_status_filter("closed")
    assert inbox.items == [] and inbox.breached == 1

    from reflex.istate.data import RouterData

    page = await state_of(StaffMessageState, world["op_token"], path="/staff/message")
    page.router = RouterData.from_router_data({"pathname": "/staff/message", "query": {"id": str(world["msg"])},
                                               "asPath": f"/staff/message?id={world['msg']}", "headers": {}})
    await page.load()
    assert page.found and page.subject == "Bill missing" and page.status == "new" and page.breached
    assert [o.id for o in page.moves] == ["in_progress", "closed"]
    await page.move(world["msg"], "in_progress")
    assert page.found and page.status == "in_progress" and page.customer_login == "anna@example.kz"
    assert [o.id for o in page.moves] == ["answered", "closed"]

    note = {"message_id": str(world["msg"]), "kind": "note", "body": "Checked the mail log.",
            "submission": page.submission}
    await page.add(note)
    reply = {"message_id": str(world["msg"]), "kind": "reply", "body": "We sent the bill again today.",
             "submission": page.submission}
    await page.add(reply)
    await page.add(reply)  # a double submit: the same submission id
    assert page.error == "" and [e.kind for e in page.events] == ["note", "reply"]
    assert page.status == "answered"
    assert [(o.id, o.name) for o in page.moves] == [("closed", "closed"), ("in_progress", "reopen")]
    assert page.done == "reply_saved"
    notify.wait_idle()
    assert len(box.messages) == 1 and box.messages[0][0] == ["anna@example.kz"]
    assert "We sent the bill again today." in box.messages[0][1].get_body().get_content()

    mine = await state_of(MessagesState, world["anna_token"], path="/messages")
    await mine.load_list()
    answered = next(m for m in mine.items if m.id == str(world["msg"]))
    assert [r.body for r in answered.replies] == ["We sent the bill again today."]  # not the note
    assert answered.status == "answered"

    await page.add({"message_id": str(world["msg"]), "kind": "reply", "body": " ", "submission": page.submission})
    assert "body" in page.errors and len(page.events) == 2  # refused, said on the field
    await page.move(world["msg"], "new")  # not a move the inbox allows
    assert page.error != "" and page.status == "answered"
    with read_session(app_db) as s:
        actions = s.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-3:] == ["message.status", "message.note", "message.reply"]


async def test_the_admins_audit_page_and_export(world, app_db):
    a = await state_of(StaffAuditState, world["admin_token"], path="/staff/audit")
    await a.load()
    assert a.loaded and a.pages == 1 and [r.action for r in a.rows] == ["staff.add", "staff.add"]
    assert a.rows[0].object.startswith("user #")
    out = await drain(a.export())
    assert len(out) == 1 and "download" in repr(out[0])
    from gazportal.services import audit

    with read_session(app_db) as s:
        text = io.StringIO()
        audit.export_csv(s, text)
    assert list(csv.reader(io.StringIO(text.getvalue())))[0] == list(audit.CSV_COLUMNS)
    # an operator does not get the log
    o = await state_of(StaffAuditState, world["op_token"], path="/staff/audit")
    await o.load()
    assert o.rows == [] and not o.loaded
    assert await drain(o.export()) == []


def test_customer_handlers_stay_customer_only():
    """No handler changed access by accident: the customer pages' handlers are still CUSTOMER."""
    from gazportal.state.contract import declared_handlers

    assert declared_handlers(MessagesState)["send"].access == CUSTOMER
    assert declared_handlers(StaffMessageState)["add"].creates
