"""Meter readings: check a customer's reading (while typing and at submit), store it safely under
concurrency, record staff readings, and read a meter's history.

The rules (SPEC "Meter readings"; every refusal says why, with values a customer can read):

* the reading is a whole number as the meter shows it, read by ``numerals.read_counter`` (digit
  groups with any space, digits of one script; surrounding whitespace is ignored, leading zeros
  are fine); decimals typed after ``,`` or ``.`` (the red drums) are not counted, and the check's
  ``note`` says so;
* it fits the meter's counter: ``value <= 10**meter.digits - 1``;
* it is not below the **base**: the latest reading of the meter that is not a customer submission
  of the current period. A second submission in a month corrects the first, so it may be lower
  than the first, never lower than the base. Equal to the base is valid (zero use), once the
  customer confirms "no consumption this month" (``confirm_zero=True``; asked before it uses a
  submission);
* **roll-over**: a smaller reading is read as the dial having passed zero when the base is in the
  top ``rollover_percent`` of the dial's range (profile ``[readings]``, default 1 %) and the way
  over zero is no longer than that zone (5 digits: 99 986 -> 00011 is 25 units; 50 000 -> 11 stays
  "below the previous reading"). The customer confirms it (``rollover=True``); it is stored with
  ``rollovers`` one more than the base's, and every comparison and volume uses the counter's
  position ``rollovers * 10**digits + value``, so no volume is ever negative;
* it is made on a day of the profile's reading window (the local day in ``profile.tz``; a window
  may span the month's end, e.g. the 28th to the 3rd);
* it counts for the period :func:`periods.reading_period` gives (the local day's month, or the
  month before on days 1..``reading_window.previous_month_until``: Kremenchukgaz's "by the 5th
  inclusive" is the previous month's meter); the slots, the base and staff readings all use it;
* at most ``profile.submissions_per_month`` customer submissions per meter and period (never
  more than the two slots the database has room for);
* the meter is active;
* a volume far above the meter's usual monthly use is a *warning* that must be confirmed;
* a volume above the profile's hard plausibility limit (``[readings] review_above``, units a
  month times the months since the base, at least one) is **not booked**: the submit keeps it in
  ``reading_review`` for staff (one open review per meter and month) and raises
  :class:`ReadingSentToReview` after the commit; it uses no submission. Between the jump warning
  and this limit the customer confirms.

Writes run in one transaction that first locks the meter row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite ``write_session`` already holds the write lock from ``BEGIN IMMEDIATE``),
so two submissions for one meter are decided one after the other. The unique
``(meter_id, period, slot)`` in the schema is the last line: if it fires, the customer is told
the limit is reached. A result is returned only after the commit.
"""
from __future__ import annotations

import calendar
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from gazportal.db import write_session
from gazportal.models import Meter, Reading, ReadingReview
from gazportal.models._base import stored_id
from gazportal.services import numerals, periods, rollups
from gazportal.services.errors import DomainError, InvalidInput, NotFound, Notice
from gazportal.services.ids import INT_MAX, require_id
from gazportal.services.tariffs import Calculation, NoTariff, calculate, tariff_at
from gazportal.settings import Utility

# The database has room for two customer submissions per meter and month (slot IN (1, 2)).
MAX_SLOTS = 2
STAFF_SOURCES = ("inspector", "controller", "estimate")

# Usual monthly use: growth over (at most) the last HISTORY_DAYS before the base reading,
# divided by the months elapsed; without MIN_HISTORY_DAYS of history there is no estimate.
HISTORY_DAYS = 365
MIN_HISTORY_DAYS = 55
DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12
# A jump warning needs a volume above this many units, whatever the usual use.
JUMP_FLOOR = 5

# Bounded retries of a whole write transaction on PostgreSQL serialization failure, deadlock
# or lock timeout (and SQLite "database is locked" after its busy timeout).
MAX_ATTEMPTS = 5
_RETRY_SQLSTATES = {"40001", "40P01", "55P03"}
_SLOT_CONSTRAINT = "uq_reading_meter_period_slot"

_VOLUME_PLACES = Decimal("0.001")

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Results and errors


class ReadingRefused(DomainError):
    """A reading was not accepted. ``key``/``params`` say why; ``check`` is the full check."""

    key = "errors.reading_refused"

    def __init__(self, key: str | None = None, /, *, check: "ReadingCheck | None" = None, **params: Any) -> None:
        super().__init__(key, **params)
        self.check = check


class ReadingSentToReview(DomainError):
    """A reading above the hard plausibility limit was not booked: it is kept for staff review
    (stored and committed when this is raised). ``params``: value, volume, unit."""

    key = "notes.reading_review"

    def __init__(self, key: str | None = None, /, *, review_id: int, check: "ReadingCheck", **params: Any) -> None:
        super().__init__(key, **params)
        self.review_id = review_id
        self.check = check


