"""The event gate: an App middleware that decides, before any handler runs, whether it may run.

Every public method of every Reflex State can be called by any client with any arguments, and
Reflex adds a ``setvar`` handler to every state (it would let a browser set any var). So the
gate turns this around: a handler runs only if it is on the allow-list.

* ``public``  - anyone may call it (language switch, sign-in, registration, confirmation,
  recovery, the captcha challenge, page loads of public pages).
* ``user``    - only with a valid session: the gate resolves the session cookie through
  ``auth.resolve_session`` (hash, revoked, idle and absolute timeouts) on every such event.
  Without one the event is dropped, the stale cookie is cleared and the browser is sent to
  /signin. The handler itself then asks ``SessionState._user()`` for the user: the user id
  never comes from the browser.
* anything else (unknown names, ``setvar``, helpers, handlers nobody declared) is dropped.

Declaring handlers, in the state's own file::

    from gazportal.state.gate import public, user_only

    class AccountsState(rx.State):
        @rx.event
        @user_only
        async def unlink(self, account_id: Any): ...

or, for a class you cannot decorate, in one call::

    gate.allow(SomeState, "handler_a", "handler_b", access=gate.USER)

Reflex's own plumbing (hydration, on_load, client storage sync, frontend error reports) is
allowed by name below.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import (
    BaseState,
    FrontendEventExceptionState,
    OnLoadInternalState,
    State,
    StateUpdate,
    UpdateVarsInternalState,
)
from reflex_base.event import Event

from gazportal.state.i18n import I18nState
from gazportal.state.session import SIGNIN_ROUTE, NotSignedIn, SessionState

log = logging.getLogger("gazportal.gate")

PUBLIC = "public"
USER = "user"
_MARK = "_gazportal_access"
MAX_PAYLOAD_CHARS = 64_000  # a form of ours is a few hundred characters

F = TypeVar("F", bound=Callable[..., Any])

# (state class, handler name) -> access, for handlers declared with allow().
_explicit: dict[tuple[type, str], str] = {}


def public(fn: F) -> F:
    """Mark an event handler as callable by anyone."""
    setattr(fn, _MARK, PUBLIC)
    return fn


def user_only(fn: F) -> F:
    """Mark an event handler as callable only with a valid session."""
    setattr(fn, _MARK, USER)
    return fn


def allow(state_cls: type[BaseState], *names: str, access: str) -> None:
    """Declare handlers of ``state_cls`` public or user-only (for classes you cannot decorate)."""
    if access not in (PUBLIC, USER):
        raise ValueError(f"access must be {PUBLIC!r} or {USER!r}")
    for name in names:
        if name not in state_cls.event_handlers:
            raise ValueError(f"{state_cls.__name__} has no event handler {name!r}")
        _explicit[(state_cls, name)] = access


# Reflex's own events that a page needs.
allow(State, "hydrate", "hydrate_and_load", "set_is_hydrated", access=PUBLIC)
allow(OnLoadInternalState, "on_load_internal", "set_is_hydrated", access=PUBLIC)
allow(UpdateVarsInternalState, "update_vars_internal", access=PUBLIC)
allow(FrontendEventExceptionState, "handle_frontend_exception", access=PUBLIC)
allow(I18nState, "set_language", "remember_language", "sync_document", access=PUBLIC)
allow(SessionState, "load_public", "load_guest", "sign_out", "require_user", access=PUBLIC)


def access_of(event_name: Any) -> str | None:
    """PUBLIC, USER or None (not allowed) for a full event name ``<state path>.<handler>``."""
    if not isinstance(event_name, str) or len(event_name) > 1000:
        return None
    state_name, _, handler_name = event_name.rpartition(".")
    if not state_name or handler_name.startswith("_"):
        return None
    try:
        cls = State.get_class_substate(state_name)
    except Exception:
        return None
    handler = cls.event_handlers.get(handler_name)
    if handler is None:
        return None
    for klass in cls.__mro__:
        if (klass, handler_name) in _explicit:
            return _explicit[(klass, handler_name)]
    mark = getattr(handler.fn, _MARK, None)
    return mark if mark in (PUBLIC, USER) else None


def _has_bad_number(value: Any, depth: int = 0) -> bool:
    if depth > 20:
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_bad_number(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_bad_number(v, depth + 1) for v in value)
    return False


def payload_acceptable(payload: Any) -> bool:
    """A payload must be a small JSON object without NaN or infinities (handlers validate the
    rest of it themselves)."""
    if not isinstance(payload, dict):
        return False
    try:
        size = len(json.dumps(payload, allow_nan=True, default=str))
    except (TypeError, ValueError, RecursionError):
        return False
    return size <= MAX_PAYLOAD_CHARS and not _has_bad_number(payload)



class EventGate(Middleware):
    """Runs before every event; returning an update (even an empty one) stops the event."""

    async def preprocess(self, app: Any, state: BaseState, event: Event) -> StateUpdate | None:
        name = getattr(event, "name", None)
        access = access_of(name)
        if access is None:
            log.warning("gate: dropped a call of %.200r (not on the allow-list)", name)
            return StateUpdate()
        if not payload_acceptable(getattr(event, "payload", None)):
            log.warning("gate: dropped a call of %s (payload refused)", name)
            return StateUpdate()
        if access == PUBLIC:
            return None
        session = await state.get_state(SessionState)
        try:
            await session._user()
        except NotSignedIn:
            log.info("gate: %s needs a user; no valid session", name)
            session._forget()
            root = state._get_root_state()
            try:
                delta = await root._get_resolved_delta()
            finally:
                root._clean()
            return StateUpdate(delta=delta, events=Event.from_event_type(rx.redirect(SIGNIN_ROUTE)))
        return None
