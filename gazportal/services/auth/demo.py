"""The demo customer: someone who runs ``./run.sh`` to look around can sign in at once (issue 14
point 2), in demo mode only (``GAZPORTAL_DEMO=1``, which ``./run.sh`` turns on; off by default).

:func:`ensure_demo_customer` makes (once) a confirmed customer with two of the demo data's person
accounts — one with a debt, between them every service the profile has — whose e-mail is
:data:`DEMO_EMAIL` and password :data:`DEMO_PASSWORD`; its login follows the profile (the e-mail,
a phone number, or the number of its first account). ``python -m gazportal.cli demo-customer``
calls it and prints the sign-in details; the start page offers "try the demo", which signs in
through the ordinary :func:`gazportal.services.auth.sign_in` (its limits included).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlmodel import col, select

from gazportal.db import read_session, write_session
from gazportal.models import Account, Meter, User, UserAccountLink
from gazportal.models._base import stored_id
from gazportal.services import identity, passwords
from gazportal.services.billing import debt_at
from gazportal.services.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility

DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "Demo-Portal-2026"  # meets every shipped profile's password policy (a test checks)
DEMO_PHONES = {"KZ": "+77001234567", "UA": "+380501234567"}
_CANDIDATES = 200  # accounts looked at when choosing


class NoDemoAccounts(DomainError):
    """The database has no two free person accounts with a payment (load demo data first)."""

    key = "errors.demo_no_accounts"


@dataclass(frozen=True)
class DemoCustomer:
    login: str
    password: str
    accounts: tuple[str, ...]  # the account numbers it holds


def demo_login(engine: "Engine") -> str | None:
    """The demo customer's login, or None when there is none."""
    with read_session(engine) as s:
        return s.exec(select(User.login).where(User.email == DEMO_EMAIL, col(User.role) == "customer")).first()


def _choose(session, utility: "Utility", today: date) -> list[Account]:
    """Two free person accounts: the one with the largest debt, then the one that adds the most
    services the first lacks (ties: the larger debt)."""
    taken = select(UserAccountLink.account_id)
    rows = session.exec(select(Account).where(Account.kind == "person", col(Account.id).not_in(taken))
                        .order_by(col(Account.id)).limit(_CANDIDATES)).all()
    if len(rows) < 2:
        raise NoDemoAccounts()
    services = {a.id: set(session.exec(select(Meter.service).where(Meter.account_id == a.id)).all()) for a in rows}
    debts = {a.id: debt_at(session, stored_id(a), today, utility.tz) for a in rows}
    first = max(rows, key=lambda a: (debts[a.id], len(services[a.id])))
    second = max((a for a in rows if a.id != first.id),
                 key=lambda a: (len(services[a.id] - services[first.id]), debts[a.id]))
    return [first, second]


def ensure_demo_customer(engine: "Engine", utility: "Utility", *, now: datetime) -> DemoCustomer:
    """The demo customer, made if missing (idempotent). Raises NoDemoAccounts without demo data."""
    with write_session(engine) as session:
        user = session.exec(select(User).where(User.email == DEMO_EMAIL)).first()
        if user is None:
            chosen = _choose(session, utility, now.astimezone(utility.tz).date())
            if utility.login_identifier == "email":
                login = DEMO_EMAIL
            elif utility.login_identifier == "phone":
                login = DEMO_PHONES[utility.phone_region]
            else:
                login = chosen[0].number
            user = User(login=login, login_skeleton=identity.login_skeleton(login), email=DEMO_EMAIL,
                        phone=DEMO_PHONES[utility.phone_region], surname="Демо", name="Айгерим",
                        password_hash=passwords.hash_password(DEMO_PASSWORD), is_active=True,
                        email_verified=True, phone_verified=True, language=utility.default_language,
                        password_changed_at=now, created_at=now)
            session.add(user)
            session.flush()
            for acc in chosen:
                session.add(UserAccountLink(user_id=stored_id(user), account_id=stored_id(acc), created_at=now))
        numbers = session.exec(select(Account.number).join(UserAccountLink, col(UserAccountLink.account_id) ==
                                                            col(Account.id))
                               .where(UserAccountLink.user_id == user.id).order_by(col(Account.number))).all()
        return DemoCustomer(login=user.login, password=DEMO_PASSWORD, accounts=tuple(numbers))
