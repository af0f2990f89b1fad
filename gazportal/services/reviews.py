"""The readings review queue of the staff console (issue 16 point 6; issue 14 point 5 fills it).

A customer's reading above the profile's hard plausibility limit is not booked: the submit keeps
it in ``reading_review`` (``services.readings._to_review``). Staff work the queue here:

* **List** (:func:`queue`) by tab — :data:`TABS`: ``held`` (open reviews, oldest first),
  ``accepted`` and ``rejected`` (decided, newest first) — with the count of every tab.
* **Accept** (:func:`accept`): books the held reading as a new ``reading`` row (source
  ``controller``: a reading the utility's staff vouch for; no slot, so it uses none of the
  customer's submissions) through ``readings.record_reading`` (never below the earlier reading nor
  above a later one), with ``reading.review_id`` naming the review. The review moves
  open → accepted.
* **Reject** (:func:`reject`): open → rejected; nothing is booked.

Both take a stated reason (required for a reject, at most :data:`REASON_MAX` characters, stored
on the review and in the audit row) and are written through ``services.audit.audited`` (the
review before → after, in the same transaction). The customer who sent the reading is told in
their language by the channel the profile reaches them on (e-mail over SMTP, or SMS), after the
commit, and sees the decision and the reason on their dashboard next to the meter
(:func:`notices_for`).

A review's status moves forward only: the decision is one ``UPDATE ... WHERE status = 'open'``
(one of concurrent decisions wins; the others are told it is decided), a trigger refuses any move
back (migration 0012), and ``reading.review_id`` is unique: accepting twice books once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, func, select

from gazportal.models import Account, Meter, Reading, ReadingReview, User
from gazportal.models._base import stored_id
from gazportal.services import readings
from gazportal.services.accounts.holders import _tell as tell_users
from gazportal.services.audit import Actor, Change, audited
from gazportal.services.errors import DomainError, FormErrors, InvalidInput, NotFound
from gazportal.services.i18n import format_period, format_units
from gazportal.services.ids import as_id
from gazportal.services.messages import clean_text

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings, Utility

TABS = ("held", "accepted", "rejected")
_STATUS = {"held": "open", "accepted": "accepted", "rejected": "rejected"}
REASON_MAX = 500
REASON_MIN = 2
MAX_LIST = 200
NOTICE_DAYS = 62  # a decision stays on the customer's dashboard this long (two billing months)
BOOKED_SOURCE = "controller"
_ACTIONS = {"accepted": "review.accept", "rejected": "review.reject"}


class AlreadyDecided(DomainError):
    """The review was decided already (``params["status"]``): a decision is made once."""

    key = "errors.review_decided"


@dataclass(frozen=True)
class ReviewItem:
    id: int
    status: str
    meter_id: int
    service: str
    unit: str
    serial: str
    account_number: str
    customer: str
    value: int
    base_value: int | None
    volume: int
    limit_volume: int
    period: str
    reason: str  # a locales key: why it is held
    taken_at: datetime
    decided_at: datetime | None
    decision_reason: str


@dataclass(frozen=True)
class Queue:
    items: list[ReviewItem]
    counts: dict[str, int]  # per tab


@dataclass(frozen=True)
class Decision:
    review_id: int
    status: str
    reading_id: int | None  # the booked reading (accepted)


@dataclass(frozen=True)
class Notice:
    """What a customer sees next to a meter: their reading's review and its outcome."""

    meter_id: int
    status: str  # open | accepted | rejected
    value: int
    unit: str
    period: str
    reason: str  # staff's stated reason ("" while open)
    decided_at: datetime | None


