"""The staff console's states: the inbox (/staff), one message (/staff/message?id=N) and the audit
log (/staff/audit, admin).

Thin, like every state: each handler is declared for a staff role (``state/contract.py``:
:data:`OPERATOR` or :data:`ADMIN`), so the server refuses it to a customer's session, to no session
and to a lower role before the body runs; the bodies call ``services.inbox`` / ``services.audit``,
which hold the rules and write the audit rows. The reply and note forms carry the state's
submission id: a double submit stores one row.
"""
from __future__ import annotations

import io
from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import audit as audit_svc
from gazportal.services import i18n
from gazportal.services import inbox as svc
from gazportal.services.audit import Actor
from gazportal.services.errors import DomainError, NotFound
from gazportal.services.messages import BODY_MAX, KINDS, STATUSES
from gazportal.settings import get_settings
from gazportal.state.contract import (
    ADMIN, OPERATOR, Choice, Ctx, Form, StaffFormMixin, Id, call, engine, handler, ident, query_param, utility,
)
from gazportal.state.messages import format_when
from gazportal.state.views import AuditView, EventRow, InboxRow, Option, refusal

ANY = ""  # the filters' "all"
EVENT_FORM = Form(("message_id", "kind", "body"), long=("body",), prefix="staff",
                  limits={"message_id": 20, "kind": 8, "body": BODY_MAX * 2})


def actor_of(ctx: Ctx) -> Actor:
    """The audit log's actor of a staff handler's call."""
    return Actor(user_id=ctx.user.user_id, label=ctx.user.login, role=ctx.user.role)


def _dates(moment) -> dict[str, str]:
    return {lg: format_when(moment, lg) for lg in utility().languages}


def _query(state: Any, name: str) -> str:
    return query_param(state, name) or ""


class StaffInboxState(rx.State):
    """The inbox: customers' messages with filters by status and kind, and the SLA breaches."""

    PERSONAL: ClassVar[bool] = True

    items: list[InboxRow] = []
    breached: int = 0
    status: str = ANY
    kind: str = ANY
    loaded: bool = False

    async def _fill(self, ctx: Ctx) -> None:
        status, kind = self.status or None, self.kind or None

        def load():
            with read_session(engine()) as s:
                return svc.inbox(s, utility(), status=status, kind=kind, now=ctx.now)

        box = await call(load)
        self.items = [InboxRow(id=str(m.id), kind=m.kind, subject=m.subject, status=m.status, customer=m.customer,
                               account=m.account_number or "", dates=_dates(m.created_at),
                               date_iso=m.created_at.isoformat(), breached=m.first_breached or m.resolve_breached)
                      for m in box.items]
        self.breached = box.breached
        self.loaded = True

    @rx.event
    @handler(OPERATOR)
    async def load(self, ctx: Ctx):
        """on_load of /staff (``?status=`` and ``?kind=`` pre-set the filters)."""
        status, kind = _query(self, "status"), _query(self, "kind")
        self.status = status if status in STATUSES else ANY
        self.kind = kind if kind in KINDS else ANY
        await self._fill(ctx)

    @rx.event
    @handler(OPERATOR, status=Choice((ANY, *STATUSES)))
    async def set_status_filter(self, ctx: Ctx, status: str):
        self.status = status
        await self._fill(ctx)

    @rx.event
    @handler(OPERATOR, kind=Choice((ANY, *KINDS)))
    async def set_kind_filter(self, ctx: Ctx, kind: str):
        self.kind = kind
        await self._fill(ctx)


