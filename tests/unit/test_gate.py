"""The event gate and the handler contract: only declared handlers run, with exactly the
arguments they declare; customer handlers need a valid session read from the connection's cookie
on every event. Driven with crafted events, as an attacker speaking Reflex's protocol would send
them."""
from __future__ import annotations

from urllib.parse import parse_qs

import logging
import math
import secrets
from datetime import timedelta
from typing import Any

import pytest
import reflex as rx
from reflex.state import State, StateUpdate
from reflex_base.event import Event

from gazportal.models._base import utcnow
from gazportal.services import auth
from gazportal.state import contract, gate
from gazportal.state.contract import CUSTOMER, PUBLIC, Ctx, Form, Id, Text, declaration_of, handler
from gazportal.state.gate import EventGate, access_of
from gazportal.state.i18n import I18nState
from gazportal.state.session import SessionState
from gazportal.state.signin import SignInState
from tests.conftest import cookie_for
from tests import conftest

PASSWORD = "Sturdy-Lantern-42"
LOGIN = "anna@example.kz"


class GateProbeState(contract.FormMixin, rx.State):
    """Handlers of every kind, to see what the gate lets through."""

    hits: int = 0
    seen_user: int = 0
    seen_source: list[str] = []

    @rx.event
    @handler(CUSTOMER, n=Id().optional(1))
    def poke(self, ctx: Ctx, n: int):
        self.hits += 1
        self.seen_user = ctx.user_id

    @rx.event
    @handler(PUBLIC)
    def wave(self, ctx: Ctx):
        self.hits += 100
        self.seen_source = [ctx.source.device or "", ctx.source.address]

    @rx.event
    @handler(CUSTOMER, creates=True, form=Form(("text",), prefix="probe"))
    def store(self, ctx: Ctx, form: dict[str, str]):
        self.hits += 1000

    @rx.event
    def undeclared(self):
        self.hits += 10_000


def name(cls, handler_name: str) -> str:
    return f"{cls.get_full_name()}.{handler_name}"


@pytest.fixture(autouse=True)
def _cheap(fast_hashing):
    yield


def make_user(engine) -> int:
    return conftest.make_user(engine, LOGIN, password=PASSWORD)


def sign_in(engine, *, now=None, remember=False) -> str:
    from gazportal.settings import get_settings

    return auth.sign_in(engine, get_settings().utility, LOGIN, PASSWORD, remember=remember, now=now or utcnow()).token


async def run(event_name: Any, payload: Any = None, *, token: str = "", root: State | None = None
              ) -> tuple[StateUpdate | None, State]:
    root = root or State()
    ev = Event(name=event_name, payload={} if payload is None else payload, router_data=cookie_for(token))
    root.router_data = cookie_for(token)
    return await EventGate().preprocess(app=None, state=root, event=ev), root


def redirected_to_signin(update: StateUpdate | None) -> bool:
    """The answer sends the browser to /signin (with the reason its session ended, if it had one)."""
    return update is not None and any(
        e.name == "_redirect" and e.payload["path"].split("?")[0] == "/signin"
        and set(parse_qs(e.payload["path"].partition("?")[2])) <= {"why", "next"}
        for e in update.events)


# --- declarations -------------------------------------------------------------------------------


