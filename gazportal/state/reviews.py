"""The staff console's readings review (/staff/readings, issue 16 point 6).

Thin like every state: each handler is declared :data:`OPERATOR` (``state/contract.py``), so the
server refuses it to a customer's session, to no session and to anyone below an operator before
the body runs; the bodies call ``services.reviews``, which holds the rules, books the reading,
writes the audit row and tells the customer. The decision form carries the state's submission id:
a double submit decides once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import i18n
from gazportal.services import reviews as svc
from gazportal.services.errors import DomainError
from gazportal.settings import get_settings
from gazportal.state.contract import OPERATOR, Choice, Ctx, Form, FormMixin, Id, call, engine, handler, ident, utility
from gazportal.state.staff import _dates, _query, actor_of
from gazportal.state.views import refusal

TABS = svc.TABS
FLAG_TABS = svc.FLAG_TABS  # listed for a look, no decision
ALL_TABS = (*TABS, *FLAG_TABS)
DECISIONS = ("accept", "reject")
DECIDE_FORM = Form(("review_id", "decision", "reason"), optional=("decision", "reason"), long=("reason",),
                   prefix="rv", limits={"review_id": 20, "decision": 8, "reason": svc.REASON_MAX * 2})


@dataclass(frozen=True)
class ReviewRow:
    """One review as the queue shows it; ``said``: per language, the texts with their units."""

    id: str = ""
    status: str = ""
    service: str = ""
    serial: str = ""
    account: str = ""
    customer: str = ""
    reason: str = ""  # staff's stated reason ("" while held)
    value: dict[str, str] = field(default_factory=dict)  # lang -> "9 999 999 kWh"
    detail: dict[str, str] = field(default_factory=dict)  # lang -> "9 995 141 kWh since 4 858 kWh (limit ...)"
    period: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)  # when it was sent
    date_iso: str = ""
    decided: dict[str, str] = field(default_factory=dict)  # when it was decided ("" while held)


@dataclass(frozen=True)
class FlagRow:
    """A meter of a flag tab (roll-over, zero use); ``value`` / ``previous`` per language."""

    id: str = ""
    service: str = ""
    serial: str = ""
    account: str = ""
    value: dict[str, str] = field(default_factory=dict)
    previous: dict[str, str] = field(default_factory=dict)
    period: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    date_iso: str = ""


def _flag(f: svc.FlagItem) -> FlagRow:
    langs = utility().languages
    return FlagRow(
        id=str(f.meter_id), service=f.service, serial=f.serial, account=f.account_number,
        value={lg: i18n.format_units(f.value, f.unit, lg) for lg in langs},
        previous={lg: i18n.format_units(f.previous, f.unit, lg) if f.previous is not None else "—" for lg in langs},
        period={lg: i18n.format_period(f.period, lg) for lg in langs},
        dates=_dates(f.taken_at), date_iso=f.taken_at.isoformat(),
    )


def _row(r: svc.ReviewItem) -> ReviewRow:
    langs = utility().languages

    def detail(lg: str) -> str:
        base = i18n.format_units(r.base_value, r.unit, lg) if r.base_value is not None else "—"
        return i18n.t("staff.readings.volume", lg, volume=i18n.format_units(r.volume, r.unit, lg), base=base,
                      limit=i18n.format_units(r.limit_volume, r.unit, lg))

    return ReviewRow(
        id=str(r.id), status=r.status, service=r.service, serial=r.serial, account=r.account_number,
        customer=r.customer, reason=r.decision_reason,
        value={lg: i18n.format_units(r.value, r.unit, lg) for lg in langs},
        detail={lg: detail(lg) for lg in langs},
        period={lg: i18n.format_period(r.period, lg) for lg in langs},
        dates=_dates(r.taken_at), date_iso=r.taken_at.isoformat(),
        decided=_dates(r.decided_at) if r.decided_at is not None else {lg: "" for lg in langs},
    )


class StaffReviewState(FormMixin, rx.State):
    """The review queue: tabs with counts, one review picked, and its decision form."""

    PERSONAL: ClassVar[bool] = True
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"decide"})

    tab: str = "held"
    rows: list[ReviewRow] = []
    flags: list[FlagRow] = []  # the rows of a flag tab
    counts: dict[str, int] = {}
    loaded: bool = False
    picked: str = ""  # the id of the review whose decision form is open ("" none)
    form_key: int = 0
    done: str = ""  # the last success: "accepted" | "rejected" (said by the page)

    async def _fill(self, ctx: Ctx) -> None:
        tab, moment = self.tab, ctx.now

        def load():
            with read_session(engine()) as s:
                flags = svc.flagged(s, utility(), tab, now=moment) if tab in FLAG_TABS else []
                return svc.queue(s, tab), flags

        q, flags = await call(load)
        self.rows = [] if tab in FLAG_TABS else [_row(r) for r in q.items]
        self.flags = [_flag(f) for f in flags]
        self.counts = dict(q.counts)
        if self.picked and not any(r.id == self.picked and r.status == "open" for r in self.rows):
            self.picked = ""
        self.loaded = True

    @rx.event
    @handler(OPERATOR)
    async def load(self, ctx: Ctx):
        """on_load of /staff/readings (``?tab=`` pre-sets the tab)."""
        tab = _query(self, "tab")
        self.tab = tab if tab in ALL_TABS else "held"
        self.picked = self.done = self.error = ""
        self.errors = {}
        await self._fill(ctx)

    @rx.event
    @handler(OPERATOR, tab=Choice(ALL_TABS))
    async def set_tab(self, ctx: Ctx, tab: str):
        self.tab, self.picked, self.done, self.error = tab, "", "", ""
        self.errors = {}
        await self._fill(ctx)

    @rx.event
    @handler(OPERATOR, review_id=Id(blank=True))
    async def pick(self, ctx: Ctx, review_id: int | None):
        """Open the decision form of a held review (None: close it)."""
        self.picked = str(review_id) if review_id is not None else ""
        self.error, self.errors, self.done = "", {}, ""

    @rx.event
    @handler(OPERATOR, creates=True, form=DECIDE_FORM)
    async def decide(self, ctx: Ctx, form: dict[str, Any]):
        """Accept (book it) or reject (``reason`` required) the review ``form["review_id"]``."""
        self.error = self.done = ""
        decision = form["decision"]
        if decision not in DECISIONS:
            self.errors = {"decision": i18n.t("errors.field_required", ctx.lang)}
            return
        rid = ident(form["review_id"])
        act = svc.accept if decision == "accept" else svc.reject
        try:
            d = await call(act, engine(), get_settings(), utility(), actor_of(ctx), rid, form["reason"], now=ctx.now)
        except DomainError as e:
            self.errors, self.error = refusal(e, ctx.lang)
            await self._fill(ctx)
            return
        self.errors = {}
        self.form_key += 1
        self.done, self.picked = d.status, ""
        await self._fill(ctx)


__all__ = ["ALL_TABS", "DECISIONS", "FLAG_TABS", "FlagRow", "ReviewRow", "StaffReviewState", "TABS"]
