"""Balances, statements and consumption figures of one personal account.

Conventions (every function here follows them, and the tests pin them down):

* **Charges** are monthly: a charge for period ``P`` ('YYYY-MM') is *posted on the last day of P*.
  It counts in the balance from that day on (inclusive), and never before.
* **Payments** count on their *local date*: ``paid_at`` (aware UTC in the database) converted to the
  profile's time zone (the ``tz`` argument). A payment at 23:30 in Almaty on 31 January is
  18:30 UTC the same day; one at 00:30 on 1 February is 18:30 UTC on 31 January and counts in
  February. Money "paid in period P" is what was paid on the local days of P.
* ``balance = payments - charges``: positive is a credit (overpaid), negative is a debt.
  ``debt = max(0, -balance)``; a debt above zero is what the portal shows in red.
* A balance "at a day" is the balance at the *end* of that local day.
* The closing balance of month P is ``balance_at(last day of P)``; the opening balance of P is the
  closing balance of the month before (the balance at the end of the day before P starts), so
  ``closing = opening + paid - charged`` and each month's closing is the next month's opening.
* Money results are ``Decimal`` with exactly two places, volumes ``Decimal`` with three. Sums are
  taken by the database in integer tiyn/kopiyka (and integer thousandths of a unit for volumes),
  so they are exact on SQLite too, where NUMERIC columns are stored as floating point.
* Volumes in statements and summaries add up every service's charges of the account (an account
  has one service in practice); ``monthly_volumes`` / ``year_comparison`` can filter by service.
* Everything is aggregated in SQL (``SUM`` / ``GROUP BY`` over the account's rows, reached
  through the indices on ``charge.account_id`` and ``payment(account_id, paid_at)``), so the cost
  of a call depends on one account's history, not on the number of accounts.
* Ranges are limited to ``MAX_MONTHS`` months (statements, volumes) and ``MAX_YEARS`` years
  (yearly summary); a longer or reversed range is refused with a message key.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from gazportal.models import Account, Charge, Payment
from gazportal.models._base import UTCDateTime
from gazportal.models.metering import SERVICES
from gazportal.services.errors import AccountNotFound, InvalidInput
from gazportal.services.periods import (
    add_months,
    local_day_start_utc,
    months_between,
    parse_period,
    period_end,
    period_start,
)
from gazportal.services.tariffs import Calculation, calculate, tariff_at

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
ZERO_MONEY = Decimal("0.00")
ZERO_VOLUME = Decimal("0.000")
MAX_MONTHS = 120  # ten years of monthly rows
MAX_YEARS = 10
MAX_LAST_PAYMENTS = 100
MAX_CALC_VOLUME = Decimal("99999999999.999")  # what a VOLUME column (14, 3) can hold
_MIN_DAY = date(1900, 1, 1)
_MAX_DAY = date(2999, 12, 31)


# --------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StatementRow:
    period: str
    volume: Decimal  # 3 places
    charged: Decimal  # 2 places
    paid: Decimal
    opening: Decimal  # balance before the month (positive = credit)
    closing: Decimal  # balance at the end of its last day

    @property
    def debt(self) -> Decimal:
        return -self.closing if self.closing < 0 else ZERO_MONEY


@dataclass(frozen=True)
class YearRow:
    year: int
    volume: Decimal
    charged: Decimal
    paid: Decimal
    opening: Decimal
    closing: Decimal


@dataclass(frozen=True)
class MonthVolume:
    period: str
    volume: Decimal
    charged: Decimal = ZERO_MONEY  # the charges of the same rows (one service's when one is asked)


@dataclass(frozen=True)
class MonthComparison:
    month: int  # 1..12
    period: str  # this year's
    volume: Decimal
    previous_period: str  # the same month a year before
    previous_volume: Decimal

    @property
    def change(self) -> Decimal:
        return self.volume - self.previous_volume


@dataclass(frozen=True)
class ServiceCharge:
    service: str
    volume: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PaymentLine:
    id: int
    paid_at: datetime  # aware UTC
    day: date  # local date in the time zone the caller gave
    amount: Decimal
    receipt_no: str
    channel: str


@dataclass(frozen=True)
class AccountState:
    account_id: int
    period: str
    opening: Decimal
    charges: tuple[ServiceCharge, ...]
    charged: Decimal
    payments: tuple[PaymentLine, ...]
    paid: Decimal
    closing: Decimal
    debt: Decimal  # > 0: show in red

    @property
    def in_debt(self) -> bool:
        return self.debt > 0


# --------------------------------------------------------------------------- helpers


def _cents_to_money(value) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2).quantize(CENT)


def _milli_to_volume(value) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-3).quantize(MILLI)


def _sum_cents(col):
    """SUM of a money column in whole tiyn: exact even where SQLite keeps NUMERIC as REAL."""
    return sa.func.coalesce(sa.func.sum(sa.cast(sa.func.round(col * 100), sa.BigInteger)), 0)


def _sum_milli(col):
    return sa.func.coalesce(sa.func.sum(sa.cast(sa.func.round(col * 1000), sa.BigInteger)), 0)


def _utc(moment: datetime):
    """A bound UTC timestamp compared the way the column stores it (naive text on SQLite)."""
    return sa.literal(moment, UTCDateTime())


def _check_account(session: Session, account_id) -> int:
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        raise InvalidInput("errors.invalid_input", field="account_id")
    found = session.execute(sa.select(col(Account.id)).where(col(Account.id) == account_id)).scalar_one_or_none()
    if found is None:
        raise AccountNotFound(account_id=account_id)
    return account_id


def _check_day(day) -> date:
    if isinstance(day, datetime) or not isinstance(day, date) or not (_MIN_DAY <= day <= _MAX_DAY):
        raise InvalidInput("errors.bad_date", day=str(day)[:30])
    return day


def _check_range(first: str, last: str) -> list[str]:
    parse_period(first)
    parse_period(last)
    if first > last:
        raise InvalidInput("errors.period_range_reversed", first=first, last=last)
    fy, fm = parse_period(first)
    ly, lm = parse_period(last)
    if (ly * 12 + lm) - (fy * 12 + fm) + 1 > MAX_MONTHS:
        raise InvalidInput("errors.period_range_too_long", first=first, last=last, max_months=MAX_MONTHS)
    return months_between(first, last)


def _check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not (1900 <= year <= 2999):
        raise InvalidInput("errors.bad_year", year=str(year)[:20])
    return year


def _charge_cutoff(day: date) -> str:
    """The last period whose charge is posted on or before ``day``."""
    period = f"{day.year:04d}-{day.month:02d}"
    return period if day == period_end(period) else add_months(period, -1)


def _end_of_day_utc(day: date, tz: ZoneInfo) -> datetime:
    return local_day_start_utc(day + timedelta(days=1), tz)


def _balance_cents(session: Session, account_id: int, day: date, tz: ZoneInfo) -> int:
    charged = (
        sa.select(_sum_cents(Charge.amount))
        .where(col(Charge.account_id) == account_id, col(Charge.period) <= _charge_cutoff(day))
        .scalar_subquery()
    )
    paid = (
        sa.select(_sum_cents(Payment.amount))
        .where(col(Payment.account_id) == account_id, col(Payment.paid_at) < _utc(_end_of_day_utc(day, tz)))
        .scalar_subquery()
    )
    p, c = session.execute(sa.select(paid, charged)).one()
    return int(p or 0) - int(c or 0)


def _charges_by_period(session: Session, account_id: int, first: str, last: str,
                       service: str | None = None) -> dict[str, tuple[int, int]]:
    """period -> (volume in thousandths, amount in tiyn), one GROUP BY over the account's rows."""
    q = (
        sa.select(col(Charge.period), _sum_milli(col(Charge.volume)), _sum_cents(col(Charge.amount)))
        .where(col(Charge.account_id) == account_id, col(Charge.period) >= first, col(Charge.period) <= last)
        .group_by(Charge.period)
    )
    if service is not None:
        q = q.where(col(Charge.service) == service)
    return {p: (int(v), int(a)) for p, v, a in session.execute(q).all()}