class StaffMessageState(StaffFormMixin, rx.State):
    """One message with its customer and account, its replies and notes, and its status moves."""

    PERSONAL: ClassVar[bool] = True
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"reply", "note"})

    found: bool = False
    loaded: bool = False
    message_id: str = ""
    kind: str = ""
    subject: str = ""
    body: str = ""
    status: str = ""
    breached: bool = False
    dates: dict[str, str] = {}
    customer: str = ""
    customer_login: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    account: str = ""
    account_holder: str = ""
    account_address: str = ""
    events: list[EventRow] = []
    moves: list[Option] = []  # id: the status; name: the key under staff.move (said by the page)
    form_key: int = 0
    # the last success, said by the page in its current language: a key under staff., and the
    # status it names (status_saved)
    done: str = ""
    done_status: str = ""

    async def _fill(self, ctx: Ctx, message_id: int) -> None:
        def load():
            with read_session(engine()) as s:
                return svc.open_message(s, utility(), message_id, now=ctx.now)

        try:
            d = await call(load)
        except NotFound:
            self.found, self.loaded, self.events, self.moves = False, True, [], []
            return
        m = d.item
        self.found, self.loaded = True, True
        self.message_id, self.kind, self.subject, self.body, self.status = str(m.id), m.kind, m.subject, d.body, m.status
        self.breached = m.first_breached or m.resolve_breached
        self.dates = _dates(m.created_at)
        self.customer, self.customer_login = m.customer, d.customer_login
        self.customer_email, self.customer_phone = d.customer_email or "", d.customer_phone or ""
        self.account, self.account_holder = m.account_number or "", d.account_holder or ""
        self.account_address = d.account_address or ""
        self.events = [EventRow(id=str(e.id), kind=e.kind, body=e.body, author=e.author, dates=_dates(e.created_at),
                                date_iso=e.created_at.isoformat()) for e in d.events]
        reopen = m.status in ("answered", "closed")  # back to "in progress" is a reopen
        self.moves = [Option(id=s, name="reopen" if reopen and s == "in_progress" else s) for s in d.moves]

    @rx.event
    @handler(OPERATOR)
    async def load(self, ctx: Ctx):
        """on_load of /staff/message?id=N."""
        self.error = self.notice = self.done = self.done_status = ""
        self.errors = {}
        raw = _query(self, "id")
        try:
            mid = ident(raw)
        except Exception:
            self.found, self.loaded = False, True
            return
        await self._fill(ctx, mid)

    @rx.event
    @handler(OPERATOR, creates=True, form=EVENT_FORM)
    async def add(self, ctx: Ctx, form: dict[str, str]):
        """Store a reply (sent to the customer) or an internal note (``form["kind"]``)."""
        kind = form["kind"]
        if kind not in svc.EVENT_KINDS:
            self.error = i18n.t("errors.form_invalid", ctx.lang)
            return
        mid = ident(form["message_id"])
        self.error = self.notice = self.done = ""
        try:
            await call(svc.add_event, engine(), get_settings(), utility(), actor_of(ctx), mid, kind, form["body"],
                       now=ctx.now)
        except DomainError as e:
            self.errors, self.error = refusal(e, ctx.lang)
            return
        self.errors = {}
        self.form_key += 1
        self.done = f"{kind}_saved"
        await self._fill(ctx, mid)

    @rx.event
    @handler(OPERATOR, message_id=Id(), status=Choice(STATUSES))
    async def move(self, ctx: Ctx, message_id: int, status: str):
        """Move the message to ``status`` (the service says which moves are allowed)."""
        self.error = self.notice = self.done = ""
        try:
            await call(svc.set_status, engine(), actor_of(ctx), message_id, status, now=ctx.now)
        except DomainError as e:
            self.errors, self.error = refusal(e, ctx.lang)
            return
        self.done, self.done_status = "status_saved", status
        await self._fill(ctx, message_id)


class StaffAuditState(rx.State):
    """The audit log for an admin: newest first, a page at a time, and its CSV export."""

    PERSONAL: ClassVar[bool] = True

    rows: list[AuditView] = []
    page: int = 1
    pages: int = 1
    loaded: bool = False

    async def _fill(self, page: int) -> None:
        def load():
            with read_session(engine()) as s:
                return audit_svc.page_of(s, page)

        rows, pages = await call(load)
        self.rows = [AuditView(id=str(r.id), at=f"{r.at:%Y-%m-%d %H:%M:%S}", at_iso=r.at.isoformat(), actor=r.actor,
                               action=r.action, object=f"{r.object_type} #{r.object_id}".strip(" #"),
                               before=r.before, after=r.after, reason=r.reason) for r in rows]
        self.pages = pages
        self.page = min(max(1, page), pages)
        self.loaded = True

    @rx.event
    @handler(ADMIN)
    async def load(self, ctx: Ctx):
        """on_load of /staff/audit (``?page=N``)."""
        raw = _query(self, "page")
        await self._fill(int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 8 else 1)

    @rx.event
    @handler(ADMIN, page=Id())
    async def go(self, ctx: Ctx, page: int):
        await self._fill(page)

    @rx.event
    @handler(ADMIN)
    async def export(self, ctx: Ctx):
        """The whole log as a CSV download (``services.audit.export_csv``)."""
        def dump() -> str:
            out = io.StringIO()
            with read_session(engine()) as s:
                audit_svc.export_csv(s, out)
            return out.getvalue()

        data = await call(dump)
        return rx.download(data=data, filename=f"audit-{ctx.now:%Y%m%d-%H%M}.csv", mime_type="text/csv")


__all__ = ["BODY_MAX", "KINDS", "STATUSES", "StaffAuditState", "StaffInboxState", "StaffMessageState", "actor_of"]
