"""What the pages show: small frozen dataclasses, one per kind of row or panel, with real ``bool``s.

A state var holds these (``meters: list[MeterView]``); Reflex sends each as an object of its
fields, and a page reads them by name (``rx.foreach(S.meters, lambda m: m.serial)``,
``rx.cond(m.can_submit, ...)``). The texts in them are already said in the page's language (or,
where a page keeps every language, in a dict keyed by language). Maps from an id to a message
(a form's ``errors``) stay dicts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from gazportal.services.errors import DomainError, FormErrors
from gazportal.services import i18n
from gazportal.state.contract import field_texts, say, utility


def refusal(err: DomainError, lang: str) -> tuple[dict[str, str], str]:
    """A refusal as a form shows it: (field -> message, the form's one line). Field messages stand
    on their fields alone; any other refusal is one line and clears the fields' messages."""
    if isinstance(err, FormErrors):
        return field_texts(err, lang), ""
    return {}, say(err, lang)


def balance_text(balance: Decimal, lang: str) -> tuple[str, bool]:
    """An account's balance as the dashboard and the account cards say it: ("Debt: ₸1,200.00",
    True) for a negative balance, ("Overpaid: …", False) for a credit, ("Nothing owed", False) for
    zero; the amount in the profile's currency, formatted for ``lang``."""
    money = i18n.format_money(abs(balance), utility().currency.code, lang)
    if balance < 0:
        return i18n.t("dashboard.balance.debt", lang, amount=money), True
    if balance > 0:
        return i18n.t("dashboard.balance.credit", lang, amount=money), False
    return i18n.t("dashboard.balance.zero", lang), False


@dataclass(frozen=True)
class Option:
    """One choice of a select: the value sent back and what the customer reads."""

    id: str = ""
    name: str = ""


@dataclass(frozen=True)
class AccountOption:
    """One of the customer's accounts in a switcher or select."""

    id: str = ""
    number: str = ""
    label: str = ""  # "number · address"
    address: str = ""  # the whole address (the dashboard's switcher shows it, never cut)


# --- dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountInfo:
    """The dashboard's summary of the account shown."""

    number: str = ""
    holder: str = ""
    address: str = ""
    balance: str = ""
    last_period: str = ""
    last_charged: str = ""  # all services (the volumes are per service: DashboardState.last_volumes)


@dataclass(frozen=True)
class VolumeLine:
    """One service's volume in a month, said with its unit ("Gas", "120 m³")."""

    service: str = ""
    label: str = ""  # the service's name
    text: str = ""  # the volume with its unit


@dataclass(frozen=True)
class MeterView:
    """One meter card of the dashboard."""

    id: str = ""
    serial: str = ""
    title: str = ""  # service and serial
    hint: str = ""  # how many digits
    last_value: str = ""  # "" when the meter has no reading yet
    last_date: str = ""
    last_source: str = ""
    left: str = ""
    can_submit: bool = False
    note: str = ""  # why the form is not shown, when it is not
    reading_for: str = ""  # the form's label: the month a reading sent now counts for
    unit: str = ""  # m3 | kWh: the unit its readings are said with
    replaces: str = ""  # a correction: "a new reading replaces your reading 80 m³ of 3 Dec" ("" if none)


@dataclass(frozen=True)
class ReadingRow:
    """A previous reading of a meter."""

    value: str = ""  # with the meter's unit (i18n.format_units)
    date: str = ""
    source: str = ""  # who took it ("sent by you" only for the current user's own)
    replaced: bool = False  # a customer reading corrected later in its month: it does not count
    replaced_by: str = ""  # "replaced by 81 m³" for a replaced one
    id: str = ""  # the reading's id (the dispute form names it)
    corrects: bool = False  # a staff correction of an earlier row (issue 16 point 6)
    counts: bool = True  # neither replaced nor corrected: it may be disputed


@dataclass(frozen=True)
class Verdict:
    """What the dashboard says about a reading: ``kind`` ok|warning|error and its sentence; for a
    checked value (while typing) also the volume and cost, and for a warning the volume and cost as
    plain facts (``ok``: never "looks right" next to a warning)."""

    kind: str = ""
    text: str = ""
    volume: str = ""
    cost: str = ""
    ok: str = ""
    note: str = ""  # said with any kind: typed decimals were not counted
    confirm_kind: str = ""  # of a warning: rollover | jump — what the tick box confirms
    confirm_label: str = ""  # the tick box's words for that kind


# --- accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderView:
    """Another portal user of one of the customer's accounts."""

    link_id: str = ""
    who: str = ""  # the masked login
    since: str = ""  # "since 7 Dec 2026", said in the page's language
    removable: bool = False  # came after the customer: they may take the access away


@dataclass(frozen=True)
class AccountCard:
    id: str = ""
    number: str = ""
    holder: str = ""
    address: str = ""
    kind: str = ""
    others: list[HolderView] = field(default_factory=list)  # the other portal users of the account
    balance: str = ""  # "Debt: ₸1,200.00" / "Overpaid: …" / "Nothing owed" (views.balance_text)
    in_debt: bool = False


@dataclass(frozen=True)
class RequestRow:
    """A sent re-registration request."""

    id: str = ""
    number: str = ""
    owner: str = ""
    status: str = ""
    status_text: str = ""
    date: str = ""
    count: str = ""  # documents


@dataclass(frozen=True)
class DocumentRow:
    """A document of the draft request."""

    id: str = ""
    name: str = ""
    size: str = ""
    type: str = ""


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyRow:
    """A staff reply under one of "my messages"; ``dates`` in every language of the profile."""

    body: str = ""
    dates: dict[str, str] = field(default_factory=dict)
    date_iso: str = ""


@dataclass(frozen=True)
class MessageRow:
    """One of "my messages"; ``dates`` has the date in every language of the profile."""

    id: str = ""
    kind: str = ""
    kind_text: str = ""
    subject: str = ""
    body: str = ""
    status: str = ""
    status_text: str = ""
    dates: dict[str, str] = field(default_factory=dict)
    date_iso: str = ""
    account: str = ""
    replies: list[ReplyRow] = field(default_factory=list)  # staff replies, oldest first


# --- statistics and statement ---------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    """A month of the statistics table: volume and charges of one service, payments and balance
    over the whole account; every column "no data" for a month before the account's first."""

    period: str = ""  # YYYY-MM
    label: str = ""
    volume: str = ""
    charged: str = ""  # the selected service's charges
    paid: str = ""
    balance: str = ""
    debt: bool = False  # the month closed in debt
    nodata: bool = False  # before the account's first month


# --- statement --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodOption:
    value: str = ""
    label: str = ""


@dataclass(frozen=True)
class StatementInfo:
    period: str = ""
    number: str = ""
    holder: str = ""
    address: str = ""
    opening: str = ""
    charged: str = ""
    paid: str = ""
    closing: str = ""
    debt: str = ""


@dataclass(frozen=True)
class ChargeRow:
    service: str = ""
    volume: str = ""
    amount: str = ""


@dataclass(frozen=True)
class PaymentRow:
    date: str = ""
    amount: str = ""
    receipt: str = ""


# --- profile ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileValues:
    """The profile form's fields as shown (dates ISO, "" for none)."""

    surname: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    birth_date: str = ""
    gender: str = ""
    language: str = ""


# --- the staff console ------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One message of the staff inbox."""

    id: str = ""
    kind: str = ""
    subject: str = ""
    status: str = ""
    customer: str = ""
    account: str = ""
    dates: dict[str, str] = field(default_factory=dict)
    date_iso: str = ""
    breached: bool = False  # past its first-answer or resolution SLA


@dataclass(frozen=True)
class EventRow:
    """A reply or an internal note on a message, for staff."""

    id: str = ""
    kind: str = ""  # reply | note
    body: str = ""
    author: str = ""
    dates: dict[str, str] = field(default_factory=dict)
    date_iso: str = ""


@dataclass(frozen=True)
class AuditView:
    """One row of the audit log page."""

    id: str = ""
    at: str = ""  # UTC, "2026-12-07 21:34:51"
    at_iso: str = ""
    actor: str = ""
    action: str = ""
    object: str = ""  # "type #id"
    before: str = ""
    after: str = ""
    reason: str = ""


@dataclass(frozen=True)
class KpiCard:
    """A staff dashboard KPI card: its label, value and the note under it (texts of one language)."""

    label: str = ""
    value: str = ""
    note: str = ""


@dataclass(frozen=True)
class TableView:
    """A staff dashboard table (a chart's accessible alternative, or a top list): header texts,
    rows of texts and an optional title (texts of one language)."""

    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""


@dataclass(frozen=True)
class MissingView:
    """A meter not read yet in the staff dashboard's coverage period: its serial and account."""

    serial: str = ""
    number: str = ""
    address: str = ""


@dataclass(frozen=True)
class CoverageView:
    """A row of the dashboard's reading coverage by settlement."""

    settlement: str = ""
    percent: str = ""
    read: str = ""
    missing: str = ""