def _payments_by_bucket(session: Session, account_id: int, bounds: Sequence[tuple[object, datetime, datetime]]
                        ) -> dict[object, int]:
    """Sum of payments (tiyn) per bucket; ``bounds`` are consecutive (label, start, end) UTC ranges.

    One range scan of payment(account_id, paid_at), bucketed by a CASE over the boundaries.
    """
    if not bounds:
        return {}
    bucket = sa.case(
        *[(Payment.paid_at < _utc(end), sa.literal(str(label))) for label, _start, end in bounds],
        else_=sa.literal(None),
    )
    # Bucket in a subquery and group by its column: PostgreSQL (server-side parameters) would not
    # see two renderings of the same CASE with different placeholders as one GROUP BY expression.
    inner = (
        sa.select(bucket.label("bucket"), col(Payment.amount).label("amount"))
        .where(col(Payment.account_id) == account_id,
               Payment.paid_at >= _utc(bounds[0][1]), Payment.paid_at < _utc(bounds[-1][2]))
        .subquery()
    )
    q = sa.select(inner.c.bucket, _sum_cents(inner.c.amount)).group_by(inner.c.bucket)
    by_label = {str(label): label for label, _s, _e in bounds}
    return {by_label[b]: int(s) for b, s in session.execute(q).all() if b is not None}


