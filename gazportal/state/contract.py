"""The handler contract: one declaration per event handler, checked before it runs.

Every public method of a Reflex State can be called by any client with any arguments. So every
handler of ours is declared with :func:`handler`, which states

* **who** may call it: :data:`PUBLIC` (anyone), :data:`CUSTOMER` (a valid session of a customer),
  or a staff role — :data:`OPERATOR`, :data:`SUPERVISOR`, :data:`ADMIN` (a valid session of a
  staff user of that role or a higher one, ``services/staff.py``). A customer is never let into a
  staff handler and a staff user never into a customer's (:func:`admits`);
* **what it takes**: one :class:`Arg` per argument (:class:`Id`, :class:`Text`, :class:`Choice`,
  :class:`Flag`, :class:`Form`, :class:`Files`); nothing else is accepted;
* whether it **creates** something (a reading, a message, a registration, ...): such a handler
  takes a ``submission`` id in its form and answers a repeated submit of the same form once.

The declaration is the only way the event gate (``state/gate.py``) learns about a handler; the
gate checks the access and the arguments before Reflex calls anything, resolves the session once
per event and hands it to the handler as a :class:`Ctx`. The same wrapper checks again when a
handler is called directly (tests, chained events), so a handler body only holds its own logic::

    class DashboardState(BusyMixin, rx.State):
        @rx.event
        @handler(CUSTOMER, form=Form(("meter", "reading"), prefix="rd"), creates=True)
        async def submit(self, ctx: Ctx, form: dict[str, str]): ...

What the frame does, however the body ends:

* bad arguments (unknown, missing or wrong-typed keys, oversized, NaN, nested junk): nothing runs,
  one warning line, the state's ``error`` (where it has one) says "check the form";
* no valid session for a :data:`CUSTOMER` handler: the browser goes to /signin;
* a :class:`DomainError` raised by the body: its message goes to the form's vars through
  ``self._show_error`` (by default ``field_errors``/``errors`` and ``error``), rendered by
  :func:`say` (dates, money and numbers formatted for the language);
* the state's ``busy`` flag is lowered.

Rules from: OWASP ASVS 5 (V2 validation, V11 business logic: "the same request is processed
once"); ENGINEERING.md, "Security".
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import reflex as rx

from gazportal.services import i18n, ids, submissions, throttle
from gazportal.services.errors import DomainError, FormErrors
from gazportal.settings import get_settings

log = logging.getLogger("gazportal.contract")

PUBLIC = "public"
CUSTOMER = "customer"
OPERATOR = "operator"
SUPERVISOR = "supervisor"
ADMIN = "admin"
STAFF_LEVELS = (OPERATOR, SUPERVISOR, ADMIN)
ACCESS_LEVELS = (PUBLIC, CUSTOMER, *STAFF_LEVELS)
STAFF_HOME = "/staff"  # where a staff user lands (the inbox)

# What :func:`admits` says about a call.
RUN, SIGN_IN, REFUSE = "run", "sign_in", "refuse"


def admits(access: str, user: Any) -> str:
    """May ``user`` (a ``SessionUser`` or None) call a handler declared ``access``? :data:`RUN`;
    :data:`SIGN_IN` (no session for a handler that needs one: the browser goes to /signin); or
    :data:`REFUSE` (a signed-in user of the wrong kind: a customer calling a staff handler, staff
    calling a customer's, a lower staff role: nothing runs, nothing changes)."""
    from gazportal.services.staff import has_role, is_staff

    if access == PUBLIC:
        return RUN
    if user is None:
        return SIGN_IN
    role = getattr(user, "role", CUSTOMER)
    if access == CUSTOMER:
        return REFUSE if is_staff(role) else RUN
    return RUN if has_role(role, access) else REFUSE

MAX_FIELD = 300  # the longest single-line value any of our forms takes
MAX_TEXT = 2000  # a comment or a message body
MAX_SECRET = 1024  # passwords: long ones are fine (no truncation), megabytes are not
MAX_KEYS = 50  # a form of ours has fewer fields
SUBMISSION = "submission"  # the form field that carries a create form's submission id
FORM_ENTRIES_KEY = "__reflex_form_data__"
SIGNIN_ROUTE = "/signin"
# Where a sign-in may lead back to (issue 14 point 18): a path of this site — "/" then letters,
# digits, "-", "_" and single "/" (no "//", no backslash, no scheme, no "%") — with an optional
# plain query; never a guest page (a loop back to sign-in).
_NEXT = re.compile(r"(/[A-Za-z0-9_-]+)+(\?[A-Za-z0-9_=&.-]{0,200})?")
_NOT_NEXT = frozenset({"/signin", "/register", "/confirm", "/recover", "/reset", "/email-undo", "/confirm-email"})


def safe_next(value: Any) -> str | None:
    """``value`` when it is a same-origin path a sign-in may lead back to (:data:`_NEXT`, at most
    250 characters, not a guest page), else None. The page opens it with
    ``window.location.replace``, so anything that could leave the site is refused here."""
    if not isinstance(value, str) or len(value) > 250 or _NEXT.fullmatch(value) is None:
        return None
    return None if value.split("?", 1)[0] in _NOT_NEXT else value


async def _signin_route(state: Any) -> str | None:
    """Where a page whose session is gone sends the browser: /signin with the way back and why.
    None when the browser is on the sign-in page already: a late event of the page it left (a
    debounced check of a form, issue 14 point 10) must not replace that page's ``next``."""
    from gazportal.state.session import end_reason_of  # the session module builds on this one

    router = getattr(state, "router", None)
    url = getattr(router, "url", None)
    if on_signin_page(url):
        return None
    return signin_route_for(url, await end_reason_of(getattr(state, "router_data", None)))


def on_signin_page(url: Any) -> bool:
    """Whether the page ``url`` (a ReflexURL) of an event is the sign-in page: an event that needs a
    session and comes from there is a late one of the page the browser left for sign-in (a
    debounced check of a form): it is dropped, not answered with another redirect to /signin,
    which would lose the way back (``next``) of the one the browser is on."""
    return (getattr(url, "path", "") or "").rstrip("/") == SIGNIN_ROUTE


def signin_route_for(url: Any, why: str | None = None) -> str:
    """/signin, with ``?next=`` the page ``url`` (a ReflexURL) when a sign-in may lead back to it,
    and ``why=`` the reason the session ended (``auth.END_REASONS``), which the page says."""
    from urllib.parse import urlencode

    path = getattr(url, "path", "") or ""
    query = getattr(url, "query", "") or ""
    params = {}
    nxt = safe_next(path + (f"?{query}" if query else ""))
    if nxt:
        params["next"] = nxt
    if why:
        params["why"] = why
    return f"{SIGNIN_ROUTE}?{urlencode(params)}" if params else SIGNIN_ROUTE



def query_param(state: Any, name: str) -> str | None:
    """The page address's ``?name=`` as the browser sent it: None when absent, "" when it is not a
    single string (a repeated or odd parameter), else its text (unchecked: the caller checks it)."""
    router = getattr(state, "router", None)
    query = getattr(getattr(router, "url", None), "query_parameters", None) or {}
    value = query.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else ""


def address_of(account_id: str, path: str = "/dashboard") -> Any:
    """The browser's address set to ``path`` with ``?account=`` the page's own ``account_id`` (a
    checked id; "" for none) without a reload or a history entry: a page that shows another
    account than the address asked for (a foreign or odd ``?account=``) says which it shows
    (issue 14 point 18)."""
    import json

    target = path + (f"?account={int(account_id)}" if account_id else "")
    return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(target)})")


