"""People who sign in: customers and staff."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gazportal.models._base import UTCDateTime, utcnow


class UserBase(SQLModel):
    surname: str = Field(max_length=100)
    name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=20, index=True)  # E.164
    kind: str = Field(default="person", max_length=10)  # person | legal
    bin: str | None = Field(default=None, max_length=12)  # legal entity's business id
    language: str = Field(default="ru", max_length=2)
    birth_date: date | None = None
    gender: str | None = Field(default=None, max_length=10)  # female | male


class User(UserBase, table=True):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('person', 'legal')", name="ck_user_kind"),
        sa.CheckConstraint("role IN ('customer', 'operator', 'supervisor', 'admin')", name="ck_user_role"),
        # the purge of registrations never confirmed (services.auth.purge_unconfirmed) reads by these
        sa.Index("ix_user_account_unconfirmed", "is_active", "created_at"),
        # two confirmed logins a person cannot tell apart never both exist, even when confirmed at
        # once; registrations not confirmed yet do not hold a look-alike (migration 0010)
        sa.Index("uq_user_account_active_skeleton", "login_skeleton", unique=True,
                 sqlite_where=sa.text("is_active"), postgresql_where=sa.text("is_active")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The identifier the profile signs in with (e-mail, phone or account number), normalised.
    login: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    # sha256 of the login's look-alike skeleton (``services.identity.login_skeleton``): unique among
    # confirmed users (uq_user_account_active_skeleton), so that two logins a person cannot tell
    # apart never both exist; a registration not confirmed yet does not hold it, so a stranger's
    # look-alike registration cannot take over (or keep out) someone else's (issue 15 point 6).
    # NULL only for a user whose look-alike was already stored before the column existed.
    login_skeleton: str | None = Field(default=None, max_length=64, index=True)
    password_hash: str = Field(max_length=255)
    # customer | operator | supervisor | admin (services/staff.py: the staff roles and their ranks)
    role: str = Field(default="customer", max_length=10)
    is_active: bool = Field(default=False)  # confirmed
    email_verified: bool = Field(default=False)
    phone_verified: bool = Field(default=False)
    oidc_subject: str | None = Field(default=None, max_length=300, sa_column_kwargs={"unique": True})
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