@dataclass(frozen=True)
class Window:
    """One reading window: the one open on the local day, or else the next to open.

    ``period`` is the month its readings count for (:func:`periods.reading_period`); a window
    that spans the month's end (profile 28 -> 3) has one period, the month it opens in."""

    open: bool
    opens_on: date  # first day of this window
    closes_on: date  # last day of this window (inclusive)
    period: str  # 'YYYY-MM' its readings count for


@dataclass(frozen=True)
class ReadingCheck:
    """Everything the reading form needs, and whether the reading may be submitted."""

    meter_id: int
    period: str  # the period a reading made now belongs to
    error: Notice | None
    warning: Notice | None  # needs the customer's confirmation; only when there is no error
    warning_kind: str | None  # review (not booked: goes to staff) | rollover | zero | jump (each by its flag)
    note: Notice | None  # said next to the result: typed decimals were not counted
    value: int | None  # the parsed reading (None when not given or not readable)
    volume: int | None  # units since the base, over zero for a roll-over (None without a value or a base)
    rollover: bool  # the value is read as the dial having passed zero since the base (to confirm)
    position: int | None  # the counter's position the value would be stored at (rollovers * 10**digits + value)
    review_limit: int | None  # units since the base above which a reading goes to staff review
    base_value: int | None  # what the reading may not be below (None: first reading of the meter)
    base_taken_at: datetime | None
    base_date: date | None  # local date of the base reading
    base_source: str | None  # customer | inspector | controller | estimate
    usual_monthly: Decimal | None  # the meter's usual use a month (3 places), if known
    cost: Decimal | None  # estimated cost of the volume (2 places); None without a tariff
    calculation: Calculation | None
    submissions_limit: int
    submissions_used: int
    submissions_left: int
    next_slot: int | None  # the slot a submission now would take
    window: Window
    meter_active: bool
    digits: int
    max_value: int
    unit: str
    # A correction (issue 14 point 7): the customer's reading of this period that a submission now
    # replaces (the latest one, by slot); its volume is counted from the same base as that one's.
    replaces_value: int | None = None
    replaces_taken_at: datetime | None = None
    replaces_user_id: int | None = None  # who sent it (None: before the account was linked)

    @property
    def ok(self) -> bool:
        """No error (a warning may still need confirming)."""
        return self.error is None

    @property
    def needs_confirmation(self) -> bool:
        return self.error is None and self.warning is not None

    @property
    def can_submit(self) -> bool:
        """Whether the form should be shown at all: active meter, window open, a slot left."""
        return self.meter_active and self.window.open and self.submissions_left > 0

    @property
    def window_open(self) -> bool:
        return self.window.open

    @property
    def window_opens_on(self) -> date | None:
        """When the window opens next (None while it is open)."""
        return None if self.window.open else self.window.opens_on


@dataclass(frozen=True)
class Submission:
    """A stored customer reading (returned after the commit) and the check it passed."""

    reading: Reading
    check: ReadingCheck

    @property
    def submissions_used(self) -> int:
        return self.check.submissions_used + 1

    @property
    def submissions_left(self) -> int:
        return max(0, self.check.submissions_left - 1)


class HistoryEntry(NamedTuple):
    """A reading as a meter's history lists it. ``user_id``: the portal user who sent a customer
    reading (None: sent before the account was linked, or by staff); ``replaced_by``: the value of
    the same period's later customer reading, or of the staff correction, that corrected this one
    (None: it counts); ``id``: the reading's id; ``corrects``: True for a staff correction."""

    value: int
    taken_at: datetime
    source: str
    period: str
    slot: int | None
    user_id: int | None = None
    replaced_by: int | None = None
    id: int = 0
    corrects: bool = False


# --------------------------------------------------------------------------------------------
# Pure helpers


def reading_window(utility: Utility, now: datetime) -> Window:
    """The reading window open on the local day of ``now`` (in ``utility.tz``), or else the next
    one to open, with the period its readings count for.

    A ``to_day`` beyond the month's length means "to the end of the month"; a window with
    ``to_day < from_day`` opens on ``from_day`` of one month and closes on ``to_day`` of the next.
    """
    _require_aware(now, "now")
    return _window_on(utility, now.astimezone(utility.tz).date())


def next_window(utility: Utility, window: Window) -> Window:
    """The window after ``window`` (the one that opens after it closes)."""
    return _window_on(utility, window.closes_on + timedelta(days=1))


def window_for_period(utility: Utility, period: str) -> tuple[date, date]:
    """The first and last local day of the reading window whose readings count for ``period``
    ('YYYY-MM'): the window opening in that month, or (``previous_month_until``) in the next."""
    start = periods.period_start(period).replace(day=utility.reading_window.from_day)
    nxt = periods.next_period_start(period).replace(day=utility.reading_window.from_day)
    for day in (start, nxt):
        w = _window_on(utility, day)
        if w.period == period:
            return w.opens_on, w.closes_on
    raise AssertionError("unreachable: the profile's validator keeps a window in one period")  # pragma: no cover


