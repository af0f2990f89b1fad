"""Statistics of one account for the portal: the monthly table and plotly figures, ready to show.

Pure Python (no ``import reflex``): figures are plain dicts in plotly's JSON form
(``{"data": [...], "layout": {...}}``), built with ``template="none"`` and our own compact
styling (the profile's colours, small margins, no mode bar), so a figure is a few KB and fits a
390 px phone. Every figure comes with a one-sentence summary for screen readers; the monthly
table is the accessible alternative to the charts.

:func:`load_statistics` checks ownership (``accounts.require_account``) and the period range
(``billing``'s rules plus "not after the current month") and formats every text in each of the
requested languages, so the page can switch language without asking the server again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from sqlmodel import Session, col

from gazportal.models import Charge
from gazportal.models._base import stored_id
from gazportal.services import billing, i18n
from gazportal.services.accounts import require_account
from gazportal.services.errors import InvalidInput
from gazportal.services.periods import add_months, parse_period, period_of, period_start
from gazportal.settings import UNITS, Utility

DEFAULT_MONTHS = 12
# The light mode's chart colours, as components/theme.py's --gp-chart-* (the page's stylesheet
# gives both colour modes their own; tests/unit/test_charts.py checks the contrast of both).
GRID = "#e4e4e5"  # subdued: about 1.3:1 on white
AXIS = "#bbbcbd"
INK = "#1c2024"
MUTED = "#4a5159"  # labels: 8:1 on white
PREVIOUS = "#9aa5b1"


# --------------------------------------------------------------------------- periods


def current_period(utility: Utility, now: datetime) -> str:
    """The current billing month (calendar month in the profile's time zone; charges and
    payments). The month a reading counts for is ``periods.reading_period``."""
    return period_of(now, utility.tz)


def default_range(utility: Utility, now: datetime, months: int = DEFAULT_MONTHS) -> tuple[str, str]:
    """The last ``months`` complete months (the current month's charge is not posted yet)."""
    last = add_months(current_period(utility, now), -1)
    return add_months(last, -(months - 1)), last


def check_period(value: Any, utility: Utility, now: datetime, *, field_name: str = "period") -> str:
    """A 'YYYY-MM' string not after the current month, or InvalidInput."""
    if not isinstance(value, str) or len(value) > 20:
        raise InvalidInput("errors.bad_period", period=str(value)[:20] if isinstance(value, str) else "")
    value = value.strip()
    parse_period(value)
    if value < "1900-01":
        raise InvalidInput("errors.bad_period", period=value)
    if value > current_period(utility, now):
        raise InvalidInput("errors.period_in_future", for_month=value)  # said as "December 2026"
    return value


def check_range(first: Any, last: Any, utility: Utility, now: datetime) -> tuple[str, str]:
    """Both ends valid, in order, at most ``billing.MAX_MONTHS`` months (billing's message keys)."""
    a = check_period(first, utility, now)
    b = check_period(last, utility, now)
    billing._check_range(a, b)
    return a, b


# --------------------------------------------------------------------------- formatting


def account_services(session: Session, utility: Utility, account_id: int) -> list[str]:
    """The services the account is charged for, the most charged first (the profile's order on a
    tie); the profile's first service when nothing is charged yet."""
    rows = session.execute(
        sa.select(col(Charge.service), sa.func.count())
        .where(col(Charge.account_id) == account_id).group_by(col(Charge.service))
    ).all()
    order = {svc: i for i, svc in enumerate(utility.services)}
    found = sorted(rows, key=lambda r: (-int(r[1]), order.get(r[0], 99), r[0]))
    return [r[0] for r in found] or [utility.services[0]]


def account_service(session: Session, utility: Utility, account_id: int) -> str:
    """The account's main service (see :func:`account_services`)."""
    return account_services(session, utility, account_id)[0]


def month_label(period: str, lang: str, *, year: bool = True) -> str:
    """Short month name: 'Nov 2026' / 'нояб. 2026' (or without the year)."""
    fmt = "LLL yyyy" if year else "LLL"
    text = babel_dates.format_date(period_start(period), format=fmt, locale=i18n.babel_locale(lang))
    return text[:1].upper() + text[1:]


def separators(lang: str) -> str:
    """plotly's ``layout.separators``: the language's decimal sign and group separator."""
    loc = i18n.babel_locale(lang)
    dec = babel_numbers.get_decimal_symbol(loc)
    group = babel_numbers.get_group_symbol(loc)
    return dec + (" " if group in ("\u00a0", "\u202f") else group)


def _unit(service: str, lang: str) -> str:
    return i18n.t("units." + UNITS.get(service, "m3"), lang)


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class ChartStyle:
    primary: str
    accent: str
    lang: str
    service: str


def _layout(style: ChartStyle, *, legend: bool = False) -> dict[str, Any]:
    return {
        "template": "none",
        "autosize": True,
        "height": 280,
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12, "color": INK},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": separators(style.lang),
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "y": 1.12, "font": {"size": 12, "color": MUTED}},
        "bargap": 0.25,
        "bargroupgap": 0.08,
        "hovermode": "closest",
        "dragmode": False,
        "xaxis": {"type": "category", "automargin": True, "showgrid": False, "fixedrange": True,
                  "tickfont": {"size": 11, "color": MUTED}, "linecolor": AXIS, "showline": True},
        "yaxis": {"automargin": True, "gridcolor": GRID, "zeroline": False, "fixedrange": True, "rangemode": "tozero",
                  "tickfont": {"size": 11, "color": MUTED},
                  "title": {"text": _unit(style.service, style.lang), "font": {"size": 11, "color": MUTED}}},
    }