_DECL = "_gazportal_contract"


class BadArguments(Exception):
    """What the browser sent is not what our page sends: refused, nothing changes."""


class NotSignedIn(Exception):
    """No valid session: none given, unknown, revoked, or timed out."""


# --- argument specs ---------------------------------------------------------------------------


class Arg:
    """One argument of a handler: :meth:`check` returns the clean value or raises BadArguments."""

    default: Any = inspect.Parameter.empty

    def check(self, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def optional(self, default: Any) -> Arg:
        """The same spec, with a default used when the argument is not sent."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.default = default
        return clone


def _text(value: Any, max_len: int, *, strip: bool = True) -> str:
    if not isinstance(value, str) or len(value) > max_len or "\x00" in value:
        raise BadArguments
    return value.strip() if strip else value


class Text(Arg):
    """A string of at most ``max_len`` characters (stripped unless ``strip=False``)."""

    def __init__(self, max_len: int = MAX_FIELD, *, strip: bool = True) -> None:
        self.max_len, self.strip = max_len, strip

    def check(self, value: Any) -> str:
        return _text(value, self.max_len, strip=self.strip)


JS_SAFE_MAX = 2**53 - 1  # the largest id a page's JavaScript holds exactly


def ident(value: Any) -> int:
    """A positive database id as a page sends it: ``services.ids.as_id`` (a plain int in range),
    after the page's form of it, a short string of ASCII digits, is read as a number. Raises
    BadArguments for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        value = int(value)
    out = ids.as_id(value, max_id=JS_SAFE_MAX)
    if out is None:
        raise BadArguments
    return out


class Id(Arg):
    """A positive database id (:func:`ident`); ``blank=True`` also takes "" (returned as None)."""

    def __init__(self, *, blank: bool = False) -> None:
        self.blank = blank

    def check(self, value: Any) -> int | None:
        if self.blank and value == "":
            return None
        return ident(value)


class Choice(Arg):
    """One of the given strings."""

    def __init__(self, values: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        self.values = values

    def check(self, value: Any) -> str:
        allowed = self.values() if callable(self.values) else self.values
        if not isinstance(value, str) or value not in set(allowed):
            raise BadArguments
        return value


class Flag(Arg):
    """A checkbox's ``checked``: a real bool."""

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise BadArguments
        return value


class Files(Arg):
    """The files of an ``rx.upload`` (Reflex's ``UploadFile`` objects): a list of 1..``most``."""

    def __init__(self, most: int = 1) -> None:
        self.most = most

    def check(self, value: Any) -> list[Any]:
        if not isinstance(value, list) or not 1 <= len(value) <= self.most:
            raise BadArguments
        if not all(hasattr(f, "read") for f in value):
            raise BadArguments
        return value


def form_entries(data: Any) -> Mapping[str, Any]:
    """A submitted form as a mapping (Reflex sends a dict, or the entries under one key)."""
    if isinstance(data, Mapping):
        if set(data) == {FORM_ENTRIES_KEY} and isinstance(data[FORM_ENTRIES_KEY], list):
            pairs = data[FORM_ENTRIES_KEY]
            if not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
                raise BadArguments
            return {k: v for k, v in pairs}
        return data
    raise BadArguments


class Form(Arg):
    """A submitted form: a dict of the page's fields.

    * ``fields`` must all be there, as strings (stripped; ``long`` ones up to MAX_TEXT, ``secrets``
      up to MAX_SECRET and taken as typed); ``optional`` fields may be missing (then "");
    * ``checkboxes`` become bools (missing: False);
    * ``submission`` (a create form) must carry the submission id the server issued;
    * Reflex adds a copy of every value under its element id: ids are ``<prefix>-<field>``, sent as
      ``<prefix>_<field>`` or as matching ``copy_pattern``; those copies must be short strings and
      are dropped. Any other key refuses the form.
    """

    def __init__(
        self,
        fields: Iterable[str],
        *,
        optional: Iterable[str] = (),
        long: Iterable[str] = (),
        secrets: Iterable[str] = (),
        checkboxes: Iterable[str] = (),
        prefix: str = "",
        max_len: int = MAX_FIELD,
        limits: Mapping[str, int] | None = None,
        strip: bool = True,
    ) -> None:
        self.fields = tuple(fields)
        self.optional = frozenset(optional)
        self.long = frozenset(long)
        self.secrets = frozenset(secrets)
        self.checkboxes = tuple(checkboxes)
        self.prefix = prefix
        self.max_len = max_len
        self.limits = dict(limits or {})
        self.strip = strip
        self.submission = False

    def _limit(self, name: str) -> int:
        if name in self.limits:
            return self.limits[name]
        if name in self.secrets:
            return MAX_SECRET
        return MAX_TEXT if name in self.long else self.max_len

    def _is_copy(self, key: Any) -> bool:
        return bool(self.prefix) and isinstance(key, str) and key.startswith(self.prefix + "_") and len(key) <= 80

    def check(self, value: Any) -> dict[str, Any]:
        raw = form_entries(value)
        if len(raw) > MAX_KEYS:
            raise BadArguments
        known = set(self.fields) | set(self.checkboxes) | ({SUBMISSION} if self.submission else set())
        for key in raw:
            if key not in known:
                if not self._is_copy(key):
                    raise BadArguments
                _copy_ok(raw[key])  # dropped: only its size and kind matter
        out: dict[str, Any] = {}
        for name in self.fields:
            if name not in raw:
                if name not in self.optional:
                    raise BadArguments
                out[name] = ""
                continue
            keep = name in self.secrets or not self.strip
            out[name] = _text(raw[name], self._limit(name), strip=not keep)
        for name in self.checkboxes:
            out[name] = _checkbox(raw.get(name))
        if self.submission:
            out[SUBMISSION] = _text(raw.get(SUBMISSION), 64)
        return out


def _copy_ok(value: Any) -> None:
    """Reflex's copy of a field under its element id: a ref's value — a string, a checkbox's bool,
    None for a field not rendered, or a list of those (a group of refs). Raises BadArguments."""
    items = value if isinstance(value, list) and len(value) <= MAX_KEYS else [value]
    for item in items:
        if item is not None and not isinstance(item, bool):
            _text(item, MAX_TEXT, strip=False)


def _checkbox(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 10:
        return value.strip().lower() in ("on", "true", "1", "yes")
    raise BadArguments


# --- the declaration --------------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """What :func:`handler` states about one handler."""

    access: str
    args: dict[str, Arg]
    creates: bool = False

    def check(self, payload: Any) -> dict[str, Any]:
        """The handler's keyword arguments from an event payload: exactly the declared names
        (those with a default may be missing), each checked by its spec. Raises BadArguments."""
        if not isinstance(payload, Mapping) or len(payload) > len(self.args):
            raise BadArguments
        if any(not isinstance(k, str) or k not in self.args for k in payload):
            raise BadArguments
        out: dict[str, Any] = {}
        for name, spec in self.args.items():
            if name in payload:
                out[name] = spec.check(payload[name])
            elif spec.default is not inspect.Parameter.empty:
                out[name] = spec.default
            else:
                raise BadArguments
        return out


def declaration_of(fn: Any) -> Declaration | None:
    """The declaration of a handler function (or a Reflex EventHandler), or None."""
    fn = getattr(fn, "fn", fn)
    decl = getattr(fn, _DECL, None)
    return decl if isinstance(decl, Declaration) else None


@dataclass(frozen=True)
class Ctx:
    """What the frame hands a handler: the signed-in user (``services.auth.SessionUser``; None for
    a guest on a public handler), the page's language, the moment of the event (aware UTC) and
    who sent it (``services.throttle.Source``: the connection's device cookie and client address;
    the services that bind failures to their source take it as ``source=``)."""

    user: Any
    lang: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: throttle.Source = throttle.ANONYMOUS

    @property
    def user_id(self) -> int:
        if self.user is None:
            raise NotSignedIn()
        return self.user.user_id


# What the gate resolved for the event being processed: (token of the event, user or None, source).
# Set by the gate in the event's task before Reflex calls the handler; a direct call (a test, a
# chained event that the gate did not see) resolves them itself.
_RESOLVED: contextvars.ContextVar[tuple[int, Any, throttle.Source] | None] = contextvars.ContextVar(
    "gazportal_user", default=None)


def remember_resolved(state: Any, user: Any, source: throttle.Source = throttle.ANONYMOUS) -> None:
    """The gate's hand-over: ``user`` (or None) sent the event now being processed, from ``source``."""
    _RESOLVED.set((id(state._get_root_state()), user, source))


def _remembered(state: Any) -> tuple[int, Any, throttle.Source] | None:
    resolved = _RESOLVED.get()
    return resolved if resolved is not None and resolved[0] == id(state._get_root_state()) else None


async def resolve_user(state: Any) -> Any:
    """The signed-in user of the event being processed (SessionUser) or None.

    Once per event: the gate's answer when it saw this event, else the session is resolved from
    the request headers the state holds (``state/session.py``)."""
    resolved = _remembered(state)
    if resolved is not None:
        return resolved[1]
    from gazportal.state.session import user_of_state

    # Not remembered: a direct call is its own event (a test that signs out between two calls on
    # the same tab must see the session gone; a cache keyed by id(root) could also outlive it).
    return await user_of_state(state._get_root_state())


def resolve_source(state: Any) -> throttle.Source:
    """Who sent the event being processed: the gate's answer, else read from the request headers
    the state holds (``state/session.source_of``)."""
    resolved = _remembered(state)
    if resolved is not None:
        return resolved[2]
    from gazportal.state.session import source_of

    return source_of(getattr(state._get_root_state(), "router_data", None))


async def language(state: Any) -> str:
    """The page's language (the I18nState's, a profile language)."""
    from gazportal.state.i18n import I18nState

    if isinstance(state, I18nState):
        return state.lang
    return (await state.get_state(I18nState)).lang


def utility():
    """The utility profile this portal runs with (settings)."""
    return get_settings().utility


def engine():
    """The database engine of the app."""
    from gazportal.db import get_engine

    return get_engine()


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking service call (argon2, the database) in a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


# --- saying things ----------------------------------------------------------------------------

def say(message: Any, lang: str) -> str:
    """A domain error or notice as a sentence in ``lang`` (``services.i18n.error_text`` with the
    profile's time zone and currency): the one renderer of the web layer."""
    p = utility()
    return i18n.error_text(message, lang, tz=p.tz, currency=p.currency.code)


def field_texts(err: FormErrors, lang: str) -> dict[str, str]:
    """The field messages of a FormErrors: field name -> sentence."""
    p = utility()
    return i18n.field_texts(err, lang, tz=p.tz, currency=p.currency.code)


# --- the frame --------------------------------------------------------------------------------


def _lower_busy(state: Any) -> None:
    busy = getattr(state, "busy", None)
    if busy:
        state.busy = "" if isinstance(busy, str) else False


async def _refuse_arguments(state: Any, name: str) -> None:
    log.warning("refused a call of %s: arguments not as declared", name)
    if hasattr(type(state), "_show_refusal"):
        state._show_refusal(i18n.t("errors.form_invalid", await language(state)))


def _split(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    params = list(inspect.signature(fn).parameters.values())
    if len(params) < 2 or params[1].name != "ctx":
        raise TypeError(f"{fn.__qualname__}: a declared handler takes (self, ctx, ...)")
    return params


def handler(
    access: str,
    *,
    creates: bool = False,
    lowers_busy: bool = True,
    **args: Arg,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an event handler (put it under ``@rx.event``). The body is ``(self, ctx, **args)``.

    ``access`` is one of :data:`ACCESS_LEVELS`; ``args`` maps each argument name to its :class:`Arg`, in the
    order the page sends them; ``creates=True`` marks a handler that stores something: its
    :class:`Form` must carry the state's current ``submission`` id, which is used once (a repeated
    submit of the same form is answered as the first one was and stores nothing).
    ``lowers_busy=False`` only for the handler that raises the flag (``FormMixin.begin``).

    Raises ValueError for an unknown access level, TypeError at import when the body's parameters
    and the declared arguments differ."""
    _check_declaration(access, creates, args)

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = _split(fn)
        body_args = [p.name for p in params[2:]]
        if body_args != list(args):
            raise TypeError(f"{fn.__qualname__}: declared {list(args)}, takes {body_args}")
        frame = _Frame(fn, Declaration(access=access, args=dict(args), creates=creates), lowers_busy)
        wrapped = frame.steps() if inspect.isasyncgenfunction(fn) else frame.call()
        return _as_reflex_sees_it(wrapped, fn, params, frame.decl)

    return wrap


def _check_declaration(access: str, creates: bool, args: dict[str, Arg]) -> None:
    if access not in ACCESS_LEVELS:
        raise ValueError(f"access must be one of {ACCESS_LEVELS}")
    for spec in args.values():
        if not isinstance(spec, Arg):
            raise TypeError(f"{spec!r} is not an argument spec")
    if creates:
        forms = [a for a in args.values() if isinstance(a, Form)]
        if len(forms) != 1:
            raise TypeError("a creating handler takes exactly one Form")
        forms[0].submission = True


class _Frame:
    """What runs around a declared handler's body (see the module's text)."""

    def __init__(self, fn: Callable[..., Any], decl: Declaration, lowers_busy: bool) -> None:
        self.fn, self.decl, self.lowers_busy = fn, decl, lowers_busy
        self.name = fn.__qualname__
        self.names = list(decl.args)

    def _arguments(self, positional: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = self.names
        if len(positional) > len(names) or any(n in kwargs for n in names[: len(positional)]):
            raise BadArguments
        return self.decl.check({**dict(zip(names, positional)), **kwargs})

    async def enter(self, state: Any, positional: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
        """Check the arguments and the session; returns (ctx, clean args) or (_STOP, answer)."""
        try:
            clean = self._arguments(positional, kwargs)
        except BadArguments:
            await _refuse_arguments(state, self.name)
            return _STOP, None
        user = await resolve_user(state)
        verdict = admits(self.decl.access, user)
        if verdict == SIGN_IN:
            log.info("%s needs a signed-in user; none", self.name)
            route = await _signin_route(state)
            return _STOP, None if route is None else rx.redirect(route)
        if verdict == REFUSE:
            log.warning("refused a call of %s: access %s, the user's role is %s", self.name, self.decl.access,
                        getattr(user, "role", "?"))
            return _STOP, None
        ctx = Ctx(user=user, lang=await language(state), now=datetime.now(UTC), source=resolve_source(state))
        if self.decl.creates and not await _take_submission(state, clean, self.name):
            return _STOP, None
        return ctx, clean

    def leave(self, state: Any) -> None:
        if self.lowers_busy:
            _lower_busy(state)

    def steps(self) -> Callable[..., Any]:
        """The frame of a handler that yields (an async generator)."""
        frame, fn = self, self.fn

        @functools.wraps(fn)
        async def run_steps(self: Any, *positional: Any, **kwargs: Any) -> Any:
            try:
                ctx, clean = await frame.enter(self, positional, kwargs)
                if ctx is _STOP:
                    if clean is not None:
                        yield clean
                    return
                try:
                    async for step in fn(self, ctx, **clean):
                        yield step
                except DomainError as e:
                    await _show_domain_error(self, e, ctx.lang)
                except BadArguments:
                    await _refuse_arguments(self, frame.name)
            finally:
                frame.leave(self)

        return run_steps

    def call(self) -> Callable[..., Any]:
        """The frame of a handler that returns (plain or async)."""
        frame, fn = self, self.fn

        @functools.wraps(fn)
        async def run(self: Any, *positional: Any, **kwargs: Any) -> Any:
            try:
                ctx, clean = await frame.enter(self, positional, kwargs)
                if ctx is _STOP:
                    return clean
                try:
                    result = fn(self, ctx, **clean)
                    return (await result) if inspect.isawaitable(result) else result
                except DomainError as e:
                    return await _show_domain_error(self, e, ctx.lang)
                except BadArguments:
                    await _refuse_arguments(self, frame.name)
                    return None
            finally:
                frame.leave(self)

        return run


def _as_reflex_sees_it(wrapped: Any, fn: Callable[..., Any], params: list[inspect.Parameter],
                       decl: Declaration) -> Any:
    """What Reflex sees of a declared handler: ``(self, <declared args>)`` with their defaults,
    annotated ``Any`` — the browser sends what it sends and the declaration checks it; Reflex
    checks a page's event triggers against these — except an upload's files, by whose
    ``list[rx.UploadFile]`` annotation Reflex's upload endpoint finds its argument."""
    args = decl.args
    wrapped.__signature__ = inspect.Signature(
        [params[0]]
        + [p.replace(default=args[p.name].default) if args[p.name].default is not inspect.Parameter.empty else p
           for p in params[2:]]
    )
    wrapped.__annotations__ = {
        k: (fn.__annotations__.get(k, Any) if isinstance(args[k], Files) else Any) for k in args
    }
    del wrapped.__wrapped__
    setattr(wrapped, _DECL, decl)
    return wrapped


_STOP = object()


async def _show_domain_error(state: Any, err: DomainError, lang: str) -> Any:
    """A refusal of the domain on the state's form (``_show_error``, else ``error``)."""
    show = getattr(state, "_show_error", None)
    if show is not None:
        out = show(err, lang)
        if inspect.isawaitable(out):
            out = await out
        return out
    if hasattr(type(state), "error"):
        state.error = say(err, lang)
    return None


async def _take_submission(state: Any, clean: dict[str, Any], name: str) -> bool:
    """Use the form's submission id once: True the first time (the page then gets a fresh id),
    False for a repeat — the same form sent again by a double click, a repeated Enter, or an event
    replayed on any tab, worker or instance (``services.submissions``: the database keeps the used
    ids) — or for a form without one.

    A form sent before its page's state arrived carries "" (``components/forms.submission_input``
    shows the id only once the page is hydrated): taken once per tab."""
    form = next((v for v in clean.values() if isinstance(v, dict) and SUBMISSION in v), None)
    sent = form.pop(SUBMISSION) if form is not None else None
    if sent is None:
        return False
    if sent == "":
        used = list(getattr(state, "_used_submissions", None) or [])
        if "" in used:
            log.info("%s: a repeated submission sent before the page was ready; nothing stored again", name)
            return False
        state._used_submissions = used + [""]
    elif len(sent) < 16 or not await call(submissions.use, engine(), sent, now=datetime.now(UTC)):
        log.info("%s: a repeated submission; nothing stored again", name)
        return False
    state.submission = new_submission_id()
    return True


def new_submission_id() -> str:
    """A fresh submission id (128 random bits) for a create form."""
    return secrets.token_urlsafe(16)


class FormMixin(rx.State, mixin=True):
    """A page state with forms: a "please wait" flag, the submission id of its create forms, and
    the messages of the last answer.

    A slow form's submit chain is ``[S.begin("name"), S.handler]``: ``begin`` marks that form busy;
    its delta reaches the browser before the real handler starts (a client's events run one after
    another) and the frame lowers the flag however the handler ends. A create form carries
    ``submission`` in a hidden input (``components/forms.submission_input``)."""

    busy: str = ""  # the name of the form being sent, "" when none
    submission: str = rx.field(default_factory=lambda: new_submission_id())  # create forms' id
    _used_submissions: list[str] = []  # "" once a form sent before the page was ready was taken
    error: str = ""  # form-level refusal, role=alert
    notice: str = ""  # form-level success, role=status
    errors: dict[str, str] = {}  # field -> message
    refusals: int = 0  # raised at each refusal: the error summary takes the focus (components/forms.py)

    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset()

    def _may_be_busy(self, what: str) -> bool:
        return what in self.BUSY_NAMES

    def _show_refusal(self, text: str) -> None:
        self.error = text
        self.refusals += 1

    def _show_error(self, err: DomainError, lang: str) -> Any:
        if isinstance(err, FormErrors):
            self.errors = field_texts(err, lang)
            self.error = say(err, lang)
        else:
            self.errors = {}
            self.error = say(err, lang)
        self.refusals += 1
        return None

    @rx.event
    @handler(PUBLIC, lowers_busy=False, what=Text(40))
    def begin(self, ctx: Ctx, what: str):
        """Mark the form ``what`` busy (only names the state lists)."""
        if self._may_be_busy(what):
            self.busy = what


class StaffFormMixin(FormMixin, mixin=True):
    """:class:`FormMixin` for a staff page: its "please wait" ``begin`` is an operator's handler
    too, so that a staff state has no event a customer or a visitor may call (issue 16 point 1:
    0 customer-callable staff events; found by this session's attacker, who called the inherited
    public ``begin`` of the staff message page)."""

    @rx.event
    @handler(OPERATOR, lowers_busy=False, what=Text(40))
    def begin(self, ctx: Ctx, what: str):
        """Mark the form ``what`` busy (only names the state lists)."""
        if self._may_be_busy(what):
            self.busy = what


def declared_handlers(state_cls: type) -> dict[str, Declaration | None]:
    """Every event handler of ``state_cls`` (own and inherited) with its declaration or None."""
    return {name: declaration_of(h) for name, h in state_cls.event_handlers.items()}


__all__ = [
    "ACCESS_LEVELS", "ADMIN", "OPERATOR", "REFUSE", "RUN", "SIGN_IN", "STAFF_HOME", "STAFF_LEVELS", "SUPERVISOR",
    "StaffFormMixin",
    "admits", "Arg", "BadArguments", "CUSTOMER", "Choice", "Ctx", "Declaration", "Files", "Flag", "Form",
    "FormMixin", "Id", "NotSignedIn", "PUBLIC", "SUBMISSION", "Text", "call", "declaration_of", "declared_handlers",
    "engine", "field_texts", "handler", "ident", "language", "new_submission_id", "utility", "remember_resolved",
    "resolve_source", "resolve_user", "say",
]
