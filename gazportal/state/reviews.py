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
from gazportal.services import corrections as corrections_svc
from gazportal.services import reviews as svc
from gazportal.services.errors import DomainError
from gazportal.settings import get_settings
from gazportal.state.contract import (
    OPERATOR, SUPERVISOR, Choice, Ctx, Form, StaffFormMixin, Id, call, engine, handler, ident, utility,
)
from gazportal.state.staff import _dates, _query, actor_of
from gazportal.state.views import refusal

TABS = svc.TABS
FLAG_TABS = svc.FLAG_TABS  # listed for a look, no decision
LATE = "late"  # readings of closed periods booked by staff, and the form to book one
DISPUTED = "disputed"  # customers' disputes of booked readings, and the correction form (issue 16 point 6)
ALL_TABS = (*TABS, DISPUTED, LATE, *FLAG_TABS)
RESOLUTIONS = ("correct", "dismiss")
RESOLVE_FORM = Form(("dispute_id", "decision", "value", "reason"), optional=("decision", "value", "reason"),
                    long=("reason",), prefix="dsp",
                    limits={"dispute_id": 20, "decision": 8, "value": 40, "reason": svc.REASON_MAX * 2})
CORRECT_FORM = Form(("account", "serial", "period", "value", "reason"), long=("reason",), prefix="fix",
                    limits={"account": 40, "serial": 40, "period": 7, "value": 40, "reason": svc.REASON_MAX * 2})
LATE_FORM = Form(("account", "serial", "day", "value", "reason"), long=("reason",), prefix="late",
                 limits={"account": 40, "serial": 40, "day": 10, "value": 40, "reason": svc.REASON_MAX * 2})
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


@dataclass(frozen=True)
class DisputeRow:
    """A customer's dispute as the disputed tab shows it; ``value`` etc. per language."""

    id: str = ""
    status: str = ""
    service: str = ""
    serial: str = ""
    account: str = ""
    customer: str = ""
    reason: str = ""  # the customer's
    decision_reason: str = ""  # staff's ("" while open)
    value: dict[str, str] = field(default_factory=dict)
    corrected_to: dict[str, str] = field(default_factory=dict)  # "" unless corrected
    source: str = ""  # who took the disputed reading (a key under dashboard.source.)
    period: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)  # when it was disputed
    date_iso: str = ""


def _dispute(d: corrections_svc.DisputeItem) -> DisputeRow:
    langs = utility().languages
    return DisputeRow(
        id=str(d.id), status=d.status, service=d.service, serial=d.serial, account=d.account_number,
        customer=d.customer, reason=d.reason, decision_reason=d.decision_reason,
        value={lg: i18n.format_units(d.value, d.unit, lg) for lg in langs},
        corrected_to={lg: i18n.format_units(d.corrected_to, d.unit, lg) if d.corrected_to is not None else ""
                      for lg in langs},
        source=d.source, period={lg: i18n.format_period(d.period, lg) for lg in langs},
        dates=_dates(d.created_at), date_iso=d.created_at.isoformat(),
    )


def _flag(f: svc.FlagItem) -> FlagRow:
    langs = utility().languages
    return FlagRow(
        id=str(f.meter_id), service=f.service, serial=f.serial, account=f.account_number,
        value={lg: i18n.format_units(f.value, f.unit, lg) for lg in langs},
        previous={lg: i18n.format_units(f.previous, f.unit, lg) if f.previous is not None else "—" for lg in langs},
        period={lg: i18n.format_period(f.period, lg) for lg in langs},
        dates=_dates(f.taken_at), date_iso=f.taken_at.isoformat(),
    )