def _window_on(utility: Utility, day: date) -> Window:
    w = utility.reading_window

    def opening_in(period: str) -> tuple[date, date]:
        y, m = periods.parse_period(period)
        start = date(y, m, w.from_day)
        if w.spans_month_end:
            nxt = periods.next_period_start(period)
            return start, date(nxt.year, nxt.month, w.to_day)
        return start, date(y, m, min(w.to_day, calendar.monthrange(y, m)[1]))

    month = f"{day.year:04d}-{day.month:02d}"
    for shift in (-1, 0, 1):  # the window that opened last month may still be open
        start, end = opening_in(periods.add_months(month, shift))
        if day <= end:
            return Window(start <= day, start, end, periods.reading_period_of_day(start, utility))
    raise AssertionError("unreachable: next month's window closes after the day")  # pragma: no cover


def submissions_limit(utility: Utility) -> int:
    return min(utility.submissions_per_month, MAX_SLOTS)


def parse_reading(raw: Any, digits: int) -> int:
    """The reading typed by a customer as an int (whole units), or ReadingRefused saying why not.

    Accepts a str read by :func:`numerals.read_counter` (digit groups with any space, decimal
    drums after ``,`` or ``.`` dropped, digits of one script: ``'12 345'``, ``'123,4'``,
    ``'１２３'``) or a plain non-negative int; refuses everything else (None, bool, float,
    ``'-3'``, ``'12 3'``, ``'²'``, ...).
    A check (:func:`check_reading`) also says, in its ``note``, that decimals were not counted.
    """
    value, error, _note = _parse(raw, digits)
    if error is not None:
        raise ReadingRefused(error.key, **error.params)
    assert value is not None  # _parse gives a value or an error
    return value


def _parse(raw: Any, digits: int) -> tuple[int | None, Notice | None, Notice | None]:
    """(value, error, note): the note says that typed decimals were not counted."""
    cap = 10**digits - 1
    too_big = Notice("errors.reading_above_capacity", {"max": cap, "digits": digits})
    not_digits = Notice("errors.reading_not_digits", {"digits": digits})
    if raw is None:
        return None, Notice("errors.reading_required"), None
    if isinstance(raw, bool):
        return None, not_digits, None
    if isinstance(raw, int):
        if raw < 0:
            return None, not_digits, None
        return (None, too_big, None) if raw > cap else (raw, None, None)
    if not isinstance(raw, str):
        return None, not_digits, None
    try:
        typed = numerals.read_counter(raw)
    except numerals.NotANumber as e:
        if e.problem == "empty":
            return None, Notice("errors.reading_required"), None
        if e.problem == "groups":
            return None, Notice("errors.reading_groups", {"digits": digits}), None
        return None, not_digits, None
    significant = typed.significant
    if len(significant) > digits:  # decided before int(): a huge string never becomes an int
        return None, too_big, None
    value = int(significant)
    note = Notice("notes.reading_decimals", {"value": value}) if typed.fraction else None
    return value, None, note


def _require_aware(moment: Any, name: str) -> None:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (UTC)")


# --------------------------------------------------------------------------------------------
# Queries


def _effective():
    """Readings that count: all but a customer submission corrected by a later one of its period
    and a reading staff corrected (a row whose ``corrects_id`` names it; issue 16 point 6)."""
    later = aliased(Reading)
    fix = aliased(Reading)
    return sa.and_(
        sa.or_(
            col(Reading.source) != "customer",
            ~sa.exists().where(
                col(later.meter_id) == col(Reading.meter_id),
                col(later.period) == col(Reading.period),
                col(later.source) == "customer",
                col(later.slot) > col(Reading.slot),
            ),
        ),
        ~sa.exists().where(col(fix.corrects_id) == col(Reading.id)),
    )


def _replaced(session: Session, meter_id: int, period: str) -> Reading | None:
    """The customer's reading of ``period`` that a submission now would correct: the one in the
    highest slot (None before the month's first submission)."""
    return session.exec(
        select(Reading).where(Reading.meter_id == meter_id, Reading.period == period, Reading.source == "customer")
        .order_by(col(Reading.slot).desc()).limit(1)
    ).first()


def _others(meter_id: int, exclude_customer_period: str | None, skip: int | None = None):
    conds = [Reading.meter_id == meter_id, _effective()]
    if exclude_customer_period is not None:
        conds.append(sa.or_(col(Reading.source) != "customer", col(Reading.period) != exclude_customer_period))
    if skip is not None:  # the reading a staff correction replaces
        conds.append(col(Reading.id) != skip)
    return conds


def _before(session: Session, meter_id: int, moment: datetime, exclude: str | None,
            skip: int | None = None) -> Reading | None:
    """The latest effective reading taken at or before ``moment`` (other than ``skip``)."""
    return session.exec(
        select(Reading)
        .where(*_others(meter_id, exclude, skip), Reading.taken_at <= moment)
        .order_by(col(Reading.taken_at).desc(), col(Reading.id).desc())
        .limit(1)
    ).first()


def _after(session: Session, meter_id: int, moment: datetime, exclude: str | None) -> Reading | None:
    """The earliest effective reading taken after ``moment`` (a back-dated insert must fit)."""
    return session.exec(
        select(Reading)
        .where(*_others(meter_id, exclude), Reading.taken_at > moment)
        .order_by(col(Reading.taken_at).asc(), col(Reading.id).asc())
        .limit(1)
    ).first()


