"""/staff/dashboard: the staff console's consumption statistics (issue 16 point 3) — filters, KPI
cards, five plotly charts (each with a sentence for screen readers and its figures as a table
behind "Show as a table"), the top debtors and consumers, and the reading coverage by settlement. Charts use the customer
statistics' light plotly build and its stylesheet (the theme's chart colours in both colour
modes); cards and charts sit two a row from a tablet's width."""
from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from gazportal.components.app_layout import app_layout, page_title
from gazportal.components.forms import alert
from gazportal.pages.staff import CSS as STAFF_CSS
from gazportal.pages.staff import staff_table
from gazportal.pages.statistics import PAGE_CSS as STATS_CSS
from gazportal.pages.statistics import PLOT_CONFIG
from gazportal.state.i18n import I18nState
from gazportal.state.staff_dashboard import StaffDashboardState as D

T = I18nState.t
L = I18nState.lang

CSS = STATS_CSS + STAFF_CSS + """
.gp-kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.75rem;margin:0;padding:0;list-style:none}
.gp-kpi{border:1px solid var(--gp-line);border-radius:.9rem;padding:.8rem 1rem;background:var(--gp-surface);
  display:flex;flex-direction:column;gap:.2rem}
.gp-kpi-label{font-size:.8125rem;color:var(--gp-muted);font-weight:650}
.gp-kpi-value{font-size:1.5rem;font-weight:750;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.gp-kpi-note{font-size:.8125rem;color:var(--gp-ink)}
.gp-dash-charts{display:grid;grid-template-columns:1fr;gap:1rem}
@media (min-width:48rem){.gp-dash-charts{grid-template-columns:1fr 1fr}}
#dash-coverage thead th{white-space:normal}
.gp-dtable{border-collapse:collapse;width:100%;font-size:.875rem}
.gp-dtable th,.gp-dtable td{padding:.4rem .5rem;border-bottom:1px solid var(--gp-line);text-align:left;vertical-align:top}
.gp-dtable thead th{font-size:.8125rem;font-weight:700;white-space:normal}
.gp-dtable tbody th{font-weight:550;white-space:nowrap}
.gp-dtable .gp-num{white-space:nowrap}
.gp-dtable td.gp-addr{overflow-wrap:anywhere;min-width:10rem}
.gp-chart-table{margin-top:.5rem}
.gp-chart-table summary{cursor:pointer;color:var(--gp-link);font-weight:650;padding:.6rem 0;min-height:2.75rem;
  box-sizing:border-box;scroll-margin-bottom:5rem}
.gp-chart-table summary:focus-visible{outline:3px solid var(--gp-accent);outline-offset:2px}
.gp-note{margin:0 0 .5rem;color:var(--gp-muted);font-size:.875rem}
/* these tables scroll inside their own region on a phone too (the statistics' phone rule lets its
   own tables grow instead), so the page never scrolls sideways */
.gp-table-wrap.gp-dwrap{overflow-x:auto}
"""


def _select(fid: str, label_key: str, value, options, on_change, *, first=None) -> rx.Component:
    return rx.el.div(
        rx.el.label(T[label_key], html_for=fid, class_name="gp-label"),
        rx.el.select(*([first] if first is not None else []), options, id=fid, value=value, on_change=on_change,
                     class_name="gp-input"),
        class_name="gp-field",
    )


def _filters() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            _select("dash-year", "staff_dashboard.filter.year", D.year,
                    rx.foreach(D.years, lambda y: rx.el.option(y, value=y)), D.set_year),
            _select("dash-service", "staff_dashboard.filter.service", D.service,
                    rx.foreach(D.services, lambda s: rx.el.option(T["services." + s], value=s)), D.set_service),
            _select("dash-settlement", "staff_dashboard.filter.settlement", D.settlement,
                    rx.foreach(D.settlements, lambda o: rx.el.option(o.name, value=o.id)), D.set_settlement,
                    first=rx.fragment(rx.el.option(T["staff_dashboard.filter.all"], value=""),
                                      rx.el.option(T["staff_dashboard.no_address"], value="0"))),
            class_name="gp-filters",
        ),
        class_name="gp-panel", aria_label=T["staff_dashboard.title"],
    )


def _kpi(k) -> rx.Component:
    return rx.el.li(rx.el.span(k.label, class_name="gp-kpi-label"), rx.el.span(k.value, class_name="gp-kpi-value"),
                    rx.el.span(k.note, class_name="gp-kpi-note"), class_name="gp-kpi")


def _table(view, tid: str, label, *, top: bool = False) -> rx.Component:
    """A table of texts (a chart's alternative, or a top list) in a keyboard-reachable region;
    the first cell of a row is its header; a top list's address column wraps."""
    def row(r):
        if top:
            cells = [rx.el.td(r[1], class_name="gp-addr"), rx.el.td(r[2], class_name="gp-num")]
        else:
            cells = [rx.foreach(r[1:], lambda c: rx.el.td(c, class_name="gp-num"))]
        return rx.el.tr(rx.el.th(r[0], scope="row"), *cells)

    return rx.el.div(
        rx.el.table(
            rx.el.thead(rx.el.tr(rx.foreach(view.head, lambda h: rx.el.th(h, scope="col")))),
            rx.el.tbody(rx.foreach(view.rows, row)),
            class_name="gp-dtable", id=tid,
        ),
        class_name="gp-table-wrap gp-dwrap", tab_index=0, role="region", aria_label=label,
    )


