"""The one check of a database id that arrives from outside (a page, a handler argument).

An id is a plain ``int`` (not a ``bool``, not a float or a string of digits) from 1 to the
largest value its column holds (BIGINT by default, ``max_id=INT_MAX`` for an INTEGER column);
anything else never reaches the database. Callers answer a bad id exactly like a missing row,
so the check never tells whether something exists.
"""
from __future__ import annotations

from typing import Any

from gazportal.services.errors import DomainError, NotFound

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


def as_id(value: Any, *, max_id: int = BIGINT_MAX) -> int | None:
    """``value`` if it is a plain int in ``1..max_id``, else None."""
    if type(value) is int and 0 < value <= max_id:
        return value
    return None


def require_id(value: Any, error: type[DomainError] | DomainError = NotFound, *, max_id: int = BIGINT_MAX) -> int:
    """``value`` if :func:`as_id` takes it; else raises ``error`` (a class or an instance;
    ``NotFound("errors.not_found")`` by default)."""
    out = as_id(value, max_id=max_id)
    if out is None:
        raise error() if isinstance(error, type) else error
    return out