def _usual_monthly(session: Session, meter_id: int, base: Reading, exclude: str | None, digits: int
                   ) -> Decimal | None:
    """Usual use a month: growth from the earliest reading of the last year up to the base,
    divided by the months between them; None with less than MIN_HISTORY_DAYS of history."""
    first = session.exec(
        select(Reading)
        .where(
            *_others(meter_id, exclude),
            Reading.taken_at >= base.taken_at - timedelta(days=HISTORY_DAYS),
            Reading.taken_at <= base.taken_at,
        )
        .order_by(col(Reading.taken_at).asc(), col(Reading.id).asc())
        .limit(1)
    ).first()
    if first is None:
        return None
    seconds = int((base.taken_at - first.taken_at).total_seconds())
    growth = position(base, digits) - position(first, digits)
    if seconds < MIN_HISTORY_DAYS * 86400 or growth < 0:
        return None
    months = Decimal(seconds) / (86400 * DAYS_PER_MONTH)
    return (Decimal(growth) / months).quantize(_VOLUME_PLACES, rounding=ROUND_HALF_UP)


def _load_meter(session: Session, meter_id: Any, allowed_account_ids: Iterable[int] | None, *, lock: bool) -> Meter:
    """The meter, or NotFound — the same for a missing meter and one the caller may not see."""
    require_id(meter_id, NotFound("errors.meter_not_found"), max_id=INT_MAX)
    stmt = select(Meter).where(Meter.id == meter_id)
    if lock:
        stmt = stmt.with_for_update()
    meter = session.exec(stmt).first()
    if meter is None:
        raise NotFound("errors.meter_not_found")
    if allowed_account_ids is not None and meter.account_id not in set(allowed_account_ids):
        raise NotFound("errors.meter_not_found")
    return meter


def _customer_slots(session: Session, meter_id: int, period: str) -> tuple[int, int]:
    """(number of customer submissions, highest slot used) for a meter and period."""
    count, top = session.execute(
        sa.select(sa.func.count(col(Reading.id)), sa.func.max(col(Reading.slot))).where(
            col(Reading.meter_id) == meter_id, col(Reading.period) == period, col(Reading.source) == "customer"
        )
    ).one()
    return int(count or 0), int(top or 0)


# --------------------------------------------------------------------------------------------
# The check


def _evaluate(session: Session, utility: Utility, meter: Meter, raw: Any, now: datetime, *, parse: bool) -> ReadingCheck:
    _require_aware(now, "now")
    tz = utility.tz
    window = reading_window(utility, now)
    # The period of the window open now (== periods.reading_period(now): a window is one period),
    # or of the next one while it is closed: the slots and the base of the reading to come.
    period = window.period
    limit = submissions_limit(utility)
    meter_id = stored_id(meter)
    used, top_slot = _customer_slots(session, meter_id, period)
    left = max(0, limit - used)
    next_slot = top_slot + 1 if used < limit and top_slot < limit else None
    cap = 10**meter.digits - 1

    base = _before(session, meter_id, now, period)
    base_date = base.taken_at.astimezone(tz).date() if base else None
    replaces = _replaced(session, meter_id, period) if used and next_slot is not None else None

    # What is wrong with the meter or the moment (shown before anything is typed).
    state_error: Notice | None = None
    if not meter.is_active:
        state_error = Notice("errors.meter_inactive", {"serial": meter.serial})
    elif not window.open:
        state_error = Notice(
            "errors.reading_window_closed",
            {"opens": window.opens_on.isoformat(), "closes": window.closes_on.isoformat()},
        )
    elif next_slot is None:
        state_error = Notice("errors.reading_limit_reached", {"limit": limit, "used": used, "for_month": period})

    value: int | None = None
    value_error: Notice | None = None
    note: Notice | None = None
    judged = _Judged()
    if parse:
        value, value_error, note = _parse(raw, meter.digits)
    if value is not None and value_error is None:  # parsed: _parse gives a value or an error
        judged = _judge(session, utility, meter, value, base, now, period)
    error = state_error or value_error or judged.error
    return ReadingCheck(
        meter_id=meter_id,
        period=period,
        error=error,
        warning=None if error else judged.warning,
        warning_kind=None if error or judged.warning is None else judged.kind,
        note=note,
        value=value,
        volume=judged.volume,
        rollover=judged.rollover and error is None,
        position=judged.position,
        review_limit=judged.review_limit,
        base_value=base.value if base else None,
        base_taken_at=base.taken_at if base else None,
        base_date=base_date,
        base_source=base.source if base else None,
        usual_monthly=judged.usual,
        cost=judged.cost,
        calculation=judged.calculation,
        submissions_limit=limit,
        submissions_used=used,
        submissions_left=left,
        next_slot=next_slot,
        window=window,
        meter_active=bool(meter.is_active),
        digits=meter.digits,
        max_value=cap,
        unit=meter.unit,
        replaces_value=replaces.value if replaces else None,
        replaces_taken_at=replaces.taken_at if replaces else None,
        replaces_user_id=replaces.user_id if replaces else None,
    )


