"""What customers write to the utility: a message (contact / feedback / technical support),
optionally about one of their accounts, and the list of what they have written with its status.

Rules (the tests pin each of them down):

* ``kind`` is one of :data:`KINDS` (re-registration requests have a page of their own).
* ``subject``: one line, 3..200 characters after trimming (NFC); ``body``: 10..5000 characters,
  several lines allowed (``\\r\\n`` -> ``\\n``), tabs allowed; any other control / format /
  private-use character refuses the field.
* ``account_id`` is optional; when given it must be an account the customer sees
  (``accounts.require_account``; a foreign id and a missing one get the same answer).
* Field errors come together as :class:`FormErrors` with keys ``kind``, ``subject``, ``body``,
  ``account_id``.
* At most :data:`MAX_PER_HOUR` messages per customer in any hour; the customer's row is locked
  (``FOR UPDATE`` / ``BEGIN IMMEDIATE``) so parallel sends cannot slip past the limit.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from gazportal.db import write_session
from gazportal.models import Account, CustomerMessage, MessageEvent, User
from gazportal.models._base import stored_id
from gazportal.services.accounts.linking import require_account
from gazportal.services.errors import DomainError, FormErrors, NotFound, Notice
from gazportal.services.ids import as_id
from gazportal.settings import Utility

KINDS = ("contact", "feedback", "support")
STATUSES = ("new", "in_progress", "answered", "closed")
SUBJECT_MIN, SUBJECT_MAX = 3, 200
BODY_MIN, BODY_MAX = 10, 5000
MAX_PER_HOUR = 10
RATE_WINDOW = timedelta(hours=1)
MAX_LIST = 200

_BAD_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


class TooManyMessages(DomainError):
    """``params["max"]`` messages an hour; ``params["minutes"]`` until the next one is accepted."""

    key = "errors.messages_too_many"


@dataclass(frozen=True)
class Reply:
    """A staff reply to a customer's message, as the customer sees it (``services/inbox.py``)."""

    body: str
    created_at: datetime


@dataclass(frozen=True)
class MessageInfo:
    id: int
    kind: str
    subject: str
    body: str
    status: str
    account_number: str | None
    created_at: datetime
    answered_at: datetime | None
    replies: tuple[Reply, ...] = ()  # staff replies, oldest first (internal notes never)


def _clean(raw: Any, *, min_len: int, max_len: int, multiline: bool) -> tuple[str | None, Notice | None]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, Notice("errors.field_required")
    if not isinstance(raw, str):
        return None, Notice("errors.invalid_input")
    if len(raw) > max_len * 4 + 100:  # refuse megabytes before normalising them
        return None, Notice("errors.field_too_long", {"max": max_len})
    value = unicodedata.normalize("NFC", raw)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        lines = [line.rstrip() for line in value.split("\n")]
        value = "\n".join(lines).strip("\n").strip()
        allowed = {"\n", "\t"}
    else:
        value = value.strip()
        allowed = set()
    if any(c not in allowed and unicodedata.category(c) in _BAD_CATEGORIES for c in value):
        return None, Notice("errors.invalid_characters")
    if len(value) > max_len:
        return None, Notice("errors.field_too_long", {"max": max_len})
    if len(value) < min_len:
        return None, Notice("errors.field_too_short", {"min": min_len})
    return value, None


clean_text = _clean  # the same text rules for staff replies and notes (services/inbox.py)


def validate(session: Session, user_id: int, kind: Any, subject: Any, body: Any,
             account_id: Any = None) -> tuple[str, str, str, int | None]:
    """The cleaned (kind, subject, body, account id) or FormErrors naming every wrong field."""
    fields: dict[str, Notice] = {}
    if not isinstance(kind, str) or kind not in KINDS:
        fields["kind"] = Notice("errors.message_kind_invalid")
    clean_subject, notice = _clean(subject, min_len=SUBJECT_MIN, max_len=SUBJECT_MAX, multiline=False)
    if notice:
        fields["subject"] = notice
    clean_body, notice = _clean(body, min_len=BODY_MIN, max_len=BODY_MAX, multiline=True)
    if notice:
        fields["body"] = notice
    aid: int | None = None
    if account_id is not None and account_id != "":
        try:
            aid = require_account(session, user_id, account_id).id
        except NotFound:
            fields["account_id"] = Notice("errors.account_not_found")
    if fields:
        raise FormErrors(fields)
    assert clean_subject is not None and clean_body is not None  # else their field errors are set
    return kind, clean_subject, clean_body, aid