def _items(session: Session, stmt: Any) -> list[ReviewItem]:
    rows = session.execute(stmt).all()
    return [ReviewItem(id=stored_id(r), status=r.status, meter_id=r.meter_id, service=m.service, unit=m.unit,
                       serial=m.serial, account_number=number,
                       customer=f"{surname or ''} {name or ''}".strip(), value=r.value, base_value=r.base_value,
                       volume=r.volume, limit_volume=r.limit_volume, period=r.period, reason=r.reason,
                       taken_at=r.taken_at, decided_at=r.decided_at, decision_reason=r.decision_reason)
            for r, m, number, surname, name in rows]


def queue(session: Session, tab: str, *, limit: int = MAX_LIST) -> Queue:
    """The reviews of ``tab`` (one of :data:`TABS`; anything else: ``held``) with their meter,
    account and customer: held ones oldest first, decided ones newest decision first; at most
    ``limit``. ``counts``: how many each tab holds."""
    status = _STATUS.get(tab, "open")
    stmt = (sa.select(ReadingReview, Meter, col(Account.number), col(User.surname), col(User.name))
            .join(Meter, col(Meter.id) == col(ReadingReview.meter_id))
            .join(Account, col(Account.id) == col(Meter.account_id))
            .join(User, col(User.id) == col(ReadingReview.user_id), isouter=True)
            .where(col(ReadingReview.status) == status))
    if status == "open":
        stmt = stmt.order_by(col(ReadingReview.created_at), col(ReadingReview.id))
    else:
        stmt = stmt.order_by(col(ReadingReview.decided_at).desc(), col(ReadingReview.id).desc())
    items = _items(session, stmt.limit(max(1, min(limit, MAX_LIST))))
    by_status = dict(session.exec(select(ReadingReview.status, func.count()).group_by(col(ReadingReview.status)))
                     .all())
    return Queue(items=items, counts={t: int(by_status.get(s, 0)) for t, s in _STATUS.items()})


def _reason(raw: Any, *, required: bool) -> str:
    if not required and (raw is None or (isinstance(raw, str) and raw.strip() == "")):
        return ""
    text, notice = clean_text(raw, min_len=REASON_MIN, max_len=REASON_MAX, multiline=True)
    if notice is not None:
        raise FormErrors({"reason": notice})
    assert text is not None
    return text


def _decide(engine: Engine, settings: "Settings", utility: "Utility", actor: Actor, review_id: Any, to: str,
            reason: str, now: datetime) -> Decision:
    rid = as_id(review_id)
    if rid is None:
        raise NotFound("errors.not_found")

    def write(s: Session) -> tuple[Change, Decision]:
        review = s.get(ReadingReview, rid)
        if review is None:
            raise NotFound("errors.not_found")
        # The decision itself: one conditional UPDATE. Concurrent ones wait for the row's lock
        # (PostgreSQL) or the write lock (SQLite); the first moves it, the others find it decided.
        moved = cast(CursorResult, s.execute(sa.update(ReadingReview)
                          .where(col(ReadingReview.id) == rid, col(ReadingReview.status) == "open")
                          .values(status=to, decided_at=now, decided_by=actor.user_id, decision_reason=reason)
                          .execution_options(synchronize_session=False))).rowcount
        s.expire(review)
        if moved != 1:
            raise AlreadyDecided(status=review.status)
        reading_id = None
        if to == "accepted":
            reading = readings.record_reading(
                None, utility, review.meter_id, review.value, source=BOOKED_SOURCE, taken_at=review.taken_at,
                user_id=review.user_id, session=s, rollover=review.rollovers > 0, review_id=rid)
            reading_id = stored_id(reading)
        customer = s.get(User, review.user_id) if review.user_id is not None else None
        meter = s.get(Meter, review.meter_id)
        if customer is not None and meter is not None:
            value, unit, period = review.value, meter.unit, review.period
            tell_users(s, settings, utility, [customer], f"reading_{to}",
                       value=lambda lang: format_units(value, unit, lang),
                       period=lambda lang: format_period(period, lang, in_sentence=True),
                       reason=reason or "—", link=_link(settings))
        after: dict[str, Any] = {"status": to, "reason": reason}
        if reading_id is not None:
            after["reading"] = reading_id
        return (Change("reading_review", str(rid), {"status": "open"}, after),
                Decision(review_id=rid, status=to, reading_id=reading_id))

    return audited(engine, actor, _ACTIONS[to], write, reason=reason, now=now)


