"""Disputes and staff corrections of booked readings (issue 16 point 6).

* A **customer disputes** a booked reading of one of their own meters (an estimate, an
  inspector's, their own): :func:`dispute` stores a ``reading_dispute`` with their reason. At most
  one open dispute per reading. The staff review queue shows open disputes in its "disputed" tab
  (:func:`disputes`).
* A **supervisor corrects** a booked reading (:func:`correct`), on a dispute or on their own: a
  new ``reading`` row (source ``controller``) at the original's time and period whose
  ``corrects_id`` names the original. The original is kept, never edited, and no longer counts:
  volumes, bases, the history ("replaced by ...") and the billing export use the correction
  (``readings._effective``, ``billing_io.iter_readings``). ``corrects_id`` is unique: a reading is
  corrected once; a second correction corrects the correction.
* A **supervisor dismisses** a dispute with a reason (:func:`dismiss`); nothing is booked.

Every staff write goes through ``services.audit.audited`` with the stated reason (required,
2..500 characters), needs the ``supervisor`` role (issue 16 point 1: "supervisor
approves holder changes and reading corrections"), and tells the customers in their language by
the profile's channel after the commit (a correction: every holder of the account; a dismissal:
who disputed). A dispute's status moves forward only (open -> corrected | dismissed; one
conditional UPDATE, and a trigger of migration 0014 refuses a move back).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, func, select

from gazportal.db import write_session
from gazportal.models import Account, Meter, Reading, ReadingDispute, User
from gazportal.models._base import stored_id
from gazportal.services import readings
from gazportal.services.accounts.holders import _tell as tell_users
from gazportal.services.accounts.holders import holder_ids
from gazportal.services.audit import Actor, Change, audited
from gazportal.services.errors import DomainError, NotFound
from gazportal.services.i18n import format_period, format_units
from gazportal.services.ids import as_id
from gazportal.services.reviews import MAX_LIST, NOTICE_DAYS
from gazportal.services.reviews import _link as portal_link
from gazportal.services.reviews import _reason as stated_reason

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings, Utility

NEEDS = "supervisor"
STATUSES = ("open", "corrected", "dismissed")


class AlreadyCorrected(DomainError):
    """The reading was corrected already: correct its correction (the history shows it)."""

    key = "errors.reading_already_corrected"


class NotCurrent(DomainError):
    """The reading no longer counts (a later reading of its period replaced it)."""

    key = "errors.reading_not_current"


class DisputeOpen(DomainError):
    """The reading has an open dispute already."""

    key = "errors.dispute_open"


class DisputeDecided(DomainError):
    """The dispute was decided already (``params["status"]``)."""

    key = "errors.dispute_decided"


@dataclass(frozen=True)
class Correction:
    reading_id: int  # the new row
    corrects_id: int  # the original, kept
    value: int
    dispute_id: int | None


@dataclass(frozen=True)
class DisputeItem:
    """A dispute as the staff queue lists it, with its reading and meter."""

    id: int
    status: str
    reading_id: int
    value: int
    source: str
    period: str
    taken_at: datetime
    meter_id: int
    service: str
    unit: str
    serial: str
    account_number: str
    customer: str
    reason: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str
    corrected_to: int | None  # the correction's value


@dataclass(frozen=True)
class DisputeNotice:
    """What a customer sees next to a meter about their latest dispute of its readings."""

    meter_id: int
    status: str
    value: int
    unit: str
    period: str
    reason: str  # staff's stated reason ("" while open)
    corrected_to: int | None


def _tell_correction(s: Session, settings: "Settings", utility: "Utility", original: Reading, new: Reading,
                     reason: str) -> None:
    meter = s.get(Meter, original.meter_id)
    if meter is None:  # pragma: no cover - the reading's meter exists (foreign key)
        return
    users = s.exec(select(User).where(col(User.id).in_(holder_ids(s, meter.account_id)))).all()
    unit, period, old, value = meter.unit, original.period, original.value, new.value
    tell_users(s, settings, utility, users, "reading_corrected",
               old=lambda lang: format_units(old, unit, lang), value=lambda lang: format_units(value, unit, lang),
               period=lambda lang: format_period(period, lang, in_sentence=True), reason=reason,
               serial=meter.serial, link=portal_link(settings))


def _close(s: Session, dispute_id: int, to: str, actor: Actor, reason: str, now: datetime,
           correction_id: int | None = None) -> ReadingDispute:
    """Move an open dispute to ``to`` (one conditional UPDATE: of concurrent decisions one wins)."""
    d = s.get(ReadingDispute, dispute_id)
    if d is None:
        raise NotFound("errors.not_found")
    moved = cast(CursorResult, s.execute(
        sa.update(ReadingDispute).where(col(ReadingDispute.id) == dispute_id, col(ReadingDispute.status) == "open")
        .values(status=to, decided_at=now, decided_by=actor.user_id, decision_reason=reason,
                correction_id=correction_id)
        .execution_options(synchronize_session=False))).rowcount
    s.expire(d)
    if moved != 1:
        raise DisputeDecided(status=d.status)
    return d


def correct(engine: Engine, settings: "Settings", utility: "Utility", actor: Actor, reading_id: Any, value: Any,
            reason: Any, *, now: datetime, dispute_id: Any = None) -> Correction:
    """Correct the booked reading ``reading_id`` to ``value``: a new linked row
    (``readings.record_correction``), the original kept. With ``dispute_id`` (an open dispute of
    that reading; ``reading_id`` None: the dispute's reading) the dispute moves open -> corrected
    in the same transaction. Audited
    ``reading.correct`` (before: the original's id and value; after: the correction's) with the
    ``reason`` (required, 2..500); the account's holders are told after the commit.

    Raises NotFound (no such reading or dispute, or the dispute is of another reading), FormErrors
    (``reason``), :class:`AlreadyCorrected`, :class:`NotCurrent`, :class:`DisputeDecided`,
    ReadingRefused (the value does not fit between the meter's other readings, or is not a
    reading), NotAllowed (below a supervisor; checked before anything else is read)."""
    text = stated_reason(reason, required=True)
    did = None if dispute_id in (None, "") else as_id(dispute_id)
    rid = as_id(reading_id) if reading_id is not None or did is None else None
    if (rid is None and did is None) or (dispute_id not in (None, "") and did is None) or \
            (reading_id is not None and rid is None):
        raise NotFound("errors.not_found")

    def write(s: Session) -> tuple[Change, Correction]:
        nonlocal rid
        if rid is None:  # the dispute's own reading
            found = s.get(ReadingDispute, did)
            if found is None:
                raise NotFound("errors.not_found")
            rid = found.reading_id
        original = s.get(Reading, rid)
        if original is None:
            raise NotFound("errors.not_found")
        readings._load_meter(s, original.meter_id, None, lock=True)  # one decision per meter at a time
        if s.exec(select(Reading.id).where(Reading.corrects_id == rid)).first() is not None:
            raise AlreadyCorrected()
        if not readings.is_effective(s, rid):
            raise NotCurrent()
        new = readings.record_correction(s, utility, original, value, user_id=None)
        new_id = stored_id(new)
        if did is not None:
            d = s.get(ReadingDispute, did)
            if d is None or d.reading_id != rid:
                raise NotFound("errors.not_found")
            _close(s, did, "corrected", actor, text, now, new_id)
        _tell_correction(s, settings, utility, original, new, text)
        before = {"reading": rid, "value": original.value}
        after: dict[str, Any] = {"reading": new_id, "value": new.value, "corrects": rid}
        if did is not None:
            after["dispute"] = did
        return (Change("reading", str(rid), before, after),
                Correction(reading_id=new_id, corrects_id=rid, value=new.value, dispute_id=did))

    return audited(engine, actor, "reading.correct", write, reason=text, now=now, needs=NEEDS)


def reading_of_period(session: Session, account_number: Any, serial: Any, period: Any) -> int:
    """The id of the reading of ``period`` (YYYY-MM) that counts for meter ``serial`` of account
    ``account_number`` (its latest effective one): what a staff correction of "the November
    reading" corrects. Raises NotFound (``errors.reading_not_found``)."""
    number = account_number.strip() if isinstance(account_number, str) else ""
    serial_ = serial.strip() if isinstance(serial, str) else ""
    per = period.strip() if isinstance(period, str) else ""
    rid = session.execute(
        sa.select(col(Reading.id)).join(Meter, col(Meter.id) == col(Reading.meter_id))
        .join(Account, col(Account.id) == col(Meter.account_id))
        .where(col(Account.number) == number, col(Meter.serial) == serial_, col(Reading.period) == per,
               readings._effective())
        .order_by(col(Reading.taken_at).desc(), col(Reading.id).desc()).limit(1)).scalar()
    if rid is None:
        raise NotFound("errors.reading_not_found")
    return int(rid)


def dismiss(engine: Engine, settings: "Settings", utility: "Utility", actor: Actor, dispute_id: Any, reason: Any,
            *, now: datetime) -> int:
    """Dismiss an open dispute with a stated ``reason`` (required; the customer is told it): open
    -> dismissed, nothing booked; audited ``dispute.dismiss``. Returns the dispute's id.

    Raises NotFound, FormErrors (``reason``), :class:`DisputeDecided`, NotAllowed (below a
    supervisor)."""
    text = stated_reason(reason, required=True)
    did = as_id(dispute_id)
    if did is None:
        raise NotFound("errors.not_found")

    def write(s: Session) -> tuple[Change, int]:
        d = _close(s, did, "dismissed", actor, text, now)
        reading = s.get(Reading, d.reading_id)
        meter = s.get(Meter, reading.meter_id) if reading is not None else None
        user = s.get(User, d.user_id)
        if reading is not None and meter is not None and user is not None:
            unit, period, value = meter.unit, reading.period, reading.value
            tell_users(s, settings, utility, [user], "dispute_dismissed",
                       value=lambda lang: format_units(value, unit, lang),
                       period=lambda lang: format_period(period, lang, in_sentence=True), reason=text,
                       serial=meter.serial, link=portal_link(settings))
        return Change("reading_dispute", str(did), {"status": "open"}, {"status": "dismissed"}), did

    return audited(engine, actor, "dispute.dismiss", write, reason=text, now=now, needs=NEEDS)


def dispute(engine: Engine, user_id: int, allowed_account_ids: list[int], reading_id: Any, reason: Any, *,
            now: datetime) -> int:
    """A customer (``user_id``) disputes the booked reading ``reading_id`` of a meter of one of
    their accounts (``allowed_account_ids``, from ``dashboard.allowed_account_ids``), giving a
    ``reason`` (required, 2..500). Returns the dispute's id.

    Raises NotFound (``errors.reading_not_found``: no such reading, or not theirs — one answer),
    FormErrors (``reason``), :class:`NotCurrent` (replaced or corrected already),
    :class:`DisputeOpen` (one open dispute per reading)."""
    text = stated_reason(reason, required=True)
    rid = as_id(reading_id)
    if rid is None:
        raise NotFound("errors.reading_not_found")
    with write_session(engine) as s:
        reading = s.get(Reading, rid)
        if reading is None:
            raise NotFound("errors.reading_not_found")
        try:
            readings._load_meter(s, reading.meter_id, allowed_account_ids, lock=True)
        except NotFound:
            raise NotFound("errors.reading_not_found") from None
        if not readings.is_effective(s, rid):
            raise NotCurrent()
        if s.exec(select(ReadingDispute.id).where(ReadingDispute.reading_id == rid,
                                                  ReadingDispute.status == "open")).first() is not None:
            raise DisputeOpen()
        d = ReadingDispute(reading_id=rid, user_id=user_id, reason=text, created_at=now)
        s.add(d)
        s.flush()
        return stored_id(d)


def disputes(session: Session, status: str = "open", *, limit: int = MAX_LIST) -> tuple[list[DisputeItem], int]:
    """Disputes of ``status`` (:data:`STATUSES`; anything else: ``open``) with their reading,
    meter, account and customer: open ones oldest first, decided ones newest decision first; at
    most ``limit``. Also returns how many are open (the tab's count)."""
    status = status if status in STATUSES else "open"
    fix = sa.orm.aliased(Reading)
    stmt = (sa.select(ReadingDispute, Reading, Meter, col(Account.number), col(User.surname), col(User.name),
                      col(fix.value))
            .join(Reading, col(Reading.id) == col(ReadingDispute.reading_id))
            .join(Meter, col(Meter.id) == col(Reading.meter_id))
            .join(Account, col(Account.id) == col(Meter.account_id))
            .join(User, col(User.id) == col(ReadingDispute.user_id))
            .outerjoin(fix, col(fix.id) == col(ReadingDispute.correction_id))
            .where(col(ReadingDispute.status) == status))
    if status == "open":
        stmt = stmt.order_by(col(ReadingDispute.created_at), col(ReadingDispute.id))
    else:
        stmt = stmt.order_by(col(ReadingDispute.decided_at).desc(), col(ReadingDispute.id).desc())
    rows = session.execute(stmt.limit(max(1, min(limit, MAX_LIST)))).all()
    items = [DisputeItem(id=stored_id(d), status=d.status, reading_id=stored_id(r), value=r.value, source=r.source,
                         period=r.period, taken_at=r.taken_at, meter_id=stored_id(m), service=m.service, unit=m.unit,
                         serial=m.serial, account_number=number, customer=f"{surname or ''} {name or ''}".strip(),
                         reason=d.reason, created_at=d.created_at, decided_at=d.decided_at,
                         decision_reason=d.decision_reason, corrected_to=fixed)
             for d, r, m, number, surname, name, fixed in rows]
    count = session.exec(select(func.count()).select_from(ReadingDispute)
                         .where(col(ReadingDispute.status) == "open")).one()
    return items, int(count)


def notices_for(session: Session, meter_ids: list[int], *, now: datetime) -> dict[int, DisputeNotice]:
    """Each meter's latest dispute still worth telling its customer about: an open one, or one
    decided in the last ``reviews.NOTICE_DAYS`` days. Checks no ownership: pass the meters of the
    customer's own accounts."""
    if not meter_ids:
        return {}
    since = now - timedelta(days=NOTICE_DAYS)
    fix = sa.orm.aliased(Reading)
    rows = session.execute(
        sa.select(ReadingDispute, Reading, col(Meter.unit), col(fix.value))
        .join(Reading, col(Reading.id) == col(ReadingDispute.reading_id))
        .join(Meter, col(Meter.id) == col(Reading.meter_id))
        .outerjoin(fix, col(fix.id) == col(ReadingDispute.correction_id))
        .where(col(Reading.meter_id).in_(meter_ids),
               (col(ReadingDispute.status) == "open") | (col(ReadingDispute.decided_at) >= since))
        .order_by(col(ReadingDispute.created_at), col(ReadingDispute.id))
    ).all()
    out: dict[int, DisputeNotice] = {}
    for d, r, unit, fixed in rows:  # oldest first: the latest wins
        out[r.meter_id] = DisputeNotice(meter_id=r.meter_id, status=d.status, value=r.value, unit=unit,
                                        period=r.period, reason=d.decision_reason, corrected_to=fixed)
    return out


__all__ = ["AlreadyCorrected", "Correction", "DisputeDecided", "DisputeItem", "DisputeNotice", "DisputeOpen", "NEEDS",
           "NotCurrent", "STATUSES", "correct", "dismiss", "dispute", "disputes", "notices_for", "reading_of_period"]