def _bar(name: str, x: list[str], volumes: list[Decimal | None], color: str, style: ChartStyle,
         partial: list[bool] | None = None) -> dict[str, Any]:
    """A bar trace; a volume of None is a month (or year) without data: no bar, "no data" on
    hover. Bars of ``partial`` years are hatched."""
    no_data = i18n.t("statistics.no_data", style.lang)
    bar: dict[str, Any] = {
        "type": "bar",
        "name": name,
        "x": x,
        "y": [None if v is None else float(v) for v in volumes],  # display only; the table has the figures
        "text": [no_data if v is None else i18n.format_volume(v, style.service, style.lang) for v in volumes],
        "textposition": "none",
        "hovertemplate": "%{x}: %{text}<extra></extra>",
        "marker": {"color": color},
    }
    if partial and any(partial):
        # hatched over the bar's colour, and lighter: a part of a year, whatever plotly draws
        bar["marker"]["pattern"] = {"shape": ["/" if p else "" for p in partial], "fillmode": "overlay",
                                    "fgcolor": "#ffffff", "fgopacity": 0.6, "solidity": 0.3}
        bar["marker"]["opacity"] = [0.7 if p else 1 for p in partial]
    return bar


def _known(period: str, start: str | None) -> bool:
    """A month on or after the account's first month (``billing.first_period``)."""
    return start is not None and period >= start


def monthly_figure(rows: list[billing.MonthVolume], style: ChartStyle, start: str | None = "") -> dict[str, Any]:
    x = [month_label(r.period, style.lang) for r in rows]
    vols = [r.volume if _known(r.period, start) else None for r in rows]
    return {"data": [_bar(i18n.t("statistics.chart.volume", style.lang), x, vols, style.primary, style)],
            "layout": _layout(style)}


@dataclass(frozen=True)
class YearVolume:
    """A calendar year's volume; ``volume`` None when the year has no month with data, and
    ``months`` the first and last month it covers (a partial year: not January to December)."""

    year: int
    volume: Decimal | None
    months: tuple[int, int] = (1, 12)

    @property
    def partial(self) -> bool:
        return self.volume is not None and self.months != (1, 12)


def year_label(row: YearVolume, lang: str) -> str:
    """'2025', or a partial year with its months: '2026 (Jan–Nov)'."""
    if not row.partial:
        return str(row.year)
    first, last = (month_label(f"{row.year:04d}-{m:02d}", lang, year=False) for m in row.months)
    months = first if first == last else f"{first}–{last}"
    return i18n.t("statistics.chart.partial_year", lang, year=str(row.year), months=months)


