"""Online payments, exactly once (issue 17).

* :func:`create_order` fixes the account, amount and currency on the server (the customer's own
  account; the profile's payment window: from ``payment_from_day`` of the month in the profile's
  time zone; from 1.00 up to the debt plus ``payment_advance_limit``).
* :func:`receive` handles a provider's callback: the provider verifies its signature (a forged one
  is refused and nothing is stored), then :func:`apply` books it. A payment is booked only from a
  verified success whose amount and currency equal the order's; a mismatch is refused, not booked,
  and recorded as a :class:`PaymentIncident` for staff. The ledger's ``(provider, transaction_id)``
  is unique in the database and the order row is locked (``FOR UPDATE``; SQLite's ``BEGIN
  IMMEDIATE``), so any number of duplicate callbacks book one payment.
* Statuses only move forward: created → pending → paid | failed | expired. A success that comes
  after failed or expired is still booked (the money was taken) and flagged (``late``, an incident).
* :func:`recheck` asks the provider about orders pending for more than :data:`RECHECK_AFTER`
  (``python -m gazportal.cli payments recheck``, run every few minutes).

Money is Decimal with two places throughout; times are aware UTC.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gazportal.db import is_sqlite, read_session, write_session
from gazportal.models import Payment, PaymentIncident, PaymentOrder
from gazportal.models._base import stored_id
from gazportal.services import accounts, billing, i18n, money, periods, rollups
from gazportal.services.errors import DomainError, InvalidInput, NotFound
from gazportal.services.payments.providers import Forged, Notification, Provider, get
from gazportal.settings import Utility

log = logging.getLogger("gazportal.payments")

MIN_AMOUNT = Decimal("1.00")
RECHECK_AFTER = timedelta(minutes=15)
CHANNEL = "portal"
OPEN = ("created", "pending")
# status -> the statuses it may move to (forward only; paid is final)
FORWARD = {"created": {"pending", "paid", "failed", "expired"}, "pending": {"paid", "failed", "expired"},
           "failed": {"paid"}, "expired": {"paid"}, "paid": set()}

Result = Literal["booked", "duplicate", "updated", "ignored", "mismatch", "unknown_order", "second_success"]


@dataclass(frozen=True)
class OrderView:
    """An order as the result page shows it."""

    public_id: str
    account_number: str
    amount: Decimal
    currency: str
    status: str
    late: bool
    language: str
    provider: str


def window_open(utility: Utility, now: datetime) -> bool:
    """Is online payment open on the local day of ``now``? From ``payment_from_day`` to the end of
    the month (Kremenchukgaz, seed 003: "payments for last month are possible after the 10th")."""
    return now.astimezone(utility.tz).day >= utility.payment_from_day


def limits(session: Session, utility: Utility, account_id: int, now: datetime) -> tuple[Decimal, Decimal, Decimal]:
    """(debt, lowest, highest) amount of one online payment for the account today: the debt is
    pre-filled; a partial payment from :data:`MIN_AMOUNT`; an advance up to debt + the profile's
    ``payment_advance_limit``."""
    debt = billing.debt_at(session, account_id, now.astimezone(utility.tz).date(), utility.tz)
    return debt, MIN_AMOUNT, debt + utility.payment_advance_limit


def create_order(engine: Engine, utility: Utility, *, user_id: int, account_id: Any, amount: Any, lang: str,
                 provider: str, now: datetime) -> PaymentOrder:
    """A new order for one of the customer's accounts, fixed here on the server.

    ``amount``: what the customer typed (``money.parse_amount``) or a Decimal. Raises
    ``AccountNotFound`` (not the customer's), ``DomainError("errors.payment_window", day=)``
    (before the profile's day), ``InvalidInput("errors.amount_invalid")`` and
    ``DomainError("errors.payment_limits", min_amount=, max_amount=)`` (outside the limits)."""
    if not window_open(utility, now):
        raise DomainError("errors.payment_window", day=utility.payment_from_day)
    value = money.parse_amount(amount, lang)
    with write_session(engine) as session:
        acc = accounts.require_account(session, user_id, account_id)
        _debt, low, high = limits(session, utility, stored_id(acc), now)
        if not low <= value <= high:
            raise DomainError("errors.payment_limits", min_amount=low, max_amount=high)
        order = PaymentOrder(public_id=secrets.token_urlsafe(16), account_id=stored_id(acc), user_id=user_id,
                             provider=provider, amount=value, currency=utility.currency.code,
                             language=i18n.language(lang), created_at=now, updated_at=now)
        session.add(order)
        session.flush()
        return order


def _lock(session: Session, public_id: str) -> PaymentOrder | None:
    q = select(PaymentOrder).where(PaymentOrder.public_id == public_id)
    if not is_sqlite(session):
        q = q.with_for_update()
    return session.exec(q).first()


def mark_pending(engine: Engine, public_id: str, now: datetime) -> None:
    """The customer was sent to the provider: created → pending (nothing else changes)."""
    with write_session(engine) as session:
        order = _lock(session, public_id)
        if order is not None and order.status == "created":
            order.status, order.updated_at = "pending", now


def _incident(session: Session, kind: str, provider: str, order: PaymentOrder | None, note: Notification,
              detail: str = "") -> None:
    exists = session.exec(select(PaymentIncident.id).where(
        PaymentIncident.kind == kind, PaymentIncident.provider == provider,
        PaymentIncident.transaction_id == note.transaction_id,
        PaymentIncident.order_id == (order.id if order else None))).first()
    if exists is None:
        session.add(PaymentIncident(kind=kind, provider=provider, order_id=order.id if order else None,
                                    transaction_id=note.transaction_id,
                                    amount=note.amount if note.amount is not None and abs(note.amount) < Decimal("1e10") else None,
                                    currency=note.currency, detail=detail[:200]))
    log.warning("payment incident %s: provider=%s order=%s", kind, provider, note.order)


def _matches(order: PaymentOrder, note: Notification) -> bool:
    return note.amount is not None and note.amount == order.amount and note.currency == order.currency


def _apply(session: Session, utility: Utility, provider: str, note: Notification, now: datetime) -> Result:
    order = _lock(session, note.order)
    if order is None or order.provider != provider:
        _incident(session, "unknown_order", provider, None, note, note.order)
        return "unknown_order"
    if note.outcome != "success":
        if note.outcome == "failure" and "failed" in FORWARD[order.status]:
            order.status, order.updated_at = "failed", now
            return "updated"
        if note.outcome == "pending" and order.status == "created":
            order.status, order.updated_at = "pending", now
            return "updated"
        return "ignored"
    if not note.transaction_id:
        return "ignored"
    if order.status == "paid":
        if order.transaction_id == note.transaction_id:
            return "duplicate"
        _incident(session, "second_success", provider, order, note)
        return "second_success"
    if not _matches(order, note):
        _incident(session, "mismatch", provider, order, note,
                  f"order {order.amount} {order.currency}, callback {note.amount} {note.currency}")
        return "mismatch"
    payment = Payment(account_id=order.account_id, paid_at=now, amount=order.amount,
                      receipt_no="WEB-" + order.public_id, channel=CHANNEL, provider=provider,
                      transaction_id=note.transaction_id)
    session.add(payment)
    session.flush()
    late = order.status in ("expired", "failed")
    order.status, order.updated_at, order.transaction_id = "paid", now, note.transaction_id
    order.payment_id, order.late = stored_id(payment), late
    if late:
        _incident(session, "late_success", provider, order, note)
    rollups.changed(session, utility, periods={periods.period_of(now, utility.tz)})
    return "booked"


def apply(engine: Engine, utility: Utility, provider: str, note: Notification, *, now: datetime) -> Result:
    """Book or record one verified notification in its own transaction (see the module's rules).

    Returns what happened: ``booked``; ``duplicate`` (already booked, a repeated callback or the
    database's unique (provider, transaction_id) caught a concurrent one); ``updated`` (a failure
    or pending status moved the order forward); ``ignored`` (nothing to do, e.g. a failure after
    paid); ``mismatch`` / ``unknown_order`` / ``second_success`` (refused, recorded for staff)."""
    try:
        with write_session(engine) as session:
            return _apply(session, utility, provider, note, now)
    except sa.exc.IntegrityError:
        with read_session(engine) as session:
            booked = session.exec(select(Payment.id).where(
                Payment.provider == provider, Payment.transaction_id == note.transaction_id)).first()
        if booked is not None:
            return "duplicate"
        raise


def check(engine: Engine, provider: str, note: Notification) -> int:
    """Answer a provider's question before it charges (CloudPayments' Check): 0 to go ahead,
    10 for an unknown order, 12 for an amount or currency not the order's, 20 for an order that
    is no longer open."""
    from gazportal.services.payments import cloudpayments as cp

    with read_session(engine) as session:
        order = session.exec(select(PaymentOrder).where(PaymentOrder.public_id == note.order)).first()
    if order is None or order.provider != provider:
        return cp.CODE_BAD_INVOICE
    if not _matches(order, note):
        return cp.CODE_BAD_AMOUNT
    if order.status not in OPEN:
        return cp.CODE_EXPIRED
    return cp.CODE_OK


def receive(engine: Engine, utility: Utility, provider: Provider, body: bytes, headers: dict[str, str], path: str,
            *, now: datetime) -> tuple[Notification | None, Result | None, int]:
    """One callback as it came over HTTP: (notification or None if forged, result, answer code).
    Blocking (database): call it in a thread from async code."""
    try:
        note = provider.verify(body, headers, path)
    except Forged as e:
        log.warning("payment callback refused (%s): provider=%s", e, provider.name)
        return None, None, 0
    if note.kind == "check":
        return note, None, check(engine, provider.name, note)
    return note, apply(engine, utility, provider.name, note, now=now), 0


def recheck(engine: Engine, utility: Utility, *, now: datetime, provider: Provider | None = None,
            older_than: timedelta = RECHECK_AFTER) -> dict[str, int]:
    """Ask the provider about every open order created more than ``older_than`` ago: a success is
    booked (:func:`apply`), a failure fails the order, an order the provider never saw (or one it
    has not finished) expires. Returns counts by result. A provider that cannot be reached leaves
    its orders as they are (tried again next run)."""
    cutoff = now - older_than
    with read_session(engine) as session:
        stale = session.exec(select(PaymentOrder).where(col(PaymentOrder.status).in_(OPEN),
                                                        col(PaymentOrder.created_at) < cutoff)
                             .order_by(col(PaymentOrder.id))).all()
    counts: dict[str, int] = {}
    for order in stale:
        prov = provider or get(order.provider)
        try:
            note = prov.status(order)
        except Exception:  # noqa: BLE001 - a network or protocol failure: try again on the next run
            log.exception("payment status call failed: provider=%s", order.provider)
            counts["unreachable"] = counts.get("unreachable", 0) + 1
            continue
        if note.order != order.public_id:
            result: str = "ignored"
        elif note.outcome in ("success", "failure"):
            result = apply(engine, utility, order.provider, note, now=now)
        else:
            result = _expire(engine, order.public_id, now)
        counts[result] = counts.get(result, 0) + 1
    return counts


def _expire(engine: Engine, public_id: str, now: datetime) -> str:
    with write_session(engine) as session:
        order = _lock(session, public_id)
        if order is None or order.status not in OPEN:
            return "ignored"
        order.status, order.updated_at, order.checked_at = "expired", now, now
        return "expired"


def order_view(engine: Engine, public_id: Any) -> OrderView:
    """The order ``public_id`` (its 128-bit id is the capability: the result page shows no more
    than the account number, amount and status). Raises ``NotFound``."""
    from gazportal.models import Account

    if not isinstance(public_id, str) or not 10 <= len(public_id) <= 32:
        raise NotFound()
    with read_session(engine) as session:
        row = session.exec(select(PaymentOrder, Account.number).join(Account, col(Account.id) == col(PaymentOrder.account_id))
                           .where(PaymentOrder.public_id == public_id)).first()
    if row is None:
        raise NotFound()
    order, number = row
    return OrderView(order.public_id, number, order.amount, order.currency, order.status, order.late,
                     order.language, order.provider)


def get_order(engine: Engine, public_id: str) -> PaymentOrder:
    """The order row (for a provider's checkout); raises ``NotFound``."""
    with read_session(engine) as session:
        order = session.exec(select(PaymentOrder).where(PaymentOrder.public_id == public_id)).first()
    if order is None:
        raise NotFound()
    return order


def incidents(engine: Engine, limit: int = 100) -> list[PaymentIncident]:
    """The newest incidents for staff, newest first."""
    with read_session(engine) as session:
        return list(session.exec(select(PaymentIncident).order_by(col(PaymentIncident.id).desc()).limit(limit)).all())


__all__ = ["Forged", "InvalidInput", "Notification", "apply", "check", "create_order", "get", "get_order",
           "incidents", "limits", "mark_pending", "order_view", "receive", "recheck", "window_open"]