def _link(settings: "Settings") -> str:
    from gazportal.services import notify

    return notify.public_link("/accounts", settings=settings)


def accept(engine: Engine, settings: "Settings", utility: "Utility", actor: Actor, review_id: Any, reason: Any = "",
           *, now: datetime) -> Decision:
    """Accept a held reading: book it as a new ``reading`` (``review_id`` set; source
    :data:`BOOKED_SOURCE`, the customer as its ``user_id``, its own time and period) and move the
    review open → accepted with the optional ``reason`` (≤ :data:`REASON_MAX`); audited
    ``review.accept``; the customer is told after the commit.

    Raises NotFound, FormErrors (``reason``), :class:`AlreadyDecided` (nothing booked again),
    ReadingRefused (the reading no longer fits between the meter's readings: nothing changes),
    NotAllowed (not staff)."""
    return _decide(engine, settings, utility, actor, review_id, "accepted", _reason(reason, required=False), now)


def reject(engine: Engine, settings: "Settings", utility: "Utility", actor: Actor, review_id: Any, reason: Any,
           *, now: datetime) -> Decision:
    """Reject a held reading with a stated ``reason`` (required, 2..:data:`REASON_MAX`
    characters, shown to the customer): the review moves open → rejected, nothing is booked;
    audited ``review.reject``; the customer is told after the commit.

    Raises NotFound, FormErrors (``reason``), :class:`AlreadyDecided`, NotAllowed."""
    return _decide(engine, settings, utility, actor, review_id, "rejected", _reason(reason, required=True), now)


# --- late readings: staff book a reading of a closed period -----------------------------------------

LATE_DAYS = 92  # the late tab shows readings booked in the last three months


class NotClosed(DomainError):
    """A late reading is for a closed period: the day's period is the current one or later."""

    key = "errors.late_not_closed"


@dataclass(frozen=True)
class LateItem:
    reading_id: int
    meter_id: int
    service: str
    unit: str
    serial: str
    account_number: str
    value: int
    period: str
    taken_at: datetime
    created_at: datetime


def book_late(engine: Engine, utility: "Utility", actor: Actor, account_number: Any, serial: Any, value: Any,
              day: date, reason: Any, *, now: datetime) -> int:
    """Book a reading the customer gave late (by phone, on paper) for a **closed** period: the
    meter ``serial`` of account ``account_number`` showed ``value`` on the local ``day`` (taken at
    local noon; its period by ``periods.reading_period``, which must be before the current one).
    Booked through ``readings.record_reading`` (source :data:`BOOKED_SOURCE`; never below the
    earlier reading nor above a later one), audited ``reading.late`` with the ``reason``
    (required, 2..:data:`REASON_MAX`). Returns the new reading's id.

    Raises FormErrors (``reason``), NotFound (``errors.meter_not_found``: no such meter),
    :class:`NotClosed`, ReadingRefused (the value does not fit), NotAllowed."""
    from datetime import time as dtime

    from gazportal.services.periods import reading_period

    text = _reason(reason, required=True)
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInput("errors.invalid_input")
    taken_at = datetime.combine(day, dtime(12, 0), tzinfo=utility.tz).astimezone(now.tzinfo)
    period = reading_period(taken_at, utility)
    if period >= reading_period(now, utility) or taken_at > now:
        raise NotClosed(for_month=period)
    number = account_number.strip() if isinstance(account_number, str) else ""
    serial_ = serial.strip() if isinstance(serial, str) else ""

    def write(s: Session) -> tuple[Change, int]:
        meter_id = s.execute(sa.select(col(Meter.id)).join(Account, col(Account.id) == col(Meter.account_id))
                             .where(col(Account.number) == number, col(Meter.serial) == serial_)).scalar()
        if meter_id is None:
            raise NotFound("errors.meter_not_found")
        reading = readings.record_reading(None, utility, meter_id, value, source=BOOKED_SOURCE, taken_at=taken_at,
                                          session=s)
        rid = stored_id(reading)
        return (Change("reading", str(rid), {}, {"meter": meter_id, "value": reading.value, "period": period,
                                                  "taken_at": taken_at.isoformat()}), rid)

    return audited(engine, actor, "reading.late", write, reason=text, now=now)


