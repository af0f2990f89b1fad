"""Typed domain errors. Each carries a message key from locales/ and the values it needs, so
the browser, the CLI and a future bot can all say *why* in the customer's language."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """A rule of the domain refused something. ``key`` is a locales/ key under ``errors.``."""

    key: str = "errors.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class NotFound(DomainError):
    key = "errors.not_found"


class InvalidInput(DomainError):
    key = "errors.invalid_input"


class AccountNotFound(NotFound):
    """A personal account that is missing, another customer's, or named by a malformed id: the
    same answer every time, so existence is never revealed."""

    key = "errors.account_not_found"


@dataclass(frozen=True)
class Notice:
    """One message for one form field: a locales/ key and the values it needs."""

    key: str
    params: dict = field(default_factory=dict)


class FormErrors(DomainError):
    """Several fields of a form are wrong. ``fields`` maps a field name to its :class:`Notice`;
    the web layer marks exactly those fields red and keeps the values of the others."""

    key = "errors.form_invalid"

    def __init__(self, fields: dict[str, Notice]) -> None:
        self.fields: dict[str, Notice] = dict(fields)
        super().__init__(self.key)
        # DomainError.__init__ sets params={}; keep the field names readable in logs
        self.args = (f"{self.key} {sorted(self.fields)}",)