def year_volumes(months: list[billing.MonthVolume], first_year: int, last_year: int, start: str | None,
                 last_billed: str) -> list[YearVolume]:
    """Each year's volume from the months of ``months`` it has data for: from the account's first
    month (``start``) to the last billed month (``last_billed``); a year with none is None."""
    out = []
    for y in range(first_year, last_year + 1):
        lo, hi = max(f"{y:04d}-01", start or "9999-99"), min(f"{y:04d}-12", last_billed)
        if lo > hi:
            out.append(YearVolume(y, None))
            continue
        total = sum((v.volume for v in months if lo <= v.period <= hi), billing.ZERO_VOLUME)
        out.append(YearVolume(y, total, (int(lo[5:]), int(hi[5:]))))
    return out


def yearly_figure(rows: list[YearVolume], style: ChartStyle) -> dict[str, Any]:
    x = [year_label(r, style.lang) for r in rows]
    return {"data": [_bar(i18n.t("statistics.chart.volume", style.lang), x, [r.volume for r in rows],
                          style.primary, style, partial=[r.partial for r in rows])],
            "layout": _layout(style)}


def comparison_figure(rows: list[billing.MonthComparison], year: int, style: ChartStyle,
                      start: str | None = "") -> dict[str, Any]:
    x = [month_label(r.period, style.lang, year=False) for r in rows]
    previous = [r.previous_volume if _known(r.previous_period, start) else None for r in rows]
    current = [r.volume if _known(r.period, start) else None for r in rows]
    return {
        "data": [
            _bar(str(year - 1), x, previous, PREVIOUS, style),
            _bar(str(year), x, current, style.primary, style),
        ],
        "layout": _layout(style, legend=True),
    }


# --------------------------------------------------------------------------- summaries


def _vol(v: Decimal, style: ChartStyle) -> str:
    return i18n.format_volume(v, style.service, style.lang)


def monthly_summary(rows: list[billing.MonthVolume], style: ChartStyle, start: str | None = "") -> str:
    """The monthly chart in a sentence, over the months with data (the others are said apart)."""
    lang = style.lang
    known = [r for r in rows if _known(r.period, start)]
    if not known:
        return i18n.t("statistics.chart.no_data_summary", lang, first=i18n.format_period(rows[0].period, lang),
                      last=i18n.format_period(rows[-1].period, lang))
    total = sum((r.volume for r in known), billing.ZERO_VOLUME)
    top = max(known, key=lambda r: (r.volume, r.period))
    text = i18n.t("statistics.chart.monthly_summary", lang, first=i18n.format_period(known[0].period, lang),
                  last=i18n.format_period(known[-1].period, lang), total=_vol(total, style),
                  max_period=i18n.format_period(top.period, lang), max=_vol(top.volume, style))
    if len(known) < len(rows):
        text += " " + i18n.t("statistics.chart.no_data_before", lang, period=i18n.format_period(known[0].period, lang))
    return text


def yearly_summary(rows: list[YearVolume], style: ChartStyle) -> str:
    no_data = i18n.t("statistics.no_data", style.lang)
    parts = "; ".join(f"{year_label(r, style.lang)}: {no_data if r.volume is None else _vol(r.volume, style)}"
                      for r in rows)
    text = i18n.t("statistics.chart.yearly_summary", style.lang, years=parts)
    if any(r.partial for r in rows):
        text += " " + i18n.t("statistics.chart.partial_note", style.lang)
    return text


def comparison_summary(rows: list[billing.MonthComparison], year: int, style: ChartStyle,
                       start: str | None = "") -> str:
    no_data = i18n.t("statistics.no_data", style.lang)
    cur = [r.volume for r in rows if _known(r.period, start)]
    prev = [r.previous_volume for r in rows if _known(r.previous_period, start)]
    total = _vol(sum(cur, billing.ZERO_VOLUME), style) if cur else no_data
    previous = _vol(sum(prev, billing.ZERO_VOLUME), style) if prev else no_data
    return i18n.t("statistics.chart.comparison_summary", style.lang, year=year, total=total,
                  previous_year=year - 1, previous_total=previous)


# --------------------------------------------------------------------------- the page's data


@dataclass(frozen=True)
class Statistics:
    account_id: int
    first: str
    last: str
    service: str
    year: int  # the year compared with the one before
    rows: list[billing.StatementRow]
    services: list[str] = field(default_factory=list)  # the account's services, main first
    start: str | None = None  # the account's first month with data (billing.first_period)
    captions: dict[str, str] = field(default_factory=dict)  # language -> what the table's columns cover
    shown: dict[str, str] = field(default_factory=dict)  # language -> the months shown, "May 2025 – April 2026"
    # language -> formatted table rows / figures / summaries
    table: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    figures: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    summaries: dict[str, dict[str, str]] = field(default_factory=dict)


