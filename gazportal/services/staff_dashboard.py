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

from gazportal.models import (
    Account, Branch, House, Meter, Reading, Settlement, StatConsumer, StatDay, StatDebt, StatMonth, Street,
)
from gazportal.models._base import table_of
from gazportal.services import charts, i18n, periods as P
from gazportal.services.errors import InvalidInput
from gazportal.services.periods import reading_period
from gazportal.services.billing import _cents_to_money, _charge_cutoff, _sum_cents
from gazportal.services.rollups import PAYMENTS
from gazportal.settings import Utility

ALL = None  # every settlement
NO_ADDRESS = 0  # the roll-ups' bucket of accounts outside the address directory
CHART_NAMES = ("volume", "charged", "yearly", "coverage_days", "collection", "ageing")
AGEING = ((0, 30), (31, 60), (61, 90), (91, None))  # days since the charge was posted (its period's last day)
TOP = 10  # rows of the top consumers and top debtors
MISSING_PER_PAGE = 20  # meters not read yet, a page at a time


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
    years: list[Year] = field(default_factory=list)  # every year of the roll-ups, oldest first
    ageing: list[Decimal] = field(default_factory=list)  # unpaid money per AGEING bucket
    debtors: list[Ranked] = field(default_factory=list)  # the settlement's largest debts, all services
    consumers: list[Ranked] = field(default_factory=list)  # the year's largest volumes of the service


@dataclass(frozen=True)
class Year:
    """A calendar year's charged volume (the service's unit) and charges of the filtered service,
    with the per cent change on the year before over the same months only (the months both years
    have charges in; None when there are none)."""

    year: int
    volume: Decimal
    charged: Decimal
    volume_change: Decimal | None
    charged_change: Decimal | None


@dataclass(frozen=True)
class Ranked:
    """A row of the top consumers or debtors: the account and its figure (money, or volume in
    the filtered service's unit)."""

    account_id: int
    number: str
    address: str
    value: Decimal


@dataclass
class Dashboard:
    """Figures plus every text per language: ``kpis[lang]`` (label, value, note), ``figures[lang][name]``
    (plotly JSON), ``summaries[lang][name]``, ``coverage[lang]`` (rows of texts)."""

    data: Figures
    kpis: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, dict[str, str]] = field(default_factory=dict)
    coverage: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    tables: dict[str, dict[str, Table]] = field(default_factory=dict)  # each chart's table alternative


@dataclass
class Table:
    """A chart's figures as a table (its accessible alternative): header texts and rows of texts."""

    head: list[str]
    rows: list[list[str]]
    title: str = ""  # a heading the table needs beyond its chart's (the top consumers' year)


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


def years_tile(session: Session, f: Filters) -> list[Year]:
    """Consumption and charges of the filtered service by calendar year (every year the roll-ups
    hold), each with its change on the year before over the same months; one grouped read of
    ``stat_month`` (a row per month)."""
    sm = table_of(StatMonth)
    where = [sm.c.service == f.service]
    if f.settlement is not None:
        where.append(sm.c.settlement_id == f.settlement)
    by: dict[str, tuple[Decimal, Decimal]] = {}
    for period, vol, charged in session.execute(sa.select(sm.c.period, sa.func.sum(sm.c.volume), sa.func.sum(sm.c.charged))
                                                .where(*where).group_by(sm.c.period)):
        by[period] = (Decimal(vol or 0).quantize(Decimal("0.001")), Decimal(charged or 0).quantize(Decimal("0.01")))
    if not by:
        return []
    first, last = int(min(by)[:4]), int(max(by)[:4])
    zero = (Decimal(0), Decimal(0))
    out = []
    for y in range(first, last + 1):
        months = [f"{y:04d}-{m:02d}" for m in range(1, 13)]
        vol = sum((by.get(p, zero)[0] for p in months), Decimal(0))
        ch = sum((by.get(p, zero)[1] for p in months), Decimal(0))
        both = [m for m in range(1, 13) if by.get(f"{y:04d}-{m:02d}", zero)[1] and by.get(f"{y - 1:04d}-{m:02d}", zero)[1]]
        now_v = sum((by[f"{y:04d}-{m:02d}"][0] for m in both), Decimal(0))
        now_c = sum((by[f"{y:04d}-{m:02d}"][1] for m in both), Decimal(0))
        was_v = sum((by[f"{y - 1:04d}-{m:02d}"][0] for m in both), Decimal(0))
        was_c = sum((by[f"{y - 1:04d}-{m:02d}"][1] for m in both), Decimal(0))
        out.append(Year(y, vol, ch, change(now_v, was_v) if both else None, change(now_c, was_c) if both else None))
    return out


