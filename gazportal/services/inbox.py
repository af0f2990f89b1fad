"""The staff inbox (issue 16 point 7): customers' messages (contact, feedback, support) as staff
work them.

* **List** (:func:`inbox`): filtered by status and kind, oldest waiting first, with each one's SLA
  state and the number of open messages past their SLA.
* **SLA** per kind from the profile (``[staff.sla.<kind>]``, default 24 h to the first answer, 72 h
  to the resolution): a message breaches the first-answer SLA while it has no reply past
  ``first_answer_hours`` from its creation, and the resolution SLA while it is ``new`` or
  ``in_progress`` past ``resolution_hours`` (answered and closed ones are resolved).
* **Open** (:func:`open_message`): the message with its customer and account, and its events.
* **Reply** / **note** (:func:`add_event`): a new ``message_event`` row, never an edit of the
  customer's message. Only a reply is shown to the customer (under "My messages",
  ``services.messages.list_messages``) and sent to them (e-mail or SMS as the profile reaches its
  customers, after the commit); a reply marks the message ``answered`` (and its first answer's
  time). A closed message takes no reply until it is reopened.
* **Status** (:func:`set_status`): new → in progress → answered → closed, any open state may be
  closed, answered and closed ones may be reopened (→ in progress): :data:`TRANSITIONS`.

Every write goes through ``services.audit.audited`` (its audit row in the same transaction).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from gazportal.models import Account, CustomerMessage, MessageEvent, User
from gazportal.models._base import stored_id
from gazportal.services.accounts.holders import _tell as tell_users
from gazportal.services.audit import Actor, Change, audited
from gazportal.services.errors import DomainError, FormErrors, NotFound
from gazportal.services.ids import as_id
from gazportal.services.messages import BODY_MAX, KINDS, STATUSES, clean_text

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings, Utility

EVENT_KINDS = ("reply", "note")
REPLY_MIN = 2
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_progress", "closed"),
    "in_progress": ("answered", "closed"),
    "answered": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
OPEN = ("new", "in_progress")
MAX_LIST = 200


class BadTransition(DomainError):
    """``params["from_"]`` → ``params["to"]`` is not a move the inbox allows."""

    key = "errors.staff_bad_transition"


class ClosedMessage(DomainError):
    key = "errors.staff_message_closed"


@dataclass(frozen=True)
class InboxItem:
    id: int
    kind: str
    subject: str
    status: str
    created_at: datetime
    customer: str
    account_number: str | None
    first_due: datetime  # the first answer is due by then
    resolve_due: datetime
    first_breached: bool
    resolve_breached: bool


@dataclass(frozen=True)
class Inbox:
    items: list[InboxItem]
    breached: int  # open messages past an SLA, whatever the filters


@dataclass(frozen=True)
class EventInfo:
    id: int
    kind: str
    body: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class MessageDetail:
    item: InboxItem
    body: str
    customer_login: str
    customer_email: str | None
    customer_phone: str | None
    account_holder: str | None
    account_address: str | None
    events: list[EventInfo]
    moves: tuple[str, ...]  # the statuses it may move to


def _dues(utility: "Utility", m: CustomerMessage) -> tuple[datetime, datetime]:
    sla = utility.staff.sla_for(m.kind)
    return m.created_at + timedelta(hours=sla.first_answer_hours), m.created_at + timedelta(hours=sla.resolution_hours)


def _item(utility: "Utility", m: CustomerMessage, user: User | None, number: str | None, now: datetime) -> InboxItem:
    first, resolve = _dues(utility, m)
    return InboxItem(
        id=stored_id(m), kind=m.kind, subject=m.subject, status=m.status, created_at=m.created_at,
        customer=f"{user.surname} {user.name}".strip() if user is not None else "", account_number=number,
        first_due=first, resolve_due=resolve,
        first_breached=m.answered_at is None and m.status != "closed" and now > first,
        resolve_breached=m.status in OPEN and now > resolve,
    )


def breached_count(session: Session, utility: "Utility", *, now: datetime) -> int:
    """How many messages are past an SLA now (a first answer overdue, or new / in progress past the
    resolution time): the number the inbox shows."""
    rows = session.exec(select(CustomerMessage).where(
        col(CustomerMessage.kind).in_(KINDS),
        or_(col(CustomerMessage.status).in_(OPEN),
            (col(CustomerMessage.answered_at).is_(None)) & (col(CustomerMessage.status) != "closed")),
    )).all()
    return sum(1 for m in rows if _item(utility, m, None, None, now).first_breached
               or _item(utility, m, None, None, now).resolve_breached)


def inbox(session: Session, utility: "Utility", *, status: str | None = None, kind: str | None = None,
          now: datetime, limit: int = MAX_LIST) -> Inbox:
    """Customers' messages for staff: those of ``status`` and ``kind`` (None: all), the open ones
    first, each group oldest first; at most ``limit``."""
    stmt = (select(CustomerMessage, User, Account.number)
            .join(User, col(User.id) == col(CustomerMessage.user_id), isouter=True)
            .join(Account, col(Account.id) == col(CustomerMessage.account_id), isouter=True)
            .where(col(CustomerMessage.kind).in_(KINDS)))
    if status in STATUSES:
        stmt = stmt.where(CustomerMessage.status == status)
    if kind in KINDS:
        stmt = stmt.where(CustomerMessage.kind == kind)
    waiting = func.coalesce(col(CustomerMessage.status).in_(OPEN), False)
    # the open ones first, the longest waiting on top
    stmt = stmt.order_by(waiting.desc(), col(CustomerMessage.created_at), col(CustomerMessage.id))
    rows = session.exec(stmt.limit(max(1, min(limit, MAX_LIST)))).all()
    return Inbox(items=[_item(utility, m, u, n, now) for m, u, n in rows],
                 breached=breached_count(session, utility, now=now))


def _message(session: Session, message_id: Any, *, lock: bool = False) -> CustomerMessage:
    mid = as_id(message_id)
    if mid is None:
        raise NotFound("errors.not_found")
    stmt = select(CustomerMessage).where(CustomerMessage.id == mid, col(CustomerMessage.kind).in_(KINDS))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    m = session.exec(stmt).first()
    if m is None:
        raise NotFound("errors.not_found")
    return m


def open_message(session: Session, utility: "Utility", message_id: Any, *, now: datetime) -> MessageDetail:
    """A message with its customer, account and events (replies and notes, oldest first).
    Raises NotFound."""
    m = _message(session, message_id)
    user = session.get(User, m.user_id) if m.user_id is not None else None
    account = session.get(Account, m.account_id) if m.account_id is not None else None
    authors = select(User.login).where(col(User.id) == col(MessageEvent.author_id)).scalar_subquery()
    events = session.exec(select(MessageEvent, authors).where(MessageEvent.message_id == m.id)
                          .order_by(col(MessageEvent.created_at), col(MessageEvent.id))).all()
    return MessageDetail(
        item=_item(utility, m, user, account.number if account else None, now), body=m.body,
        customer_login=user.login if user else "", customer_email=user.email if user else None,
        customer_phone=user.phone if user else None,
        account_holder=account.holder_name if account else None, account_address=account.address if account else None,
        events=[EventInfo(id=stored_id(e), kind=e.kind, body=e.body, author=a or "", created_at=e.created_at)
                for e, a in events],
        moves=TRANSITIONS[m.status],
    )


def add_event(engine: Engine, settings: "Settings", utility: "Utility", actor: Actor, message_id: Any,
              kind: str, body: Any, *, now: datetime) -> EventInfo:
    """Add a staff ``reply`` or internal ``note`` to a message (a new row). A reply marks the
    message answered and is sent to the customer after the commit. Raises NotFound, FormErrors
    (``body``), ClosedMessage (a reply to a closed message), NotAllowed (not staff)."""
    if kind not in EVENT_KINDS:
        raise NotFound("errors.not_found")
    text, notice = clean_text(body, min_len=REPLY_MIN, max_len=BODY_MAX, multiline=True)
    if notice is not None:
        raise FormErrors({"body": notice})
    assert text is not None

    def write(s: Session) -> tuple[Change, EventInfo]:
        m = _message(s, message_id, lock=True)
        before = {"status": m.status}
        if kind == "reply" and m.status == "closed":
            raise ClosedMessage()
        event = MessageEvent(message_id=stored_id(m), author_id=actor.user_id, kind=kind, body=text, created_at=now)
        s.add(event)
        if kind == "reply":
            m.status = "answered"
            if m.answered_at is None:
                m.answered_at = now
            s.add(m)
            customer = s.get(User, m.user_id) if m.user_id is not None else None
            if customer is not None:
                tell_users(s, settings, utility, [customer], "staff_reply", subject=m.subject, reply=text,
                           link=_link(settings))
        s.flush()
        after = {"status": m.status, "event": stored_id(event), "kind": kind, "body": text}
        return (Change("customer_message", str(m.id), before, after),
                EventInfo(id=stored_id(event), kind=kind, body=text, author=actor.label, created_at=now))

    return audited(engine, actor, f"message.{kind}", write, now=now)


def _link(settings: "Settings") -> str:
    from gazportal.services import notify

    return notify.public_link("/messages", settings=settings)


def set_status(engine: Engine, actor: Actor, message_id: Any, status: Any, *, now: datetime) -> str:
    """Move a message to ``status`` (:data:`TRANSITIONS`); returns it. Raises NotFound,
    BadTransition, NotAllowed."""
    def write(s: Session) -> tuple[Change, str]:
        m = _message(s, message_id, lock=True)
        if not isinstance(status, str) or status not in TRANSITIONS[m.status]:
            raise BadTransition(from_=m.status, to=str(status)[:20])
        before = {"status": m.status}
        m.status = status
        s.add(m)
        return Change("customer_message", str(m.id), before, {"status": status}), status

    return audited(engine, actor, "message.status", write, now=now)


__all__ = ["BadTransition", "ClosedMessage", "EVENT_KINDS", "EventInfo", "Inbox", "InboxItem", "MessageDetail",
           "TRANSITIONS", "add_event", "breached_count", "inbox", "open_message", "set_status"]