def _month_bounds(periods: list[str], tz: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    return [(p, local_day_start_utc(period_start(p), tz), _end_of_day_utc(period_end(p), tz)) for p in periods]


# --------------------------------------------------------------------------- balances


def balance_at(session: Session, account_id: int, day: date, tz: ZoneInfo) -> Decimal:
    """The balance at the end of local ``day``: payments up to it minus charges posted by then."""
    _check_account(session, account_id)
    _check_day(day)
    return _cents_to_money(_balance_cents(session, account_id, day, tz))


def debt_at(session: Session, account_id: int, day: date, tz: ZoneInfo) -> Decimal:
    """What the customer owes at the end of ``day`` (0.00 when the balance is zero or a credit)."""
    balance = balance_at(session, account_id, day, tz)
    return -balance if balance < 0 else ZERO_MONEY


def overdue_at(session: Session, account_id: int, day: date, tz: ZoneInfo, due_day: int) -> Decimal:
    """The overdue debt at the end of local ``day`` (0.00 when none): the charges whose due date has
    passed minus every payment up to the end of ``day``, never below zero.

    The charge of month P is due on ``due_day`` (1..28) of the month after P (the profile's
    ``requisites.payment_due_day``) and overdue from the day after; payments pay the oldest
    charges first, so a payment made by ``day`` counts against what is overdue before what is not
    due yet. Raises InvalidInput for a bad day or due day, AccountNotFound for a missing account.
    """
    _check_account(session, account_id)
    _check_day(day)
    if isinstance(due_day, bool) or not isinstance(due_day, int) or not 1 <= due_day <= 28:
        raise InvalidInput("errors.invalid_input", field="due_day")
    current = f"{day.year:04d}-{day.month:02d}"
    last_overdue = add_months(current, -1 if day.day > due_day else -2)
    charged = session.execute(
        sa.select(_sum_cents(Charge.amount))
        .where(col(Charge.account_id) == account_id, col(Charge.period) <= last_overdue)
    ).scalar()
    paid = session.execute(
        sa.select(_sum_cents(Payment.amount))
        .where(col(Payment.account_id) == account_id, col(Payment.paid_at) < _utc(_end_of_day_utc(day, tz)))
    ).scalar()
    return _cents_to_money(max(0, int(charged or 0) - int(paid or 0)))


# --------------------------------------------------------------------------- statements


def monthly_statement(session: Session, account_id: int, first_period: str, last_period: str,
                      tz: ZoneInfo) -> list[StatementRow]:
    """One row per month from ``first_period`` to ``last_period`` (months without data are zeros)."""
    _check_account(session, account_id)
    periods = _check_range(first_period, last_period)
    opening = _balance_cents(session, account_id, period_start(first_period) - timedelta(days=1), tz)
    charges = _charges_by_period(session, account_id, first_period, last_period)
    paid = _payments_by_bucket(session, account_id, _month_bounds(periods, tz))
    rows = []
    for p in periods:
        vol, charged = charges.get(p, (0, 0))
        pay = paid.get(p, 0)
        closing = opening + pay - charged
        rows.append(StatementRow(p, _milli_to_volume(vol), _cents_to_money(charged), _cents_to_money(pay),
                                 _cents_to_money(opening), _cents_to_money(closing)))
        opening = closing
    return rows


def yearly_summary(session: Session, account_id: int, first_year: int, last_year: int,
                   tz: ZoneInfo) -> list[YearRow]:
    """One row per calendar year (local), each the sum of its twelve months."""
    _check_account(session, account_id)
    _check_year(first_year)
    _check_year(last_year)
    if first_year > last_year:
        raise InvalidInput("errors.year_range_reversed", first=first_year, last=last_year)
    if last_year - first_year + 1 > MAX_YEARS:
        raise InvalidInput("errors.year_range_too_long", first=first_year, last=last_year, max_years=MAX_YEARS)
    years = list(range(first_year, last_year + 1))
    opening = _balance_cents(session, account_id, date(first_year, 1, 1) - timedelta(days=1), tz)
    inner = (
        sa.select(sa.func.substr(col(Charge.period), 1, 4).label("year"), col(Charge.volume), col(Charge.amount))
        .where(col(Charge.account_id) == account_id,
               col(Charge.period) >= f"{first_year:04d}-01", col(Charge.period) <= f"{last_year:04d}-12")
        .subquery()
    )
    charges = {
        int(y): (int(v), int(a))
        for y, v, a in session.execute(
            sa.select(inner.c.year, _sum_milli(inner.c.volume), _sum_cents(inner.c.amount))
            .group_by(inner.c.year)
        ).all()
    }
    bounds = [(y, local_day_start_utc(date(y, 1, 1), tz), local_day_start_utc(date(y + 1, 1, 1), tz))
              for y in years]
    paid = _payments_by_bucket(session, account_id, bounds)
    rows = []
    for y in years:
        vol, charged = charges.get(y, (0, 0))
        pay = paid.get(y, 0)
        closing = opening + pay - charged
        rows.append(YearRow(y, _milli_to_volume(vol), _cents_to_money(charged), _cents_to_money(pay),
                            _cents_to_money(opening), _cents_to_money(closing)))
        opening = closing
    return rows


def _check_service(service) -> str | None:
    if service is not None and service not in SERVICES:
        raise InvalidInput("errors.bad_service", service=str(service)[:20])
    return service


def monthly_volumes(session: Session, account_id: int, first_period: str, last_period: str,
                    service: str | None = None) -> list[MonthVolume]:
    """Charged volume and amount per month (every month of the range, zeros included), of
    ``service`` only when one is given (a volume over several services would add m³ and kWh)."""
    _check_account(session, account_id)
    _check_service(service)
    periods = _check_range(first_period, last_period)
    charges = _charges_by_period(session, account_id, first_period, last_period, service)
    return [MonthVolume(p, _milli_to_volume(charges.get(p, (0, 0))[0]), _cents_to_money(charges.get(p, (0, 0))[1]))
            for p in periods]


def first_period(session: Session, account_id: int, tz: ZoneInfo) -> str | None:
    """The account's first month with anything on it: its first charge, or its first payment (its
    local month in ``tz``), whichever is earlier; None when it has neither. The months before it
    are months before the account existed for the portal ("no data", not zeros)."""
    _check_account(session, account_id)
    charge = session.execute(sa.select(sa.func.min(col(Charge.period))).where(col(Charge.account_id) == account_id)
                             ).scalar()
    paid = session.execute(sa.select(sa.func.min(col(Payment.paid_at))).where(col(Payment.account_id) == account_id)
                           ).scalar()
    found = [str(charge)] if charge else []
    if paid is not None:
        moment = paid if isinstance(paid, datetime) else datetime.fromisoformat(str(paid))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        local = moment.astimezone(tz)
        found.append(f"{local.year:04d}-{local.month:02d}")
    return min(found) if found else None


def year_comparison(session: Session, account_id: int, year: int,
                    service: str | None = None) -> list[MonthComparison]:
    """Twelve rows: each month of ``year`` next to the same month of the year before."""
    _check_year(year)
    if year - 1 < 1900:
        raise InvalidInput("errors.bad_year", year=str(year))
    vols = monthly_volumes(session, account_id, f"{year - 1:04d}-01", f"{year:04d}-12", service)
    return [MonthComparison(m, vols[12 + m - 1].period, vols[12 + m - 1].volume,
                            vols[m - 1].period, vols[m - 1].volume) for m in range(1, 13)]


# --------------------------------------------------------------------------- account state


def _payment_lines(rows, tz: ZoneInfo) -> tuple[PaymentLine, ...]:
    return tuple(
        PaymentLine(r.id, r.paid_at, r.paid_at.astimezone(tz).date(), Decimal(r.amount).quantize(CENT),
                    r.receipt_no, r.channel)
        for r in rows
    )


def account_state(session: Session, account_id: int, period: str, tz: ZoneInfo) -> AccountState:
    """Opening balance, the period's charges per service, its payments, closing balance and debt."""
    _check_account(session, account_id)
    parse_period(period)
    start = local_day_start_utc(period_start(period), tz)
    end = _end_of_day_utc(period_end(period), tz)
    opening = _balance_cents(session, account_id, period_start(period) - timedelta(days=1), tz)
    charge_rows = session.execute(
        sa.select(col(Charge.service), _sum_milli(col(Charge.volume)), _sum_cents(col(Charge.amount)))
        .where(col(Charge.account_id) == account_id, col(Charge.period) == period)
        .group_by(Charge.service)
        .order_by(Charge.service)
    ).all()
    charges = tuple(ServiceCharge(s, _milli_to_volume(v), _cents_to_money(a)) for s, v, a in charge_rows)
    charged = sum(int(a) for _s, _v, a in charge_rows)
    pay_rows = session.execute(
        sa.select(col(Payment.id), col(Payment.paid_at), col(Payment.amount), col(Payment.receipt_no),
                  col(Payment.channel))
        .where(col(Payment.account_id) == account_id,
               col(Payment.paid_at) >= _utc(start), col(Payment.paid_at) < _utc(end))
        .order_by(col(Payment.paid_at), col(Payment.id))
    ).all()
    payments = _payment_lines(pay_rows, tz)
    paid = sum(int(p.amount * 100) for p in payments)
    closing = opening + paid - charged
    return AccountState(
        account_id=account_id, period=period, opening=_cents_to_money(opening), charges=charges,
        charged=_cents_to_money(charged), payments=payments, paid=_cents_to_money(paid),
        closing=_cents_to_money(closing), debt=_cents_to_money(max(0, -closing)),
    )


def last_payments(session: Session, account_id: int, limit: int = 10,
                  tz: ZoneInfo | None = None) -> list[PaymentLine]:
    """The newest payments first. ``day`` is the local date in ``tz`` (UTC when none is given)."""
    _check_account(session, account_id)
    if isinstance(limit, bool) or not isinstance(limit, int) or not (1 <= limit <= MAX_LAST_PAYMENTS):
        raise InvalidInput("errors.bad_limit", limit=str(limit)[:20], max=MAX_LAST_PAYMENTS)
    rows = session.execute(
        sa.select(col(Payment.id), col(Payment.paid_at), col(Payment.amount), col(Payment.receipt_no),
                  col(Payment.channel))
        .where(col(Payment.account_id) == account_id)
        .order_by(col(Payment.paid_at).desc(), col(Payment.id).desc())
        .limit(limit)
    ).all()
    return list(_payment_lines(rows, tz or ZoneInfo("UTC")))


# --------------------------------------------------------------------------- calculator


def parse_volume(volume) -> Decimal:
    """A volume typed by a person or given by code: '12,5', '12.5', 12, Decimal('12.5').

    At most three decimal places, not negative, not beyond what a meter month can hold.
    """
    if isinstance(volume, bool):
        raise InvalidInput("errors.bad_volume", volume=str(volume))
    try:
        if isinstance(volume, str):
            text = volume.strip().replace(",", ".").replace(" ", "").replace("\u00a0", "")
            if not text or not all(ch.isdigit() or ch == "." for ch in text):
                raise InvalidOperation
            value = Decimal(text)
        elif isinstance(volume, float):
            value = Decimal(str(volume))
        elif isinstance(volume, int | Decimal):
            value = Decimal(volume)
        else:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidInput("errors.bad_volume", volume=str(volume)[:20]) from None
    if (not value.is_finite() or value < 0 or value > MAX_CALC_VOLUME
            or value != value.quantize(MILLI, rounding=ROUND_HALF_UP)):
        raise InvalidInput("errors.bad_volume", volume=str(volume)[:20])
    return value.quantize(MILLI)


def calculator(session: Session, service: str, volume, day: date) -> Calculation:
    """The charge calculator (SE): ``volume`` under the tariff in force for ``service`` on ``day``.

    Raises ``tariffs.NoTariff`` (errors.no_tariff) when no tariff is in force that day.
    """
    if service not in SERVICES:
        raise InvalidInput("errors.bad_service", service=str(service)[:20])
    _check_day(day)
    value = parse_volume(volume)
    _tariff, steps = tariff_at(session, service, day)
    return calculate(steps, value)


__all__ = [
    "AccountNotFound", "AccountState", "MAX_MONTHS", "MAX_YEARS", "MonthComparison", "MonthVolume",
    "PaymentLine", "ServiceCharge", "StatementRow", "YearRow", "account_state", "balance_at",
    "calculator", "debt_at", "last_payments", "overdue_at", "monthly_statement", "monthly_volumes", "parse_volume",
    "year_comparison", "yearly_summary",
]
