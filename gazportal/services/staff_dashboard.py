"""The staff dashboard (/staff/dashboard, issue 16 point 3): consumption and charges by month
beside the same months of last year, reading coverage of the current period (by day of the month
and by settlement), and the collection rate, for a year, a service and a settlement.

It reads only the roll-ups (services/rollups.py: ``stat_month``, ``stat_day``) and the address
directory's few settlement names — never raw readings, charges or payments — so its cost does
not grow with the number of accounts. Volumes are shown for one service at a time (m³ and kWh
never added); money of all services is summed for the collection rate (payments belong to an
account, not a service). Figures reuse services/charts.py's styling (``template="none"``, the
chart colours the page's stylesheet turns for the dark mode). Texts are formatted for every
language of the profile, like the customer's statistics.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from gazportal.models import Branch, Settlement, StatDay, StatMonth
from gazportal.models._base import table_of
from gazportal.services import charts, i18n, periods as P
from gazportal.services.errors import InvalidInput
from gazportal.services.periods import reading_period
from gazportal.services.rollups import PAYMENTS
from gazportal.settings import Utility

ALL = None  # every settlement
NO_ADDRESS = 0  # the roll-ups' bucket of accounts outside the address directory
CHART_NAMES = ("volume", "charged", "coverage_days", "collection")


@dataclass(frozen=True)
class Filters:
    """Checked filters: a calendar ``year``, one ``service`` of the profile, a settlement id
    (None = all, 0 = accounts without a directory address)."""

    year: int
    service: str
    settlement: int | None


@dataclass
class Month:
    period: str
    volume: Decimal = Decimal(0)  # charged volume, the service's unit
    charged: Decimal = Decimal(0)  # the service's charges
    charged_all: Decimal = Decimal(0)  # all services' charges (collection rate)
    paid: Decimal = Decimal(0)


@dataclass
class CoverageRow:
    settlement: int
    name: str
    meters: int
    read: int

    @property
    def missing(self) -> int:
        return max(self.meters - self.read, 0)

    @property
    def percent(self) -> Decimal | None:
        return None if not self.meters else (Decimal(100) * self.read / self.meters).quantize(Decimal("0.1"))


@dataclass
class Figures:
    """The numbers of one dashboard (before formatting)."""

    filters: Filters
    months: list[Month]  # January..December of the year
    previous: list[Month]  # the same months of the year before
    coverage_period: str
    coverage: list[CoverageRow]  # by settlement
    coverage_days: list[tuple[int, int]]  # (day of month, meters read by then), cumulative
    meters: int
    read: int


@dataclass
class Dashboard:
    """Figures plus every text per language: ``kpis[lang]`` (label, value, note), ``figures[lang][name]``
    (plotly JSON), ``summaries[lang][name]``, ``coverage[lang]`` (rows of texts)."""

    data: Figures
    kpis: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, dict[str, str]] = field(default_factory=dict)
    coverage: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)


def settlements(session: Session) -> list[tuple[int, str]]:
    """The address directory's settlements as (id, "name (branch)") sorted by name: the filter's
    choices besides "all" and "no address"."""
    s, b = table_of(Settlement), table_of(Branch)
    rows = session.execute(sa.select(s.c.id, s.c.name, b.c.name).join(b, b.c.id == s.c.branch_id)).all()
    return sorted(((int(i), f"{n} ({bn})") for i, n, bn in rows), key=lambda r: r[1])


def years(session: Session, utility: Utility, now: datetime) -> list[int]:
    """The years the roll-ups have data for (newest first); the current year when none."""
    sm = table_of(StatMonth)
    lo = session.execute(sa.select(sa.func.min(sm.c.period))).scalar_one()
    this = int(charts.current_period(utility, now)[:4])
    first = int(lo[:4]) if lo else this
    return list(range(this, min(first, this) - 1, -1))


def check_filters(session: Session, utility: Utility, now: datetime, year: Any, service: Any,
                  settlement: Any) -> Filters:
    """The filters as typed by the page (strings), or InvalidInput("errors.dashboard_filter")."""
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise InvalidInput("errors.dashboard_filter") from None
    if y not in years(session, utility, now) or service not in utility.services:
        raise InvalidInput("errors.dashboard_filter")
    if settlement in (None, ""):
        st: int | None = ALL
    else:
        try:
            st = int(settlement)
        except (TypeError, ValueError):
            raise InvalidInput("errors.dashboard_filter") from None
        if st != NO_ADDRESS and st not in {i for i, _ in settlements(session)}:
            raise InvalidInput("errors.dashboard_filter")
    return Filters(y, service, st)


def months_tile(session: Session, f: Filters) -> tuple[list[Month], list[Month]]:
    """Tile data of the consumption, charges and collection charts: the year's months and the
    same months of the year before (one grouped read of stat_month)."""
    sm = table_of(StatMonth)
    first, last = f"{f.year - 1:04d}-01", f"{f.year:04d}-12"
    where = [sm.c.period >= first, sm.c.period <= last]
    if f.settlement is not None:
        where.append(sm.c.settlement_id == f.settlement)
    by: dict[str, Month] = {}
    rows = session.execute(sa.select(sm.c.period, sm.c.service, sa.func.sum(sm.c.volume), sa.func.sum(sm.c.charged),
                                     sa.func.sum(sm.c.paid)).where(*where).group_by(sm.c.period, sm.c.service))
    for period, svc, vol, charged, paid in rows:
        m = by.setdefault(period, Month(period))
        charged = Decimal(charged or 0).quantize(Decimal("0.01"))
        if svc == PAYMENTS:
            m.paid += Decimal(paid or 0).quantize(Decimal("0.01"))
            continue
        m.charged_all += charged
        if svc == f.service:
            m.volume, m.charged = Decimal(vol or 0).quantize(Decimal("0.001")), charged
    return ([by.get(p, Month(p)) for p in P.months_between(f"{f.year:04d}-01", last)],
            [by.get(p, Month(p)) for p in P.months_between(first, f"{f.year - 1:04d}-12")])


def coverage_period(session: Session, utility: Utility, f: Filters, now: datetime) -> str:
    """The period the coverage tiles show: the one a reading sent now counts for (December for a
    past year); when nobody has read in it yet (its window not open), the year's latest period with
    readings."""
    sm = table_of(StatMonth)
    current = reading_period(now, utility)
    period = current if current[:4] == str(f.year) else f"{f.year:04d}-12"
    read_in = session.execute(sa.select(sa.func.max(sm.c.period)).where(
        sm.c.period <= period, sm.c.period >= f"{f.year:04d}-01", sm.c.service == f.service,
        sm.c.meters_read > 0)).scalar_one()
    if read_in and read_in != period and not session.execute(sa.select(sm.c.id).where(
            sm.c.period == period, sm.c.service == f.service, sm.c.meters_read > 0).limit(1)).first():
        period = read_in
    return period


def coverage_tile(session: Session, f: Filters, period: str) -> list[CoverageRow]:
    """Meters and meters read in ``period`` by settlement (the directory's names; no address last)."""
    sm = table_of(StatMonth)
    cw = [sm.c.period == period, sm.c.service == f.service]
    if f.settlement is not None:
        cw.append(sm.c.settlement_id == f.settlement)
    names = dict(settlements(session))
    cov = [CoverageRow(int(st), names.get(int(st), ""), int(n or 0), int(r or 0)) for st, n, r in session.execute(
        sa.select(sm.c.settlement_id, sa.func.sum(sm.c.meters), sa.func.sum(sm.c.meters_read)).where(*cw)
        .group_by(sm.c.settlement_id))]
    cov.sort(key=lambda c: (c.settlement == NO_ADDRESS, c.name))
    return cov


def days_tile(session: Session, f: Filters, period: str) -> list[tuple[int, int]]:
    """(day of the month, meters read by the end of that day) for ``period``: the rush curve."""
    sd = table_of(StatDay)
    dw = [sd.c.period == period, sd.c.service == f.service]
    if f.settlement is not None:
        dw.append(sd.c.settlement_id == f.settlement)
    per_day = dict(session.execute(sa.select(sd.c.day, sa.func.sum(sd.c.first_readings)).where(*dw)
                                   .group_by(sd.c.day)).all())
    days, running = [], 0
    for d in range(1, P.period_end(period).day + 1):
        running += int(per_day.get(d, 0) or 0)
        days.append((d, running))
    return days


def figures(session: Session, utility: Utility, f: Filters, now: datetime) -> Figures:
    """The dashboard's numbers for ``f`` from the roll-ups (a handful of indexed reads)."""
    months, previous = months_tile(session, f)
    period = coverage_period(session, utility, f, now)
    cov = coverage_tile(session, f, period)
    days = days_tile(session, f, period)
    return Figures(f, months, previous, period, cov, days, sum(c.meters for c in cov), sum(c.read for c in cov))


def change(now_value: Decimal, before: Decimal) -> Decimal | None:
    """Per cent change from ``before`` to ``now_value`` (one decimal), None when before is 0."""
    if not before:
        return None
    return (Decimal(100) * (now_value - before) / before).quantize(Decimal("0.1"))


def rate(paid: Decimal, charged: Decimal) -> Decimal | None:
    """Collection rate in per cent (paid ÷ charged), None when nothing was charged."""
    return None if not charged else (Decimal(100) * paid / charged).quantize(Decimal("0.1"))


def _say(key: str, lang: str, **params: Any) -> str:
    return i18n.t(key, lang, **params)


def _pct(value: Decimal | None, lang: str, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    text = i18n.format_number(value, lang, 1) + " %"
    return ("+" + text if signed and value > 0 else text)


def _line(name: str, x: list, y: list, color: str, *, dash: str | None = None) -> dict[str, Any]:
    trace: dict[str, Any] = {"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": y,
                             "line": {"color": color, "width": 2}, "marker": {"size": 5, "color": color},
                             "hovertemplate": "%{x}: %{y}<extra></extra>"}
    if dash:
        trace["line"]["dash"] = dash
    return trace


def _money_layout(style: charts.ChartStyle, title: str) -> dict[str, Any]:
    lay = charts._layout(style, legend=True)
    lay["yaxis"]["title"]["text"] = title
    return lay


def _bars(name: str, x: list[str], values: list[Decimal], color: str, texts: list[str]) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": [float(v) for v in values], "text": texts,
            "textposition": "none", "hovertemplate": "%{x}: %{text}<extra></extra>", "marker": {"color": color}}


def load(session: Session, utility: Utility, f: Filters, now: datetime, languages: list[str]) -> Dashboard:
    """The dashboard for ``f``: numbers and, for each language, KPI cards, figures, summaries and
    the coverage table."""
    data = figures(session, utility, f, now)
    out = Dashboard(data)
    cur = utility.currency.code
    y, py = str(f.year), str(f.year - 1)
    both = [i for i in range(12) if data.months[i].charged_all and data.previous[i].charged_all]
    lo, upto = (both[0], both[-1] + 1) if both else (0, 0)  # % change over the same months only
    vol_now = sum((m.volume for m in data.months[lo:upto]), Decimal(0))
    vol_before = sum((m.volume for m in data.previous[lo:upto]), Decimal(0))
    ch_now = sum((m.charged for m in data.months[lo:upto]), Decimal(0))
    ch_before = sum((m.charged for m in data.previous[lo:upto]), Decimal(0))
    paid = sum((m.paid for m in data.months), Decimal(0))
    vol_year = sum((m.volume for m in data.months), Decimal(0))
    ch_year = sum((m.charged for m in data.months), Decimal(0))
    charged_all = sum((m.charged_all for m in data.months), Decimal(0))
    coverage = None if not data.meters else (Decimal(100) * data.read / data.meters).quantize(Decimal("0.1"))
    for lang in languages:
        style = charts.ChartStyle(utility.colors.primary, utility.colors.accent, lang, f.service)
        t = functools.partial(_say, lang=lang)
        months_text = (t("staff_dashboard.same_months", months=f"{charts.month_label(data.months[lo].period, lang, year=False)}–"
                                               f"{charts.month_label(data.months[upto - 1].period, lang, year=False)}")
                       if upto else "")
        out.kpis[lang] = [
            (t("staff_dashboard.kpi.volume", year=y), i18n.format_volume(vol_year, f.service, lang),
             t("staff_dashboard.kpi.change", change=_pct(change(vol_now, vol_before), lang, signed=True), year=py) + months_text),
            (t("staff_dashboard.kpi.charged", year=y), i18n.format_money(ch_year, cur, lang),
             t("staff_dashboard.kpi.change", change=_pct(change(ch_now, ch_before), lang, signed=True), year=py) + months_text),
            (t("staff_dashboard.kpi.coverage", period=i18n.format_period(data.coverage_period, lang)), _pct(coverage, lang),
             t("staff_dashboard.kpi.missing", missing=i18n.format_number(data.meters - data.read, lang),
               meters=i18n.format_number(data.meters, lang))),
            (t("staff_dashboard.kpi.collection", year=y), _pct(rate(paid, charged_all), lang),
             t("staff_dashboard.kpi.collection_note", paid=i18n.format_money(paid, cur, lang),
               charged=i18n.format_money(charged_all, cur, lang))),
        ]
        x = [charts.month_label(m.period, lang, year=False) for m in data.months]
        vol_fig = {"data": [
            _bars(py, x, [m.volume for m in data.previous], charts.PREVIOUS,
                  [i18n.format_volume(m.volume, f.service, lang) for m in data.previous]),
            _bars(y, x, [m.volume for m in data.months], style.primary,
                  [i18n.format_volume(m.volume, f.service, lang) for m in data.months])],
            "layout": charts._layout(style, legend=True)}
        ch_fig = {"data": [
            _bars(py, x, [m.charged for m in data.previous], charts.PREVIOUS,
                  [i18n.format_money(m.charged, cur, lang) for m in data.previous]),
            _bars(y, x, [m.charged for m in data.months], style.primary,
                  [i18n.format_money(m.charged, cur, lang) for m in data.months])],
            "layout": _money_layout(style, cur)}
        days_pct = [float(Decimal(100) * r / data.meters) if data.meters else 0.0 for _d, r in data.coverage_days]
        cov_layout = _money_layout(style, "%")
        cov_layout["xaxis"]["type"] = "linear"
        cov_layout["yaxis"]["range"] = [0, 100]
        cov_layout["showlegend"] = False
        cov_fig = {"data": [_line(t("staff_dashboard.chart.read_by_day"), [d for d, _r in data.coverage_days], days_pct,
                                  style.primary)], "layout": cov_layout}
        col_layout = _money_layout(style, "%")
        col_layout["showlegend"] = False
        col_fig = {"data": [_line(t("staff_dashboard.chart.collection"), x,
                                  [None if (r := rate(m.paid, m.charged_all)) is None else float(r) for m in data.months],
                                  style.primary)], "layout": col_layout}
        out.figures[lang] = {"volume": vol_fig, "charged": ch_fig, "coverage_days": cov_fig, "collection": col_fig}
        out.summaries[lang] = {
            "volume": t("staff_dashboard.summary.volume", year=y, volume=i18n.format_volume(vol_year, f.service, lang)),
            "charged": t("staff_dashboard.summary.charged", year=y, amount=i18n.format_money(ch_year, cur, lang)),
            "coverage_days": t("staff_dashboard.summary.coverage", period=i18n.format_period(data.coverage_period, lang),
                               percent=_pct(coverage, lang)),
            "collection": t("staff_dashboard.summary.collection", year=y, percent=_pct(rate(paid, charged_all), lang)),
        }
        out.coverage[lang] = [
            (c.name or t("staff_dashboard.no_address"), _pct(c.percent, lang), i18n.format_number(c.read, lang) + " / "
             + i18n.format_number(c.meters, lang), i18n.format_number(c.missing, lang)) for c in data.coverage]
    return out
