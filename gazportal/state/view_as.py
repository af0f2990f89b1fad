"""/staff/view: a staff member opens an account read-only, as its customers see their dashboard
(issue 16 point 5).

Every handler is declared :data:`OPERATOR` (``state/contract.py``): a customer's session, no
session and a lower role are refused before the body runs. Opening an account needs its number
and a stated reason, and is written to the audit log (``services.view_as.open_account``) before
the account is read; the page then shows what ``state.dashboard.dashboard_vars`` makes of
``services.dashboard.staff_view`` — the same composition as the customer's own dashboard — with
no forms. A page load forgets the last view: every look has its audit row.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import corrections as corrections_svc
from gazportal.services import dashboard as dash_svc
from gazportal.services import reviews as reviews_svc
from gazportal.services import view_as as svc
from gazportal.services.errors import DomainError
from gazportal.services.reviews import REASON_MAX
from gazportal.state.contract import OPERATOR, Ctx, Form, StaffFormMixin, call, engine, handler, utility
from gazportal.state import dashboard as dash_state
from gazportal.state.dashboard import dashboard_vars, review_notes_of
from gazportal.state.i18n import resay_on_language_change
from gazportal.state.staff import _dates, _query, actor_of
from gazportal.state.views import AccountInfo, MeterView, ReadingRow, VolumeLine, refusal

VIEW_FORM = Form(("account", "reason"), long=("reason",), prefix="va",
                 limits={"account": 40, "reason": REASON_MAX * 2})


class StaffViewState(StaffFormMixin, rx.State):
    """The read-only view of one account: the dashboard's vars, the number, the stated reason and
    when it was opened."""

    PERSONAL: ClassVar[bool] = True
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"view"})

    loaded: bool = False
    number: str = ""  # the ?account= the page was opened with (pre-fills the form)
    viewing: bool = False
    reason: str = ""
    opened: dict[str, str] = {}  # when, per language
    form_key: int = 0
    # what the customer's dashboard shows (state/dashboard.dashboard_vars)
    account_id: str = ""
    info: AccountInfo = AccountInfo()
    in_debt: bool = False
    last_volumes: list[VolumeLine] = []
    window_open: bool = False
    window_text: str = ""
    meters: list[MeterView] = []
    history: dict[str, list[ReadingRow]] = {}
    review_notes: dict[str, dict[str, str]] = {}
    _account: int = 0  # the account opened (backend only)

    def _forget(self) -> None:
        self.viewing, self.reason, self.opened, self.account_id, self._account = False, "", {}, "", 0
        self.info, self.in_debt, self.last_volumes, self.window_open, self.window_text = AccountInfo(), False, [], False, ""
        self.meters, self.history, self.review_notes = [], {}, {}

    async def _show(self, ctx: Ctx, account_id: int) -> None:
        moment = dash_state.now()  # the customer's dashboard's clock: the same figures as theirs

        def read():
            with read_session(engine()) as s:
                dash = dash_svc.staff_view(s, utility(), account_id, now=moment)
                ids = [m.id for m in dash.meters]
                return (dash, reviews_svc.notices_for(s, ids, now=moment),
                        corrections_svc.notices_for(s, ids, now=moment))

        dash, notes, disputes = await call(read)
        values: dict[str, Any] = dashboard_vars(dash, ctx.lang, 0)  # 0: no reading is "sent by you"
        for name, value in values.items():
            setattr(self, name, value)
        self.review_notes = review_notes_of(notes, disputes, ctx.lang)

    @rx.event
    @handler(OPERATOR)
    async def load(self, ctx: Ctx):
        """on_load of /staff/view (``?account=`` pre-fills the number); forgets the last view."""
        self._forget()
        self.error, self.errors = "", {}
        self.number = _query(self, "account")[:40]
        self.loaded = True

    @rx.event
    @handler(OPERATOR, creates=True, form=VIEW_FORM)
    async def open(self, ctx: Ctx, form: dict[str, Any]):
        """Open account ``form["account"]`` read-only for ``form["reason"]``: audited first
        (``services.view_as.open_account``), then read."""
        self._forget()
        self.error, self.errors = "", {}
        try:
            aid = await call(svc.open_account, engine(), utility(), actor_of(ctx), form["account"], form["reason"],
                             now=ctx.now)
            await self._show(ctx, aid)
        except DomainError as e:
            self._forget()
            self.errors, line = refusal(e, ctx.lang)
            if line:
                self.errors = {"account": line}
            self.refusals += 1
            return
        self.viewing, self._account, self.reason = True, aid, form["reason"].strip()
        self.number = form["account"]
        self.opened = _dates(ctx.now)

    @rx.event
    @handler(OPERATOR)
    async def close(self, ctx: Ctx):
        """Leave the view (the form again)."""
        self._forget()
        self.form_key += 1

    @rx.event
    @handler(OPERATOR)
    async def relang(self, ctx: Ctx):
        """The language was switched on this page: the open view said again in it (the same look,
        not audited again)."""
        if self.viewing and self._account:
            try:
                await self._show(ctx, self._account)
            except DomainError:
                self._forget()


resay_on_language_change("/staff/view", StaffViewState.relang)

__all__ = ["StaffViewState", "VIEW_FORM"]
