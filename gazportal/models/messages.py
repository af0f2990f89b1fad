"""What customers write to the utility."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gazportal.models._base import UTCDateTime, utcnow


class CustomerMessage(SQLModel, table=True):
    __tablename__ = "customer_message"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('contact', 'feedback', 'support', 'reregistration')", name="ck_message_kind"
        ),
        sa.CheckConstraint("status IN ('new', 'in_progress', 'answered', 'closed')", name="ck_message_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    kind: str = Field(max_length=16)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=5000)
    status: str = Field(default="new", max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MessageEvent(SQLModel, table=True):
    """What staff add to a customer's message: a ``reply`` (shown under the customer's "My
    messages" and e-mailed to them) or an internal ``note`` (staff only). Always a new row: the
    customer's message itself is never edited (services/inbox.py)."""

    __tablename__ = "message_event"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('reply', 'note')", name="ck_message_event_kind"),
        sa.Index("ix_message_event_message", "message_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="customer_message.id")
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    kind: str = Field(max_length=8)
    body: str = Field(max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