def _chart(name: str) -> rx.Component:
    hid = f"dash-{name}-title"
    return rx.el.figure(
        rx.el.h2(rx.icon("chart-column", size=20, aria_hidden="true"), T[f"staff_dashboard.chart.{name}"],
                 class_name="gp-panel-h", id=hid),
        rx.el.div(
            rx.plotly.basic(data=D.figures[L][name].to(go.Figure), template=None, use_resize_handler=True,
                            width="100%", config=PLOT_CONFIG),
            aria_hidden="true", class_name="gp-chart",
        ),
        rx.el.figcaption(D.summaries[L][name], class_name="gp-chart-cap", data_summary=name),
        rx.el.details(rx.el.summary(T["staff_dashboard.table.show"]),
                      _table(D.tables[L][name], f"dash-{name}-table", T[f"staff_dashboard.chart.{name}"]),
                      class_name="gp-chart-table"),
        aria_labelledby=hid, class_name="gp-panel gp-chart-panel", data_chart=name,
    )


def _coverage_row(c) -> rx.Component:
    return rx.el.tr(
        rx.el.th(c.settlement, scope="row"),
        rx.el.td(c.percent, class_name="gp-num", data_label=T["staff_dashboard.coverage.percent"]),
        rx.el.td(c.read, class_name="gp-num", data_label=T["staff_dashboard.coverage.read"]),
        rx.el.td(c.missing, class_name="gp-num", data_label=T["staff_dashboard.coverage.missing"]),
    )


def _top(name: str, title, note_key: str) -> rx.Component:
    hid = f"dash-{name}-title"
    view = D.tables[L][name]
    return rx.el.section(
        rx.el.h2(title, class_name="gp-panel-h", id=hid),
        rx.el.p(T[note_key], class_name="gp-note"),
        rx.cond(view.rows.length() > 0, _table(view, f"dash-{name}", title, top=True),
                rx.el.p(T["staff_dashboard.empty"], class_name="gp-empty")),
        class_name="gp-panel", aria_labelledby=hid, data_top=name,
    )


def _missing_row(m) -> rx.Component:
    return rx.el.tr(
        rx.el.td(m.serial, data_label=T["staff_dashboard.missing.serial"]),
        rx.el.td(m.number, data_label=T["staff_dashboard.table.account"]),
        rx.el.td(m.address, data_label=T["staff_dashboard.table.address"]),
    )


def _missing() -> rx.Component:
    """The meters not read yet in the coverage period, a page at a time (staff only)."""
    return rx.el.section(
        rx.el.h2(D.summaries[L]["missing_title"], class_name="gp-panel-h", id="dash-missing-title"),
        staff_table(D.missing, ["staff_dashboard.missing.serial", "staff_dashboard.table.account",
                                "staff_dashboard.table.address"], _missing_row, "dash-missing",
                    empty="staff_dashboard.missing.none", loaded=D.loaded),
        rx.el.nav(
            rx.el.button(T["staff_dashboard.missing.previous"], type="button", class_name="gp-btn gp-btn-ghost gp-btn-sm",
                         disabled=D.missing_page <= 1, on_click=D.show_missing(D.missing_page - 1), id="dash-missing-prev"),
            rx.el.span(T["staff_dashboard.missing.page"] + " " + D.missing_page.to_string(), id="dash-missing-page"),
            rx.el.button(T["staff_dashboard.missing.next"], type="button", class_name="gp-btn gp-btn-ghost gp-btn-sm",
                         disabled=~D.missing_more, on_click=D.show_missing(D.missing_page + 1), id="dash-missing-next"),
            class_name="gp-pager", aria_label=T["staff_dashboard.missing.pages"],
        ),
        class_name="gp-panel", aria_labelledby="dash-missing-title",
    )


def staff_dashboard_page() -> rx.Component:
    board = rx.fragment(
        rx.el.ul(rx.foreach(D.kpis[L], _kpi), class_name="gp-kpis", id="dash-kpis"),
        rx.el.div(*[_chart(n) for n in ("volume", "charged", "yearly", "coverage_days", "collection", "ageing")],
                  _top("debtors", T["staff_dashboard.debtors.title"], "staff_dashboard.debtors.note"),
                  class_name="gp-dash-charts"),
        _top("consumers", D.tables[L]["consumers"].title, "staff_dashboard.consumers.note"),
        rx.el.section(
            rx.el.h2(T["staff_dashboard.coverage.title"], class_name="gp-panel-h", id="dash-coverage-title"),
            rx.el.div(
                rx.el.table(
                    rx.el.thead(rx.el.tr(rx.el.th(T["staff_dashboard.coverage.settlement"], scope="col"),
                                         *[rx.el.th(T[f"staff_dashboard.coverage.{c}"], scope="col", class_name="gp-num")
                                           for c in ("percent", "read", "missing")])),
                    rx.el.tbody(rx.foreach(D.coverage[L], _coverage_row)),
                    class_name="gp-table", id="dash-coverage",
                ),
                # a region that may scroll sideways is reachable by keyboard (axe: scrollable-region-focusable)
                class_name="gp-table-wrap", tab_index=0, role="region", aria_labelledby="dash-coverage-title",
            ),
            class_name="gp-panel", aria_labelledby="dash-coverage-title",
        ),
        _missing(),
    )
    return app_layout(
        "dashboard",
        rx.el.style(CSS),
        page_title("staff_dashboard.title", "staff_dashboard.lead"),
        _filters(),
        alert("err", D.error),
        rx.cond(D.loaded, board, rx.el.p(T["statistics.loading"], class_name="gp-empty", role="status")),
        staff=True,
    )
