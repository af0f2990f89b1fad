"""What an account's dashboard shows, in one read: holder, address, balance, last period's volume
of each service (with its unit: m³ of gas and kWh are never added up) and charge, and each meter
with its last readings and what is due this month (reading window,
submissions left).

Pure composition of ``accounts`` (ownership), ``billing`` (money) and ``readings`` (meters): no
rules of its own, no writes. Every account and meter id is checked against the customer's own
accounts (``accounts.require_account`` / ``allowed_account_ids``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from gazportal.models import Meter
from gazportal.models._base import stored_id
from gazportal.services import accounts, billing, i18n, periods, readings
from gazportal.services.readings import HistoryEntry, ReadingCheck, Window
from gazportal.settings import Utility

HISTORY_LIMIT = 6


@dataclass(frozen=True)
class MeterView:
    id: int
    service: str
    serial: str
    unit: str
    digits: int
    is_active: bool
    status: ReadingCheck  # base reading, window, submissions used/left, what hides the form
    history: tuple[HistoryEntry, ...]  # newest first

    @property
    def last(self) -> HistoryEntry | None:
        return self.history[0] if self.history else None


@dataclass(frozen=True)
class ServiceVolume:
    """One service's charged volume in a month, in its unit (``settings.UNITS``)."""

    service: str
    unit: str  # m3 | kWh
    volume: Decimal  # 3 places


@dataclass(frozen=True)
class Dashboard:
    account: accounts.AccountCard
    period: str  # the current period (a reading made now belongs to it)
    balance: Decimal  # at the end of today (local); negative = debt
    debt: Decimal  # >= 0
    last_period: str  # the month before ``period``
    last_volumes: tuple[ServiceVolume, ...]  # per service charged that month, the profile's order
    last_charged: Decimal  # all services
    window: Window
    submissions_limit: int
    meters: tuple[MeterView, ...]

    @property
    def in_debt(self) -> bool:
        return self.debt > 0


def balances_today(session: Session, utility: Utility, user_id: int, *, now: datetime) -> dict[int, Decimal]:
    """The balance of each of the customer's accounts at the end of the local day of ``now`` (an
    aware time): account id -> payments minus charges (``billing.balance_at``, Decimal with two
    places; negative is a debt, positive a credit), as the dashboard's "balance today" shows it.
    Only the customer's own accounts (``accounts.list_accounts``); an unknown user has none."""
    today = now.astimezone(utility.tz).date()
    return {card.id: billing.balance_at(session, card.id, today, utility.tz)
            for card in accounts.list_accounts(session, user_id)}


def allowed_account_ids(session: Session, user_id: int) -> list[int]:
    """The ids of the accounts the customer sees (what ``readings`` needs as allowed ids)."""
    return [c.id for c in accounts.list_accounts(session, user_id)]


def account_dashboard(
    session: Session, utility: Utility, user_id: int, account_id: Any, *, now: datetime,
    history_limit: int = HISTORY_LIMIT,
) -> Dashboard:
    """The dashboard of one of the customer's accounts; AccountNotFound for any other id."""
    acc = accounts.require_account(session, user_id, account_id)
    return _build(session, utility, acc, allowed_account_ids(session, user_id), now=now, history_limit=history_limit)


def staff_view(session: Session, utility: Utility, account_id: int, *, now: datetime,
               history_limit: int = HISTORY_LIMIT) -> Dashboard:
    """The dashboard of any account as its customers see it, for a staff member's read-only view
    (issue 16 point 5; ``services.view_as`` audits the look first). AccountNotFound for no such
    account. No ownership check: never call it for a customer."""
    from gazportal.models import Account
    from gazportal.services.errors import AccountNotFound

    acc = session.get(Account, account_id) if isinstance(account_id, int) else None
    if acc is None:
        raise AccountNotFound()
    return _build(session, utility, acc, [account_id], now=now, history_limit=history_limit)


def _build(session: Session, utility: Utility, acc: Any, allowed: list[int], *, now: datetime,
           history_limit: int) -> Dashboard:
    acc_id = stored_id(acc)
    tz = utility.tz
    today = now.astimezone(tz).date()
    period = periods.period_of(now, tz)  # billing: the balance and last month's charges (calendar months)
    last_period = periods.add_months(period, -1)
    balance = billing.balance_at(session, acc_id, today, tz)
    state = billing.account_state(session, acc_id, last_period, tz)
    order: dict[str, int] = {svc: i for i, svc in enumerate(utility.services)}
    last_volumes = tuple(
        ServiceVolume(c.service, i18n.unit_of(c.service), c.volume)
        for c in sorted(state.charges, key=lambda c: (order.get(c.service, 99), c.service))
    )
    meters = session.exec(select(Meter).where(Meter.account_id == acc_id).order_by(Meter.service, Meter.serial)).all()
    views = []
    for m in meters:
        meter_id = stored_id(m)
        status = readings.meter_status(session, utility, meter_id, now=now, allowed_account_ids=allowed)
        views.append(
            MeterView(
                id=meter_id, service=m.service, serial=m.serial, unit=m.unit, digits=m.digits,
                is_active=bool(m.is_active), status=status,
                history=tuple(readings.history(session, meter_id, history_limit)),
            )
        )
    return Dashboard(
        account=accounts.AccountCard(acc_id, acc.number, acc.holder_name, acc.address, acc.kind),
        period=period,
        balance=balance,
        debt=-balance if balance < 0 else Decimal("0.00"),
        last_period=last_period,
        last_volumes=last_volumes,
        last_charged=state.charged,
        window=readings.reading_window(utility, now),
        submissions_limit=readings.submissions_limit(utility),
        meters=tuple(views),
    )
