"""Billing periods (months, 'YYYY-MM') and the profile's local time."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gazportal.services.errors import InvalidInput

if TYPE_CHECKING:
    from gazportal.settings import Utility

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    """The calendar month a UTC moment falls in, in the profile's time zone (billing: charges and
    payments). The month a meter reading counts for is :func:`reading_period`."""
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def reading_period(moment: datetime, utility: "Utility") -> str:
    """The period ('YYYY-MM') a meter reading taken at the aware ``moment`` counts for: decided on
    its local day in the profile's time zone by :func:`reading_period_of_day`. The one rule for a
    reading's period: the check, the submit, staff readings, the monthly limit and the window
    shown all use it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be an aware datetime (UTC)")
    return reading_period_of_day(moment.astimezone(utility.tz).date(), utility)


def reading_period_of_day(day: date, utility: "Utility") -> str:
    """The period a reading taken on the local ``day`` counts for: its month, or the month before
    on days 1..``reading_window.previous_month_until`` (Ukraine: a reading sent by the 5th is the
    meter at the end of the previous month; Gas Distribution Code ch. IX.4)."""
    period = f"{day.year:04d}-{day.month:02d}"
    return add_months(period, -1) if day.day <= utility.reading_window.previous_month_until else period


def parse_period(period: str) -> tuple[int, int]:
    m = _PERIOD.fullmatch(period or "")
    if not m:
        raise InvalidInput("errors.bad_period", period=str(period)[:20])
    return int(m.group(1)), int(m.group(2))


def period_start(period: str) -> date:
    y, m = parse_period(period)
    return date(y, m, 1)


def period_end(period: str) -> date:
    """The last day of the month."""
    return next_period_start(period) - timedelta(days=1)


def next_period_start(period: str) -> date:
    y, m = parse_period(period)
    return date(y + (m == 12), m % 12 + 1, 1)


def add_months(period: str, n: int) -> str:
    y, m = parse_period(period)
    idx = y * 12 + (m - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every period from first to last, inclusive (empty if last < first)."""
    out, p = [], first
    while p <= last:
        out.append(p)
        p = add_months(p, 1)
    return out


def local_day_start_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC moment a local calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
