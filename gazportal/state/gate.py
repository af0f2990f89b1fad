"""The event gate: decides, before Reflex calls anything, whether an event may run.

Every public method of every Reflex State can be called by any client with any arguments, and
Reflex adds a ``setvar`` handler to every state. So the gate turns this around:

1. **At the socket** (:func:`install`, before Reflex's event processor): an event that is not a
   JSON object with a string ``name`` naming a handler of ours is dropped with one rate-limited
   warning line — Reflex would raise ``KeyError``/``EventDeserializationError`` with a traceback.
2. **In the middleware** (:class:`EventGate`, before the handler): the handler must be declared
   (``state/contract.py``: ``@handler(access, **args)``) or be one of Reflex's own listed below;
   its arguments must be exactly what it declares (one warning line, the form says "check the
   form", the busy flag is lowered). The session is resolved **once** from the ``Cookie`` header of
   the connection (``state/session.py``) and handed to the handler with the event's source (the
   device cookie and the client address the guard found: ``ctx.source``), and the tab's personal
   states are wiped when they belong to someone else. A handler that needs a session gets none:
   not run, the browser goes to /signin; a signed-in user of the wrong kind (a customer calling a
   staff handler, staff calling a customer's, a lower staff role; ``contract.admits``): not run,
   nothing changes, one warning line.
"""
from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

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

from gazportal.services import i18n
from gazportal.state.contract import (
    CUSTOMER,
    PUBLIC,
    REFUSE,
    SIGN_IN,
    admits,
    BadArguments,
    Declaration,
    _lower_busy,
    declaration_of,
    remember_resolved,
)
from gazportal.state.i18n import I18nState
from gazportal.state.contract import on_signin_page, signin_route_for
from gazportal.state.session import end_reason_of, settle_owner, source_of, user_for

log = logging.getLogger("gazportal.gate")

MAX_PAYLOAD_CHARS = 64_000  # a form of ours is a few hundred characters
MAX_NAME = 300

# Reflex's own events that a page needs (they cannot carry our declaration).
_REFLEX_OWN: dict[tuple[type, str], str] = {}


def allow(state_cls: type[BaseState], *names: str, access: str = PUBLIC) -> None:
    """Let Reflex's own handlers of ``state_cls`` through (our states declare with ``@handler``)."""
    for name in names:
        if name not in state_cls.event_handlers:
            raise ValueError(f"{state_cls.__name__} has no event handler {name!r}")
        _REFLEX_OWN[(state_cls, name)] = access


allow(State, "hydrate", "hydrate_and_load", "set_is_hydrated")
allow(OnLoadInternalState, "on_load_internal", "set_is_hydrated")
allow(UpdateVarsInternalState, "update_vars_internal")
allow(FrontendEventExceptionState, "handle_frontend_exception")


