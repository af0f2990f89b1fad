"""Tariffs, monthly charges and payments. Money is Numeric(12, 2), read back as Decimal."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gazportal.models._base import MONEY, PRICE, VOLUME, UTCDateTime, utcnow


class Tariff(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_tariff_service_from", "service", "valid_from"),)
    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=12)
    name: str = Field(max_length=120)
    valid_from: date
    valid_to: date | None = None  # inclusive; None = still in force


class TariffStep(SQLModel, table=True):
    """One step of a stepped tariff: volume in a month up to ``up_to`` costs ``price`` a unit."""

    __tablename__ = "tariff_step"
    __table_args__ = (sa.UniqueConstraint("tariff_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    tariff_id: int = Field(foreign_key="tariff.id", index=True)
    position: int
    up_to: Decimal | None = Field(default=None, sa_type=VOLUME)  # None = no upper bound
    price: Decimal = Field(sa_type=PRICE)


class Charge(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("account_id", "period", "service", name="uq_charge_account_period_service"),
        sa.CheckConstraint("volume >= 0", name="ck_charge_volume"),
        sa.Index("ix_charge_period", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    period: str = Field(max_length=7)  # YYYY-MM
    service: str = Field(max_length=12)
    volume: Decimal = Field(sa_type=VOLUME)
    amount: Decimal = Field(sa_type=MONEY)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    """One payment in the ledger. A payment made online (``services/payments``) names its provider
    and the provider's transaction id; the pair is unique, so a provider's transaction is booked
    at most once whatever the number of its callbacks (NULLs, the imported payments, never clash)."""

    __table_args__ = (
        sa.Index("ix_payment_account_paid", "account_id", "paid_at"),
        sa.CheckConstraint("amount > 0", name="ck_payment_amount"),
        sa.UniqueConstraint("provider", "transaction_id", name="uq_payment_provider_transaction"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    paid_at: datetime = Field(sa_type=UTCDateTime)
    amount: Decimal = Field(sa_type=MONEY)
    receipt_no: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    channel: str = Field(max_length=20)  # bank | kaspi | card | cash | post | portal
    provider: str | None = Field(default=None, max_length=20)  # demo | liqpay | cloudpayments
    transaction_id: str | None = Field(default=None, max_length=64)


ORDER_STATUSES = ("created", "pending", "paid", "failed", "expired")


class PaymentOrder(SQLModel, table=True):
    """An online payment the customer started: the account, amount and currency are fixed here,
    on the server, when it is created; the provider's callback must match them to be booked.
    ``public_id`` (128 bits, URL-safe) is the order id the provider and the browser see."""

    __tablename__ = "payment_order"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="ck_payment_order_amount"),
        sa.CheckConstraint("status IN ('created', 'pending', 'paid', 'failed', 'expired')",
                           name="ck_payment_order_status"),
        sa.Index("ix_payment_order_status_created", "status", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    account_id: int = Field(foreign_key="account.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    provider: str = Field(max_length=20)
    amount: Decimal = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    language: str = Field(max_length=2)
    status: str = Field(max_length=10, default="created")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # last status call
    transaction_id: str | None = Field(default=None, max_length=64)
    payment_id: int | None = Field(default=None, foreign_key="payment.id", sa_column_kwargs={"unique": True})
    late: bool = False  # paid after it had expired or failed (booked, flagged for staff)


class PaymentIncident(SQLModel, table=True):
    """Something staff must look at: a verified callback that was not booked (amount or currency
    not the order's, an unknown order, a second success of a paid order) or a late success."""

    __tablename__ = "payment_incident"
    __table_args__ = (sa.Index("ix_payment_incident_created", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # mismatch | unknown_order | second_success | late_success
    provider: str = Field(max_length=20)
    order_id: int | None = Field(default=None, foreign_key="payment_order.id", index=True)
    transaction_id: str | None = Field(default=None, max_length=64)
    amount: Decimal | None = Field(default=None, sa_type=MONEY)
    currency: str | None = Field(default=None, max_length=3)
    detail: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DebtCertificate(SQLModel, table=True):
    """A certificate of no debt issued for an account as of a day (issue 17 point 5). Its number is
    ``<year of issue>-<id, 6 digits>``; ``code`` (128 random bits, URL-safe) is what the QR's public
    verification page /verify?c=... looks up, and that page shows no personal data."""

    __tablename__ = "debt_certificate"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    account_id: int = Field(foreign_key="account.id", index=True)
    as_of: date
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
