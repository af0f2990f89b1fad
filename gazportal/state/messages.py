"""Contacts and messages: the contacts page (anyone may read it; a signed-in customer also gets
the message form) and "my messages".

Thin: every handler checks what the browser sent, takes the user from the session, calls
``gazportal.services.messages`` (which validates the fields, checks the account's ownership and
the hourly limit) and sets display vars. Results are shown inline and as a toast.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx
from babel import dates as babel_dates

from gazportal.db import read_session
from gazportal.services import accounts as acc_svc
from gazportal.services import i18n
from gazportal.services import messages as svc
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state import signed_in as si
from gazportal.state.signed_in import BadArguments

FORM_PREFIX = "msg"
KINDS, SUBJECT_MAX, BODY_MAX = svc.KINDS, svc.SUBJECT_MAX, svc.BODY_MAX  # for the page
FIELDS = ("kind", "subject", "body", "account_id")
# What the browser may send per field: the service gives the friendly "too long" message for
# anything up to these sizes; beyond them the call is not from our page and is dropped.
RAW_LIMITS = {"kind": 32, "subject": svc.SUBJECT_MAX * 4, "body": svc.BODY_MAX * 2, "account_id": 20}


def message_form(value: Any) -> dict[str, str]:
    """The submitted message form: exactly FIELDS (strings within RAW_LIMITS), plus Reflex's copies
    of the values under the input ids (``msg_<field>``), which are checked the same way and dropped."""
    if not isinstance(value, dict) or not set(FIELDS) <= set(value):
        raise BadArguments
    out: dict[str, str] = {}
    for key, raw in value.items():
        name = key[len(FORM_PREFIX) + 1:] if isinstance(key, str) and key.startswith(FORM_PREFIX + "_") else key
        if name not in RAW_LIMITS:
            raise BadArguments
        text = si.text(raw, RAW_LIMITS[name], strip=False)
        if key == name:
            out[name] = text
    return out


def format_when(value, lang: str) -> str:
    """A moment in the profile's time zone, in the language (``Mar 12, 2026, 14:05``)."""
    local = value.astimezone(si.profile().tz)
    loc = i18n.babel_locale(lang)
    return f"{babel_dates.format_date(local, 'medium', locale=loc)}, {babel_dates.format_time(local, 'short', locale=loc)}"


class MessagesState(si.BusyMixin, rx.State):
    """What the contacts and messages pages show; nothing here decides who may see what."""

    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"send"})

    loaded: bool = False
    signed_in: bool = False
    kind: str = "contact"
    accounts: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    notice: str = ""
    sent_subject: str = ""  # the page shows messages.sent in the current language with it
    error: str = ""
    form_key: int = 0
    subject_len: int = 0
    body_len: int = 0

    items: list[dict[str, str]] = []
    list_loaded: bool = False

    async def _who(self):
        return await si.current_user(self)

    def _reset_form(self) -> None:
        self.errors = {}
        self.notice = self.error = self.sent_subject = ""
        self.subject_len = self.body_len = 0

    # --- the contacts page ------------------------------------------------------------------

    @rx.event
    @si.handler
    async def load_contacts(self, kind: Any = "contact"):
        """on_load of /contacts, /feedback, /support: anyone sees the contacts; a customer the form."""
        if isinstance(kind, str) and kind in svc.KINDS:
            self.kind = kind
        self._reset_form()
        try:
            user = await self._who()
        except si.not_signed_in_errors():
            self.signed_in, self.accounts, self.loaded = False, [], True
            return

        def load():
            with read_session(si.engine()) as s:
                return acc_svc.list_accounts(s, user.user_id)

        cards = await si.call(load)
        self.accounts = [{"id": str(c.id), "number": c.number} for c in cards]
        self.signed_in = True
        self.loaded = True

    @rx.event
    def set_kind(self, kind: Any):
        if isinstance(kind, str) and kind in svc.KINDS:
            self.kind = kind
            self.errors = {k: v for k, v in self.errors.items() if k != "kind"}

    @rx.event
    def count_subject(self, value: Any):
        """Live character counter (sets a number, nothing else)."""
        if isinstance(value, str):
            self.subject_len = len(value)

    @rx.event
    def count_body(self, value: Any):
        if isinstance(value, str):
            self.body_len = len(value)

    @rx.event
    @si.handler
    async def send(self, form_data: Any):
        data = message_form(form_data)
        account = data["account_id"].strip()
        account_id = si.ident(account) if account else None
        user = await self._who()
        lang = await si.language(self)
        self.notice = self.error = self.sent_subject = ""
        try:
            msg = await si.call(
                svc.send_message, si.engine(), si.profile(), user.user_id, data["kind"], data["subject"],
                data["body"], account_id, now=si.now(),
            )
        except FormErrors as e:
            self.errors = si.field_errors(e, lang)
            text = si.error_text(e, lang)
            return rx.toast.error(text)
        except DomainError as e:
            self.errors = {}
            self.error = si.error_text(e, lang)
            return rx.toast.error(self.error)
        self.errors = {}
        self.subject_len = self.body_len = 0
        self.form_key += 1
        self.notice = i18n.t("messages.sent", lang, subject=msg.subject)
        self.sent_subject = msg.subject
        return rx.toast.success(self.notice)

    # --- my messages ------------------------------------------------------------------------

    @rx.event
    @si.handler
    async def load_list(self):
        """on_load of /messages."""
        user = await self._who()
        lang = await si.language(self)

        def load():
            with read_session(si.engine()) as s:
                return svc.list_messages(s, user.user_id)

        rows = await si.call(load)
        self.items = [
            {
                "id": str(m.id),
                "kind": m.kind,
                "kind_text": i18n.t(f"messages.kind.{m.kind}", lang),
                "subject": m.subject,
                "body": m.body,
                "status": m.status,
                "status_text": i18n.t(f"messages.status.{m.status}", lang),
                # in every language of the profile: switching the language needs no reload
                **{f"date_{lg}": format_when(m.created_at, lg) for lg in si.profile().languages},
                "date_iso": m.created_at.isoformat(),
                "account": m.account_number or "",
            }
            for m in rows
        ]
        self.list_loaded = True
        return None


from gazportal.state import gate  # noqa: E402

# Anyone may read the contacts page; the counters and the kind switch only set display values.
gate.allow(MessagesState, "load_contacts", "set_kind", "count_subject", "count_body",
           access=gate.PUBLIC)
# Sending and the list need a signed-in user (the gate checks the session before they run).
gate.allow(MessagesState, "begin", "send", "load_list", access=gate.USER)