def late(session: Session, utility: "Utility", *, now: datetime, limit: int = MAX_LIST) -> list[LateItem]:
    """The late readings staff booked (:func:`book_late`, known by their ``reading.late`` audit
    rows) in the last :data:`LATE_DAYS` days, newest booking first."""
    from gazportal.models import AuditEntry

    ids = [int(i) for i in session.execute(
        sa.select(col(AuditEntry.object_id)).where(col(AuditEntry.action) == "reading.late",
                                                   col(AuditEntry.at) >= now - timedelta(days=LATE_DAYS))
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(max(1, min(limit, MAX_LIST)))
    ).scalars() if i.isdigit()]
    if not ids:
        return []
    rows = session.execute(
        sa.select(Reading, Meter, col(Account.number)).join(Meter, col(Meter.id) == col(Reading.meter_id))
        .join(Account, col(Account.id) == col(Meter.account_id)).where(col(Reading.id).in_(ids))
    ).all()
    found = {stored_id(r): (r, m, number) for r, m, number in rows}
    return [LateItem(reading_id=i, meter_id=r.meter_id, service=m.service, unit=m.unit, serial=m.serial,
                     account_number=number, value=r.value, period=r.period, taken_at=r.taken_at,
                     created_at=r.created_at)
            for i in ids if i in found for r, m, number in [found[i]]]


# --- flagged for a look (no decision): roll-overs and zero use ------------------------------------

FLAG_TABS = ("rollovers", "zero")
ROLLOVER_PERIODS = 3  # roll-overs of this period and the two before it
ZERO_PERIODS = 3  # zero use this many periods in a row


@dataclass(frozen=True)
class FlagItem:
    """A meter flagged for a look: a roll-over (``value`` the reading after the dial passed zero,
    ``previous`` the one before) or zero use (``value`` = ``previous``: the same position for
    :data:`ZERO_PERIODS` periods)."""

    meter_id: int
    service: str
    unit: str
    serial: str
    account_number: str
    value: int
    previous: int | None
    period: str  # the roll-over's period; for zero use the last of the periods
    taken_at: datetime


def _meter_info(session: Session, meter_ids: set[int]) -> dict[int, tuple[Meter, str]]:
    if not meter_ids:
        return {}
    rows = session.execute(sa.select(Meter, col(Account.number)).join(Account, col(Account.id) == col(Meter.account_id))
                           .where(col(Meter.id).in_(meter_ids))).all()
    return {stored_id(m): (m, number) for m, number in rows}


