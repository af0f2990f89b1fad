"""Meters, their readings, and buildings' common-house meters."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gazportal.models._base import UTCDateTime, utcnow

SERVICES = ("gas", "water", "electricity")
SOURCES = ("customer", "inspector", "controller", "estimate")


class Meter(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("account_id", "serial"),
        sa.CheckConstraint("service IN ('gas', 'water', 'electricity')", name="ck_meter_service"),
        sa.CheckConstraint("unit IN ('m3', 'kWh')", name="ck_meter_unit"),
        sa.CheckConstraint("digits BETWEEN 3 AND 12", name="ck_meter_digits"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    service: str = Field(max_length=12)
    serial: str = Field(max_length=40)
    unit: str = Field(max_length=4)
    digits: int = Field(default=6)  # capacity: the counter shows values up to 10**digits - 1
    installed_on: date
    is_active: bool = Field(default=True)


class Reading(SQLModel, table=True):
    """A meter reading. Customers' own submissions take slot 1 or 2 of their period (month);
    the unique (meter_id, period, slot) makes the database itself refuse a third one. Readings
    by inspectors, controllers or estimates have no slot.
    """

    __table_args__ = (
        sa.UniqueConstraint("meter_id", "period", "slot", name="uq_reading_meter_period_slot"),
        sa.CheckConstraint("slot IS NULL OR slot IN (1, 2)", name="ck_reading_slot"),
        sa.CheckConstraint("(source = 'customer') = (slot IS NOT NULL)", name="ck_reading_slot_source"),
        sa.CheckConstraint(
            "source IN ('customer', 'inspector', 'controller', 'estimate')", name="ck_reading_source"
        ),
        sa.CheckConstraint("value >= 0", name="ck_reading_value"),
        sa.CheckConstraint("rollovers >= 0", name="ck_reading_rollovers"),
        sa.Index("ix_reading_meter_taken", "meter_id", "taken_at"),
        sa.Index("ix_reading_period", "period"),
        sa.UniqueConstraint("review_id", name="uq_reading_review_id"),
        sa.UniqueConstraint("corrects_id", name="uq_reading_corrects_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key="meter.id")
    value: int = Field(sa_type=sa.BigInteger)
    taken_at: datetime = Field(sa_type=UTCDateTime)
    period: str = Field(max_length=7)  # YYYY-MM, in the profile's time zone
    source: str = Field(max_length=12)
    slot: int | None = None
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # How many times the dial has passed zero since the meter's first reading: the counter's
    # position is rollovers * 10**meter.digits + value (99 986 then 00011 after passing zero: 25).
    rollovers: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Booked from a staff review (``services.reviews.accept``): unique, so accepting twice books once.
    review_id: int | None = Field(default=None, foreign_key="reading_review.id")
    # A staff correction of a booked reading (``services.corrections``; issue 16 point 6) is a new
    # row naming the one it corrects; the original is kept and no longer counts. Unique: a reading
    # is corrected once (a later correction corrects the correction).
    corrects_id: int | None = Field(default=None, foreign_key="reading.id")


class ReadingReview(SQLModel, table=True):
    """A customer's reading that was not booked: its volume is above the profile's hard
    plausibility limit (``[readings] review_above``), so staff look at it first (the staff
    console shows the queue). ``reason`` is a locales key; ``volume`` and ``limit_volume`` are
    its numbers (units since the base reading, and the limit that applied)."""

    __tablename__ = "reading_review"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="ck_reading_review_status"),
        sa.CheckConstraint("value >= 0 AND rollovers >= 0 AND volume > limit_volume",
                           name="ck_reading_review_values"),
        sa.Index("ix_reading_review_status", "status", "created_at"),
        sa.Index("ix_reading_review_meter_period", "meter_id", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key="meter.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    value: int = Field(sa_type=sa.BigInteger)
    rollovers: int = 0
    taken_at: datetime = Field(sa_type=UTCDateTime)
    period: str = Field(max_length=7)
    base_value: int | None = Field(default=None, sa_type=sa.BigInteger)
    volume: int = Field(sa_type=sa.BigInteger)
    limit_volume: int = Field(sa_type=sa.BigInteger)
    reason: str = Field(max_length=60)
    status: str = Field(default="open", max_length=10)  # moves forward only (a trigger refuses back)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # the staff decision (``services.reviews``): when, by whom, and the reason the customer is told
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decision_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})


class ReadingDispute(SQLModel, table=True):
    """A customer's dispute of a booked reading of their meter (issue 16 point 6): their reason,
    then a staff decision — ``corrected`` (``correction_id`` the new reading that corrects it) or
    ``dismissed`` (with the reason the customer is told). Moves forward only, like a review."""

    __tablename__ = "reading_dispute"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'corrected', 'dismissed')", name="ck_reading_dispute_status"),
        sa.Index("ix_reading_dispute_status", "status", "created_at"),
        sa.Index("ix_reading_dispute_reading", "reading_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    reading_id: int = Field(foreign_key="reading.id")
    user_id: int = Field(foreign_key="user_account.id")
    reason: str = Field(max_length=500)
    status: str = Field(default="open", max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decision_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    correction_id: int | None = Field(default=None, foreign_key="reading.id")


class BuildingMeter(SQLModel, table=True):
    """A common-house meter measuring what a whole building takes (seed KS)."""

    __tablename__ = "building_meter"
    __table_args__ = (sa.UniqueConstraint("house_id", "service", "serial"),)
    id: int | None = Field(default=None, primary_key=True)
    house_id: int = Field(foreign_key="house.id", index=True)
    service: str = Field(max_length=12)
    serial: str = Field(max_length=40)
    unit: str = Field(max_length=4)
    digits: int = Field(default=8)
    installed_on: date


class BuildingReading(SQLModel, table=True):
    __tablename__ = "building_reading"
    __table_args__ = (sa.UniqueConstraint("building_meter_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    building_meter_id: int = Field(foreign_key="building_meter.id", index=True)
    value: int = Field(sa_type=sa.BigInteger)
    taken_at: datetime = Field(sa_type=UTCDateTime)
    period: str = Field(max_length=7)


class StatMonth(SQLModel, table=True):
    """The monthly roll-up the staff dashboard reads (services/rollups.py keeps it): one row per
    (period, service, settlement). ``settlement_id`` 0 is the bucket of accounts with no address in
    the directory; ``service`` '' is the row of payments (paid to an account, not to a service).
    ``volume`` is the charged volume in the service's own unit (never added across services);
    ``meters`` the active meters of the bucket when the period was last rebuilt or first read."""

    __tablename__ = "stat_month"
    __table_args__ = (
        sa.UniqueConstraint("period", "service", "settlement_id", name="uq_stat_month_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    service: str = Field(max_length=12)
    settlement_id: int = 0
    readings: int = 0
    meters_read: int = 0
    meters: int = 0
    volume: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(18, 3))
    charged: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(16, 2))
    paid: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(16, 2))


class StatDay(SQLModel, table=True):
    """Reading coverage by day: how many meters had their first reading of ``period`` on ``day``
    (the local day of the month), per service and settlement; its running sum is the rush curve."""

    __tablename__ = "stat_day"
    __table_args__ = (
        sa.UniqueConstraint("period", "service", "settlement_id", "day", name="uq_stat_day_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    service: str = Field(max_length=12)
    settlement_id: int = 0
    day: int
    first_readings: int = 0


class StatDebt(SQLModel, table=True):
    """Debt by the month it was charged (services/rollups.py keeps it): the part of an account's
    charges of ``period`` (all services, money) not yet covered by its payments, payments paying
    the oldest charges first. Only rows with something unpaid are kept. The dashboard's debt
    ageing (days since the period's charge was posted, its last day) and top debtors read it."""

    __tablename__ = "stat_debt"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "period", name="uq_stat_debt_key"),
        sa.Index("ix_stat_debt_settlement_period", "settlement_id", "period"),
        sa.Index("ix_stat_debt_period", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int
    period: str = Field(max_length=7)
    settlement_id: int = 0
    unpaid: Decimal = Field(sa_type=sa.Numeric(16, 2))


class StatConsumer(SQLModel, table=True):
    """An account's charged volume of one service in a calendar year (services/rollups.py keeps
    it), in the service's own unit: the dashboard's top consumers read it by an index."""

    __tablename__ = "stat_consumer"
    __table_args__ = (
        sa.UniqueConstraint("year", "service", "account_id", name="uq_stat_consumer_key"),
        sa.Index("ix_stat_consumer_top", "year", "service", "volume"),
        sa.Index("ix_stat_consumer_settlement_top", "year", "service", "settlement_id", "volume"),
    )
    id: int | None = Field(default=None, primary_key=True)
    year: int
    service: str = Field(max_length=12)
    account_id: int
    settlement_id: int = 0
    volume: Decimal = Field(sa_type=sa.Numeric(18, 3))
