"""Personal accounts, who may see them, and the address directory they live in."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gazportal.models._base import UTCDateTime, utcnow


class Branch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, sa_column_kwargs={"unique": True})


class Settlement(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("branch_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(max_length=120)


class Street(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("settlement_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    settlement_id: int = Field(foreign_key="settlement.id", index=True)
    name: str = Field(max_length=120)


class House(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("street_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    street_id: int = Field(foreign_key="street.id", index=True)
    number: str = Field(max_length=20)


class Flat(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("house_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    house_id: int = Field(foreign_key="house.id", index=True)
    number: str = Field(max_length=20)


class AccountBase(SQLModel):
    number: str = Field(max_length=20)
    holder_name: str = Field(max_length=200)
    kind: str = Field(default="person", max_length=10)  # person | legal
    bin: str | None = Field(default=None, max_length=12, index=True)
    address: str = Field(max_length=300)


class Account(AccountBase, table=True):
    __table_args__ = (sa.CheckConstraint("kind IN ('person', 'legal')", name="ck_account_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    house_id: int | None = Field(default=None, foreign_key="house.id", index=True)
    flat_id: int | None = Field(default=None, foreign_key="flat.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserAccountLink(SQLModel, table=True):
    """A user may see and act on an account (owner, relative, tenant, a company's staff)."""

    __tablename__ = "user_account_link"
    __table_args__ = (sa.UniqueConstraint("user_id", "account_id"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccountLinkRemoval(SQLModel, table=True):
    """A holder of an account took it away from a later portal user (issue 15 point 1): that user
    may not add the account again (the link itself is deleted; this row is the record)."""

    __tablename__ = "account_link_removal"
    __table_args__ = (sa.UniqueConstraint("account_id", "user_id", name="uq_account_link_removal"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)  # who lost the account
    removed_by: int | None = Field(default=None, foreign_key="user_account.id")  # a holder (None: gone since)
    removed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