def table_rows(rows: list[billing.StatementRow], volumes: dict[str, billing.MonthVolume], utility: Utility,
               service: str, lang: str, start: str | None = "") -> list[dict[str, str]]:
    """The table: volume and charges of ``service`` (its unit; its own charges, not the account's);
    payments and the balance over the whole account (they are not split by service; the caption
    says so). A month before the account's first month (``start``) says "no data" in every column
    (``nodata`` "1"). ``debt`` "1": the month closed in debt."""
    code = utility.currency.code
    no_data = i18n.t("statistics.no_data", lang)
    out = []
    for r in rows:
        label = i18n.format_period(r.period, lang)
        if not _known(r.period, start):
            out.append({"period": r.period, "label": label, "volume": no_data, "charged": no_data, "paid": no_data,
                        "balance": no_data, "debt": "", "nodata": "1"})
            continue
        v = volumes.get(r.period, billing.MonthVolume(r.period, billing.ZERO_VOLUME))
        out.append({
            "period": r.period,
            "label": label,
            "volume": i18n.format_volume(v.volume, service, lang),
            "charged": i18n.format_money(v.charged, code, lang),
            "paid": i18n.format_money(r.paid, code, lang),
            "balance": i18n.format_money(r.closing, code, lang),
            "debt": "1" if r.closing < 0 else "",
            "nodata": "",
        })
    return out


def load_statistics(session: Session, utility: Utility, user_id: int, account_id: Any, first: Any, last: Any,
                    *, now: datetime, languages: list[str] | tuple[str, ...], service: Any = None) -> Statistics:
    """Table and figures for the customer's account from ``first`` to ``last`` ('YYYY-MM').

    Volumes are those of ``service`` (one of the account's services; its main one by default)."""
    acc_id = stored_id(require_account(session, user_id, account_id))
    first, last = check_range(first, last, utility, now)
    tz = utility.tz
    rows = billing.monthly_statement(session, acc_id, first, last, tz)
    # Volumes of the account's main service only: m³ of gas and kWh must not be added up.
    services = account_services(session, utility, acc_id)
    if service is None:
        service = services[0]
    elif not isinstance(service, str) or service not in services:
        raise InvalidInput("errors.bad_service", service=str(service)[:20])
    volumes = billing.monthly_volumes(session, acc_id, first, last, service)
    by_period = {v.period: v for v in volumes}
    start = billing.first_period(session, acc_id, tz)
    last_billed = add_months(current_period(utility, now), -1)  # the current month is not charged yet
    last_year = parse_period(last)[0]
    # by year: the range's years, and at least the two years before the last (at most MAX_YEARS)
    first_year = max(min(parse_period(first)[0], last_year - 2), last_year - billing.MAX_YEARS + 1)
    year_months = billing.monthly_volumes(session, acc_id, f"{first_year:04d}-01", f"{last_year:04d}-12", service)
    years = year_volumes(year_months, first_year, last_year, start, last_billed)
    comparison = billing.year_comparison(session, acc_id, last_year, service)
    out = Statistics(acc_id, first, last, service, last_year, rows, services, start)
    for lang in languages:
        style = ChartStyle(utility.colors.primary, utility.colors.accent, lang, service)
        out.table[lang] = table_rows(rows, by_period, utility, service, lang, start)
        out.captions[lang] = i18n.t("statistics.table_caption_service", lang,
                                    service=i18n.t(f"services.{service}", lang))
        out.shown[lang] = i18n.t("statistics.shown", lang, first=i18n.format_period(first, lang),
                                 last=i18n.format_period(last, lang))
        out.figures[lang] = {
            "monthly": monthly_figure(volumes, style, start),
            "yearly": yearly_figure(years, style),
            "comparison": comparison_figure(comparison, last_year, style, start),
        }
        out.summaries[lang] = {
            "monthly": monthly_summary(volumes, style, start),
            "yearly": yearly_summary(years, style),
            "comparison": comparison_summary(comparison, last_year, style, start),
        }
    return out


def today(utility: Utility, now: datetime) -> date:
    return now.astimezone(utility.tz).date()
