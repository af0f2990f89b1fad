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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, func, select

from gazportal.models import Account, Meter, ReadingReview, User
from gazportal.models._base import stored_id
from gazportal.services import readings
from gazportal.services.accounts.holders import _tell as tell_users
from gazportal.services.audit import Actor, Change, audited
from gazportal.services.errors import DomainError, FormErrors, NotFound
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


__all__ = ["AlreadyDecided", "BOOKED_SOURCE", "Decision", "Notice", "Queue", "REASON_MAX", "ReviewItem", "TABS",
           "accept", "notices_for", "queue", "reject"]