@dataclass(frozen=True)
class _Judged:
    """What a parsed value means against the meter's readings (see :func:`_judge`)."""

    error: Notice | None = None
    warning: Notice | None = None
    kind: str | None = None  # of the warning: review | rollover | zero | jump
    volume: int | None = None
    rollover: bool = False
    position: int | None = None
    usual: Decimal | None = None
    cost: Decimal | None = None
    calculation: Calculation | None = None
    review_limit: int | None = None  # units: the hard limit for the months since the base


def rollover_zone(utility: Utility, digits: int) -> int:
    """How many units at the top of a ``digits`` dial count as "near the top" (at least 1):
    ``rollover_percent`` of the profile's ``[readings]`` of the range 10**digits, rounded up."""
    modulus = 10**digits
    return max(1, int((Decimal(modulus) * utility.readings.rollover_percent / 100).to_integral_value(ROUND_CEILING)))


def rollover_volume(utility: Utility, digits: int, base_value: int, value: int) -> int | None:
    """The units from ``base_value`` over zero to a smaller ``value`` on a ``digits`` dial, when
    the meter may have passed zero: the base in the top :func:`rollover_zone` of the dial and the
    way over zero no longer than the zone (5 digits, 1 %: 99 986 -> 11 is 25; 50 000 -> 11 and
    99 986 -> 99 000 are None). None otherwise: then a smaller value is below the previous reading.
    Never 0 or negative."""
    modulus, zone = 10**digits, rollover_zone(utility, digits)
    volume = modulus - base_value + value
    return volume if base_value >= modulus - zone and volume <= zone else None


def position(reading: Reading, digits: int) -> int:
    """The counter's position of a stored reading: rollovers * 10**digits + value (units)."""
    return reading.rollovers * 10**digits + reading.value


def _judge(session: Session, utility: Utility, meter: Meter, value: int, base: Reading | None, now: datetime,
           period: str) -> _Judged:
    """A parsed value against the base and a later reading: the error, or the volume, its cost,
    the usual use and the warning to confirm (a roll-over over zero, no use at all, or a jump)."""
    tz, digits, meter_id = utility.tz, meter.digits, stored_id(meter)
    turns = base.rollovers if base is not None else 0
    rollover = False
    if base is not None and value < base.value:
        over = rollover_volume(utility, digits, base.value, value)
        if over is None:
            base_date = base.taken_at.astimezone(tz).date().isoformat()
            return _Judged(Notice("errors.reading_below_previous", {"previous": base.value, "date": base_date,
                                                                    "unit": meter.unit}))
        turns, rollover = turns + 1, True
    pos = turns * 10**digits + value
    nxt = _after(session, meter_id, now, period)
    if nxt is not None and pos > position(nxt, digits):
        return _Judged(Notice(
            "errors.reading_above_next", {"next": nxt.value, "date": nxt.taken_at.astimezone(tz).date().isoformat(),
                                          "unit": meter.unit}
        ), rollover=rollover, position=pos)
    if base is None:
        return _Judged(position=pos)
    volume = pos - position(base, digits)
    calc = cost = None
    try:
        _tariff, steps = tariff_at(session, meter.service, now.astimezone(tz).date())
    except NoTariff:
        pass
    else:
        calc = calculate(steps, Decimal(volume))
        cost = calc.amount
    usual = _usual_monthly(session, meter_id, base, period, digits)
    since = base.taken_at.astimezone(tz).date().isoformat()
    warning: Notice | None = None
    kind: str | None = None
    months = max(Decimal(1), Decimal(int((now - base.taken_at).total_seconds())) / (86400 * DAYS_PER_MONTH))
    hard = utility.readings.review_limit(meter.service)
    limit = None if hard is None else int((hard * months).to_integral_value(ROUND_CEILING))
    if limit is not None and volume > limit:
        kind = "review"
        warning = Notice("warnings.reading_review", {
            "volume": volume, "unit": meter.unit, "since": since, "limit": hard,
        })
    elif rollover:
        kind = "rollover"
        warning = Notice("warnings.reading_rollover", {
            "previous": base.value, "value": value, "top": 10**digits - 1, "volume": volume, "unit": meter.unit,
        })
    elif volume == 0:
        kind = "zero"
        warning = Notice("warnings.reading_zero", {"previous": base.value, "date": since, "unit": meter.unit})
    elif usual is not None and volume > JUMP_FLOOR:
        if Decimal(volume) > utility.jump_warning_factor * usual * months:
            kind = "jump"
            warning = Notice("warnings.reading_jump", {
                "volume": volume, "usual": usual, "unit": meter.unit, "since": since,
                "factor": utility.jump_warning_factor,
            })
    return _Judged(None, warning, kind, volume, rollover, pos, usual, cost, calc, limit)