def _late(r: svc.LateItem) -> FlagRow:
    langs = utility().languages
    return FlagRow(
        id=str(r.reading_id), service=r.service, serial=r.serial, account=r.account_number,
        value={lg: i18n.format_units(r.value, r.unit, lg) for lg in langs},
        previous=_dates(r.created_at),  # when it was booked
        period={lg: i18n.format_period(r.period, lg) for lg in langs},
        dates={lg: i18n.format_date(r.taken_at.astimezone(utility().tz), lg) for lg in langs},
        date_iso=r.taken_at.isoformat(),
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


class StaffReviewState(StaffFormMixin, rx.State):
    """The review queue: tabs with counts, one review picked, and its decision form."""

    PERSONAL: ClassVar[bool] = True
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"decide", "late", "resolve", "correct"})

    tab: str = "held"
    rows: list[ReviewRow] = []
    flags: list[FlagRow] = []  # the rows of a flag tab
    disputes: list[DisputeRow] = []  # the rows of the disputed tab (open ones)
    counts: dict[str, int] = {}
    loaded: bool = False
    picked: str = ""  # the id of the review whose decision form is open ("" none)
    form_key: int = 0
    done: str = ""  # the last success: "accepted" | "rejected" | "late.saved" (under staff.readings.)

    async def _fill(self, ctx: Ctx) -> None:
        tab, moment = self.tab, ctx.now

        def load():
            with read_session(engine()) as s:
                items, open_disputes = corrections_svc.disputes(s, "open")
                disputes = [_dispute(d) for d in items] if tab == DISPUTED else []
                if tab in FLAG_TABS:
                    flags = [_flag(f) for f in svc.flagged(s, utility(), tab, now=moment)]
                elif tab == LATE:
                    flags = [_late(r) for r in svc.late(s, utility(), now=moment)]
                else:
                    flags = []
                return svc.queue(s, tab), flags, disputes, open_disputes

        q, flags, disputes, open_disputes = await call(load)
        self.rows = [] if tab in FLAG_TABS or tab in (LATE, DISPUTED) else [_row(r) for r in q.items]
        self.flags = flags
        self.disputes = disputes
        self.counts = {**q.counts, DISPUTED: open_disputes}
        open_ids = {r.id for r in self.rows if r.status == "open"} | {d.id for d in self.disputes}
        if self.picked and self.picked not in open_ids:
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

    @rx.event
    @handler(OPERATOR, creates=True, form=LATE_FORM)
    async def book_late(self, ctx: Ctx, form: dict[str, Any]):
        """Book a late reading of a closed period (``services.reviews.book_late``)."""
        from datetime import date

        self.error = self.done = ""
        errors: dict[str, str] = {}
        try:
            day = date.fromisoformat(form["day"])
        except ValueError:
            errors["day"] = i18n.t("errors.field_required" if not form["day"] else "errors.invalid_input", ctx.lang)
        for name in ("account", "serial", "value"):
            if not form[name].strip():
                errors[name] = i18n.t("errors.field_required", ctx.lang)
        if errors:
            self.errors = errors
            return
        try:
            await call(svc.book_late, engine(), utility(), actor_of(ctx), form["account"], form["serial"],
                       form["value"], day, form["reason"], now=ctx.now)
        except DomainError as e:
            self.errors, self.error = refusal(e, ctx.lang)
            return
        self.errors = {}
        self.form_key += 1
        self.done = "late.saved"
        await self._fill(ctx)


    @rx.event
    @handler(SUPERVISOR, creates=True, form=RESOLVE_FORM)
    async def resolve(self, ctx: Ctx, form: dict[str, Any]):
        """Decide the open dispute ``form["dispute_id"]``: correct its reading to ``value`` (a new
        linked reading) or dismiss it; ``reason`` required either way (the customer is told it)."""
        self.error = self.done = ""
        decision, errors = form["decision"], {}
        if decision not in RESOLUTIONS:
            errors["decision"] = i18n.t("errors.field_required", ctx.lang)
        if decision == "correct" and not form["value"].strip():
            errors["value"] = i18n.t("errors.field_required", ctx.lang)
        if errors:
            self.errors = errors
            return
        did = ident(form["dispute_id"])
        try:
            if decision == "correct":
                await call(corrections_svc.correct, engine(), get_settings(), utility(), actor_of(ctx), None,
                           form["value"], form["reason"], now=ctx.now, dispute_id=did)
            else:
                await call(corrections_svc.dismiss, engine(), get_settings(), utility(), actor_of(ctx), did,
                           form["reason"], now=ctx.now)
        except DomainError as e:
            self.errors, self.error = refusal(e, ctx.lang)
            await self._fill(ctx)
            return
        self.errors = {}
        self.form_key += 1
        self.done, self.picked = "disputes.corrected" if decision == "correct" else "disputes.dismissed", ""
        await self._fill(ctx)

    @rx.event
    @handler(SUPERVISOR, creates=True, form=CORRECT_FORM)
    async def correct(self, ctx: Ctx, form: dict[str, Any]):
        """Correct the reading of a period of meter ``serial`` of ``account`` (no dispute needed):
        a new linked reading with the stated ``reason`` (``services.corrections.correct``)."""
        self.error = self.done = ""
        errors = {name: i18n.t("errors.field_required", ctx.lang)
                  for name in ("account", "serial", "period", "value") if not form[name].strip()}
        if errors:
            self.errors = errors
            return
        settings, moment = get_settings(), ctx.now

        def send():
            from gazportal.services.audit import NotAllowed
            from gazportal.services.staff import has_role

            actor = actor_of(ctx)
            if not has_role(actor.role, corrections_svc.NEEDS):
                raise NotAllowed()  # before anything of the account is read
            with read_session(engine()) as s:
                rid = corrections_svc.reading_of_period(s, form["account"], form["serial"], form["period"])
            return corrections_svc.correct(engine(), settings, utility(), actor, rid, form["value"], form["reason"],
                                           now=moment)

        try:
            await call(send)
        except DomainError as e:
            self.errors, self.error = refusal(e, ctx.lang)
            return
        self.errors = {}
        self.form_key += 1
        self.done = "disputes.corrected"
        await self._fill(ctx)


__all__ = ["ALL_TABS", "DISPUTED", "DisputeRow", "LATE", "DECISIONS", "FLAG_TABS", "FlagRow", "ReviewRow", "StaffReviewState", "TABS"]
