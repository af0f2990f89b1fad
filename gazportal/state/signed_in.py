"""What the signed-in pages' states share: the user from the server-side session, the customer's
language, argument checks for values that come from the browser, and service calls off the
event loop.

Every public handler of a State can be called by any client with any arguments (type hints are
not enforced). So a handler here: takes ``Any``, checks it with :func:`text` / :func:`form`,
gets the user with :func:`current_user` (from the session cookie checked against the DB, never
from an argument), and lets the service check ownership (``require_account``).
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import reflex as rx

from gazportal.services import i18n
from gazportal.services.errors import DomainError, FormErrors
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

log = logging.getLogger(__name__)
R = TypeVar("R")

MAX_FIELD = 300  # longest single-line value any of our forms accepts
MAX_TEXT = 2000  # a comment


class BadArguments(Exception):
    """What the browser sent is not what the page sends: refused, nothing changes."""


class NotSignedIn(Exception):
    """No valid session (fallback when the session module is not importable)."""


def profile():
    return get_settings().profile


def engine():
    from gazportal.db import get_engine

    return get_engine()


def now() -> datetime:
    return datetime.now(UTC)


async def current_user(state: rx.State):
    """The signed-in user from the session (helper D's SessionState), or raise."""
    from gazportal.state.session import SessionState

    session_state = await state.get_state(SessionState)
    return await session_state._user()


def not_signed_in_errors() -> tuple[type[BaseException], ...]:
    out: list[type[BaseException]] = [NotSignedIn]
    try:
        from gazportal.state import session as session_module

        exc = getattr(session_module, "NotSignedIn", None)
        if isinstance(exc, type) and issubclass(exc, BaseException):
            out.append(exc)
    except ImportError:  # pragma: no cover
        pass
    try:
        from gazportal.services import auth as auth_module

        exc = getattr(auth_module, "NotSignedIn", None)
        if isinstance(exc, type) and issubclass(exc, BaseException):
            out.append(exc)
    except ImportError:  # pragma: no cover
        pass
    return tuple(out)


def to_sign_in():
    return rx.redirect("/signin")


async def language(state: rx.State) -> str:
    return (await state.get_state(I18nState)).lang


async def call(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run a (blocking) service call in a worker thread: argon2 and the DB stay off the loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


# --- the frame of a handler ---------------------------------------------------------------------


def handler(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The frame every signed-in page's handler shares (put it under ``@rx.event``):

    * what the browser sent is checked in the body (:func:`form`, :func:`ident`, ...): on
      :class:`BadArguments` nothing happens;
    * the user comes from :func:`current_user` in the body: without a valid session the browser
      is sent to /signin;
    * the state's ``busy`` flag (:class:`BusyMixin`), raised when the form was sent, is lowered
      when the handler ends, however it ends.
    """

    def lower(self) -> None:
        if getattr(self, "busy", ""):
            self.busy = ""

    if inspect.isasyncgenfunction(fn):  # a handler that yields to show progress on the way

        @functools.wraps(fn)
        async def run_steps(self, *args: Any, **kwargs: Any) -> Any:
            try:
                async for step in fn(self, *args, **kwargs):
                    yield step
            except BadArguments:
                return
            except not_signed_in_errors():
                yield to_sign_in()
            finally:
                lower(self)

        return run_steps

    @functools.wraps(fn)
    async def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(self, *args, **kwargs)
        except BadArguments:
            return None
        except not_signed_in_errors():
            return to_sign_in()
        finally:
            lower(self)

    return run


class BusyMixin(rx.State, mixin=True):
    """A "please wait" flag for a page with slow forms. A form's submit chain is
    ``[S.begin("add"), S.add_by_payment]``: ``begin`` marks that form busy, its delta reaches the
    browser (events of a client run one after another) and the button shows a spinner and is
    disabled while the real handler (framed by :func:`handler`) runs; it lowers the flag."""

    busy: str = ""  # the name of the form being sent, "" when none

    # The form names a page may mark busy.
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset()

    def _may_be_busy(self, what: str) -> bool:
        return what in self.BUSY_NAMES

    @rx.event
    def begin(self, what: Any):
        if isinstance(what, str) and len(what) <= 40 and self._may_be_busy(what):
            self.busy = what


# --- values from the browser -------------------------------------------------------------------


def text(value: Any, max_len: int = MAX_FIELD, *, strip: bool = True) -> str:
    """A string of at most ``max_len`` characters, or BadArguments."""
    if not isinstance(value, str) or len(value) > max_len or "\x00" in value:
        raise BadArguments
    return value.strip() if strip else value


def ident(value: Any) -> int:
    """A positive database id as the page sends it (a str or an int; not bool, not float)."""
    if isinstance(value, bool):
        raise BadArguments
    if isinstance(value, int):
        out = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        out = int(value)
    else:
        raise BadArguments
    if not 0 < out < 2**53:
        raise BadArguments
    return out


def form(
    value: Any, fields: Iterable[str], *, max_len: int = MAX_FIELD, long: Iterable[str] = (), prefix: str = ""
) -> dict[str, str]:
    """A submitted form: a dict with exactly ``fields`` (all strings), nothing more.

    Reflex adds the value of every element with an ``id`` under that id as well; our inputs'
    ids are ``<prefix>-<field>`` (components/forms.py), sent as ``<prefix>_<field>``: those copies are
    allowed (they must be strings) and dropped.
    """
    wanted = set(fields)
    if not isinstance(value, dict) or not wanted <= set(value):
        raise BadArguments
    copies = {f"{prefix}_{name}" for name in wanted} if prefix else set()
    for key in set(value) - wanted:
        if key not in copies:
            raise BadArguments
        text(value[key], MAX_TEXT)  # a copy must be a string too
    longer = set(long)
    return {k: text(value[k], MAX_TEXT if k in longer else max_len) for k in wanted}


def finite(value: Any) -> bool:
    return not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


# --- messages ----------------------------------------------------------------------------------


def say(key: str, lang: str, **params: Any) -> str:
    return i18n.t(key, lang, **params)


def field_errors(err: FormErrors, lang: str) -> dict[str, str]:
    return {name: i18n.t(n.key, lang, **(n.params or {})) for name, n in err.fields.items()}


def error_text(err: DomainError, lang: str) -> str:
    return i18n.t(err.key, lang, **(err.params or {}))