def _our_states() -> list[type[rx.State]]:
    import gazportal.gazportal  # noqa: F401  (every page and state)

    out, todo = [], list(State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("gazportal."):
            out.append(cls)
    return out


def test_every_handler_of_every_state_is_declared():
    """The only way the gate learns about a handler is its declaration: an undeclared one would be
    a silently dead button, so none may exist (Reflex's own ``setvar`` is refused by design)."""
    states = _our_states()
    assert len(states) >= 12
    missing = [
        f"{cls.__name__}.{h}" for cls in states for h in cls.event_handlers
        if h != "setvar" and declaration_of(cls.event_handlers[h]) is None
    ]
    assert missing == []


def test_declarations_are_checked_when_written():
    with pytest.raises(TypeError):  # the body must take ctx
        handler(PUBLIC)(lambda self: None)
    with pytest.raises(TypeError):  # declared and taken arguments differ
        handler(PUBLIC, a=Text())(lambda self, ctx, b: None)
    with pytest.raises(TypeError):  # a create takes exactly one form
        handler(PUBLIC, creates=True, a=Text())(lambda self, ctx, a: None)
    with pytest.raises(ValueError):
        handler("root")(lambda self, ctx: None)


def test_access_of_knows_public_customer_and_nothing_else():
    assert access_of(name(State, "hydrate")) == PUBLIC
    assert access_of(name(State, "hydrate_and_load")) == PUBLIC
    assert access_of(name(I18nState, "set_language")) == PUBLIC
    assert access_of(name(SignInState, "submit")) == PUBLIC
    assert access_of(name(GateProbeState, "wave")) == PUBLIC
    assert access_of(name(GateProbeState, "poke")) == CUSTOMER
    for bad in [
        name(GateProbeState, "undeclared"),  # nobody declared it
        name(SessionState, "setvar"),  # Reflex's setter
        name(State, "setvar"),
        name(I18nState, "setvar"),
        name(SessionState, "_owner"),
        name(GateProbeState, "nothing"),
        "reflex___state____state.no_such_state.submit",
        "submit", "", ".", "x" * 5000, None, 5, ["a"],
    ]:
        assert access_of(bad) is None, bad


def test_allow_is_only_for_reflex_own_handlers():
    with pytest.raises(ValueError):
        gate.allow(GateProbeState, "no_such_handler")


def test_gate_is_registered_and_installed_at_the_socket():
    from reflex.app import EventNamespace

    from gazportal.gazportal import app
    import rxconfig
    from gazportal.settings import allowed_origins, get_settings

    assert any(isinstance(m, EventGate) for m in app._middlewares)
    assert getattr(EventNamespace.on_event, "_gazportal_gate", False)
    # The public URL first, then its aliases (and the loopback names of a local one):
    # tests/unit/test_web_settings.py.
    assert rxconfig.config.cors_allowed_origins[0] == get_settings().public_url
    assert list(rxconfig.config.cors_allowed_origins) == allowed_origins(get_settings())


# --- preprocess with crafted events -------------------------------------------------------------


async def test_unknown_and_undeclared_handlers_are_dropped(app_db):
    for ev in (name(GateProbeState, "undeclared"), name(SessionState, "setvar"), "reflex___state____state.x.y", ""):
        update, root = await run(ev, {"var_name": "signed_in", "value": True})
        assert update is not None and not redirected_to_signin(update)
        assert (await root.get_state(SessionState)).signed_in is False


async def test_public_handlers_pass(app_db):
    update, _ = await run(name(GateProbeState, "wave"))
    assert update is None
    update, _ = await run(name(I18nState, "set_language"), {"lang": "ru"})
    assert update is None


async def test_customer_handler_without_session_is_dropped_and_sent_to_signin(app_db):
    update, _ = await run(name(GateProbeState, "poke"))
    assert redirected_to_signin(update)


async def test_a_late_event_from_the_sign_in_page_is_dropped_without_another_redirect(app_db):
    """Issue 14 point 10: a debounced check of a form fires after its page went to
    /signin?next=...: dropped, and the sign-in page keeps its way back (no second redirect)."""
    import dataclasses

    from reflex.istate.data import ReflexURL, RouterData

    root = State()
    root.router = dataclasses.replace(RouterData(), url=ReflexURL(
        "https://portal.example/signin?next=%2Fdashboard%3Faccount%3D7&why=timed_out"))
    update, _ = await run(name(GateProbeState, "poke"), root=root)
    assert update is not None and not redirected_to_signin(update) and update.events == []


@pytest.mark.parametrize("forged", ["x" * 43, secrets.token_urlsafe(32), "' OR 1=1 --", "../../"])
async def test_forged_tokens_are_dropped(app_db, forged):
    make_user(app_db)
    update, root = await run(name(GateProbeState, "poke"), token=forged)
    assert redirected_to_signin(update)
    assert (await root.get_state(SessionState)).signed_in is False


async def test_valid_expired_idle_and_revoked_sessions(app_db):
    from gazportal.settings import get_settings

    make_user(app_db)
    st = get_settings()
    good = sign_in(app_db)
    update, root = await run(name(GateProbeState, "poke"), token=good)
    assert update is None  # passes on to the handler
    assert (await root.get_state(SessionState)).signed_in is True

    expired = sign_in(app_db, remember=True, now=utcnow() - timedelta(days=st.session_remember_days, minutes=5))
    idle = sign_in(app_db, now=utcnow() - timedelta(minutes=st.session_idle_minutes + 1))
    revoked = sign_in(app_db)
    auth.sign_out(app_db, revoked, now=utcnow())
    for token in (expired, idle, revoked):
        update, _ = await run(name(GateProbeState, "poke"), token=token)
        assert redirected_to_signin(update), token


async def test_a_session_revoked_between_events_stops_the_next_one(app_db):
    make_user(app_db)
    token = sign_in(app_db)
    assert (await run(name(GateProbeState, "poke"), token=token))[0] is None
    auth.sign_out(app_db, token, now=utcnow())
    assert redirected_to_signin((await run(name(GateProbeState, "poke"), token=token))[0])


async def test_the_session_is_resolved_once_per_event_and_handed_to_the_handler(app_db, monkeypatch):
    uid = make_user(app_db)
    token = sign_in(app_db)
    calls = []
    real = auth.resolve_session
    monkeypatch.setattr(auth, "resolve_session", lambda *a, **k: calls.append(1) or real(*a, **k))
    root = State()
    update, root = await run(name(GateProbeState, "poke"), {"n": "3"}, token=token, root=root)
    assert update is None and len(calls) == 1
    probe = await root.get_state(GateProbeState)
    await probe.poke("3")  # the handler, in the same task: the gate's answer, no second read
    assert probe.seen_user == uid and len(calls) == 1


async def test_the_source_is_the_connections_device_cookie_and_the_guards_address(app_db):
    """ctx.source comes from the connection's headers as the guard left them (web/client.py): the
    device cookie and the client address; nothing in the event's payload can name it."""
    from gazportal.services import throttle

    device = "D" * 43
    data = {"headers": {"cookie": f"gp_device={device}; other=1", "gazportal-client-address": "203.0.113.5"},
            "pathname": "/"}
    root = State()
    root.router_data = data
    ev = Event(name=name(GateProbeState, "wave"), payload={}, router_data=data)
    assert await EventGate().preprocess(app=None, state=root, event=ev) is None
    probe = await root.get_state(GateProbeState)
    await probe.wave()  # in the gate's task: its answer
    expected = throttle.source(device, "203.0.113.5")
    assert probe.seen_source == [expected.device, "203.0.113.5"] and len(expected.device) == 64
    # called directly (no gate), the same from the state's own router data
    other = State()
    other.router_data = data
    probe = await other.get_state(GateProbeState)
    await probe.wave()
    assert probe.seen_source == [expected.device, "203.0.113.5"]
    # no cookie, no address: a source all the same (no device, "")
    update, root = await run(name(GateProbeState, "wave"))
    await (await root.get_state(GateProbeState)).wave()
    assert (await root.get_state(GateProbeState)).seen_source == ["", ""]


# --- arguments ----------------------------------------------------------------------------------

MALFORMED: list[Any] = [
    {"n": math.nan}, {"n": math.inf}, {"n": [1, 2, {"x": -math.inf}]}, {"n": "x" * 100_000},
    {"n": 1, "extra": 2}, {"m": 1}, {"n": {"nested": {"deep": [1]}}}, {"n": None}, {"n": True}, {"n": 1.5},
    ["not", "a", "dict"], "string", 7, None,
]


@pytest.mark.parametrize("payload", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
async def test_arguments_not_as_declared_are_refused_even_with_a_session(app_db, payload, caplog):
    make_user(app_db)
    token = sign_in(app_db)
    with caplog.at_level(logging.WARNING):
        update, root = await run(name(GateProbeState, "poke"), payload if payload is not None else {"n": None},
                                 token=token)
    assert update is not None and not redirected_to_signin(update)
    assert (await root.get_state(GateProbeState)).hits == 0
    assert not any(r.exc_info for r in caplog.records)  # a line, never a traceback


async def test_a_refused_form_says_so_and_lowers_busy(app_db):
    make_user(app_db)
    token = sign_in(app_db)
    root = State()
    probe = await root.get_state(GateProbeState)
    probe.busy = "send"
    update, _ = await run(name(GateProbeState, "store"), {"form": {"text": "hi", "evil": "1"}}, token=token, root=root)
    assert update is not None and probe.hits == 0
    assert probe.busy == "" and probe.error  # "check the form", translated


async def test_handlers_called_directly_check_their_arguments_too(app_db):
    make_user(app_db)
    token = sign_in(app_db)
    from tests.conftest import state_of

    probe = await state_of(GateProbeState, token)
    for bad in ([1, 2], {"x": 1}, "abc", -1, 0, True):
        assert await probe.poke(bad) is None
    await probe.poke(n=5)
    assert probe.hits == 1


async def test_the_gate_never_raises_on_odd_events(app_db):
    root = State()
    for ev in (Event(name=None, payload={}), Event(name=123, payload=None), Event(name="a.b.c", payload={1: 2})):
        assert await EventGate().preprocess(app=None, state=root, event=ev) is not None


# --- a create counts once -----------------------------------------------------------------------


async def test_a_create_runs_once_per_submission_id(app_db):
    from tests.conftest import state_of

    make_user(app_db)
    probe = await state_of(GateProbeState, sign_in(app_db))
    first = probe.submission
    form = {"text": "hi", "submission": first}
    await probe.store(dict(form))
    await probe.store(dict(form))  # a double click: the same form again
    assert probe.hits == 1000 and probe.submission != first
    await probe.store({"text": "hi"})  # no id
    await probe.store({"text": "hi", "submission": "short"})
    assert probe.hits == 1000
    await probe.store({"text": "again", "submission": probe.submission})  # the next real submit
    assert probe.hits == 2000
    # A form sent before the page's state arrived carries "" (the page shows the id once hydrated):
    # taken once on this tab, its repeat is not.
    await probe.store({"text": "early", "submission": ""})
    await probe.store({"text": "early", "submission": ""})
    assert probe.hits == 3000


async def test_a_used_submission_id_is_refused_on_every_other_tab(app_db):
    """A create event replayed on a new tab (the same cookie, another client token) stores nothing:
    the used ids are kept by the database, not by the tab (found by an attacker run)."""
    from tests.conftest import state_of

    make_user(app_db)
    token = sign_in(app_db)
    first = await state_of(GateProbeState, token)
    form = {"text": "hi", "submission": first.submission}
    await first.store(dict(form))
    assert first.hits == 1000
    for _ in range(3):
        other = await state_of(GateProbeState, token)  # a new tab
        await other.store(dict(form))
        assert other.hits == 0
    made_up = {"text": "hi", "submission": "X" * 22}
    tabs = [await state_of(GateProbeState, token) for _ in range(3)]
    for tab in tabs:
        await tab.store(dict(made_up))
    assert sum(tab.hits for tab in tabs) == 1000  # a made-up id too: once, whichever tab is first


def test_a_forms_element_copies_may_be_what_reflex_sends():
    """Reflex adds each element's ref value under its id: a string, a checkbox's bool, None for a
    field the page does not render (the BIN of a person), a list for a group of refs."""
    spec = Form(("login", "bin"), optional=("bin",), prefix="reg")
    ok = {"login": "a", "reg_login": "a", "reg_bin": None, "reg_agreement": True, "reg_kind": ["x", None]}
    assert spec.check(ok) == {"login": "a", "bin": ""}
    for bad in ({"login": "a", "reg_x": {"a": 1}}, {"login": "a", "reg_x": "x" * 5000}, {"login": "a", "other": "1"},
                {"login": "a", "reg_x": [[1]]}, {"login": "a", "reg_x": 1.5}):
        with pytest.raises(contract.BadArguments):
            spec.check(bad)


def test_every_choice_of_every_handler_can_be_checked():
    """A Choice whose values come from a function must be callable without arguments (a method
    picked up by name in a class body would not be)."""
    from gazportal.state.contract import Choice

    for cls in _our_states():
        for h in cls.event_handlers.values():
            decl = declaration_of(h)
            for spec in (decl.args.values() if decl else ()):
                if isinstance(spec, Choice):
                    with pytest.raises(contract.BadArguments):
                        spec.check("\x00 not a choice")


@pytest.mark.parametrize("router_data", [
    {"pathname": {"a": 1}}, {"pathname": ["a"]}, {"pathname": "/", "query": "junk"},
    {"pathname": "/", "query": {"a": {"b": 1}}}, {"pathname": "/", "asPath": 123}, {"headers": {"cookie": 5}},
    {"pathname": "/", "x": {"nested": 1}}, {"pathname": "/" + "a" * 20_000}, "not an object", 5,
])
def test_socket_events_with_router_data_reflex_would_choke_on_are_dropped(router_data):
    """Reflex's processor raises (a traceback in the log) on a dict for a path, a string for a
    query, a number for asPath: such events are dropped at the socket (found by an attacker run)."""
    from gazportal.state.gate import _event_acceptable

    name = f"{I18nState.get_full_name()}.sync_document"
    assert _event_acceptable({"name": name, "payload": {}, "router_data": {"pathname": "/", "query": {"a": ["1"]}}})
    assert not _event_acceptable({"name": name, "payload": {}, "router_data": router_data})


# --- Reflex's own events take only the shape Reflex's frontend sends ----------------------------

_LANG_PREF = f"{I18nState.get_full_name()}.lang_pref_rx_state_"
_ROUTER = {"pathname": "/", "query": {}, "asPath": "/"}


@pytest.mark.parametrize(("handler_name", "payload"), [
    # what the compiled frontend sends (reflex_base/compiler/templates.py initialEvents, state.js)
    ("hydrate_and_load", {}),
    ("hydrate_and_load", {"vars": {_LANG_PREF: "ru"}}),
    ("hydrate_and_load", {"vars": {_LANG_PREF: "ru"}, "hashes": ["d1", "h1", "h2"]}),
    ("hydrate", {}),
    ("set_is_hydrated", {"value": True}),
])
def test_reflex_own_events_as_the_frontend_sends_them_pass(handler_name, payload):
    assert gate._event_acceptable({"name": name(State, handler_name), "payload": payload, "router_data": _ROUTER})
    assert gate.arguments_acceptable(None, payload, name(State, handler_name))


@pytest.mark.parametrize(("handler_name", "payload"), [
    # an attacker's finds: each was a "[Reflex Backend Exception]" traceback or a type warning
    ("hydrate_and_load", {"vars": "x"}),
    ("hydrate_and_load", {"vars": [1, 2]}),
    ("hydrate_and_load", {"vars": {"x": 1}, "hashes": "x"}),
    ("hydrate_and_load", {"hashes": "x"}),
    ("hydrate_and_load", {"hashes": [1, 2]}),
    ("hydrate_and_load", {"bogus": 1}),
    ("hydrate_and_load", {"vars": {_LANG_PREF: {"x": 1}}}),
    ("hydrate_and_load", {"vars": {_LANG_PREF: 5}}),
    # a var that is not browser-stored, or not ours: never set from the client
    ("hydrate_and_load", {"vars": {f"{SessionState.get_full_name()}.signed_in_rx_state_": "true"}}),
    ("hydrate_and_load", {"vars": {f"{I18nState.get_full_name()}.lang_rx_state_": "ru"}}),
    ("hydrate", {"vars": "x"}),
    ("set_is_hydrated", {}),
    ("set_is_hydrated", {"value": "x"}),
    ("set_is_hydrated", {"value": True, "bogus": 1}),
])
def test_reflex_own_events_of_another_shape_are_refused(handler_name, payload):
    ev = {"name": name(State, handler_name), "payload": payload, "router_data": _ROUTER}
    assert not gate._event_acceptable(ev)
    assert not gate._event_acceptable({**ev, "name": name(gate.OnLoadInternalState, "set_is_hydrated")}
                                      if handler_name == "set_is_hydrated" else ev)
    assert not gate.arguments_acceptable(None, payload, name(State, handler_name))


def test_other_reflex_own_events_have_their_shape_too():
    on_load = name(gate.OnLoadInternalState, "on_load_internal")
    assert gate._event_acceptable({"name": on_load, "payload": {}, "router_data": _ROUTER})
    assert not gate._event_acceptable({"name": on_load, "payload": {"bogus": 1}, "router_data": _ROUTER})
    sync = name(gate.UpdateVarsInternalState, "update_vars_internal")
    assert gate._event_acceptable({"name": sync, "payload": {"vars": {_LANG_PREF: "kk"}}, "router_data": _ROUTER})
    for bad in ({}, {"vars": "x"}, {"vars": {"x": 1}}, {"vars": {_LANG_PREF: ["kk"]}}):
        assert not gate._event_acceptable({"name": sync, "payload": bad, "router_data": _ROUTER})
    crash = name(gate.FrontendEventExceptionState, "handle_frontend_exception")
    assert gate._event_acceptable({"name": crash, "payload": {"info": "Error: x", "component_stack": ""}})
    assert not gate._event_acceptable({"name": crash, "payload": {"info": {"a": 1}, "component_stack": ""}})


def test_only_our_browser_stored_str_vars_can_come_from_the_client():
    """Reflex's hydrate applies any client-storage var the client names; ours: I18nState.lang_pref."""
    assert gate._client_storage_vars() == {_LANG_PREF: str}


def test_an_allowed_reflex_handler_needs_a_declared_shape():
    with pytest.raises(ValueError, match="shape"):
        gate.allow(SessionState, "setvar")


async def test_a_malformed_hydrate_is_refused_before_it_runs(app_db):
    update, root = await run(name(State, "hydrate_and_load"), {"vars": "x"})
    assert update is not None
    update, root = await run(name(State, "hydrate_and_load"), {"vars": {_LANG_PREF: {"x": 1}}})
    assert update is not None and (await root.get_state(I18nState)).lang_pref == ""


# --- the socket's JSON ---------------------------------------------------------------------------


async def test_socket_packets_that_are_no_json_or_nest_too_deep_are_refused_quietly(caplog):
    """python-socketio decodes each packet with Reflex's json.loads: a packet that is no JSON
    raised JSONDecodeError, 5,000 nested arrays RecursionError, an unknown packet type a
    ValueError: each a "message async handler error" traceback in the log. Driven through the
    server's own Engine.IO message handler, as a websocket message reaches it."""
    from gazportal.gazportal import app

    caplog.set_level(logging.WARNING, "gazportal.gate")
    gate._quiet.count = 0
    on_message = app.sio.eio.handlers["message"]
    for packet in ("2/_event,not json", "2/_event," + "[" * 5000 + "]" * 5000, "[" * 5000, "9", "x",
                   '0/_event,{"a":' + "[" * 100 + "]" * 100 + "}"):
        caplog.clear()
        assert await on_message("no-such-eio-sid", packet) is None
        assert "dropped a socket packet" in caplog.text, packet[:20]
    # a packet that decodes is handled as before (this one is an event of an unknown session)
    assert app.sio.packet_class(encoded_packet='2/_event,["event",{"a":[1]}]').data == ["event", {"a": [1]}]
    assert gate.json_depth_within('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 3)
    assert not gate.json_depth_within("[[[[]]]]", 3)


def test_the_summary_of_skipped_refusals_names_the_events(caplog):
    caplog.set_level(logging.WARNING, "gazportal.gate")
    quiet = gate._Quiet(most=1)
    for ev in ["a.hydrate_and_load"] * 5 + ["b.poke"] * 2 + [{"x": 1}]:
        quiet.warn("refused %s", ev, name=ev)
    quiet.flush()
    line = caplog.records[-1].getMessage()
    assert "7 more refused events" in line
    assert "a.hydrate_and_load x4" in line and "b.poke x2" in line and "<dict> x1" in line
