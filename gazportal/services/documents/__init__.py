"""Documents as PDFs (issue 17 points 5-7): a payment receipt, the monthly invoice with a payment
QR, the reconciliation act for any period and the certificate of no debt with a QR of its public
verification page. Pure Python (fpdf2, segno; no ``import reflex``).

Every figure comes from the ledger through ``services/billing.py`` (the same functions as the
statement, statistics and dashboard pages), so a document agrees with them to the tiyn/kopiyka:
an invoice is ``billing.account_state`` of its month, an act is ``billing.monthly_statement`` of
its range (opening = the previous month's closing, a row per month, closing), a certificate is
refused while ``billing.overdue_at`` is above zero. Tariff steps on an invoice come from
``tariffs.calculate`` under the tariff in force on the month's last day, and are printed only when
they give back the charged amount (a charge imported from the billing system may follow another
rule; then the line says so instead of showing steps that do not add up).

Texts are in the customer's language (``locales/*.json``, ``documents.*``); money in the profile's
currency (``i18n.format_money``); dates and times in the profile's time zone. The utility's name,
requisites and contacts come from the profile (``Utility.requisites``).

The functions take a session and an account id and check no ownership: they are for staff and the
command line. A customer's download goes through :func:`for_customer`, which checks the account
is the customer's (``accounts.require_account``) first.
"""
from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col

from gazportal.models import Account, DebtCertificate, Payment
from gazportal.models._base import stored_id
from gazportal.services import billing, i18n
from gazportal.services.charts import check_period, check_range
from gazportal.services.documents import qr
from gazportal.services.documents.pdf import Page
from gazportal.services.errors import AccountNotFound, DomainError, InvalidInput, NotFound
from gazportal.services.periods import add_months, parse_period, period_end, period_start
from gazportal.services.tariffs import NoTariff, calculate, tariff_at
from gazportal.settings import Utility

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings

KINDS = ("receipt", "invoice", "act", "certificate")
DEFAULT_DUE_DAY = 25  # without requisites in the profile
PAY_LINK_DAYS = 45  # how long an invoice's Kazakh pay link stays valid
CHANNELS = ("bank", "kaspi", "card", "cash", "post", "portal")  # models.billing.Payment.channel
_CODE = re.compile(r"[A-Za-z0-9_-]{16,32}")


class DebtOutstanding(DomainError):
    """No certificate of no debt: ``params`` amount (the overdue debt) and date (as of)."""

    key = "errors.certificate_debt"


class PaymentNotFound(NotFound):
    key = "errors.payment_not_found"


@dataclass(frozen=True)
class Document:
    kind: str  # one of KINDS
    filename: str
    data: bytes  # the PDF
    number: str = ""  # a certificate's number


@dataclass(frozen=True)
class CertificateCheck:
    """What the public verification page may show: no name, address or account number."""

    number: str
    as_of: date
    issued_on: date  # local date of issue


# --------------------------------------------------------------------------- helpers


def _account(session: Session, account_id: Any) -> Account:
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        raise InvalidInput("errors.invalid_input", field="account_id")
    acc = session.get(Account, account_id)
    if acc is None:
        raise AccountNotFound(account_id=account_id)
    return acc


class _Fmt:
    """Formatting in one language and currency."""

    def __init__(self, utility: Utility, lang: str):
        self.utility, self.lang, self.code = utility, i18n.language(lang), utility.currency.code

    def t(self, key: str, **params) -> str:
        return i18n.t(key, self.lang, **params)

    def money(self, amount: Decimal) -> str:
        return i18n.format_money(amount, self.code, self.lang)

    def date(self, day: date | datetime) -> str:
        return i18n.format_date(day, self.lang)

    def period(self, period: str) -> str:
        return i18n.format_period(period, self.lang)

    def price(self, price: Decimal, service: str) -> str:
        exponent = price.normalize().as_tuple().exponent
        places = min(4, max(2, -exponent if isinstance(exponent, int) else 2))
        sign = i18n.CURRENCY_SIGNS.get(self.code, self.code)
        unit = self.t("units." + i18n.unit_of(service))
        return f"{i18n.format_number(price, self.lang, places=places)}\u00a0{sign}/{unit}"


