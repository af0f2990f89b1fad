"""Sign-in machinery: server-side sessions, one-time codes and links, login throttling, and
account re-registration requests with their documents."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gazportal.models._base import UTCDateTime, utcnow


class AuthSession(SQLModel, table=True):
    """A signed-in browser. The browser holds an opaque random token; only its SHA-256 is here."""

    __tablename__ = "auth_session"
    __table_args__ = (sa.Index("ix_auth_session_user_active", "user_id", "revoked_at"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    remember: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # absolute end
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # why it was revoked (issue 14 point 19): signed_out | password_changed | email_changed
    end_reason: str | None = Field(default=None, max_length=20)
    user_agent: str = Field(default="", max_length=300)


class OneTimeSecret(SQLModel, table=True):
    """An e-mail link or an SMS/e-mail code: confirmation, password reset, e-mail change, the
    "it was not me" link of an e-mail change sent to the old address (purpose ``email_undo``,
    ``target`` = the old address); or the one-time hand-over of a new session to the browser's
    HttpOnly cookie (purpose ``sign_in``, channel ``web``, ``target`` = the session's id).

    A confirmation secret's ``target`` names the registration attempt it belongs to (an HMAC of
    that attempt's password hash): a newer registration of the same pending login makes it void.
    ``session_id``: the session that asked for an e-mail change (it stays signed in when the change
    is made; every other session of the user ends).

    ``secret_hash`` is an HMAC of the link token or the 6-digit code (keyed with the portal's
    secret key, so a leaked table does not give the codes away). Single use, expiring, with a
    limited number of attempts.
    """

    __tablename__ = "one_time_secret"
    __table_args__ = (
        sa.Index("ix_one_time_secret_user_purpose", "user_id", "purpose"),
        sa.CheckConstraint(
            "purpose IN ('confirm', 'reset', 'email_change', 'email_undo', 'phone_change', 'sign_in')", name="ck_ots_purpose"
        ),
        sa.CheckConstraint("channel IN ('email', 'sms', 'web')", name="ck_ots_channel"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    purpose: str = Field(max_length=16)
    channel: str = Field(max_length=8)
    kind: str = Field(max_length=8)  # link | code
    secret_hash: str = Field(max_length=64, index=True)
    target: str | None = Field(default=None, max_length=254)  # the new e-mail for email_change
    session_id: int | None = Field(default=None)  # email_change: the session that asked for it
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """A counter of ``services/throttle.py``: failures (or uses) per identifier — a login or an
    account number with the source that tried it, a target across its sources, a whole scope, a
    customer's statement mails. Identifiers are hashes: the table does not list who tried.

    ``target_hash``: for a (target, source) row, the identifier of its target's row (so that a
    recovery can forget every source of a login); ``notified_at``: on a target's row, when its
    holder was told of the current episode of failures."""

    __tablename__ = "login_throttle"
    id: int | None = Field(default=None, primary_key=True)
    identifier_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    target_hash: str | None = Field(default=None, max_length=64, index=True)
    failures: int = Field(default=0)
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class KnownDevice(SQLModel, table=True):
    """A browser that signed in as the user before: the HMAC of its device cookie
    (``gp_device``, set by ``web/guard.py``). Attempts from it are exempt from the CAPTCHA that
    failures of other sources can require on the user's login (``services/throttle.py``)."""

    __tablename__ = "known_device"
    __table_args__ = (sa.UniqueConstraint("user_id", "device_hash", name="uq_known_device_user_device"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    device_hash: str = Field(max_length=64)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ReregistrationRequest(SQLModel, table=True):
    """A request to re-register a personal account to a new owner (seed KS)."""

    __tablename__ = "reregistration_request"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'in_review', 'done', 'rejected')", name="ck_rereg_status"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    account_number: str = Field(max_length=20)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    new_owner_name: str = Field(max_length=200)
    phone: str = Field(max_length=20)
    comment: str = Field(default="", max_length=2000)
    status: str = Field(default="draft", max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RequestDocument(SQLModel, table=True):
    __tablename__ = "request_document"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="reregistration_request.id", index=True)
    filename: str = Field(max_length=200)  # as the customer named it (sanitised), for display
    stored_name: str = Field(max_length=80, sa_column_kwargs={"unique": True})  # random
    content_type: str = Field(max_length=40)  # from the content, not from the browser
    size: int
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UsedSubmission(SQLModel, table=True):
    """A create form's submission id that has been used (``state/contract.py``): the primary key
    makes the database refuse a second use from any tab, worker or instance, so a replayed event
    stores nothing. Kept a day (``services/submissions.py`` removes older ones)."""

    __tablename__ = "used_submission"
    id: str = Field(primary_key=True, max_length=64)
    used_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