def _today(utility: Utility, now: datetime):
    return now.astimezone(utility.tz).date()


def ageing_bucket(days: int) -> int:
    """Index in :data:`AGEING` of a debt ``days`` old (0–30, 31–60, 61–90, more than 90)."""
    for i, (_lo, hi) in enumerate(AGEING):
        if hi is None or days <= hi:
            return i
    return len(AGEING) - 1


def ageing_tile(session: Session, utility: Utility, f: Filters, now: datetime) -> list[Decimal]:
    """Unpaid money (all services: payments belong to an account) by age, one sum per
    :data:`AGEING` bucket: a period's unpaid charges are as old as the days since their posting
    (the period's last day) to today in the profile's time zone. Periods not posted yet are left
    out, like the customer's debt (``billing.debt_at``). One grouped read of ``stat_debt``."""
    sd = table_of(StatDebt)
    today = _today(utility, now)
    where = [sd.c.period <= _charge_cutoff(today)]
    if f.settlement is not None:
        where.append(sd.c.settlement_id == f.settlement)
    out = [Decimal("0.00")] * len(AGEING)
    for period, cents in session.execute(sa.select(sd.c.period, _sum_cents(sd.c.unpaid)).where(*where)
                                         .group_by(sd.c.period)):
        i = ageing_bucket((today - P.period_end(period)).days)
        out[i] += _cents_to_money(cents)
    return out