def _fmt(utility: Utility, lang: str) -> _Fmt:
    return _Fmt(utility, lang)


def _account_texts(acc: Account) -> list[str]:
    return [acc.number, acc.holder_name, acc.address or ""]


def _holder_rows(f: _Fmt, acc: Account) -> list[tuple[str, str]]:
    return [(f.t("statement.account"), acc.number), (f.t("statement.holder"), acc.holder_name),
            (f.t("statement.address"), acc.address or "—")]


def due_day(utility: Utility) -> int:
    """The day of the month after a billed month on which its bill is due."""
    return utility.requisites.payment_due_day if utility.requisites else DEFAULT_DUE_DAY


def due_date(utility: Utility, period: str) -> date:
    """The due date of ``period``'s bill: :func:`due_day` of the next month."""
    y, m = parse_period(add_months(period, 1))
    return date(y, m, due_day(utility))


def _local_today(utility: Utility, now: datetime) -> date:
    return now.astimezone(utility.tz).date()


# --------------------------------------------------------------------------- receipt


def receipt(session: Session, utility: Utility, payment_id: Any, lang: str, *, now: datetime) -> Document:
    """The receipt of one payment row: who paid, when (local time), how much, by which channel,
    under which receipt number. Raises PaymentNotFound (errors.payment_not_found)."""
    if isinstance(payment_id, bool) or not isinstance(payment_id, int):
        raise InvalidInput("errors.invalid_input", field="payment_id")
    pay = session.get(Payment, payment_id)
    if pay is None:
        raise PaymentNotFound(payment_id=payment_id)
    acc = _account(session, pay.account_id)
    f = _fmt(utility, lang)
    local = pay.paid_at.astimezone(utility.tz)
    page = Page(utility, f.lang, f.t("documents.receipt.title"), created=now,
                texts=[*_account_texts(acc), pay.receipt_no, pay.channel])
    page.heading(f.t("documents.receipt.title"), f.t("documents.receipt.number", number=pay.receipt_no))
    channel = f.t(f"documents.channel.{pay.channel}") if pay.channel in CHANNELS else pay.channel
    page.pairs(_holder_rows(f, acc) + [
        (f.t("documents.receipt.paid_at"), f"{f.date(local)} {local:%H:%M}"),
        (f.t("documents.receipt.channel"), channel),
        (f.t("documents.receipt.receipt_no"), pay.receipt_no),
        (f.t("documents.receipt.amount"), f.money(Decimal(pay.amount))),
    ], bold_last=True)
    page.note(f.t("documents.receipt.note"))
    return Document("receipt", f"receipt-{acc.number}-{pay.receipt_no}.pdf", bytes(page.output()))


# --------------------------------------------------------------------------- invoice


def _step_rows(session: Session, f: _Fmt, service: str, period: str, volume: Decimal,
               amount: Decimal) -> list[list[str]] | None:
    """The tariff steps of a charge, or None when the tariff in force on the month's last day does
    not give back the charged amount (or there is none)."""
    try:
        _tariff, steps = tariff_at(session, service, period_end(period))
        calc = calculate(steps, volume)
    except (NoTariff, InvalidInput):
        return None
    if calc.amount != amount:
        return None
    rows, lower = [], Decimal(0)
    for part in calc.parts:
        up_to = part.step.up_to
        label = (f.t("documents.invoice.step_upto", limit=i18n.format_volume(up_to, service, f.lang))
                 if up_to is not None else
                 f.t("documents.invoice.step_over", limit=i18n.format_volume(lower, service, f.lang)))
        rows.append([f"  {label}", i18n.format_volume(part.volume, service, f.lang), f.price(part.step.price, service),
                     f.money(part.amount)])
        lower = up_to if up_to is not None else lower
    return rows