def meter_status(
    session: Session, utility: Utility, meter_id: Any, *, now: datetime,
    allowed_account_ids: Iterable[int] | None = None,
) -> ReadingCheck:
    """The reading form's state before anything is typed: base reading, window, submissions
    used/left, and the error that hides the form (inactive meter, window closed, limit reached).
    No writes."""
    meter = _load_meter(session, meter_id, allowed_account_ids, lock=False)
    return _evaluate(session, utility, meter, None, now, parse=False)


def check_reading(
    session: Session, utility: Utility, meter_id: Any, raw: Any, *, now: datetime,
    allowed_account_ids: Iterable[int] | None = None,
) -> ReadingCheck:
    """Check a typed reading (live, while typing): no writes. NotFound for a meter the caller
    may not see."""
    meter = _load_meter(session, meter_id, allowed_account_ids, lock=False)
    return _evaluate(session, utility, meter, raw, now, parse=True)


# --------------------------------------------------------------------------------------------
# Writes


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    if _sqlstate(exc) in _RETRY_SQLSTATES:
        return True
    msg = str(exc.orig).lower()
    return "database is locked" in msg or "database is busy" in msg


def _is_slot_conflict(exc: sa.exc.IntegrityError) -> bool:
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None) == _SLOT_CONSTRAINT:
        return True
    msg = str(orig)
    return _SLOT_CONSTRAINT in msg or "reading.meter_id, reading.period, reading.slot" in msg


def _with_retry(work: Callable[[], T]) -> T:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return work()
        except sa.exc.DBAPIError as e:
            if isinstance(e, sa.exc.IntegrityError) or not _retryable(e):
                raise
            if attempt == MAX_ATTEMPTS:
                raise ReadingRefused("errors.reading_busy") from e
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def submit_reading(
    engine: Engine, utility: Utility, meter_id: Any, raw: Any, *, user_id: int | None = None,
    now: datetime, confirm: bool = False, rollover: bool = False, confirm_zero: bool = False,
    allowed_account_ids: Iterable[int] | None = None,
) -> Submission:
    """Check and store a customer's reading in one write transaction that locks the meter.

    Each warning is confirmed by its own flag, and only by ``True``: ``confirm`` a jump above the
    usual use, ``rollover`` a smaller reading near the top of the dial read as having passed zero
    (stored with ``rollovers`` one more than the base's, so its volume is the real one),
    ``confirm_zero`` a reading equal to the base (no consumption). A refused warning uses no
    submission. The check
    runs again here, on the locked meter: a flag confirms what the check finds, it decides nothing.

    Raises NotFound (missing meter, or not among ``allowed_account_ids``) or ReadingRefused
    (the error's key; or the warning's key when its flag is not True). Returns after the
    commit, so a returned Submission is stored.
    """
    confirmed = {"jump": confirm is True, "rollover": rollover is True, "zero": confirm_zero is True}
    _require_aware(now, "now")
    allowed = None if allowed_account_ids is None else frozenset(allowed_account_ids)

    def attempt() -> Submission | ReadingSentToReview:
        try:
            with write_session(engine) as s:
                meter = _load_meter(s, meter_id, allowed, lock=True)
                check = _evaluate(s, utility, meter, raw, now, parse=True)
                if check.error is not None:
                    raise ReadingRefused(check.error.key, check=check, **check.error.params)
                if check.warning_kind == "review":
                    return _to_review(s, meter, check, now, user_id)
                if check.warning is not None and not confirmed.get(check.warning_kind or ""):
                    raise ReadingRefused(check.warning.key, check=check, **check.warning.params)
                assert check.value is not None and check.position is not None  # no error: the value parsed
                reading = Reading(
                    meter_id=stored_id(meter), value=check.value, taken_at=now, period=check.period,
                    source="customer", slot=check.next_slot, user_id=user_id,
                    rollovers=check.position // 10**meter.digits,
                )
                s.add(reading)
                s.flush()
                rollups.changed(s, utility, reading=reading)
        except sa.exc.IntegrityError as e:
            if not _is_slot_conflict(e):
                raise
            limit = submissions_limit(utility)
            raise ReadingRefused("errors.reading_limit_reached", limit=limit, used=limit,
                                 for_month=periods.reading_period(now, utility)) from None
        return Submission(reading, check)

    result = _with_retry(attempt)
    if isinstance(result, ReadingSentToReview):
        raise result  # after the commit: the review is stored, the reading is not booked
    return result


def _to_review(session: Session, meter: Meter, check: ReadingCheck, now: datetime,
               user_id: int | None) -> ReadingSentToReview:
    """Keep a reading above the hard limit for staff: one open review per meter and period (the
    meter row is locked), so repeating it fills no queue."""
    meter_id = stored_id(meter)
    assert check.value is not None and check.position is not None and check.volume is not None
    assert check.review_limit is not None  # a review warning comes with its limit
    waiting = session.execute(
        sa.select(col(ReadingReview.taken_at)).where(
            col(ReadingReview.meter_id) == meter_id, col(ReadingReview.period) == check.period,
            col(ReadingReview.status) == "open",
        ).limit(1)
    ).scalar_one_or_none()
    if waiting is not None:
        raise ReadingRefused("errors.reading_in_review", check=check, date=waiting)
    review = ReadingReview(
        meter_id=meter_id, user_id=user_id, value=check.value, rollovers=check.position // 10**meter.digits,
        taken_at=now, period=check.period, base_value=check.base_value, volume=check.volume,
        limit_volume=check.review_limit, reason="review.above_hard_limit",
    )
    session.add(review)
    session.flush()
    return ReadingSentToReview(review_id=stored_id(review), check=check, value=check.value, volume=check.volume,
                               unit=meter.unit)


