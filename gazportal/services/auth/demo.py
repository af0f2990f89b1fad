"""The demo customer: someone who runs ``./run.sh`` to look around can sign in at once (issue 14
point 2), in demo mode only (``GAZPORTAL_DEMO=1``, which ``./run.sh`` turns on; off by default).

:func:`ensure_demo_customer` makes (once) a confirmed customer with two of the demo data's person
accounts — one with a debt, between them every service the profile has — whose e-mail is
:data:`DEMO_EMAIL` and password :data:`DEMO_PASSWORD`; its login follows the profile (the e-mail,
a phone number, or the number of its first account). ``python -m gazportal.cli demo-customer``
calls it and prints the sign-in details; the start page offers "try the demo", which signs in
through the ordinary :func:`gazportal.services.auth.sign_in` (its limits included).

:func:`ensure_demo_operator` makes the demo operator of the staff console (same password, a login
the profile takes) and :func:`ensure_demo_messages` gives the demo customer two messages, one
answered by the demo operator; the same command prints the operator's sign-in too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

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


class DemoReadOnly(DomainError):
    """The shared demo customer's password and personal details stay as printed: anyone may sign
    in as them, so a change by one visitor would lock out (or take over from) every other."""

    key = "errors.demo_read_only"


def refuse_demo_changes(user: User, settings: Any) -> None:
    """Raise :class:`DemoReadOnly` when ``user`` is the demo customer of a portal in demo mode
    (``settings.demo``; the customer with :data:`DEMO_EMAIL`): their password, e-mail, phone and
    profile are not changed (found by this session's attacker: "Try the demo" then a password
    change locked everyone else out). Outside demo mode nobody is refused."""
    if getattr(settings, "demo", False) and user.role == "customer" and user.email == DEMO_EMAIL:
        raise DemoReadOnly()


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


def known_demo_login(utility: "Utility") -> str | None:
    """The demo customer's login as the start page can show it without the database: the e-mail
    or phone the profile signs in with; None when the profile signs in with an account number
    (the demo's first account, chosen from the demo data: ``./run.sh`` prints it)."""
    if utility.login_identifier == "email":
        return DEMO_EMAIL
    if utility.login_identifier == "phone":
        return DEMO_PHONES[utility.phone_region]
    return None


def ensure_demo_customer(engine: "Engine", utility: "Utility", *, now: datetime) -> DemoCustomer:
    """The demo customer, made if missing (idempotent). Raises NoDemoAccounts without demo data."""
    with write_session(engine) as session:
        user = session.exec(select(User).where(User.email == DEMO_EMAIL)).first()
        if user is None:
            chosen = _choose(session, utility, now.astimezone(utility.tz).date())
            login = known_demo_login(utility) or chosen[0].number
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


# --- the demo operator (issue 14 point 2, issue 16 point 1) --------------------------------------

DEMO_OPERATOR_EMAIL = "operator@example.org"
DEMO_OPERATOR_PHONES = {"KZ": "+77001234568", "UA": "+380501234568"}

# The demo customer's messages (data in the profile's language, not page text): (kind, subject,
# body, the demo operator's reply or None — a message left for whoever tries the staff console).
_DEMO_MESSAGES = {
    "ru": [("support", "Не приходит квитанция на почту",
            "Здравствуйте! С прошлого месяца квитанция не приходит на мою электронную почту.",
            "Здравствуйте! Мы проверили адрес в вашем профиле и снова отправили квитанцию. Спасибо, что написали."),
           ("contact", "Замена счётчика газа", "Подскажите, как заказать замену счётчика газа и сколько это стоит?",
            None)],
    "kk": [("support", "Түбіртек поштаға келмейді",
            "Сәлеметсіз бе! Өткен айдан бері түбіртек электрондық поштама келмейді.",
            "Сәлеметсіз бе! Профиліңіздегі мекенжайды тексеріп, түбіртекті қайта жібердік. Жазғаныңызға рақмет."),
           ("contact", "Газ есептегішін ауыстыру", "Газ есептегішін ауыстыруға қалай тапсырыс беремін, бағасы қанша?",
            None)],
    "uk": [("support", "Не надходить рахунок на пошту",
            "Добрий день! З минулого місяця рахунок не надходить на мою електронну пошту.",
            "Добрий день! Ми перевірили адресу у вашому профілі й надіслали рахунок ще раз. Дякуємо, що написали."),
           ("contact", "Заміна лічильника газу", "Підкажіть, як замовити заміну лічильника газу і скільки це коштує?",
            None)],
    "en": [("support", "The bill does not arrive by e-mail",
            "Hello! Since last month the bill no longer arrives at my e-mail address.",
            "Hello! We checked the address in your profile and sent the bill again. Thank you for writing."),
           ("contact", "Replacing the gas meter", "How do I order a replacement of my gas meter, and what does it cost?",
            None)],
}


@dataclass(frozen=True)
class DemoOperator:
    login: str
    password: str


def demo_operator_login(utility: "Utility") -> str:
    """The demo operator's login as the profile spells logins: an e-mail, a phone number, or an
    account-number-shaped code of nines (no account of the demo data has it)."""
    if utility.login_identifier == "email":
        return DEMO_OPERATOR_EMAIL
    if utility.login_identifier == "phone":
        return DEMO_OPERATOR_PHONES[utility.phone_region]
    return "9" * len(utility.account_number_example)


def ensure_demo_operator(engine: "Engine", utility: "Utility", *, now: datetime) -> DemoOperator:
    """The demo operator (role ``operator``, password :data:`DEMO_PASSWORD`), made if missing
    through ``services.staff.add_staff`` (so its creation is in the audit log); idempotent."""
    from gazportal.services.staff import add_staff

    login = identity.normalize_login(utility, demo_operator_login(utility))
    with read_session(engine) as s:
        exists = s.exec(select(User.id).where(User.login == login, col(User.role) == "operator")).first()
    if exists is None:
        add_staff(engine, utility, login=login, password=DEMO_PASSWORD, role="operator", surname="Оператор",
                  name="Демо", email=DEMO_OPERATOR_EMAIL, now=now)
    return DemoOperator(login=login, password=DEMO_PASSWORD)


def ensure_demo_messages(engine: "Engine", settings: Any, utility: "Utility", *, now: datetime) -> int:
    """Once: the demo customer's messages, the first answered by the demo operator (a reply through
    ``services.inbox``: audited, and e-mailed like any reply), the other waiting. Returns how many
    messages were made (0 when the customer already has some)."""
    from datetime import timedelta

    from gazportal.models import CustomerMessage
    from gazportal.services import inbox
    from gazportal.services.audit import Actor

    with write_session(engine) as s:
        customer = s.exec(select(User).where(User.email == DEMO_EMAIL, col(User.role) == "customer")).first()
        operator = s.exec(select(User).where(col(User.role) == "operator",
                                             User.email == DEMO_OPERATOR_EMAIL)).first()
        if customer is None or operator is None:
            return 0
        if s.exec(select(CustomerMessage.id).where(CustomerMessage.user_id == customer.id)).first() is not None:
            return 0
        texts = _DEMO_MESSAGES.get(utility.default_language, _DEMO_MESSAGES["en"])
        account = s.exec(select(UserAccountLink.account_id).where(UserAccountLink.user_id == customer.id)
                         .order_by(col(UserAccountLink.id))).first()  # about their first account
        made = []
        for i, (kind, subject, body, reply) in enumerate(texts):
            m = CustomerMessage(user_id=stored_id(customer), account_id=account, kind=kind, subject=subject,
                                body=body, status="new", created_at=now - timedelta(hours=5 - 2 * i))  # within the SLA
            s.add(m)
            s.flush()
            made.append((stored_id(m), reply))
        actor = Actor(user_id=stored_id(operator), label=operator.login, role=operator.role)
    for message_id, reply in made:
        if reply is not None:
            inbox.add_event(engine, settings, utility, actor, message_id, "reply", reply, now=now)
    return len(made)


def ensure_demo_review(engine: "Engine", utility: "Utility", *, now: datetime) -> bool:
    """Once: a reading of the demo customer held for staff (issue 16 point 6), so that the demo
    operator's readings queue (/staff/readings) has one to accept or reject: the customer's first
    active metered meter, its latest reading plus three times the profile's hard limit
    (``[readings] review_above``, units a month), in the current period — the row
    ``readings.submit_reading`` keeps for such a reading (reason ``review.above_hard_limit``).
    Returns whether it was made (False: the customer has one already, or no meter fits)."""
    from datetime import timedelta

    import sqlalchemy as sa

    from gazportal.models import Reading, ReadingReview
    from gazportal.services.periods import reading_period

    with write_session(engine) as s:
        customer = s.exec(select(User).where(User.email == DEMO_EMAIL, col(User.role) == "customer")).first()
        if customer is None:
            return False
        accounts = select(UserAccountLink.account_id).where(UserAccountLink.user_id == stored_id(customer))
        meters = s.exec(select(Meter).where(col(Meter.account_id).in_(accounts), col(Meter.is_active))
                        .order_by(col(Meter.id))).all()
        if s.exec(select(ReadingReview.id).where(
                col(ReadingReview.meter_id).in_([stored_id(m) for m in meters]))).first() is not None:
            return False
        for meter in meters:
            limit = utility.readings.review_limit(meter.service)
            last = s.execute(sa.select(col(Reading.value), col(Reading.rollovers)).where(col(Reading.meter_id) == stored_id(meter))
                             .order_by(col(Reading.taken_at).desc()).limit(1)).first()
            if limit is None or last is None or last[0] + 3 * limit >= 10 ** meter.digits:
                continue
            taken = now - timedelta(hours=2)
            s.add(ReadingReview(meter_id=stored_id(meter), user_id=stored_id(customer), value=last[0] + 3 * limit,
                                rollovers=last[1], taken_at=taken, period=reading_period(taken, utility),
                                base_value=last[0], volume=3 * limit, limit_volume=limit,
                                reason="review.above_hard_limit"))
            return True
    return False