def flagged(session: Session, utility: "Utility", tab: str, *, now: datetime, limit: int = MAX_LIST) -> list[FlagItem]:
    """The meters of a flag tab (:data:`FLAG_TABS`), newest first, at most ``limit``:

    * ``rollovers``: readings of the current reading period (``periods.reading_period``) and the
      :data:`ROLLOVER_PERIODS` - 1 before it whose dial passed zero since the meter's reading before
      (``reading.rollovers`` one more than that reading's);
    * ``zero``: active meters whose latest reading of each of the last :data:`ZERO_PERIODS` closed
      periods shows the same position as the latest reading of the period before them (a reading
      in each of those periods, no use in any).

    Reads the readings of those periods only (``ix_reading_period``)."""
    from gazportal.services.periods import add_months, reading_period

    current = reading_period(now, utility)
    if tab == "rollovers":
        first = add_months(current, -(ROLLOVER_PERIODS - 1))
    else:
        first = add_months(current, -(ZERO_PERIODS + 1))
    rows = session.execute(
        sa.select(col(Reading.meter_id), col(Reading.value), col(Reading.rollovers), col(Reading.period),
                  col(Reading.taken_at))
        .where(col(Reading.period) >= first, col(Reading.period) <= current)
        .order_by(col(Reading.meter_id), col(Reading.taken_at), col(Reading.id))
    ).all()
    by_meter: dict[int, list[Any]] = {}
    for r in rows:
        by_meter.setdefault(r.meter_id, []).append(r)
    out: list[tuple[int, int, int | None, str, datetime]] = []
    if tab == "rollovers":
        earlier = dict(session.execute(  # each meter's dial turns before the window
            sa.select(col(Reading.meter_id), func.max(col(Reading.rollovers)))
            .where(col(Reading.meter_id).in_(list(by_meter)), col(Reading.period) < first)
            .group_by(col(Reading.meter_id))).all()) if by_meter else {}
        for mid, rs in by_meter.items():
            turns, prev = earlier.get(mid) or 0, None
            for r in rs:
                if r.rollovers > turns:
                    out.append((mid, r.value, prev, r.period, r.taken_at))
                turns, prev = max(turns, r.rollovers), r.value
    else:
        wanted = [add_months(current, -k) for k in range(ZERO_PERIODS + 1, 0, -1)]  # base, then the periods
        for mid, rs in by_meter.items():
            last = {r.period: r for r in rs}  # oldest first: the latest of each period wins
            if all(p in last for p in wanted):
                pos = {(last[p].rollovers, last[p].value) for p in wanted}
                if len(pos) == 1:
                    r = last[wanted[-1]]
                    out.append((mid, r.value, r.value, r.period, r.taken_at))
    info = _meter_info(session, {o[0] for o in out})
    items = [FlagItem(meter_id=mid, service=info[mid][0].service, unit=info[mid][0].unit, serial=info[mid][0].serial,
                      account_number=info[mid][1], value=v, previous=p, period=per, taken_at=at)
             for mid, v, p, per, at in out
             if mid in info and (tab == "rollovers" or info[mid][0].is_active)]
    items.sort(key=lambda i: (i.taken_at, i.meter_id), reverse=True)
    return items[:max(1, min(limit, MAX_LIST))]


def notices_for(session: Session, meter_ids: list[int], *, now: datetime) -> dict[int, Notice]:
    """Each meter's latest review still worth telling its customer about: an open one, or one
    decided in the last :data:`NOTICE_DAYS` days. Keyed by meter id; meters without one are absent.
    Checks no ownership: pass the meters of the customer's own accounts."""
    if not meter_ids:
        return {}
    since = now - timedelta(days=NOTICE_DAYS)
    rows = session.exec(
        select(ReadingReview, Meter.unit).join(Meter, col(Meter.id) == col(ReadingReview.meter_id))
        .where(col(ReadingReview.meter_id).in_(meter_ids),
               (col(ReadingReview.status) == "open") | (col(ReadingReview.decided_at) >= since))
        .order_by(col(ReadingReview.created_at), col(ReadingReview.id))
    ).all()
    out: dict[int, Notice] = {}
    for r, unit in rows:  # oldest first: the latest wins
        out[r.meter_id] = Notice(meter_id=r.meter_id, status=r.status, value=r.value, unit=unit, period=r.period,
                                 reason=r.decision_reason, decided_at=r.decided_at)
    return out


__all__ = ["AlreadyDecided", "BOOKED_SOURCE", "Decision", "FLAG_TABS", "FlagItem", "Notice", "Queue", "REASON_MAX",
           "LateItem", "NotClosed", "ReviewItem", "TABS", "accept", "book_late", "flagged", "late", "notices_for", "queue",
           "reject"]
