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
import re
import time
from collections import Counter
from types import SimpleNamespace
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
from reflex_base.constants.state import FIELD_MARKER
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


def _client_storage_vars() -> dict[str, type]:
    """The browser-stored vars our states declare (``rx.LocalStorage``/``rx.Cookie``...), by the
    fully qualified name the frontend sends (``<state>.<var>_rx_state_``), with their types."""
    out: dict[str, type] = {}
    todo: list[type[BaseState]] = [State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        for name, field in cls.get_fields().items():
            if cls._is_client_storage(name):
                out[f"{cls.get_full_name()}.{name}{FIELD_MARKER}"] = field.outer_type_
    return out


def _storage_vars_acceptable(value: Any) -> bool:
    """``vars`` of a hydrate or a storage sync: only our declared browser-stored str vars, each
    a short str (the browser sends what it stored: cookies and storage hold strings)."""
    if not isinstance(value, dict) or len(value) > 50:
        return False
    declared = _client_storage_vars()
    return all(declared.get(k) is str and isinstance(v, str) and len(v) <= 4000
               for k, v in value.items())


def _hashes_acceptable(value: Any) -> bool:
    """``hashes`` of the first hydrate: the compiled state hashes, a list of short strings."""
    return (isinstance(value, list) and len(value) <= 2000
            and all(isinstance(h, str) and len(h) <= 200 for h in value))


# The payload each allowed Reflex handler takes, exactly as Reflex's frontend sends it
# (reflex_base/compiler/templates.py ``initialEvents``: ``{vars?, hashes?}``; state.js; the
# handlers' signatures in reflex/state.py). Anything else is refused like other bad arguments:
# Reflex would raise in the handler (a str for ``vars``, an unknown state path, an extra key).
_REFLEX_SHAPES: dict[str, dict[str, tuple[bool, Any]]] = {
    # key: (required, check)
    "hydrate": {},
    "on_load_internal": {},
    "set_is_hydrated": {"value": (True, lambda v: isinstance(v, bool))},
    "hydrate_and_load": {"vars": (False, lambda v: v is None or _storage_vars_acceptable(v)),
                         "hashes": (False, lambda v: v is None or _hashes_acceptable(v))},
    "update_vars_internal": {"vars": (True, _storage_vars_acceptable)},
    "handle_frontend_exception": {"info": (True, lambda v: isinstance(v, str)),
                                  "component_stack": (True, lambda v: isinstance(v, str))},
}


def reflex_payload_acceptable(handler_name: str, payload: Any) -> bool:
    """A payload of one of Reflex's own allowed handlers has exactly its declared keys and types."""
    spec = _REFLEX_SHAPES.get(handler_name)
    if spec is None or not isinstance(payload, dict) or not set(payload) <= set(spec):
        return False
    for key, (required, check) in spec.items():
        if key not in payload:
            if required:
                return False
        elif not check(payload[key]):
            return False
    return True


def allow(state_cls: type[BaseState], *names: str, access: str = PUBLIC) -> None:
    """Let Reflex's own handlers of ``state_cls`` through (our states declare with ``@handler``);
    each must have a declared payload shape in ``_REFLEX_SHAPES``."""
    for name in names:
        if name not in state_cls.event_handlers:
            raise ValueError(f"{state_cls.__name__} has no event handler {name!r}")
        if name not in _REFLEX_SHAPES:
            raise ValueError(f"{state_cls.__name__}.{name} has no declared payload shape")
        _REFLEX_OWN[(state_cls, name)] = access


allow(State, "hydrate", "hydrate_and_load", "set_is_hydrated")
allow(OnLoadInternalState, "on_load_internal", "set_is_hydrated")
allow(UpdateVarsInternalState, "update_vars_internal")
allow(FrontendEventExceptionState, "handle_frontend_exception")


class _Quiet:
    """At most ``most`` warning lines a minute; the rest are counted, and one line says how many
    and which event names were refused most (``top`` of them, with counts)."""

    def __init__(self, most: int = 30, top: int = 5) -> None:
        self.most, self.top, self.window, self.count, self.skipped = most, top, 0.0, 0, 0
        self.names: Counter[str] = Counter()

    def warn(self, msg: str, *args: Any, name: Any = None) -> None:
        """Log ``msg % args`` unless the minute's lines are used up; ``name``: the refused event's
        name (or what was sent instead), counted for the summary line."""
        now = time.monotonic()
        if now - self.window >= 60:
            self.flush()
            self.window, self.count = now, 0
        if self.count < self.most:
            self.count += 1
            log.warning(msg, *args)
        else:
            self.skipped += 1
            if len(self.names) < 1000 or _short(name) in self.names:
                self.names[_short(name)] += 1

    def flush(self) -> None:
        """Say the skipped refusals of the minute (count and the top event names) in one line."""
        if self.skipped:
            top = ", ".join(f"{n} x{c}" for n, c in self.names.most_common(self.top))
            log.warning("gate: %d more refused events in the last minute; most: %s", self.skipped, top)
        self.skipped = 0
        self.names.clear()


def _short(name: Any) -> str:
    return name[:120] if isinstance(name, str) else f"<{type(name).__name__}>"


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


def arguments_acceptable(decl: Declaration | None, payload: Any, event_name: Any = None) -> bool:
    """The payload fits the handler's declaration; for Reflex's own handlers (no declaration),
    the shape in ``_REFLEX_SHAPES`` of the handler ``event_name`` names."""
    if not payload_acceptable(payload):
        return False
    if decl is None:
        target = target_of(event_name)
        return target is not None and reflex_payload_acceptable(target[1], payload)
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
            _quiet.warn("gate: dropped a call of %.120r (not a declared handler)", name, name=name)
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
        if not arguments_acceptable(decl, getattr(event, "payload", None), name):
            _quiet.warn("gate: refused a call of %s (arguments not as declared: %.300r)", name,
                        shape(getattr(event, "payload", None)), name=name)
            return await self._refuse_form(root, name)
        verdict = admits(access, user)
        if verdict == REFUSE:
            _quiet.warn("gate: refused a call of %s (needs %s; the user's role is %s)", name, access,
                        getattr(user, "role", "?"), name=name)
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
    an object payload (for Reflex's own handlers: of their declared shape) and router data as our
    pages send it. It also arrives in the connect packet (``40/_event,{"event": ...}``): Reflex's
    ``on_connect`` hands it to ``on_event``."""
    if not isinstance(data, dict):
        return False
    payload = data.get("payload", {})
    if not isinstance(payload, dict) or not router_data_acceptable(data.get("router_data", {})):
        return False
    rule = rule_of(data.get("name"))
    if rule is None:
        return False
    if rule[1] is None:  # Reflex's own handler: refused here, before its processor runs it
        return arguments_acceptable(None, payload, data.get("name"))
    return True


MAX_JSON_DEPTH = 32  # our deepest event (a form's data inside the packet) is about 7 deep
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth_within(text: str, most: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of a JSON text nest at most ``most`` deep (strings skipped),
    checked before it is parsed: Python's decoder recurses and would raise ``RecursionError``."""
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        tok = m.group()
        if tok == "[" or tok == "{":
            depth += 1
            if depth > most:
                return False
        elif tok == "]" or tok == "}":
            depth -= 1
    return True


def bounded_loads(loads: Any) -> Any:
    """``loads`` that raises ``ValueError`` (what Engine.IO expects of a message that is no JSON)
    for a text nested deeper than ``MAX_JSON_DEPTH`` or one the decoder cannot take."""
    def checked_loads(data: str | bytes, **kwargs: Any) -> Any:
        text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
        if not isinstance(text, str) or not json_depth_within(text):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH}")
        try:
            return loads(data, **kwargs)
        except RecursionError as e:
            raise ValueError("JSON nested too deep") from e
    return checked_loads


class BadPacket(ValueError):
    """A Socket.IO packet that does not decode (no JSON, nested too deep, a bad header)."""


def _is_protocol_error(e: BaseException) -> bool:
    """A ``ValueError`` python-socketio raises itself on a packet it cannot take ("Unknown packet
    type", "Unexpected binary packet/attachment"...): raised in socketio's own code, not in a
    handler that the packet reached (those keep their traceback)."""
    if isinstance(e, BadPacket):
        return True
    if not isinstance(e, ValueError) or e.__traceback__ is None:
        return False
    tb = e.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return "/socketio/" in tb.tb_frame.f_code.co_filename.replace("\\", "/")


def _install_json(app: Any) -> None:
    """Bound the JSON decoding of Reflex's socket server and drop undecodable packets quietly.

    ``rx.App._setup_state`` gives its ``AsyncServer`` ``json=SimpleNamespace(dumps=_sio_dumps,
    loads=_sio_loads)``, which python-socketio and python-engineio set on their ``Packet``
    classes; an exception while decoding ends in python-engineio's "message async handler error"
    with a traceback. Engine.IO's decoder gets the depth bound (it takes a ``ValueError`` as "not
    JSON: a string"); Socket.IO packets are decoded by a subclass that raises :class:`BadPacket`;
    the server's message handler drops those (and socketio's own protocol ``ValueError``) with one
    rate-limited warning line."""
    import engineio.packet
    import socketio.packet

    sio = getattr(app, "sio", None)
    if sio is None:
        raise RuntimeError("the app has no socket server yet")
    if getattr(sio, "_gazportal_json", False):
        return
    current = sio.packet_class.json
    bounded = SimpleNamespace(dumps=current.dumps, loads=bounded_loads(current.loads))
    engineio.packet.Packet.json = bounded

    class CheckedPacket(socketio.packet.Packet):
        json = bounded

        def decode(self, encoded_packet: Any) -> Any:
            try:
                return super().decode(encoded_packet)
            except (ValueError, RecursionError) as e:
                raise BadPacket(str(e)[:80]) from None

    sio.packet_class = CheckedPacket
    handle = sio.eio.handlers["message"]

    async def on_message(eio_sid: str, data: Any) -> Any:
        try:
            return await handle(eio_sid, data)
        except ValueError as e:
            if not _is_protocol_error(e):
                raise
            size = len(data) if isinstance(data, (str, bytes)) else 0
            _quiet.warn("gate: dropped a socket packet (%.80s; %d characters)", e, size, name="<bad packet>")
            return None

    sio.eio.handlers["message"] = on_message
    sio._gazportal_json = True


def install(app: Any = None) -> None:
    """Drop events that name no declared handler before Reflex's event processor sees them (it
    would log a traceback for each). Patches Reflex's socket namespace once; with ``app``, also
    bounds the JSON decoding of its socket server (:func:`_install_json`)."""
    from reflex.app import EventNamespace

    if app is not None:
        _install_json(app)
    if getattr(EventNamespace.on_event, "_gazportal_gate", False):
        return
    original = EventNamespace.on_event

    async def on_event(self: Any, sid: str, data: Any = None) -> None:
        if not _event_acceptable(data):
            name = data.get("name") if isinstance(data, dict) else None
            _quiet.warn("gate: dropped a socket event %.120r (not a declared handler or malformed)", name,
                        name=name)
            return
        await original(self, sid, data)

    on_event._gazportal_gate = True  # type: ignore[attr-defined]
    EventNamespace.on_event = on_event  # type: ignore[method-assign]


__all__ = ["CUSTOMER", "PUBLIC", "EventGate", "access_of", "allow", "install", "payload_acceptable", "rule_of"]
