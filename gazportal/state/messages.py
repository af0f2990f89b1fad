"""Contacts and messages: the contacts page (anyone may read it; a signed-in customer also gets
the message form) and "my messages".

Thin: every handler is declared (``state/contract.py``: access and arguments are checked before the
body runs; the user comes in ``ctx``), calls
``gazportal.services.messages`` (which validates the fields, checks the account's ownership and
the hourly limit) and sets display vars. Results are shown inline and as a toast. The message
form carries the state's submission id: a repeated submit sends one message.
"""
from __future__ import annotations

from typing import ClassVar

import reflex as rx
from babel import dates as babel_dates

from gazportal.db import read_session
from gazportal.services import accounts as acc_svc
from gazportal.services import i18n
from gazportal.services import messages as svc
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state.contract import (
    CUSTOMER, PUBLIC, Choice, Ctx, Form, FormMixin, Text, call, engine, field_texts, handler, ident, utility, say,
)
from gazportal.state.views import AccountOption, MessageRow, ReplyRow

FORM_PREFIX = "msg"
KINDS, SUBJECT_MAX, BODY_MAX = svc.KINDS, svc.SUBJECT_MAX, svc.BODY_MAX  # for the page
FIELDS = ("kind", "subject", "body", "account_id")
# What the browser may send per field: the service gives the friendly "too long" message for
# anything up to these sizes; beyond them the call is not from our page and is dropped.
RAW_LIMITS = {"kind": 32, "subject": svc.SUBJECT_MAX * 4, "body": svc.BODY_MAX * 2, "account_id": 20}


# The message form: exactly FIELDS (taken as typed: the service strips and measures them), plus
# Reflex's copies of the values under the input ids (``msg_<field>``), checked and dropped.
MESSAGE_FORM = Form(FIELDS, prefix=FORM_PREFIX, strip=False, limits=RAW_LIMITS)


def format_when(value, lang: str) -> str:
    """A moment in the profile's time zone, in the language (``Mar 12, 2026, 14:05``)."""
    local = value.astimezone(utility().tz)
    loc = i18n.babel_locale(lang)
    return f"{babel_dates.format_date(local, 'medium', locale=loc)}, {babel_dates.format_time(local, 'short', locale=loc)}"


class MessagesState(FormMixin, rx.State):
    """What the contacts and messages pages show; nothing here decides who may see what."""

    PERSONAL: ClassVar[bool] = True

    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"send"})

    loaded: bool = False
    signed_in: bool = False
    kind: str = "contact"
    accounts: list[AccountOption] = []
    sent_subject: str = ""  # the page shows messages.sent in the current language with it
    form_key: int = 0
    subject_len: int = 0
    body_len: int = 0

    items: list[MessageRow] = []
    list_loaded: bool = False

    def _reset_form(self) -> None:
        self.errors = {}
        self.notice = self.error = self.sent_subject = ""
        self.subject_len = self.body_len = 0

    # --- the contacts page ------------------------------------------------------------------

    @rx.event
    @handler(PUBLIC, kind=Choice(svc.KINDS).optional("contact"))
    async def load_contacts(self, ctx: Ctx, kind: str = "contact"):
        """on_load of /contacts, /feedback, /support: anyone sees the contacts; a customer the form."""
        self.kind = kind
        self._reset_form()
        user = ctx.user
        if user is None:
            self.signed_in, self.accounts, self.loaded = False, [], True
            return

        def load():
            with read_session(engine()) as s:
                return acc_svc.list_accounts(s, user.user_id)

        cards = await call(load)
        self.accounts = [AccountOption(str(c.id), c.number) for c in cards]
        self.signed_in = True
        self.loaded = True

    @rx.event
    @handler(PUBLIC, kind=Choice(svc.KINDS))
    def set_kind(self, ctx: Ctx, kind: str):
        self.kind = kind
        self.errors = {k: v for k, v in self.errors.items() if k != "kind"}

    @rx.event
    @handler(PUBLIC, value=Text(RAW_LIMITS["subject"], strip=False))
    def count_subject(self, ctx: Ctx, value: str):
        """Live character counter (sets a number, nothing else)."""
        self.subject_len = len(value)

    @rx.event
    @handler(PUBLIC, value=Text(RAW_LIMITS["body"], strip=False))
    def count_body(self, ctx: Ctx, value: str):
        self.body_len = len(value)

    @rx.event
    @handler(CUSTOMER, creates=True, form=MESSAGE_FORM)
    async def send(self, ctx: Ctx, form: dict[str, str]):
        """Send the message form (a repeat of the same submit sends nothing)."""
        data, user, lang = form, ctx.user, ctx.lang
        account = data["account_id"].strip()
        account_id = ident(account) if account else None
        self.notice = self.error = self.sent_subject = ""
        try:
            msg = await call(
                svc.send_message, engine(), utility(), user.user_id, data["kind"], data["subject"],
                data["body"], account_id, now=ctx.now,
            )
        except FormErrors as e:
            # once, in the form: its error summary (focused) and the fields; no toast besides
            self.errors = field_texts(e, lang)
            self.refusals += 1
            return None
        except DomainError as e:
            self.errors = {}
            self.error = say(e, lang)
            self.refusals += 1
            return None
        self.errors = {}
        self.subject_len = self.body_len = 0
        self.form_key += 1
        self.notice = i18n.t("messages.sent", lang, subject=msg.subject)
        self.sent_subject = msg.subject
        return rx.toast.success(self.notice)

    # --- my messages ------------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER)
    async def load_list(self, ctx: Ctx):
        """on_load of /messages."""
        user, lang = ctx.user, ctx.lang

        def load():
            with read_session(engine()) as s:
                return svc.list_messages(s, user.user_id)

        rows = await call(load)
        self.items = [
            MessageRow(
                id=str(m.id),
                kind=m.kind,
                kind_text=i18n.t(f"messages.kind.{m.kind}", lang),
                subject=m.subject,
                body=m.body,
                status=m.status,
                status_text=i18n.t(f"messages.status.{m.status}", lang),
                # in every language of the profile: switching the language needs no reload
                dates={lg: format_when(m.created_at, lg) for lg in utility().languages},
                date_iso=m.created_at.isoformat(),
                account=m.account_number or "",
                replies=[ReplyRow(body=r.body, dates={lg: format_when(r.created_at, lg) for lg in utility().languages},
                                  date_iso=r.created_at.isoformat()) for r in m.replies],
            )
            for m in rows
        ]
        self.list_loaded = True
        return None
