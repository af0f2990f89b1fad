"""The account state for a period (opening balance, charges, payments, closing balance, debt), shown
on /statement and sent to the customer's e-mail on request.

Pure Python (no ``import reflex``). Ownership through ``accounts.require_account``; the period
must be a month not after the current one. Sending is limited to ``MAX_MAILS_PER_HOUR`` per
customer (a row of ``login_throttle`` keyed by a hash of "statements.mail:<user id>") and goes
to the customer's confirmed e-mail only, in the customer's language, as text plus a simple HTML
table, after the counter is committed.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from gazportal.db import write_session
from gazportal.models import Account, Charge, User
from gazportal.models._base import stored_id
from gazportal.services import billing, i18n, notify, throttle
from gazportal.services.accounts.linking import require_account
from gazportal.services.charts import check_period
from gazportal.services.errors import AccountNotFound, DomainError
from gazportal.services.periods import add_months
from gazportal.settings import Utility

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings

MAX_MAILS_PER_HOUR = 5
WINDOW = timedelta(hours=1)


class NoEmail(DomainError):
    """The customer has no e-mail address in the profile."""

    key = "errors.statement_no_email"


class EmailNotConfirmed(DomainError):
    key = "errors.statement_email_not_confirmed"


class TooManyMails(DomainError):
    """``params["minutes"]`` until the next statement may be sent."""

    key = "errors.statement_mail_limit"


@dataclass(frozen=True)
class Lines:
    """An account state in words and figures, formatted for one language."""

    lang: str
    number: str
    holder: str
    address: str
    period: str  # formatted
    opening: str
    charges: list[tuple[str, str, str]]  # service, volume, amount
    charged: str
    payments: list[tuple[str, str, str]]  # date, amount, receipt
    paid: str
    closing: str
    debt: str  # formatted, "" when there is none
    in_debt: bool


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Sent:
    to: str
    period: str


def state_lines(session: Session, utility: Utility, account: Account, period: str, lang: str) -> Lines:
    """``billing.account_state`` formatted for ``lang`` (money in the profile's currency)."""
    st = billing.account_state(session, stored_id(account), period, utility.tz)
    code = utility.currency.code
    money = lambda v: i18n.format_money(v, code, lang)  # noqa: E731
    charges = [(i18n.t(f"services.{c.service}", lang), i18n.format_volume(c.volume, c.service, lang), money(c.amount))
               for c in st.charges]
    payments = [(i18n.format_date(p.day, lang), money(p.amount), p.receipt_no) for p in st.payments]
    return Lines(lang=lang, number=account.number, holder=account.holder_name, address=account.address or "",
                 period=i18n.format_period(period, lang), opening=money(st.opening), charges=charges,
                 charged=money(st.charged), payments=payments, paid=money(st.paid), closing=money(st.closing),
                 debt=money(st.debt) if st.in_debt else "", in_debt=st.in_debt)


def compose(utility: Utility, lines: Lines, *, to: str, link: str) -> Mail:
    """The e-mail: a plain-text body and a simple HTML table (every value escaped)."""
    lang = lines.lang
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    name = utility.name.get(lang)
    subject = t("mail.statement.subject", period=lines.period, number=lines.number)
    rows: list[tuple[str, str]] = [
        (t("statement.account"), lines.number),
        (t("statement.holder"), lines.holder),
        (t("statement.address"), lines.address),
        (t("statement.opening"), lines.opening),
    ]
    for service, volume, amount in lines.charges:
        rows.append((t("statement.charge_line", service=service, volume=volume), amount))
    rows.append((t("statement.charged"), lines.charged))
    for day, amount, receipt in lines.payments:
        rows.append((t("statement.payment_line", date=day, receipt=receipt), amount))
    rows.append((t("statement.paid"), lines.paid))
    rows.append((t("statement.closing"), lines.closing))
    debt_text = t("statement.debt_text", amount=lines.debt) if lines.in_debt else t("statement.no_debt")
    intro = t("mail.statement.intro", period=lines.period, number=lines.number)
    text = "\n".join(
        [intro, ""]
        + [f"{label}: {value}" for label, value in rows]
        + ["", debt_text, "", t("mail.statement.footer", link=link), "", name]
    ) + "\n"
    e = html.escape
    cells = "".join(
        f'<tr><th scope="row" style="text-align:left;padding:4px 12px 4px 0;font-weight:normal">{e(label)}</th>'
        f'<td style="text-align:right;padding:4px 0;white-space:nowrap">{e(value)}</td></tr>'
        for label, value in rows
    )
    colour = "#b42318" if lines.in_debt else "#14532d"
    body = (
        f'<!doctype html><html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(subject)}</title></head>'
        f'<body style="font-family:Arial,sans-serif;color:#1f2933">'
        f"<p>{e(intro)}</p>"
        f'<table style="border-collapse:collapse" role="presentation">{cells}</table>'
        f'<p style="font-weight:bold;color:{colour}">{e(debt_text)}</p>'
        f'<p>{e(t("mail.statement.footer", link=""))} <a href="{e(link)}">{e(link)}</a></p>'
        f"<p>{e(name)}</p></body></html>"
    )
    return Mail(to=to, subject=subject, text=text, html=body)


# --------------------------------------------------------------------------- rate limit


def _count_mail(session: Session, user_id: int, now: datetime) -> None:
    """One more statement in the customer's hour (``last_failure_at`` is when the hour began)."""
    row = throttle.row(session, throttle.plain_key("statements.mail", user_id))
    minutes = throttle.count_in_window(session, row, MAX_MAILS_PER_HOUR, WINDOW, now)
    if minutes is not None:
        raise TooManyMails(minutes=minutes, max=MAX_MAILS_PER_HOUR)


# --------------------------------------------------------------------------- sending


def send_statement(engine: Engine, utility: Utility, user_id: Any, account_id: Any, period: Any, *,
                   now: datetime, settings: "Settings | None" = None) -> Sent:
    """Send the account state for ``period`` to the customer's confirmed e-mail.

    Raises AccountNotFound (a foreign or missing account), InvalidInput (a bad or future
    period), NoEmail / EmailNotConfirmed, TooManyMails, notify.DeliveryFailed.
    """
    period = check_period(period, utility, now)
    with write_session(engine) as session:
        acc = require_account(session, user_id, account_id)
        user = session.get(User, user_id)
        if user is None:  # pragma: no cover - require_account has checked it
            raise AccountNotFound()
        if not user.email:
            raise NoEmail()
        if not user.email_verified:
            raise EmailNotConfirmed()
        _count_mail(session, stored_id(user), now)
        lang = i18n.language(user.language if user.language in utility.languages else utility.default_language)
        lines = state_lines(session, utility, acc, period, lang)
        to = user.email
    mail = compose(utility, lines, to=to, link=notify.public_link("/statement", settings=settings))
    notify.send_mail(mail.to, mail.subject, mail.text, mail.html, settings=settings)
    return Sent(to=to, period=period)


# --------------------------------------------------------------------------- the page


def email_status(session: Session, user_id: Any) -> str:
    """'ok' (a confirmed e-mail), 'unconfirmed' or 'none' — what the page offers for sending."""
    user = session.get(User, user_id) if type(user_id) is int else None
    if user is None or not user.email:
        return "none"
    return "ok" if user.email_verified else "unconfirmed"


def view(session: Session, utility: Utility, user_id: Any, account_id: Any, period: Any, *, now: datetime,
         languages: list[str] | tuple[str, ...]) -> dict[str, Lines]:
    """The account state of the customer's account for ``period``, formatted for each language."""
    period = check_period(period, utility, now)
    acc = require_account(session, user_id, account_id)
    return {lang: state_lines(session, utility, acc, period, lang) for lang in languages}


def last_billed_period(session: Session, utility: Utility, user_id: Any, account_id: Any, *, now: datetime,
                       count: int = 24) -> str:
    """The month the page opens on: the customer's account's latest month with a charge among the
    :func:`recent_periods` (the current month is usually not charged yet, and an empty statement is
    no answer), else the month before the current one. Raises AccountNotFound for another's account."""
    acc_id = stored_id(require_account(session, user_id, account_id))
    recent = recent_periods(utility, now, count)
    latest = session.execute(
        sa.select(sa.func.max(col(Charge.period)))
        .where(col(Charge.account_id) == acc_id, col(Charge.period) <= recent[0], col(Charge.period) >= recent[-1])
    ).scalar()
    return str(latest) if latest else add_months(recent[0], -1)


def recent_periods(utility: Utility, now: datetime, count: int = 24) -> list[str]:
    """The current month and the ``count - 1`` before it, newest first (the page's choice)."""
    from gazportal.services.charts import current_period
    from gazportal.services.periods import add_months

    cur = current_period(utility, now)
    return [add_months(cur, -i) for i in range(count)]