def _lock_user(session: Session, uid: int) -> User:
    stmt = select(User).where(User.id == uid)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    user = session.exec(stmt).first()
    if user is None:
        raise NotFound("errors.not_found")
    return user


def send_message(engine: Engine, utility: Utility, user_id: int, kind: Any, subject: Any, body: Any,
                 account_id: Any = None, *, now: datetime) -> MessageInfo:
    """Store one message from the customer (status ``new``) and return it.

    Raises FormErrors (field errors), TooManyMessages (rate limit) or NotFound (unknown user)."""
    del utility  # same rules for every utility; kept for a uniform service signature
    uid = as_id(user_id)
    if uid is None:
        raise NotFound("errors.not_found")
    with write_session(engine) as s:
        _lock_user(s, uid)
        kind_, subject_, body_, aid = validate(s, uid, kind, subject, body, account_id)
        since = now - RATE_WINDOW
        recent = s.exec(
            select(CustomerMessage.created_at)
            .where(CustomerMessage.user_id == uid, CustomerMessage.created_at > since)
            .order_by(col(CustomerMessage.created_at))
        ).all()
        if len(recent) >= MAX_PER_HOUR:
            oldest = recent[len(recent) - MAX_PER_HOUR]
            wait = oldest + RATE_WINDOW - now
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            raise TooManyMessages(max=MAX_PER_HOUR, minutes=minutes)
        msg = CustomerMessage(user_id=uid, account_id=aid, kind=kind_, subject=subject_, body=body_,
                              status="new", created_at=now)
        s.add(msg)
        s.flush()
        number = None
        if aid is not None:
            account = s.get(Account, aid)
            assert account is not None  # validate() found it in this transaction
            number = account.number
        return MessageInfo(id=stored_id(msg), kind=msg.kind, subject=msg.subject, body=msg.body, status=msg.status,
                           account_number=number, created_at=msg.created_at, answered_at=None)


def list_messages(session: Session, user_id: int, limit: int = MAX_LIST) -> list[MessageInfo]:
    """The customer's messages (not re-registration requests), newest first; empty for an unknown
    user or an id that is not a plain positive int."""
    uid = as_id(user_id)
    if uid is None:
        return []
    rows = session.exec(
        select(CustomerMessage, Account.number)
        .join(Account, col(Account.id) == col(CustomerMessage.account_id), isouter=True)
        .where(col(CustomerMessage.user_id) == uid, col(CustomerMessage.kind).in_(KINDS))
        .order_by(col(CustomerMessage.created_at).desc(), col(CustomerMessage.id).desc())
        .limit(max(1, min(int(limit), MAX_LIST)))
    ).all()
    replies = replies_for(session, [stored_id(m) for m, _ in rows])
    return [
        MessageInfo(id=stored_id(m), kind=m.kind, subject=m.subject, body=m.body, status=m.status,
                    account_number=number, created_at=m.created_at, answered_at=m.answered_at,
                    replies=tuple(replies.get(stored_id(m), ())))
        for m, number in rows
    ]


def replies_for(session: Session, message_ids: list[int]) -> dict[int, list[Reply]]:
    """The staff replies (never the internal notes) to the given messages, oldest first: what the
    customer sees under each of their messages."""
    out: dict[int, list[Reply]] = {}
    if not message_ids:
        return out
    for e in session.exec(select(MessageEvent).where(col(MessageEvent.message_id).in_(message_ids),
                                                     MessageEvent.kind == "reply")
                          .order_by(col(MessageEvent.created_at), col(MessageEvent.id))).all():
        out.setdefault(e.message_id, []).append(Reply(body=e.body, created_at=e.created_at))
    return out


def sent_within(session: Session, user_id: int, *, now: datetime) -> int:
    """How many messages the customer has sent in the last hour (for the page's hint)."""
    uid = as_id(user_id)
    if uid is None:
        return 0
    return session.exec(
        select(func.count()).select_from(CustomerMessage)
        .where(CustomerMessage.user_id == uid, CustomerMessage.created_at > now - RATE_WINDOW)
    ).one()


__all__ = [
    "BODY_MAX", "BODY_MIN", "KINDS", "MAX_PER_HOUR", "MessageInfo", "Reply", "clean_text", "replies_for",
     "STATUSES", "SUBJECT_MAX", "SUBJECT_MIN",
    "TooManyMessages", "list_messages", "send_message", "sent_within", "validate",
]