def _record(session: Session, utility: Utility, meter_id: Any, value: Any, source: str, taken_at: datetime,
            user_id: int | None, rollover: bool, review_id: int | None = None,
            corrects: Reading | None = None) -> Reading:
    meter = _load_meter(session, meter_id, None, lock=True)
    parsed, error, _note = _parse(value, meter.digits)
    if error is not None:
        raise ReadingRefused(error.key, **error.params)
    assert parsed is not None  # _parse gives a value or an error
    tz = utility.tz
    skip = stored_id(corrects) if corrects is not None else None
    prev = _before(session, stored_id(meter), taken_at, None, skip)
    turns = prev.rollovers if prev is not None else 0
    if corrects is not None:  # the dial passed zero before the reading it corrects: so before this one
        rollover = corrects.rollovers > turns
    if prev is not None and parsed < prev.value:
        if rollover is not True or rollover_volume(utility, meter.digits, prev.value, parsed) is None:
            raise ReadingRefused(
                "errors.reading_below_previous",
                previous=prev.value, date=prev.taken_at.astimezone(tz).date().isoformat(), unit=meter.unit,
            )
        turns += 1
    nxt = _after(session, stored_id(meter), taken_at, None)
    if nxt is not None and turns * 10**meter.digits + parsed > position(nxt, meter.digits):
        raise ReadingRefused(
            "errors.reading_above_next", next=nxt.value, date=nxt.taken_at.astimezone(tz).date().isoformat(),
            unit=meter.unit,
        )
    reading = Reading(
        meter_id=stored_id(meter), value=parsed, taken_at=taken_at, period=periods.reading_period(taken_at, utility),
        source=source, slot=None, user_id=user_id, rollovers=turns, review_id=review_id,
        corrects_id=skip,
    )
    session.add(reading)
    session.flush()
    rollups.changed(session, utility, reading=reading)
    return reading


def record_reading(
    engine: Engine | None, utility: Utility, meter_id: int, value: int, *, source: str, taken_at: datetime,
    user_id: int | None = None, session: Session | None = None, rollover: bool = False,
    review_id: int | None = None,
) -> Reading:
    """Store a reading by staff or an import (inspector | controller | estimate): no slot, no
    window, no monthly limit, but never below the latest earlier reading nor above the next later
    one (by ``taken_at``, compared by the counter's position), and within the meter's capacity.
    ``rollover=True`` says the dial passed zero since the earlier reading (the same roll-over
    zone as a customer's). ``review_id``: the staff review it books (``services.reviews.accept``;
    unique in the schema). Same locking as submit_reading.

    With ``session`` the work joins the caller's transaction (no commit, no retry); otherwise
    it commits its own and returns after the commit.
    """
    if source not in STAFF_SOURCES:
        raise InvalidInput("errors.reading_bad_source", source=str(source)[:20])
    _require_aware(taken_at, "taken_at")
    if session is not None:
        return _record(session, utility, meter_id, value, source, taken_at, user_id, rollover, review_id)
    if engine is None:
        raise ValueError("record_reading needs an engine or a session")

    def attempt() -> Reading:
        with write_session(engine) as s:
            reading = _record(s, utility, meter_id, value, source, taken_at, user_id, rollover, review_id)
        return reading

    return _with_retry(attempt)


def record_correction(session: Session, utility: Utility, original: Reading, value: Any, *,
                      user_id: int | None = None) -> Reading:
    """Store a staff correction of the booked reading ``original`` in the caller's transaction: a
    new reading (source ``controller``, no slot) at the original's time and period with
    ``corrects_id`` naming it; the original is kept and no longer counts (``_effective``). The value
    must fit between the meter's other readings like any staff reading (:func:`record_reading`);
    a roll-over the original had is kept. The unique ``corrects_id`` refuses a second correction of
    the same row (IntegrityError; ``services.corrections`` checks first). Raises ReadingRefused."""
    return _record(session, utility, original.meter_id, value, "controller", original.taken_at, user_id, False,
                   corrects=original)


def is_effective(session: Session, reading_id: int) -> bool:
    """True when the reading counts (not replaced by a later customer reading of its period, not
    corrected by staff)."""
    return session.execute(sa.select(col(Reading.id)).where(col(Reading.id) == reading_id, _effective())).first() \
        is not None


@dataclass(frozen=True)
class Refiled:
    """What :func:`refile_periods` changed (or, without ``apply``, would change)."""

    readings: int  # reading rows whose stored period differs from the rule's
    reviews: int  # reading_review rows likewise
    moves: dict[tuple[str, str], int]  # (stored period, the rule's period) -> reading rows
    applied: bool