def _accounts(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    a = table_of(Account)
    return {int(i): (n, addr) for i, n, addr in session.execute(
        sa.select(a.c.id, a.c.number, a.c.address).where(a.c.id.in_(ids)))} if ids else {}


def debtors_tile(session: Session, utility: Utility, f: Filters, now: datetime, limit: int = TOP) -> list[Ranked]:
    """The ``limit`` accounts owing most today (money of all services, posted periods), largest
    first, ties by account id; the settlement filter applies, the service filter does not (a
    payment is not split by service). One grouped read of ``stat_debt``."""
    sd = table_of(StatDebt)
    total = _sum_cents(sd.c.unpaid).label("cents")
    where = [sd.c.period <= _charge_cutoff(_today(utility, now))]
    if f.settlement is not None:
        where.append(sd.c.settlement_id == f.settlement)
    rows = session.execute(sa.select(sd.c.account_id, total).where(*where).group_by(sd.c.account_id)
                           .order_by(total.desc(), sd.c.account_id).limit(limit)).all()
    acc = _accounts(session, [int(a) for a, _c in rows])
    return [Ranked(int(a), *acc.get(int(a), ("", "")), _cents_to_money(c)) for a, c in rows if c]


def consumers_tile(session: Session, f: Filters, limit: int = TOP) -> list[Ranked]:
    """The ``limit`` accounts with the largest charged volume of the filtered service in the
    filtered year (its own unit only), largest first, ties by account id; one indexed read of
    ``stat_consumer`` (``ix_stat_consumer_top``)."""
    sc = table_of(StatConsumer)
    where = [sc.c.year == f.year, sc.c.service == f.service]
    if f.settlement is not None:
        where.append(sc.c.settlement_id == f.settlement)
    rows = session.execute(sa.select(sc.c.account_id, sc.c.volume).where(*where)
                           .order_by(sc.c.volume.desc(), sc.c.account_id).limit(limit)).all()
    acc = _accounts(session, [int(a) for a, _v in rows])
    return [Ranked(int(a), *acc.get(int(a), ("", "")), Decimal(str(v)).quantize(Decimal("0.001"))) for a, v in rows]


@dataclass(frozen=True)
class Missing:
    """An active meter with no reading in the coverage period: the meter and its account."""

    meter_id: int
    serial: str
    number: str
    address: str


def missing_meters(session: Session, f: Filters, period: str, page: int,
                   per_page: int = MISSING_PER_PAGE) -> tuple[list[Missing], bool]:
    """Page ``page`` (from 1) of the active meters of the filtered service and settlement with no
    reading in ``period``, by meter id, and whether a next page exists. An indexed query, not a
    roll-up: the meters in id order, each probed in the reading's (meter, period, slot) unique
    index, stopping after ``per_page + 1`` found (the page's cost grows with how deep it is, not
    with the number of readings). Staff only: accounts and addresses."""
    m, r, a, h, st = (table_of(t) for t in (Meter, Reading, Account, House, Street))
    page = max(1, page)
    read = sa.select(sa.literal(1)).select_from(r).where(r.c.meter_id == m.c.id, r.c.period == period)
    sel = (sa.select(m.c.id, m.c.serial, a.c.number, a.c.address).select_from(m).join(a, a.c.id == m.c.account_id)
           .where(m.c.is_active.is_(True), m.c.service == f.service, ~read.exists()))
    if f.settlement is not None:
        sel = (sel.outerjoin(h, h.c.id == a.c.house_id).outerjoin(st, st.c.id == h.c.street_id)
               .where(sa.func.coalesce(st.c.settlement_id, sa.literal_column("0")) == f.settlement))
    rows = session.execute(sel.order_by(m.c.id).limit(per_page + 1).offset((page - 1) * per_page)).all()
    return [Missing(int(i), serial, number, address) for i, serial, number, address in rows[:per_page]], \
        len(rows) > per_page


def figures(session: Session, utility: Utility, f: Filters, now: datetime) -> Figures:
    """The dashboard's numbers for ``f`` from the roll-ups (a handful of indexed reads)."""
    months, previous = months_tile(session, f)
    period = coverage_period(session, utility, f, now)
    cov = coverage_tile(session, f, period)
    days = days_tile(session, f, period)
    return Figures(f, months, previous, period, cov, days, sum(c.meters for c in cov), sum(c.read for c in cov),
                   years_tile(session, f), ageing_tile(session, utility, f, now), debtors_tile(session, utility, f, now),
                   consumers_tile(session, f))


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
    bands = utility.staff.collection
    year_band = bands.band(rate(paid, charged_all))

    def band_text(band: str | None, lang: str) -> str:
        """'Band: good (at least 95 %)' in ``lang``; '—' when there is no rate."""
        if band is None:
            return "—"
        return _say(f"staff_dashboard.band.{band}", lang, good=_pct(bands.good, lang), fair=_pct(bands.fair, lang))

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
               charged=i18n.format_money(charged_all, cur, lang))
             + (" " + band_text(year_band, lang) if year_band else "")),
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
        col_layout["shapes"] = [  # the profile's bands: good and fair thresholds as dashed lines
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": float(v), "y1": float(v),
             "line": {"color": charts.PREVIOUS, "width": 1, "dash": "dash"}} for v in (bands.good, bands.fair)]
        col_fig = {"data": [_line(t("staff_dashboard.chart.collection"), x,
                                  [None if (r := rate(m.paid, m.charged_all)) is None else float(r) for m in data.months],
                                  style.primary)], "layout": col_layout}
        ages = [t(f"staff_dashboard.ageing.b{i}") for i in range(len(AGEING))]
        debt = sum(data.ageing, Decimal(0))
        age_layout = _money_layout(style, cur)
        age_layout["showlegend"] = False
        age_fig = {"data": [_bars(t("staff_dashboard.chart.ageing"), ages, data.ageing, style.primary,
                                  [i18n.format_money(v, cur, lang) for v in data.ageing])], "layout": age_layout}
        year_layout = charts._layout(style, legend=False)  # x: years as categories, y: the service's unit
        year_fig = {"data": [_bars(t("staff_dashboard.chart.yearly"), [str(yr.year) for yr in data.years],
                                   [yr.volume for yr in data.years], style.primary,
                                   [i18n.format_volume(yr.volume, f.service, lang) for yr in data.years])],
                    "layout": year_layout}
        out.figures[lang] = {"volume": vol_fig, "charged": ch_fig, "yearly": year_fig, "coverage_days": cov_fig,
                             "collection": col_fig, "ageing": age_fig}
        month_names = [charts.month_label(m.period, lang, year=False) for m in data.months]
        out.tables[lang] = {
            "volume": Table([t("staff_dashboard.table.month"), py, y, t("staff_dashboard.table.change")], [
                [month_names[i], i18n.format_volume(data.previous[i].volume, f.service, lang),
                 i18n.format_volume(data.months[i].volume, f.service, lang),
                 _pct(change(data.months[i].volume, data.previous[i].volume), lang, signed=True)] for i in range(12)]),
            "charged": Table([t("staff_dashboard.table.month"), py, y, t("staff_dashboard.table.change")], [
                [month_names[i], i18n.format_money(data.previous[i].charged, cur, lang),
                 i18n.format_money(data.months[i].charged, cur, lang),
                 _pct(change(data.months[i].charged, data.previous[i].charged), lang, signed=True)] for i in range(12)]),
            "yearly": Table([t("staff_dashboard.filter.year"), t("staff_dashboard.table.volume"),
                             t("staff_dashboard.table.change"), t("staff_dashboard.table.charged"),
                             t("staff_dashboard.table.change")], [
                [str(yr.year), i18n.format_volume(yr.volume, f.service, lang), _pct(yr.volume_change, lang, signed=True),
                 i18n.format_money(yr.charged, cur, lang), _pct(yr.charged_change, lang, signed=True)]
                for yr in data.years]),
            "coverage_days": Table([t("staff_dashboard.table.day"), t("staff_dashboard.coverage.read"),
                                    t("staff_dashboard.coverage.percent")], [
                [i18n.format_number(d, lang), i18n.format_number(r, lang),
                 _pct(None if not data.meters else (Decimal(100) * r / data.meters).quantize(Decimal("0.1")), lang)]
                for d, r in data.coverage_days]),
            "collection": Table([t("staff_dashboard.table.month"), t("staff_dashboard.table.charged_all"),
                                 t("staff_dashboard.table.paid"), t("staff_dashboard.chart.collection"),
                                 t("staff_dashboard.table.band")], [
                [month_names[i], i18n.format_money(m.charged_all, cur, lang), i18n.format_money(m.paid, cur, lang),
                 _pct(rate(m.paid, m.charged_all), lang), band_text(bands.band(rate(m.paid, m.charged_all)), lang)]
                for i, m in enumerate(data.months)]),
            "ageing": Table([t("staff_dashboard.table.age"), t("staff_dashboard.table.debt"),
                             t("staff_dashboard.table.share")], [
                [ages[i], i18n.format_money(v, cur, lang),
                 _pct(None if not debt else (Decimal(100) * v / debt).quantize(Decimal("0.1")), lang)]
                for i, v in enumerate(data.ageing)]),
            "debtors": Table([t("staff_dashboard.table.account"), t("staff_dashboard.table.address"),
                              t("staff_dashboard.table.debt")],
                             [[r.number, r.address, i18n.format_money(r.value, cur, lang)] for r in data.debtors]),
            "consumers": Table([t("staff_dashboard.table.account"), t("staff_dashboard.table.address"),
                                t("staff_dashboard.table.volume")],
                               [[r.number, r.address, i18n.format_volume(r.value, f.service, lang)]
                                for r in data.consumers], t("staff_dashboard.consumers.title", year=y)),
        }
        out.summaries[lang] = {
            "volume": t("staff_dashboard.summary.volume", year=y, volume=i18n.format_volume(vol_year, f.service, lang)),
            "charged": t("staff_dashboard.summary.charged", year=y, amount=i18n.format_money(ch_year, cur, lang)),
            "coverage_days": t("staff_dashboard.summary.coverage", period=i18n.format_period(data.coverage_period, lang),
                               percent=_pct(coverage, lang)),
            "collection": t("staff_dashboard.summary.collection", year=y, percent=_pct(rate(paid, charged_all), lang)),
            "yearly": t("staff_dashboard.summary.yearly", year=y, volume=i18n.format_volume(vol_year, f.service, lang),
                        change=_pct(next((yr.volume_change for yr in data.years if yr.year == f.year), None), lang,
                                    signed=True)),
            "missing_title": t("staff_dashboard.missing.title", period=i18n.format_period(data.coverage_period, lang)),
            "ageing": t("staff_dashboard.summary.ageing", debt=i18n.format_money(debt, cur, lang),
                        old=i18n.format_money(data.ageing[-1], cur, lang)),
        }
        out.coverage[lang] = [
            (c.name or t("staff_dashboard.no_address"), _pct(c.percent, lang), i18n.format_number(c.read, lang) + " / "
             + i18n.format_number(c.meters, lang), i18n.format_number(c.missing, lang)) for c in data.coverage]
    return out