def _charge_table(session: Session, page: Page, f: _Fmt, st: billing.AccountState) -> None:
    page.section(f.t("statement.charges_title"))
    if not st.charges:
        page.note(f.t("statement.no_charges"))
        return
    rows: list[list[str]] = []
    bold: list[int] = []
    for c in st.charges:
        steps = _step_rows(session, f, c.service, st.period, c.volume, c.amount)
        bold.append(len(rows))
        rows.append([f.t(f"services.{c.service}"), i18n.format_volume(c.volume, c.service, f.lang),
                     "" if steps else f.t("documents.invoice.billed"), f.money(c.amount)])
        rows.extend(steps or [])
    bold.append(len(rows))
    rows.append([f.t("statement.charged"), "", "", f.money(st.charged)])
    page.grid([f.t("documents.invoice.col_service"), f.t("documents.invoice.col_volume"),
                f.t("documents.invoice.col_price"), f.t("documents.invoice.col_amount")],
               rows, (70, 35, 40, 35), ("LEFT", "RIGHT", "RIGHT", "RIGHT"), bold_rows=bold)


def _payment_table(page: Page, f: _Fmt, st: billing.AccountState) -> None:
    page.section(f.t("statement.payments_title"))
    if not st.payments:
        page.note(f.t("statement.no_payments"))
        return
    rows = [[f.date(p.day), p.receipt_no, f.money(p.amount)] for p in st.payments]
    rows.append([f.t("statement.paid"), "", f.money(st.paid)])
    page.grid([f.t("documents.col_date"), f.t("documents.receipt.receipt_no"), f.t("documents.invoice.col_amount")],
               rows, (60, 85, 35), ("LEFT", "LEFT", "RIGHT"), bold_rows=[len(rows) - 1])


def invoice_qr(settings: "Settings", utility: Utility, acc: Account, period: str, amount: Decimal, lang: str,
               *, now: datetime) -> tuple[str, str]:
    """(QR data, caption) of an invoice: the NBU format-002 URL for a hryvnia profile with
    requisites, else the signed pay link. ``amount`` is the amount due (0: the payer types it)."""
    f = _fmt(utility, lang)
    if utility.currency.code == "UAH" and utility.requisites is not None:
        services = ", ".join(i18n.t(f"services.{s}", "uk") for s in utility.services)
        purpose = i18n.t("documents.invoice.purpose", "uk", service=services, number=acc.number,
                         period=i18n.format_period(period, "uk", in_sentence=True))
        data = qr.nbu_url(qr.NbuTransfer(recipient=utility.name.get("uk"), iban=utility.requisites.iban,
                                         recipient_code=utility.requisites.tax_id, purpose=purpose[:qr.PURPOSE_MAX],
                                         amount=amount if amount > 0 else None))
        return data, f.t("documents.invoice.qr_nbu")
    expires = now + timedelta(days=PAY_LINK_DAYS)
    data = qr.pay_link(settings, acc.number, period, amount, expires)
    return data, f.t("documents.invoice.qr_link", date=f.date(expires.astimezone(utility.tz)))


