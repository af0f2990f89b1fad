"""/staff/dashboard (issue 16 point 3): the consumption statistics of the staff console.

Thin: the handlers are declared for :data:`OPERATOR` (``state/contract.py``: a customer's session
is refused before the body runs) and call ``services.staff_dashboard``, which reads only the
roll-ups and formats every text and figure for each language of the profile (switching the
language needs no round trip). Filters: year, service, settlement; a value not among the
choices is refused with a translated message and changes nothing.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import charts
from gazportal.services import staff_dashboard as svc
from gazportal.services.errors import DomainError
from gazportal.state.contract import OPERATOR, Ctx, Id, Text, call, engine, handler, say, utility
from gazportal.state.views import CoverageView, KpiCard, MissingView, Option, TableView


class StaffDashboardState(rx.State):
    """KPI cards, five charts (each with its table), the top lists and the coverage table for the chosen year, service and settlement."""

    PERSONAL: ClassVar[bool] = True

    loaded: bool = False
    error: str = ""
    years: list[str] = []
    services: list[str] = []
    settlements: list[Option] = []
    year: str = ""
    service: str = ""
    settlement: str = ""  # "" all, "0" no address, else a settlement id
    kpis: dict[str, list[KpiCard]] = {}
    figures: dict[str, dict[str, Any]] = {}
    summaries: dict[str, dict[str, str]] = {}
    coverage: dict[str, list[CoverageView]] = {}
    tables: dict[str, dict[str, TableView]] = {}  # each chart's table alternative, the top lists
    missing: list[MissingView] = []  # a page of the meters not read yet in the coverage period
    missing_page: int = 1
    missing_more: bool = False

    async def _fill(self, ctx: Ctx, year: Any, service: Any, settlement: Any) -> None:
        p = utility()
        languages = list(p.languages)

        def load():
            with read_session(engine()) as s:
                years = svc.years(s, p, ctx.now)
                places = svc.settlements(s)
                f = svc.check_filters(s, p, ctx.now, year, service, settlement)
                board = svc.load(s, p, f, ctx.now, languages)
                return years, places, f, board, svc.missing_meters(s, f, board.data.coverage_period, 1)

        try:
            years, places, f, board, (missing, more) = await call(load)
        except DomainError as e:
            self.error = say(e, ctx.lang)
            return
        self.error = ""
        self.years = [str(y) for y in years]
        self.services = list(p.services)
        self.settlements = [Option(str(i), name) for i, name in places]
        self.year, self.service = str(f.year), f.service
        self.settlement = "" if f.settlement is None else str(f.settlement)
        self.kpis = {lg: [KpiCard(*k) for k in board.kpis[lg]] for lg in languages}
        self.figures, self.summaries = board.figures, board.summaries
        self.coverage = {lg: [CoverageView(*c) for c in board.coverage[lg]] for lg in languages}
        self.tables = {lg: {k: TableView(v.head, v.rows, v.title) for k, v in board.tables[lg].items()}
                       for lg in languages}
        self._show_missing(missing, more, 1)
        self.loaded = True

    @rx.event
    @handler(OPERATOR)
    async def load(self, ctx: Ctx):
        """on_load: the current year, the profile's first service, all settlements."""
        await self._fill(ctx, charts.current_period(utility(), ctx.now)[:4], utility().services[0], "")

    @rx.event
    @handler(OPERATOR, year=Text(4))
    async def set_year(self, ctx: Ctx, year: str):
        await self._fill(ctx, year, self.service, self.settlement)

    @rx.event
    @handler(OPERATOR, service=Text(12))
    async def set_service(self, ctx: Ctx, service: str):
        await self._fill(ctx, self.year, service, self.settlement)

    @rx.event
    @handler(OPERATOR, settlement=Text(12))
    async def set_settlement(self, ctx: Ctx, settlement: str):
        await self._fill(ctx, self.year, self.service, settlement)


    def _show_missing(self, rows: list[svc.Missing], more: bool, page: int) -> None:
        self.missing = [MissingView(r.serial, r.number, r.address) for r in rows]
        self.missing_more, self.missing_page = more, page

    @rx.event
    @handler(OPERATOR, page=Id())
    async def show_missing(self, ctx: Ctx, page: int):
        """Page ``page`` of the meters not read yet, for the filters shown (checked again: the
        state's own values; a page past the end shows the last rows there are, none)."""
        p = utility()

        def load():
            with read_session(engine()) as s:
                f = svc.check_filters(s, p, ctx.now, self.year, self.service, self.settlement)
                return svc.missing_meters(s, f, svc.coverage_period(s, p, f, ctx.now), page)

        try:
            rows, more = await call(load)
        except DomainError as e:
            self.error = say(e, ctx.lang)
            return
        self._show_missing(rows, more, page)
