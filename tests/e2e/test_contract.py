"""The handler contract and identity, through the real server's socket (python-socketio speaking
Reflex's protocol, as an attacker's script would):

* every declared handler sent malformed events (extra, missing and wrong-typed keys, huge, NaN,
  nested), plus events naming no handler and events that are not objects: the server keeps
  answering and writes **no traceback** to its log;
* a tab's client token without the session cookie gets none of the signed-in user's data.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import math
import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.helpers import PASSWORD
from tests.e2e.socket_client import Tab, deltas, sign_in

MALFORMED = [
    {"extra_key": 1},
    {"form": {"a": 1}, "extra": "x"},
    {"value": None},
    {"value": math.nan},
    {"value": [math.inf]},
    {"value": "x" * 70_000},
    {"value": {"nested": {"deeper": {"deepest": [1, 2, {"x": True}]}}}},
    {"form": "not a form"},
    {"form": {"login": ["a"], "password": {"$ne": ""}}},
    {"form": {"__reflex_form_data__": [["a"]]}},
    {"account_id": 10**30},
    {"account_id": -1},
    {"meter_id": "1e3", "raw": 5},
    {"files": "not files"},
    {"lang": {"x": 1}},
]

# Payloads for Reflex's own events (hydrate_and_load, ...) that its frontend never sends: each was a
# "[Reflex Backend Exception]" traceback or a type warning before the gate knew their shape.
REFLEX_OWN_MALFORMED = [
    {"vars": "x"},
    {"vars": [1, 2]},
    {"vars": {"x": 1}, "hashes": "x"},
    {"bogus": 1},
    {"vars": {"reflex___state____state.gazportal___state___i18n___i18n_state.lang_pref_rx_state_": {"a": 1}}},
    {"value": "x"},
]


def _handlers() -> list[str]:
    """Every declared handler of the app, by its full event name."""
    from reflex.state import State

    import gazportal.gazportal  # noqa: F401
    from gazportal.state.contract import declaration_of

    out, todo = [], list(State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        for name, h in cls.event_handlers.items():
            if declaration_of(h) is not None:
                out.append(f"{cls.get_full_name()}.{name}")
    return sorted(out)


def _tracebacks(text: str) -> int:
    return text.count("Traceback (most recent call last)")


def _user(portal) -> str:
    """A confirmed customer with one account, for the signed-in half of the run."""
    from sqlmodel import select

    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, User, UserAccountLink
    from gazportal.services.passwords import hash_password
    from gazportal.settings import load_utility

    utility = load_utility(portal.utility_id)
    engine = make_engine(portal.db_url)
    stamp = uuid.uuid4().hex[:8]
    try:
        with write_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            logins = set(s.exec(select(User.login)).all())  # an account number can be a login too
            account = next(a for a in s.exec(select(Account).order_by(Account.id)).all()
                           if a.id not in taken and a.number not in logins)
            login = (f"contract{stamp}@example.org" if utility.login_identifier == "email"
                     else account.number if utility.login_identifier == "account"
                     else "+38050" + str(int(stamp, 16))[:7])
            u = User(login=login, email=login if "@" in login else None, phone=login if login.startswith("+") else None,
                     password_hash=hash_password(PASSWORD), surname="Тест", name="Контракт", is_active=True,
                     email_verified="@" in login, phone_verified="@" not in login,
                     language=utility.default_language, created_at=datetime.now(UTC) - timedelta(days=1))
            s.add(u)
            s.flush()
            s.add(UserAccountLink(user_id=u.id, account_id=account.id))
            return login, account.number
    finally:
        engine.dispose()


def _run(coro):
    # Playwright's sync API may keep an event loop in this thread: the client runs in its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro)).result(timeout=600)


def test_malformed_events_for_every_handler_leave_no_traceback(portal):
    handlers = _handlers()
    assert len(handlers) >= 50
    login, _ = _user(portal)
    before = portal.log.read_text(errors="replace")

    async def attack() -> int:
        cookie = await sign_in(portal.url, login, PASSWORD)
        sent = 0
        for cookie_header in ("", cookie):  # as a stranger and as a signed-in customer
            tab = Tab(portal.url, cookie=cookie_header, path="/accounts")
            await tab.connect()
            try:
                for name in handlers:
                    for payload in MALFORMED:
                        await tab.emit(name, payload)
                        sent += 1
                    await tab.settle()  # everything so far answered or dropped
                for junk in ([1, 2], "a string", 5, None, {"name": 5}, {"name": "a.b.c", "payload": {}},
                             {"name": handlers[0], "payload": []}, {"name": handlers[0], "payload": {}, "router_data": 5},
                             {"name": "x" * 5000, "payload": {}},
                             # router data Reflex's processor would choke on (an attacker's find)
                             {"name": handlers[0], "payload": {}, "router_data": {"pathname": {"a": 1}}},
                             {"name": handlers[0], "payload": {}, "router_data": {"pathname": "/", "query": "junk"}},
                             {"name": handlers[0], "payload": {}, "router_data": {"pathname": "/", "asPath": 123}}):
                    await tab.emit_raw(junk)
                    sent += 1
                # Reflex's own events with payloads of another shape than its frontend sends
                for hname in ("hydrate_and_load", "hydrate", "set_is_hydrated"):
                    for payload in REFLEX_OWN_MALFORMED:
                        await tab.emit(f"reflex___state____state.{hname}", payload)
                        sent += 1
                for payload in REFLEX_OWN_MALFORMED:
                    await tab.emit("reflex___state____on_load_internal_state.on_load_internal", payload)
                    sent += 1
                # socket packets that are no JSON, or nest too deep for Python's decoder
                for packet in ("2/_event,not json", "2/_event," + "[" * 5000 + "]" * 5000,
                               '2/_event,["event",' + "{\"a\":" * 3000 + "1" + "}" * 3000 + "]"):
                    await tab.send_packet(packet)
                    sent += 1
                await tab.settle()  # the positive control: the server still answers this tab
            finally:
                await tab.close()
            # the malformed hydrate in the connect packet (``40/_event,{"event":...}``)
            for payload in REFLEX_OWN_MALFORMED:
                tab = Tab(portal.url, cookie=cookie_header, path="/accounts")
                await tab.connect(boot_payload=payload)
                try:
                    await tab.settle()  # the connection is still served
                    sent += 1
                finally:
                    await tab.close()
        return sent

    sent = _run(attack())
    assert sent >= 2 * len(handlers) * len(MALFORMED)
    after = portal.log.read_text(errors="replace")[len(before):]
    assert _tracebacks(after) == 0, after[-4000:]
    assert "Reflex Backend Exception" not in after and "handler error" not in after, after[-4000:]
    assert "to receive type" not in after, after[-4000:]  # no type warning from a forged var


def test_a_client_token_without_the_cookie_gets_no_ones_data(portal):
    from gazportal.state.accounts import AccountsState

    login, number = _user(portal)
    load = f"{AccountsState.get_full_name()}.load"

    async def run() -> tuple[dict, dict, dict]:
        cookie = await sign_in(portal.url, login, PASSWORD)
        owner = Tab(portal.url, cookie=cookie, path="/accounts")
        await owner.connect()
        try:
            seen = deltas(await owner.send(load, {}))  # the positive control: the owner sees it
        finally:
            await owner.close()
        stranger = Tab(portal.url, token=owner.token, path="/accounts")  # the same token, no cookie
        hydrated = deltas(await stranger.connect())
        try:
            loaded = deltas(await stranger.send(load, {}))
        finally:
            await stranger.close()
        return seen, hydrated, loaded

    seen, hydrated, loaded = _run(run())
    assert number in str(seen)
    assert number not in str(hydrated) and number not in str(loaded)


def _staff_samples() -> dict[str, dict]:
    """Every staff handler of the app (declared for a staff role) with arguments its page sends."""
    from reflex.state import State

    import gazportal.gazportal  # noqa: F401
    from gazportal.state.contract import STAFF_LEVELS, declaration_of
    from tests.staff_samples import staff_sample

    out, todo = {}, list(State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        for name, h in cls.event_handlers.items():
            decl = declaration_of(h)
            if decl is not None and decl.access in STAFF_LEVELS:
                out[f"{cls.get_full_name()}.{name}"] = staff_sample(cls, name)
    return out


def test_no_staff_event_is_customer_callable(portal):
    """Issue 16 point 1, over the real socket: every staff handler sent well-formed events with a
    customer's cookie and with none answers nothing (no delta of a staff state, no row written);
    the positive control — the same events from an operator — are answered."""
    from sqlmodel import func, select

    from gazportal.db import make_engine, read_session, write_session
    from gazportal.models import AuditEntry, CustomerMessage, MessageEvent, User
    from gazportal.services import staff
    from gazportal.settings import load_utility

    utility = load_utility(portal.utility_id)
    login, _ = _user(portal)
    engine = make_engine(portal.db_url)
    stamp = uuid.uuid4().hex[:8]
    op_login = (f"op{stamp}@example.org" if utility.login_identifier == "email"
                else "+38050" + str(int(stamp, 16))[:7] if utility.login_identifier == "phone"
                else "9" * (len(utility.account_number_example) - 1) + "8")
    staff.add_staff(engine, utility, login=op_login, password=PASSWORD, role="operator", surname="Op", name="Era",
                    now=datetime.now(UTC))
    with write_session(engine) as s:
        uid = s.exec(select(User.id).where(User.login == login)).one()
        s.add(CustomerMessage(user_id=uid, kind="support", subject="Probe", body="A probe message text."))

    def counts():
        with read_session(engine) as s:
            return (s.exec(select(func.count()).select_from(AuditEntry)).one(),
                    s.exec(select(func.count()).select_from(MessageEvent)).one(),
                    tuple(s.exec(select(CustomerMessage.status)).all()))

    samples = _staff_samples()
    assert len(samples) >= 7
    staff_states = {name.rpartition(".")[0] for name in samples}
    before = counts()

    async def attack() -> tuple[list[str], dict]:
        answered = []
        for cookie in ("", await sign_in(portal.url, login, PASSWORD)):
            tab = Tab(portal.url, cookie=cookie, path="/staff")
            await tab.connect()
            try:
                for name, payload in samples.items():
                    got = deltas(await tab.send(name, payload))
                    if any(k.rpartition(".")[0] in staff_states for k in got):
                        answered.append(name)
            finally:
                await tab.close()
        operator = Tab(portal.url, cookie=await sign_in(portal.url, op_login, PASSWORD), path="/staff")
        await operator.connect()
        try:
            control = deltas(await operator.send(next(n for n in samples if n.endswith("StaffInboxState.load")
                                                      or n.endswith("staff_inbox_state.load")), {}))
        finally:
            await operator.close()
        return answered, control

    answered, control = _run(attack())
    assert answered == []  # 0 customer-callable staff events
    assert counts() == before
    assert any(".loaded" in k and v is True for k, v in control.items()), control
    engine.dispose()
