"""What the sign-in, registration, confirmation and recovery states share.

Forms arrive from the browser as whatever a client chooses to send (type hints are not
enforced): :func:`read_form` keeps only the fields a page has, refuses anything that is not a
short string, and turns a checkbox into a bool. A refusal changes nothing and says only
"check the form".
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import reflex as rx

from gazportal.db import get_engine
from gazportal.models._base import utcnow
from gazportal.services import i18n
from gazportal.services.errors import DomainError, FormErrors
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

log = logging.getLogger("gazportal.web.auth")
R = TypeVar("R")

MAX_FIELD = 254  # an e-mail address is the longest ordinary field
MAX_SECRET = 1024  # passwords: long ones are fine (no truncation), megabytes are not
FORM_ENTRIES_KEY = "__reflex_form_data__"


class BadForm(Exception):
    """The browser sent something our pages never send."""


def profile():
    return get_settings().profile


def engine():
    return get_engine()


def now() -> datetime:
    return utcnow()


async def call(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """A blocking service call (argon2, the database) off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def _as_mapping(data: Any) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        if set(data) == {FORM_ENTRIES_KEY} and isinstance(data[FORM_ENTRIES_KEY], list):
            pairs = data[FORM_ENTRIES_KEY]
            if not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
                raise BadForm
            return {k: v for k, v in pairs}
        return data
    raise BadForm


def read_form(
    data: Any,
    fields: Iterable[str],
    *,
    checkboxes: Iterable[str] = (),
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """The page's fields from a submitted form: strings (stripped, except secrets), checkboxes as
    bools. Missing text fields are "", unknown fields are ignored; anything that is not a short
    string raises BadForm."""
    raw = _as_mapping(data)
    if len(raw) > 50:
        raise BadForm
    secret_set = set(secrets)
    out: dict[str, Any] = {}
    for name in fields:
        value = raw.get(name, "")
        limit = MAX_SECRET if name in secret_set else MAX_FIELD
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            raise BadForm
        out[name] = value if name in secret_set else value.strip()
    for name in checkboxes:
        value = raw.get(name)
        if value is None:
            out[name] = False
        elif isinstance(value, str) and len(value) <= 10:
            out[name] = value.strip().lower() in ("on", "true", "1", "yes")
        elif isinstance(value, bool):
            out[name] = value
        else:
            raise BadForm
    return out


def refusing(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The frame of an auth form's handler (under ``@public``): the messages of the last answer are
    cleared first; a :class:`BadForm` or :class:`DomainError` raised by the body is shown with
    ``_refuse`` (the form's message, the fields marked) and ends the handler; ``busy`` is lowered
    however it ends."""

    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def run_steps(self, *args: Any, **kwargs: Any) -> Any:
            self._reset_messages()
            try:
                async for step in fn(self, *args, **kwargs):
                    yield step
            except (BadForm, DomainError) as e:
                await self._refuse(e)
            finally:
                self.busy = False

        return run_steps

    @functools.wraps(fn)
    async def run(self, *args: Any, **kwargs: Any) -> Any:
        self._reset_messages()
        try:
            return await fn(self, *args, **kwargs)
        except (BadForm, DomainError) as e:
            await self._refuse(e)
            return None
        finally:
            self.busy = False

    return run


class AuthFormState(rx.State):
    """Base of the auth page states: a form-level message and per-field messages."""

    error: str = ""  # form-level, role=alert
    notice: str = ""  # form-level, role=status (success / "we have sent ...")
    field_errors: dict[str, str] = {}
    busy: bool = False

    async def _lang(self) -> str:
        return (await self.get_state(I18nState)).lang

    def _reset_messages(self) -> None:
        self.error = ""
        self.notice = ""
        self.field_errors = {}

    async def _refuse(self, err: Exception) -> None:
        """Show a refusal: field errors marked on their fields, anything else as one message."""
        lang = await self._lang()
        if isinstance(err, FormErrors):
            self.field_errors = {
                name: i18n.t(n.key, lang, **(n.params or {})) for name, n in err.fields.items()
            }
            self.error = i18n.t(err.key, lang)
        elif isinstance(err, DomainError):
            self.field_errors = {}
            self.error = i18n.t(err.key, lang, **(err.params or {}))
        elif isinstance(err, BadForm):
            self.field_errors = {}
            self.error = i18n.t("errors.form_invalid", lang)
        else:  # pragma: no cover - a bug: log it, say little
            log.exception("auth form failed", exc_info=err)
            self.field_errors = {}
            self.error = i18n.t("errors.generic", lang)

    async def _say(self, key: str, **params: Any) -> str:
        return i18n.t(key, await self._lang(), **params)