def invoice(session: Session, utility: Utility, account_id: Any, period: Any, lang: str, *,
            settings: "Settings", now: datetime) -> Document:
    """The invoice for ``period`` (a month not after the current one): opening balance, each
    service's charge with its volume and tariff steps, the month's payments, the closing balance,
    the amount due and its due date, and the payment QR (:func:`invoice_qr`)."""
    period = check_period(period, utility, now)
    acc = _account(session, account_id)
    f = _fmt(utility, lang)
    st = billing.account_state(session, stored_id(acc), period, utility.tz)
    title = f.t("documents.invoice.title", period=f.period(period))
    page = Page(utility, f.lang, title, created=now, texts=[*_account_texts(acc), *(p.receipt_no for p in st.payments)])
    page.heading(title, f.t("documents.issued", date=f.date(_local_today(utility, now))))
    page.pairs(_holder_rows(f, acc) + [(f.t("statement.opening"), f.money(st.opening))])
    _charge_table(session, page, f, st)
    _payment_table(page, f, st)
    due = due_date(utility, period)
    summary = [(f.t("statement.closing"), f.money(st.closing)), (f.t("documents.invoice.due_date"), f.date(due)),
               (f.t("documents.invoice.due"), f.money(st.debt))]
    if page.will_page_break(52):
        page.add_page()
    top = page.get_y() + 2
    page.ln(2)
    page.pairs(summary, bold_last=True)
    if not st.in_debt:
        page.note(f.t("documents.invoice.nothing_due"))
    data, caption = invoice_qr(settings, utility, acc, period, st.debt, f.lang, now=now)
    size = 42.0
    x = page.w - page.r_margin - size
    qr.draw(page, data, x, top, size, max_version=qr.NBU_MAX_VERSION if data.startswith(qr.NBU_PREFIX) else None)
    page.set_xy(x - 8, top + size)
    page.font(7.5, grey=True)
    page.multi_cell(size + 8, 3.6, caption, align="C", new_x="LMARGIN", new_y="NEXT")
    return Document("invoice", f"invoice-{acc.number}-{period}.pdf", bytes(page.output()))


# --------------------------------------------------------------------------- reconciliation act


def act(session: Session, utility: Utility, account_id: Any, first: Any, last: Any, lang: str, *,
        now: datetime) -> Document:
    """The reconciliation act from month ``first`` to month ``last`` (at most ``billing.MAX_MONTHS``
    months, none after the current one): the opening balance (the closing of the month before),
    a row per month (charged, paid, balance at its end), the totals and the closing balance."""
    first, last = check_range(first, last, utility, now)
    acc = _account(session, account_id)
    f = _fmt(utility, lang)
    rows = billing.monthly_statement(session, stored_id(acc), first, last, utility.tz)
    opening_day = period_start(first) - timedelta(days=1)
    title = f.t("documents.act.title")
    page = Page(utility, f.lang, title, created=now, texts=_account_texts(acc))
    page.heading(title, f.t("documents.act.range", first=f.date(period_start(first)), last=f.date(period_end(last))))
    page.pairs(_holder_rows(f, acc))
    charged = sum((r.charged for r in rows), Decimal("0.00"))
    paid = sum((r.paid for r in rows), Decimal("0.00"))
    table = [[f.t("documents.act.opening", date=f.date(opening_day)), "", "", f.money(rows[0].opening)]]
    table += [[f.period(r.period), f.money(r.charged), f.money(r.paid), f.money(r.closing)] for r in rows]
    table.append([f.t("documents.act.total"), f.money(charged), f.money(paid), f.money(rows[-1].closing)])
    page.grid([f.t("documents.act.col_month"), f.t("documents.act.col_charged"), f.t("documents.act.col_paid"),
                f.t("documents.act.col_balance")], table, (60, 40, 40, 40), ("LEFT", "RIGHT", "RIGHT", "RIGHT"),
               bold_rows=[0, len(table) - 1])
    closing = rows[-1].closing
    page.pairs([(f.t("documents.act.closing", date=f.date(period_end(last))), f.money(closing))],
               label_width=90, bold_last=True)
    page.note(f.t("documents.act.sign_note"))
    return Document("act", f"act-{acc.number}-{first}-{last}.pdf", bytes(page.output()))


# --------------------------------------------------------------------------- certificate of no debt


def certificate_number(row: DebtCertificate) -> str:
    """``<year of issue>-<id, 6 digits>``."""
    return f"{row.issued_at.year:04d}-{stored_id(row):06d}"


def verify_url(settings: "Settings", code: str) -> str:
    return f"{settings.public_url.rstrip('/')}/verify?c={code}"