def refile_periods(engine: Engine, utility: Utility, *, apply: bool = False) -> Refiled:
    """Make every stored ``period`` of ``reading`` and ``reading_review`` what
    :func:`periods.reading_period` gives for its ``taken_at``: for a portal whose profile's rule
    changed (Kremenchukgaz's ``previous_month_until = 5``, issue 14.9: rows of the 1st-5th stored
    under the month they were sent in). Without ``apply`` it only counts.

    One write transaction; rows move in an order that frees a (meter, period, slot) before another
    row takes it. Raises ReadingRefused("errors.reading_refile_conflict") and changes nothing if
    two customer readings of a meter would share a slot of one period."""
    with write_session(engine) as s:
        changes: list[tuple[int, str, str]] = []
        moves: dict[tuple[str, str], int] = {}
        rows = s.execute(sa.select(col(Reading.id), col(Reading.taken_at), col(Reading.period)),
                         execution_options={"yield_per": 5000})
        for rid, taken_at, old in rows:
            new = periods.reading_period(taken_at, utility)
            if new != old:
                changes.append((rid, old, new))
                moves[(old, new)] = moves.get((old, new), 0) + 1
        reviews = [(rid, new) for rid, taken_at, old in s.execute(
            sa.select(col(ReadingReview.id), col(ReadingReview.taken_at), col(ReadingReview.period)))
            if (new := periods.reading_period(taken_at, utility)) != old]
        if apply and (changes or reviews):
            # earlier first for rows moving back, later first for rows moving on: each frees its
            # slot for the row that moves into it
            back = sorted((c for c in changes if c[2] < c[1]), key=lambda c: c[2])
            on = sorted((c for c in changes if c[2] > c[1]), key=lambda c: c[2], reverse=True)
            stmt = sa.update(Reading).where(col(Reading.id) == sa.bindparam("rid")).values(
                period=sa.bindparam("new"))
            try:
                for rid, _old, new in back + on:
                    s.execute(stmt, {"rid": rid, "new": new})
            except sa.exc.IntegrityError as e:
                if not _is_slot_conflict(e):
                    raise
                raise ReadingRefused("errors.reading_refile_conflict", moved=len(changes)) from None  # rolled back
            rstmt = sa.update(ReadingReview).where(col(ReadingReview.id) == sa.bindparam("rid")).values(
                period=sa.bindparam("new"))
            for rid, new in reviews:
                s.execute(rstmt, {"rid": rid, "new": new})
            rollups.changed(s, utility, periods={p for _rid, old, new in changes for p in (old, new)}, accounts=())
    return Refiled(len(changes), len(reviews), moves, apply)


# --------------------------------------------------------------------------------------------
# Reads


def history(session: Session, meter_id: int, limit: int = 12) -> list[HistoryEntry]:
    """A meter's readings, newest first: (value, taken_at, source, period, slot, user_id,
    replaced_by). A customer reading corrected by a later one of its period (what
    ``_effective`` leaves out of every base and volume) carries the value that replaced it.

    Checks no ownership: call meter_status/check_reading with ``allowed_account_ids`` first."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidInput("errors.invalid_input")
    require_id(meter_id, NotFound("errors.meter_not_found"), max_id=INT_MAX)
    limit = max(1, min(limit, 1000))
    fix = aliased(Reading)
    rows = session.execute(
        sa.select(col(Reading.value), col(Reading.taken_at), col(Reading.source), col(Reading.period),
                  col(Reading.slot), col(Reading.user_id), _effective().label("counts"), col(Reading.id),
                  col(Reading.corrects_id), col(fix.value).label("fixed"))
        .outerjoin(fix, col(fix.corrects_id) == col(Reading.id))
        .where(col(Reading.meter_id) == meter_id)
        .order_by(col(Reading.taken_at).desc(), col(Reading.id).desc())
        .limit(limit)
    ).all()
    out: list[HistoryEntry] = []
    for value, taken_at, source, period, slot, user_id, counts, rid, corrects_id, fixed in rows:
        replaced: int | None = fixed  # a staff correction names it
        if not counts and replaced is None:  # the correction is newer, so it is in the list: the next slot
            later = min(
                (e for e in out if e.source == "customer" and e.period == period and (e.slot or 0) > (slot or 0)),
                key=lambda e: e.slot or 0, default=None)
            replaced = None if later is None else later.value
        out.append(HistoryEntry(value, taken_at, source, period, slot, user_id, replaced, rid,
                                corrects_id is not None))
    return out


def last_reading(session: Session, meter_id: int) -> Reading | None:
    """The meter's latest reading by time taken (any source), or None."""
    require_id(meter_id, NotFound("errors.meter_not_found"), max_id=INT_MAX)
    return session.exec(
        select(Reading).where(col(Reading.meter_id) == meter_id)
        .order_by(col(Reading.taken_at).desc(), col(Reading.id).desc()).limit(1)
    ).first()
