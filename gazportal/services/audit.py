"""The audit log of staff writes (issue 16 point 2): who, when (UTC), what, on which object, the
object before → after, and the stated reason.

One way in: :func:`audited` runs a staff write and stores its :class:`~gazportal.models.AuditEntry`
in the **same transaction** — the write and its row commit together or not at all. Nothing in the
code updates or deletes an audit row: the ORM refuses it (``models/audit.py``: ``AppendOnly``) and
the database too (the triggers of migration 0011). Read by an admin on /staff/audit, newest first,
a page at a time, and exported as CSV (:func:`export_csv`, cells a spreadsheet would take for a
formula neutralised: OWASP "CSV injection").
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from gazportal.db import write_session
from gazportal.models import AuditEntry
from gazportal.models._base import stored_id
from gazportal.services.errors import DomainError

PER_PAGE = 50
MAX_REASON = 500
CSV_COLUMNS = ("id", "at_utc", "actor", "action", "object_type", "object_id", "before", "after", "reason")

T = TypeVar("T")


class NotAllowed(DomainError):
    """The acting user's role does not allow this write."""

    key = "errors.staff_not_allowed"


@dataclass(frozen=True)
class Actor:
    """Who does a staff write: a user (id, login, role) or a command line (``user_id`` None,
    ``label`` "cli")."""

    user_id: int | None
    label: str
    role: str


CLI = Actor(user_id=None, label="cli", role="admin")


@dataclass(frozen=True)
class Change:
    """What a staff write did, for its audit row: the object and its values before → after."""

    object_type: str
    object_id: str
    before: dict[str, Any]
    after: dict[str, Any]


def _json(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


def audited(engine: Engine, actor: Actor, action: str, write: Callable[[Session], tuple[Change, T]], *,
            reason: str = "", now: datetime, needs: str = "operator") -> T:
    """Run the staff write ``write(session)`` in one write transaction together with its audit row;
    returns what ``write`` returned after it.

    ``write`` returns (:class:`Change`, result); messages it queued (``notify.queue``) are sent after
    the commit. ``needs``: the least staff role allowed
    (``services.staff.has_role``); raises :class:`NotAllowed` before anything is written, and
    whatever ``write`` raises (nothing is then stored, its audit row neither)."""
    from gazportal.services.staff import has_role

    from gazportal.services import notify

    if not has_role(actor.role, needs):
        raise NotAllowed()
    with write_session(engine) as s:
        change, result = write(s)
        s.add(AuditEntry(at=now, actor_id=actor.user_id, actor=actor.label[:254], action=action[:60],
                         object_type=change.object_type[:40], object_id=change.object_id[:40],
                         before=_json(change.before), after=_json(change.after), reason=reason[:MAX_REASON]))
    notify.send_queued(s)  # what the write queued for its users (``notify.queue``), now that it is stored
    return result


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: str
    after: str
    reason: str


def _row(e: AuditEntry) -> AuditRow:
    return AuditRow(id=stored_id(e), at=e.at, actor=e.actor, action=e.action, object_type=e.object_type,
                    object_id=e.object_id, before=e.before, after=e.after, reason=e.reason)


def page_of(session: Session, page: int, per_page: int = PER_PAGE) -> tuple[list[AuditRow], int]:
    """One page of the log (``page`` from 1; out of range: the last page), newest first, and the
    number of pages (at least 1)."""
    total = session.exec(select(func.count()).select_from(AuditEntry)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return [_row(e) for e in rows], pages


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would read as a formula (it begins with ``= + - @``, a tab or a carriage
    return) with a ``'`` in front, so it is shown as text (OWASP: CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def export_csv(session: Session, out: IO[str]) -> int:
    """Write the whole log to ``out`` as CSV (a header line, then newest first; times in UTC,
    ISO 8601); returns the number of rows."""
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    n = 0
    for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())):
        w.writerow([neutralise(str(v)) for v in (e.id, e.at.isoformat(), e.actor, e.action, e.object_type,
                                                  e.object_id, e.before, e.after, e.reason)])
        n += 1
    return n


__all__ = ["Actor", "AuditRow", "CLI", "CSV_COLUMNS", "Change", "NotAllowed", "PER_PAGE", "audited",
           "export_csv", "neutralise", "page_of"]
