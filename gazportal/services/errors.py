"""Typed domain errors. Each carries a message key from locales/ and the values it needs, so
the browser, the CLI and a future bot can all say *why* in the customer's language."""
from __future__ import annotations

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
