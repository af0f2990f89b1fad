"""The event gate (App middleware): only allow-listed handlers run; user-only ones need a valid
session checked against the database on every event. Driven with crafted events, as an attacker
speaking Reflex's protocol would send them."""
from __future__ import annotations

import math
import secrets
from datetime import timedelta
from typing import Any

import pytest
import reflex as rx
from reflex.state import State, StateUpdate
from reflex_base.event import Event

from gazportal.db import write_session
from gazportal.models import User
from gazportal.models._base import utcnow
from gazportal.services import auth, passwords
from gazportal.state import gate
from gazportal.state.gate import PUBLIC, USER, EventGate, access_of, public, user_only
from gazportal.state.i18n import I18nState
from gazportal.state.session import SessionState
from gazportal.state.signin import SignInState

PASSWORD = "Sturdy-Lantern-42"
LOGIN = "anna@example.kz"


class GateProbeState(rx.State):
    """Handlers of every kind, to see what the gate lets through."""

    hits: int = 0

    @rx.event
    @user_only
    def poke(self, n: Any = 1):
        self.hits += 1

    @rx.event
    @public
    def wave(self):
        self.hits += 100

    @rx.event
    def undeclared(self):
        self.hits += 10_000


def name(cls, handler: str) -> str:
    return f"{cls.get_full_name()}.{handler}"


@pytest.fixture(autouse=True)
def _cheap_argon2():
    old = passwords.use_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.use_hasher(old)


def make_user(engine) -> int:
    with write_session(engine) as s:
        u = User(login=LOGIN, email=LOGIN, password_hash=passwords.hash_password(PASSWORD), surname="Иванова",
                 name="Анна", kind="person", is_active=True, email_verified=True, language="en")
        s.add(u)
        s.flush()
        return u.id


def sign_in(engine, *, now=None, remember=False) -> str:
    from gazportal.settings import get_settings

    return auth.sign_in(engine, get_settings().profile, LOGIN, PASSWORD, remember=remember, now=now or utcnow()).token


async def run(event_name: str, payload: Any = None, *, token: str = "") -> tuple[StateUpdate | None, State]:
    root = State()
    (await root.get_state(SessionState)).token = token
    ev = Event(name=event_name, payload={} if payload is None else payload)
    return await EventGate().preprocess(app=None, state=root, event=ev), root


def redirected_to_signin(update: StateUpdate | None) -> bool:
    return update is not None and any(e.name == "_redirect" and e.payload["path"] == "/signin" for e in update.events)


# --- the allow-list ---------------------------------------------------------------------------


def test_access_of_knows_public_user_and_nothing_else():
    assert access_of(name(State, "hydrate")) == PUBLIC
    assert access_of(name(State, "hydrate_and_load")) == PUBLIC
    assert access_of(name(I18nState, "set_language")) == PUBLIC
    assert access_of(name(SignInState, "submit")) == PUBLIC
    assert access_of(name(GateProbeState, "wave")) == PUBLIC
    assert access_of(name(GateProbeState, "poke")) == USER
    for bad in [
        name(GateProbeState, "undeclared"),  # nobody declared it
        name(SessionState, "setvar"),  # Reflex's setter: would let a browser set the cookie var
        name(State, "setvar"),
        name(I18nState, "setvar"),
        name(SessionState, "_user"),
        name(SessionState, "_start"),
        name(GateProbeState, "nothing"),
        "reflex___state____state.no_such_state.submit",
        "submit",
        "",
        ".",
        "x" * 5000,
        None,
        5,
        ["a"],
    ]:
        assert access_of(bad) is None, bad


def test_allow_refuses_unknown_handlers_and_access_levels():
    with pytest.raises(ValueError):
        gate.allow(GateProbeState, "no_such_handler", access=PUBLIC)
    with pytest.raises(ValueError):
        gate.allow(GateProbeState, "wave", access="admin")


def test_gate_is_registered_and_cors_is_the_public_url():
    import rxconfig
    from gazportal.gazportal import app
    from gazportal.settings import allowed_origins, get_settings

    assert any(isinstance(m, EventGate) for m in app._middlewares)
    # The public URL first, then its aliases (and the loopback names of a local one):
    # tests/unit/test_web_settings.py.
    assert rxconfig.config.cors_allowed_origins[0] == get_settings().public_url
    assert list(rxconfig.config.cors_allowed_origins) == allowed_origins(get_settings())


# --- preprocess with crafted events -------------------------------------------------------------


async def test_unknown_and_undeclared_handlers_are_dropped(app_db):
    for ev in (name(GateProbeState, "undeclared"), name(SessionState, "setvar"), "reflex___state____state.x.y", ""):
        update, root = await run(ev, {"var_name": "token", "value": "x" * 43})
        assert update is not None and not redirected_to_signin(update)
        assert (await root.get_state(SessionState)).token == ""


async def test_public_handlers_pass(app_db):
    update, _ = await run(name(GateProbeState, "wave"))
    assert update is None
    update, _ = await run(name(I18nState, "set_language"), {"lang": "ru"})
    assert update is None


async def test_user_only_without_session_is_dropped_and_sent_to_signin(app_db):
    update, _ = await run(name(GateProbeState, "poke"))
    assert redirected_to_signin(update)


@pytest.mark.parametrize("forged", ["x" * 43, secrets.token_urlsafe(32), "' OR 1=1 --", "../../"])
async def test_forged_tokens_are_dropped(app_db, forged):
    make_user(app_db)
    update, root = await run(name(GateProbeState, "poke"), token=forged)
    assert redirected_to_signin(update)
    assert (await root.get_state(SessionState)).token == ""  # the dead cookie is cleared


async def test_valid_expired_idle_and_revoked_sessions(app_db):
    from gazportal.settings import get_settings

    make_user(app_db)
    st = get_settings()
    good = sign_in(app_db)
    update, _ = await run(name(GateProbeState, "poke"), token=good)
    assert update is None  # passes on to the handler

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


@pytest.mark.parametrize(
    "payload",
    [
        {"n": math.nan},
        {"n": math.inf},
        {"n": [1, 2, {"x": -math.inf}]},
        {"n": "x" * 100_000},
        ["not", "a", "dict"],
        "string",
        7,
    ],
    ids=["nan", "inf", "nested-inf", "huge", "list", "str", "int"],
)
async def test_bad_payloads_are_dropped_even_with_a_session(app_db, payload):
    make_user(app_db)
    token = sign_in(app_db)
    update, _ = await run(name(GateProbeState, "poke"), payload, token=token)
    assert update is not None and not redirected_to_signin(update)
    update, _ = await run(name(SignInState, "submit"), payload)
    assert update is not None


async def test_the_gate_never_raises_on_odd_events(app_db):
    root = State()
    for ev in (Event(name=None, payload={}), Event(name=123, payload=None), Event(name="a.b.c", payload={1: 2})):
        assert await EventGate().preprocess(app=None, state=root, event=ev) is not None
