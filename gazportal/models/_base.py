"""Column helpers shared by the tables."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

MONEY = sa.Numeric(12, 2)
PRICE = sa.Numeric(12, 4)
VOLUME = sa.Numeric(14, 3)


def table_of(model: type) -> sa.Table:
    """The Core table of a table model (SQLModel does not declare ``__table__`` for type checkers)."""
    mapper: Mapper[Any] = sa.inspect(model)
    table = mapper.local_table
    assert isinstance(table, sa.Table)
    return table


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Row) -> int:
    """The id of a row read from the database or flushed to it (``id`` is None only before that)."""
    assert row.id is not None, f"{type(row).__name__} is not stored yet"
    return row.id


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. Either way callers get aware UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times in UTC with tzinfo")
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def money(value) -> Decimal:
    """Any amount as a Decimal with two places (banker's rounding is never used for money)."""
    from decimal import ROUND_HALF_UP

    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