class _Quiet:
    """At most ``most`` warning lines a minute; the rest are counted and said in one line."""

    def __init__(self, most: int = 30) -> None:
        self.most, self.window, self.count, self.skipped = most, 0.0, 0, 0

    def warn(self, msg: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self.window >= 60:
            if self.skipped:
                log.warning("gate: %d more refused events in the last minute", self.skipped)
            self.window, self.count, self.skipped = now, 0, 0
        if self.count < self.most:
            self.count += 1
            log.warning(msg, *args)
        else:
            self.skipped += 1


_quiet = _Quiet()


def target_of(event_name: Any) -> tuple[type[BaseState], str] | None:
    """The (state class, handler name) a full event name ``<state path>.<handler>`` names, or None."""
    if not isinstance(event_name, str) or len(event_name) > MAX_NAME:
        return None
    state_name, _, handler_name = event_name.rpartition(".")
    if not state_name or not handler_name or handler_name.startswith("_"):
        return None
    try:
        cls = State.get_class_substate(state_name)
    except Exception:
        return None
    if handler_name not in cls.event_handlers:
        return None
    return cls, handler_name


def rule_of(event_name: Any) -> tuple[str, Declaration | None] | None:
    """(access, declaration) for an event name; None when it may not run at all. Reflex's own
    handlers have no declaration (their payload is only checked for size and numbers)."""
    target = target_of(event_name)
    if target is None:
        return None
    cls, handler_name = target
    decl = declaration_of(cls.event_handlers[handler_name])
    if decl is not None:
        return decl.access, decl
    for klass in cls.__mro__:
        if (klass, handler_name) in _REFLEX_OWN:
            return _REFLEX_OWN[(klass, handler_name)], None
    return None


def access_of(event_name: Any) -> str | None:
    """The access level (PUBLIC, CUSTOMER, a staff role) or None (not allowed) for a full event name."""
    rule = rule_of(event_name)
    return rule[0] if rule is not None else None


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
    """A payload must be a small JSON object without NaN or infinities."""
    if not isinstance(payload, dict):
        return False
    try:
        size = len(json.dumps(payload, allow_nan=True, default=str))
    except (TypeError, ValueError, RecursionError):
        return False
    return size <= MAX_PAYLOAD_CHARS and not _has_bad_number(payload)


def shape(payload: Any) -> Any:
    """What a payload looked like, for a log line: its keys (a form's field names), not values."""
    if not isinstance(payload, dict):
        return type(payload).__name__
    out = {}
    for k, v in list(payload.items())[:20]:
        if isinstance(v, dict) and isinstance(v.get("__reflex_form_data__"), list):
            out[str(k)[:40]] = [str(p[0])[:40] if isinstance(p, (list, tuple)) and p else "?"
                                for p in v["__reflex_form_data__"][:40]]
        elif isinstance(v, dict):
            out[str(k)[:40]] = sorted(str(x)[:40] for x in list(v)[:40])
        else:
            out[str(k)[:40]] = type(v).__name__
    return out


def arguments_acceptable(decl: Declaration | None, payload: Any) -> bool:
    """The payload fits the handler's declaration (Reflex's own: size and numbers only)."""
    if not payload_acceptable(payload):
        return False
    if decl is None:
        return True
    try:
        decl.check(payload)
    except BadArguments:
        return False
    except Exception as e:  # a fault in a spec of ours: refuse, say it in one line, no traceback
        log.error("gate: the argument check of a handler failed: %s: %.200s", type(e).__name__, e)
        return False
    return True


async def _answer(root: BaseState, events: Any = None) -> StateUpdate:
    try:
        delta = await root._get_resolved_delta()
    finally:
        root._clean()
    return StateUpdate(delta=delta, events=Event.from_event_type(events) if events is not None else [])


class EventGate(Middleware):
    """Runs before every event; returning an update (even an empty one) stops the event."""

    async def preprocess(self, app: Any, state: BaseState, event: Event) -> StateUpdate | None:
        name = getattr(event, "name", None)
        rule = rule_of(name)
        if rule is None:
            _quiet.warn("gate: dropped a call of %.120r (not a declared handler)", name)
            return StateUpdate()
        access, decl = rule
        root = state._get_root_state()
        router_data = getattr(event, "router_data", None)
        if not isinstance(router_data, dict) or "headers" not in router_data:
            # An upload: Reflex's endpoint makes the event without the connection's data. The
            # upload request's own cookie was checked against this tab's user before its body was
            # read (gazportal/asgi.py); the tab's websocket headers say who that is.
            router_data = root.router_data
        user = await user_for(router_data)
        remember_resolved(root, user, source_of(router_data))
        await settle_owner(root, user)
        if not arguments_acceptable(decl, getattr(event, "payload", None)):
            _quiet.warn("gate: refused a call of %s (arguments not as declared: %.300r)", name,
                        shape(getattr(event, "payload", None)))
            return await self._refuse_form(root, name)
        verdict = admits(access, user)
        if verdict == REFUSE:
            _quiet.warn("gate: refused a call of %s (needs %s; the user's role is %s)", name, access,
                        getattr(user, "role", "?"))
            return await _answer(root)
        if verdict == SIGN_IN:
            log.info("gate: %s needs a signed-in user; none", name)
            target = target_of(name)
            if target is not None:
                _lower_busy(await root.get_state(target[0]))
            url = getattr(getattr(root, "router", None), "url", None)
            if on_signin_page(url):  # a late event of the page left for sign-in: that page stays
                return await _answer(root, None)
            why = await end_reason_of(router_data)
            return await _answer(root, rx.redirect(signin_route_for(url, why)))
        return None

    async def _refuse_form(self, root: BaseState, name: str) -> StateUpdate:
        """Bad arguments: the form (if the state has one) says so; nothing else changes."""
        target = target_of(name)
        if target is not None:
            sub = await root.get_state(target[0])
            _lower_busy(sub)
            if hasattr(type(sub), "_show_refusal"):
                lang = (await root.get_state(I18nState)).lang
                sub._show_refusal(i18n.t("errors.form_invalid", lang))
        return await _answer(root)


MAX_ROUTER_CHARS = 16_000  # a page's address, its query and a few flags


def _flat_strings(value: Any, *, lists: bool = False) -> bool:
    """A JSON object of short strings (a query may repeat a name: a list of strings)."""
    if not isinstance(value, dict) or len(value) > 100:
        return False
    for k, v in value.items():
        if not isinstance(k, str):
            return False
        items = v if lists and isinstance(v, list) else [v]
        if not all(isinstance(i, str) for i in items):
            return False
    return True


def router_data_acceptable(router_data: Any) -> bool:
    """What a page says about where it is, as our pages send it: ``pathname`` and ``asPath``
    strings, ``query`` a flat object of strings, ``headers`` one of strings, anything else a
    scalar; small. Reflex would raise inside its processor on a dict for a path or a string for
    a query (a traceback in the log)."""
    if not isinstance(router_data, dict):
        return False
    try:
        if len(json.dumps(router_data, default=str)) > MAX_ROUTER_CHARS:
            return False
    except (TypeError, ValueError, RecursionError):
        return False
    for key, value in router_data.items():
        if key in ("pathname", "asPath"):
            if not isinstance(value, str):
                return False
        elif key == "query":
            if not _flat_strings(value, lists=True):
                return False
        elif key == "headers":
            if not _flat_strings(value):
                return False
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            return False
    return True


def _event_acceptable(data: Any) -> bool:
    """A socket event our pages could have sent: a JSON object with a declared handler's name,
    an object payload and router data as our pages send it."""
    if not isinstance(data, dict):
        return False
    if not isinstance(data.get("payload", {}), dict) or not router_data_acceptable(data.get("router_data", {})):
        return False
    return rule_of(data.get("name")) is not None


def install() -> None:
    """Drop events that name no declared handler before Reflex's event processor sees them (it
    would log a traceback for each). Patches Reflex's socket namespace once."""
    from reflex.app import EventNamespace

    if getattr(EventNamespace.on_event, "_gazportal_gate", False):
        return
    original = EventNamespace.on_event

    async def on_event(self: Any, sid: str, data: Any = None) -> None:
        if not _event_acceptable(data):
            name = data.get("name") if isinstance(data, dict) else None
            _quiet.warn("gate: dropped a socket event %.120r (not a declared handler or malformed)", name)
            return
        await original(self, sid, data)

    on_event._gazportal_gate = True  # type: ignore[attr-defined]
    EventNamespace.on_event = on_event  # type: ignore[method-assign]


__all__ = ["CUSTOMER", "PUBLIC", "EventGate", "access_of", "allow", "install", "payload_acceptable", "rule_of"]