def _check_as_of(utility: Utility, as_of: Any, now: datetime) -> date:
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of.strip()[:10])
        except ValueError:
            raise InvalidInput("errors.bad_date", day=as_of[:30]) from None
    if isinstance(as_of, datetime) or not isinstance(as_of, date) or as_of.year < 1900:
        raise InvalidInput("errors.bad_date", day=str(as_of)[:30])
    if as_of > _local_today(utility, now):
        raise InvalidInput("errors.certificate_future_date", date=as_of)
    return as_of


def issue_certificate(session: Session, utility: Utility, account_id: Any, as_of: Any, *,
                      now: datetime) -> DebtCertificate:
    """Record a certificate of no debt for the account as of ``as_of`` (a local day, not after
    today). Raises DebtOutstanding(amount, date) while ``billing.overdue_at`` is above zero.
    The caller commits (a write session)."""
    acc = _account(session, account_id)
    day = _check_as_of(utility, as_of, now)
    overdue = billing.overdue_at(session, stored_id(acc), day, utility.tz, due_day(utility))
    if overdue > 0:
        raise DebtOutstanding(amount=overdue, date=day)
    row = DebtCertificate(code=secrets.token_urlsafe(16), account_id=stored_id(acc), as_of=day, issued_at=now)
    session.add(row)
    session.flush()
    return row


def render_certificate(session: Session, utility: Utility, row: DebtCertificate, lang: str, *,
                       settings: "Settings") -> Document:
    """The PDF of an issued certificate (it can be rendered again in any language)."""
    acc = _account(session, row.account_id)
    f = _fmt(utility, lang)
    number = certificate_number(row)
    title = f.t("documents.certificate.title")
    issued = row.issued_at.astimezone(utility.tz)
    page = Page(utility, f.lang, title, created=row.issued_at, texts=[*_account_texts(acc), row.code])
    page.heading(title, f.t("documents.certificate.number", number=number, date=f.date(issued)))
    page.font(10.5)
    page.multi_cell(0, 6, f.t("documents.certificate.text", utility=utility.name.get(f.lang), date=f.date(row.as_of)),
                    align="L", new_x="LMARGIN", new_y="NEXT")
    page.ln(3)
    balance = billing.balance_at(session, stored_id(acc), row.as_of, utility.tz)
    page.pairs(_holder_rows(f, acc) + [(f.t("documents.certificate.balance", date=f.date(row.as_of)),
                                        f.money(balance))])
    page.note(f.t("documents.certificate.balance_note"))
    top = page.get_y() + 4
    url = verify_url(settings, row.code)
    qr.draw(page, url, page.l_margin, top, 36)
    page.set_xy(page.l_margin + 40, top + 8)
    page.font(8.5, grey=True)
    page.multi_cell(0, 4.5, f.t("documents.certificate.verify", number=number) + "\n" + url,
                    align="L", new_x="LMARGIN", new_y="NEXT")
    page.set_y(max(page.get_y(), top + 40))
    return Document("certificate", f"certificate-{number}.pdf", bytes(page.output()), number=number)


def certificate(session: Session, utility: Utility, account_id: Any, as_of: Any, lang: str, *,
                settings: "Settings", now: datetime) -> Document:
    """:func:`issue_certificate` then :func:`render_certificate` (the caller commits)."""
    row = issue_certificate(session, utility, account_id, as_of, now=now)
    return render_certificate(session, utility, row, lang, settings=settings)


