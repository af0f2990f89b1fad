"""The audit log of staff writes: append-only (services/audit.py is the one writer)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Field, SQLModel

from gazportal.models._base import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    """One staff write: who (``actor_id``, and ``actor`` — the login then, or ``cli``), when (UTC),
    what (``action``, e.g. ``message.reply``), on which object (``object_type``/``object_id``),
    the object's values before and after (JSON text) and the stated reason.

    Never updated or deleted: the ORM refuses it (``services/audit.py``) and so does the database
    (triggers of migration 0011 on SQLite and PostgreSQL)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_at", "at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor: str = Field(max_length=254)
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=40)
    object_id: str = Field(default="", max_length=40)
    before: str = Field(default="{}", sa_type=sa.Text)
    after: str = Field(default="{}", sa_type=sa.Text)
    reason: str = Field(default="", max_length=500)


class AppendOnly(RuntimeError):
    """An attempt to change or delete an audit row through the ORM."""


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _refuse_audit_changes(session: sa.orm.Session, flush_context: object, instances: object) -> None:
    """The ORM's half of "append-only": a flush that would update or delete an :class:`AuditEntry`
    raises :class:`AppendOnly` (the database's triggers refuse plain SQL as well)."""
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, AuditEntry) and (row in session.deleted or session.is_modified(row)):
            raise AppendOnly("audit_log is append-only")