def check_certificate(session: Session, utility: Utility, code: Any) -> CertificateCheck | None:
    """The public verification: the certificate with this code, or None (a malformed code too)."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None
    row = session.execute(sa.select(DebtCertificate).where(col(DebtCertificate.code) == code)).scalar_one_or_none()
    if row is None:
        return None
    return CertificateCheck(certificate_number(row), row.as_of, row.issued_at.astimezone(utility.tz).date())


def verify_page(utility: Utility, check: CertificateCheck | None, lang: str) -> str:
    """The public verification page /verify?c=... as a small HTML document (every value escaped):
    the utility's name, and either the certificate's number, "as of" day and day of issue, or
    that no certificate has this code. Nothing personal: no name, address or account number."""
    f = _fmt(utility, lang)
    e = html.escape
    name = utility.name.get(f.lang)
    if check is None:
        body = f'<p class="no">{e(f.t("documents.verify.not_found"))}</p>'
    else:
        body = '<p class="ok">' + e(f.t("documents.verify.found", number=check.number, utility=name,
                                        issued=f.date(check.issued_on), date=f.date(check.as_of))) + "</p>"
    title = f.t("documents.verify.title")
    return (f'<!doctype html><html lang="{e(f.lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{e(title)} · {e(name)}</title>'
            "<style>body{font:1.125rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
            "color:#1f2933}.ok{color:#14532d;font-weight:600}.no{color:#b42318;font-weight:600}"
            "small{color:#52606d}</style></head>"
            f"<body><main><p>{e(name)}</p><h1>{e(title)}</h1>{body}"
            f"<p><small>{e(f.t('documents.verify.note'))}</small></p></main></body></html>")


def pay_link_page(utility: Utility, message_key: str, lang: str) -> str:
    """The page of a Kazakh invoice's pay link (/pay?t=...) that cannot be used — forged, altered or
    expired (``message_key``: errors.pay_link_invalid / errors.pay_link_expired) — as a small HTML
    document with a link to the portal's dashboard, where the debt is paid from its live amount.
    A valid link does not come here: it is sent to the dashboard."""
    f = _fmt(utility, lang)
    e = html.escape
    name = utility.name.get(f.lang)
    return (f'<!doctype html><html lang="{e(f.lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{e(f.t("dashboard.pay.button"))} · {e(name)}</title>'
            "<style>body{font:1.125rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
            "color:#1f2933}.no{color:#b42318;font-weight:600}a{color:#1d4ed8}</style></head>"
            f'<body><main><p>{e(name)}</p><h1>{e(f.t("dashboard.pay.button"))}</h1>'
            f'<p class="no">{e(f.t(message_key))}</p>'
            f'<p><a href="/dashboard">{e(f.t("nav.dashboard"))}</a></p></main></body></html>')


# --------------------------------------------------------------------------- customer downloads


def for_customer(session: Session, utility: Utility, user_id: Any, account_id: Any, kind: Any, lang: str, *,
                 settings: "Settings", now: datetime, period: Any = None, last: Any = None,
                 payment_id: Any = None, as_of: Any = None) -> Document:
    """A document of the customer's own account (AccountNotFound for any other, before anything
    is read): ``invoice`` (period), ``act`` (period .. last), ``receipt`` (payment_id, a payment of
    that account), ``certificate`` (as_of; writes a row, so give a write session)."""
    from gazportal.services.accounts.linking import require_account

    acc_id = stored_id(require_account(session, user_id, account_id))
    if kind == "invoice":
        return invoice(session, utility, acc_id, period, lang, settings=settings, now=now)
    if kind == "act":
        return act(session, utility, acc_id, period, last, lang, now=now)
    if kind == "receipt":
        pay = session.get(Payment, payment_id) if type(payment_id) is int else None
        if pay is None or pay.account_id != acc_id:
            raise PaymentNotFound()
        return receipt(session, utility, payment_id, lang, now=now)
    if kind == "certificate":
        return certificate(session, utility, acc_id, as_of, lang, settings=settings, now=now)
    raise InvalidInput("errors.invalid_input", field="kind")


__all__ = [
    "CHANNELS", "CertificateCheck", "DebtOutstanding", "Document", "KINDS", "PaymentNotFound", "act",
    "certificate", "certificate_number", "check_certificate", "due_date", "for_customer", "invoice",
    "invoice_qr", "issue_certificate", "receipt", "render_certificate", "verify_page", "verify_url",
]
