"""/statistics (a table per month and plotly charts for the months the customer picks) and
/statement (the account state for one month, "send to my e-mail").

Charts use the light plotly build (``rx.plotly.basic``) with figures made by
``gazportal.services.charts`` (template "none", the profile's colours); each has a visible
summary, and the table is the accessible alternative. Every text, number and amount comes from
the state already formatted for each of the profile's languages and is picked with the page's
language, so the language switch changes them at once.
"""
from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from gazportal.components.app_layout import app_layout, page_title
from gazportal.components.account_choice import account_choice
from gazportal.components.forms import alert, button, submission_input
from gazportal.components.when_visible import when_visible
from gazportal.state.i18n import I18nState
from gazportal.state.statistics import StatementState as M
from gazportal.state.statistics import StatisticsState as S

T = I18nState.t
L = I18nState.lang
PLOT_CONFIG = {"responsive": True, "displayModeBar": False, "staticPlot": False, "scrollZoom": False}


def _account_select(state, fid: str) -> rx.Component:
    """Which account the page shows, with the whole address of each (issue 14 point 20)."""
    return account_choice(state.accounts, state.account_id, state.pick_account, fid, "statistics.account")


def _no_accounts(state) -> rx.Component:
    return rx.cond(
        state.loaded & (state.accounts.length() == 0),
        rx.el.div(
            rx.el.p(T["statistics.no_accounts"], class_name="gp-empty"),
            rx.el.a(T["statistics.add_account"], href="/accounts", class_name="gp-btn gp-btn-ghost"),
            class_name="gp-panel gp-form",
        ),
    )


def _month_input(name: str, label_key: str, value) -> rx.Component:
    fid = f"stats-{name}"
    has_error = S.errors.contains(name)
    return rx.el.div(
        rx.el.label(T[label_key], html_for=fid, class_name="gp-label"),
        rx.el.input(
            id=fid, name=name, type="month", default_value=value, class_name="gp-input", min="1900-01",
            max="2999-12", pattern=r"[0-9]{4}-[0-9]{2}", placeholder="YYYY-MM",
            aria_invalid=rx.cond(has_error, "true", "false"), aria_describedby=f"{fid}-err stats-hint",
        ),
        rx.el.p(
            rx.cond(has_error, rx.fragment(rx.icon("circle-alert", size=16, aria_hidden="true"), S.errors[name])),
            id=f"{fid}-err", class_name="gp-field-error", aria_live="polite",
        ),
        class_name="gp-field",
    )


def _service_select() -> rx.Component:
    return rx.cond(
        S.services.length() > 1,
        rx.el.div(
            rx.el.label(T["statistics.service"], html_for="stats-service", class_name="gp-label"),
            rx.el.select(
                rx.foreach(S.services, lambda svc: rx.el.option(T["services." + svc], value=svc)),
                id="stats-service",
                value=S.service,
                on_change=S.pick_service,
                class_name="gp-input",
            ),
            class_name="gp-field",
        ),
    )


def _controls() -> rx.Component:
    return rx.el.section(
        rx.el.div(_account_select(S, "stats-account"), _service_select(), class_name="gp-stats-range"),
        rx.el.form(
            rx.el.div(
                _month_input("first", "statistics.from", S.first),
                _month_input("last", "statistics.to", S.last),
                class_name="gp-stats-range",
            ),
            rx.el.p(T["statistics.month_hint"], id="stats-hint", class_name="gp-hint"),
            rx.el.div(button(T["statistics.apply"], icon="refresh-cw", type="submit", id="stats-apply",
                             loading=S.busy == "apply"),
                      class_name="gp-actions"),
            on_submit=[S.begin("apply"), S.apply],
            reset_on_submit=False,
            key=S.form_key.to_string(),
            id="stats-form",
            class_name="gp-form",
        ),
        aria_label=T["statistics.title"],
        class_name="gp-panel gp-form",
    )


def _chart(name: str, title_key: str) -> rx.Component:
    hid = f"chart-{name}-title"
    return rx.el.figure(
        rx.el.h2(rx.icon("chart-column", size=20, aria_hidden="true"), T[title_key], class_name="gp-panel-h", id=hid),
        # Loaded and drawn when scrolled to (components/when_visible.py): the page's first view is
        # the table; plotly's script and drawing cost a slow phone about a second of blocked input.
        when_visible(
            rx.plotly.basic(
                data=S.figures[L][name].to(go.Figure),
                template=None,
                use_resize_handler=True,
                width="100%",
                config=PLOT_CONFIG,
            ),
            aria_hidden="true",
            class_name="gp-chart",
        ),
        rx.el.figcaption(S.summaries[L][name], class_name="gp-chart-cap", data_summary=name),
        aria_labelledby=hid,
        class_name="gp-panel gp-chart-panel",
        data_chart=name,
    )


def _cell(row, key: str, label) -> rx.Component:
    # data-label: the column's name, shown before the value when a phone stacks the rows
    return rx.el.td(getattr(row, key), class_name="gp-num", data_label=label, role="cell")


def _label(col_key: str, scope) -> rx.Var:
    """A column's name with what it covers ("Paid · all services"): a stacked row's labels."""
    return T[col_key] + " · " + scope


def _row(row) -> rx.Component:
    service, every = T["services." + S.service], T["statistics.col.all_services"]
    return rx.el.tr(
        rx.el.th(row.label, scope="row", role="rowheader"),
        _cell(row, "volume", _label("statistics.col.volume", service)),
        _cell(row, "charged", _label("statistics.col.charged", service)),
        _cell(row, "paid", _label("statistics.col.paid", every)),
        rx.el.td(row.balance, class_name=rx.cond(row.debt, "gp-num gp-debt", "gp-num"),
                 data_label=_label("statistics.col.balance", every), role="cell"),
        data_period=row.period,
        role="row",
        data_nodata=rx.cond(row.nodata, "1", "0"),
        class_name=rx.cond(row.nodata, "gp-nodata", ""),
    )


def _head(label_key: str, scope_text) -> rx.Component:
    """A money column's header with what it covers under it (the service, or all services)."""
    return rx.el.th(T[label_key], rx.el.span(scope_text, class_name="gp-th-scope"), scope="col", class_name="gp-num",
                    role="columnheader")


def _table() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("table", size=20, aria_hidden="true"), T["statistics.table_title"], class_name="gp-panel-h",
                 id="stats-table-title"),
        rx.el.p(S.shown[L], class_name="gp-hint", id="stats-shown"),
        rx.el.div(
            rx.el.table(
                rx.el.caption(S.captions[L], id="stats-caption"),
                # explicit roles: a phone shows the rows stacked (display:block), and the table must
                # stay a table to a screen reader
                rx.el.thead(rx.el.tr(
                    rx.el.th(T["statistics.col.period"], scope="col", role="columnheader"),
                    _head("statistics.col.volume", T["services." + S.service]),
                    _head("statistics.col.charged", T["services." + S.service]),
                    _head("statistics.col.paid", T["statistics.col.all_services"]),
                    _head("statistics.col.balance", T["statistics.col.all_services"]),
                    role="row",
                ), role="rowgroup"),
                rx.el.tbody(rx.foreach(S.table[L], _row), role="rowgroup"),
                role="table",
                class_name="gp-table",
                id="stats-table",
            ),
            class_name="gp-table-wrap",
            role="region",
            aria_labelledby="stats-table-title",
            tab_index=0,
        ),
        aria_labelledby="stats-table-title",
        class_name="gp-panel",
    )


def _to_page(icon: str, label_key: str, href: str) -> rx.Component:
    """The link in the title row from one of the two pages to the other."""
    return rx.el.a(rx.icon(icon, size=18, aria_hidden="true"), rx.el.span(T[label_key]), href=href,
                   class_name="gp-btn gp-btn-ghost")


def statistics_page() -> rx.Component:
    return app_layout(
        "statistics",
        rx.el.style(PAGE_CSS),
        page_title("statistics.title", "statistics.lead", _to_page("receipt-text", "statistics.to_statement", "/statement")),
        _no_accounts(S),
        rx.cond(S.accounts.length() > 0, _controls()),
        alert("err", S.error, id="stats-error"),
        rx.cond(
            S.table.contains(L),
            rx.fragment(
                _table(),
                rx.el.div(
                    _chart("monthly", "statistics.chart.monthly_title"),
                    _chart("comparison", "statistics.chart.comparison_title"),
                    class_name="gp-grid2",
                ),
                _chart("yearly", "statistics.chart.yearly_title"),
            ),
            rx.cond(~S.loaded, rx.el.p(T["statistics.loading"], class_name="gp-empty", role="status"),
                    rx.cond(S.accounts.length() > 0,
                            rx.el.p(T["statistics.not_shown"], class_name="gp-empty", id="stats-not-shown"))),
        ),
    )


# --------------------------------------------------------------------------- /statement


def _kv(label_key: str, value, **attrs) -> rx.Component:
    return rx.el.div(rx.el.dt(T[label_key]), rx.el.dd(value, **attrs), class_name="gp-kv-row")


def _statement_controls() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            _account_select(M, "statement-account"),
            rx.el.div(
                rx.el.label(T["statement.period"], html_for="statement-period", class_name="gp-label"),
                rx.el.select(
                    rx.foreach(M.periods[L], lambda p: rx.el.option(p.label, value=p.value)),
                    id="statement-period",
                    value=M.period,
                    on_change=M.pick_period,
                    class_name="gp-input",
                ),
                class_name="gp-field",
            ),
            class_name="gp-form-grid",
        ),
        aria_label=T["statement.title"],
        class_name="gp-panel gp-form",
    )


def _lines(title_key: str, rows, what, empty_key: str) -> tuple[rx.Component, rx.Component]:
    """The statement's charges or payments under their heading: ``what`` of a row, then its
    amount; a line saying there are none when the list is empty."""
    return (
        rx.el.h3(T[title_key], class_name="gp-statement-h"),
        rx.cond(
            rows.length() > 0,
            rx.el.ul(
                rx.foreach(rows, lambda row: rx.el.li(
                    rx.el.span(what(row)), rx.el.span(row.amount, class_name="gp-num"), class_name="gp-line")),
                class_name="gp-lines",
            ),
            rx.el.p(T[empty_key], class_name="gp-empty"),
        ),
    )


def _statement_body() -> rx.Component:
    info = M.info[L]
    return rx.el.section(
        rx.el.h2(rx.icon("receipt-text", size=20, aria_hidden="true"), info.period, class_name="gp-panel-h",
                 id="statement-title"),
        rx.el.dl(
            _kv("statement.account", info.number),
            _kv("statement.holder", info.holder),
            _kv("statement.address", info.address),
            _kv("statement.opening", info.opening, class_name="gp-num", id="statement-opening"),
            class_name="gp-kv gp-statement-kv",
        ),
        *_lines("statement.charges_title", M.charges[L], lambda c: c.service + ", " + c.volume,
                "statement.no_charges"),
        rx.el.dl(_kv("statement.charged", info.charged, class_name="gp-num", id="statement-charged"),
                 class_name="gp-kv gp-statement-kv"),
        *_lines("statement.payments_title", M.payments[L], lambda p: p.date + " · " + p.receipt,
                "statement.no_payments"),
        rx.el.dl(
            _kv("statement.paid", info.paid, class_name="gp-num", id="statement-paid"),
            _kv("statement.closing", info.closing, class_name="gp-num", id="statement-closing"),
            class_name="gp-kv gp-statement-kv",
        ),
        rx.el.p(
            rx.cond(M.in_debt, rx.icon("circle-alert", size=20, aria_hidden="true"),
                    rx.icon("circle-check", size=20, aria_hidden="true")),
            rx.el.span(info.debt),
            class_name=rx.cond(M.in_debt, "gp-debt-line gp-debt", "gp-debt-line gp-no-debt"),
            id="statement-debt",
            data_debt=rx.cond(M.in_debt, "1", "0"),
        ),
        aria_labelledby="statement-title",
        class_name="gp-panel gp-form",
    )


def _send() -> rx.Component:
    return rx.el.section(
        rx.cond(
            M.email_status == "ok",
            rx.el.form(
                # A create form: what is shown (account, month) and the submission id, used once.
                rx.el.input(type="hidden", name="account_id", value=M.account_id),
                rx.el.input(type="hidden", name="period", value=M.period),
                submission_input(M),
                button(rx.cond(M.sending, T["statement.sending"], T["statement.send"]), icon="mail", type="submit",
                       disabled=M.sending, id="statement-send", aria_busy=rx.cond(M.sending, "true", "false")),
                on_submit=M.send,
                reset_on_submit=False,
                class_name="gp-actions",
                id="statement-send-form",
            ),
            rx.el.div(
                rx.el.p(rx.icon("mail-warning", size=18, aria_hidden="true"), rx.el.span(T["statement.no_email"]),
                        class_name="gp-alert gp-alert-info"),
                rx.el.a(rx.icon("user-round", size=18, aria_hidden="true"), rx.el.span(T["statement.to_profile"]),
                        href="/profile", class_name="gp-btn gp-btn-ghost", id="statement-to-profile"),
                class_name="gp-form",
                id="statement-no-email",
            ),
        ),
        alert("ok", M.notice, id="statement-notice"),
        alert("err", M.error, id="statement-error"),
        class_name="gp-form",
    )


def statement_page() -> rx.Component:
    return app_layout(
        "statement",
        rx.el.style(PAGE_CSS),
        page_title("statement.title", "statement.lead", _to_page("chart-column", "nav.statistics", "/statistics")),
        _no_accounts(M),
        rx.cond(M.accounts.length() > 0, _statement_controls()),
        rx.cond(
            M.info.contains(L),
            rx.fragment(_statement_body(), _send()),
            rx.cond(M.loaded, alert("err", M.error), rx.el.p(T["statistics.loading"], class_name="gp-empty",
                                                              role="status")),
        ),
    )


PAGE_CSS = """
.gp-stats-range{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem}
.gp-chart-panel{margin:0}
.gp-chart{width:100%;min-height:280px;overflow:hidden}
/* The figures are drawn with the light colours; both modes take the theme's chart colours
   (components/theme.py: text >= 4.5:1 on the panel, grid lines subdued), dark mode included. */
.gp-chart .xtick text,.gp-chart .ytick text,.gp-chart .legendtext,.gp-chart .g-xtitle text,
.gp-chart .g-ytitle text{fill:var(--gp-chart-text) !important}
.gp-chart .ygrid,.gp-chart .xgrid{stroke:var(--gp-chart-grid) !important}
.gp-chart .xlines-above,.gp-chart .ylines-above,.gp-chart .zerolinelayer path{stroke:var(--gp-chart-axis) !important}
.gp-chart .js-plotly-plot,.gp-chart .plot-container,.gp-chart .svg-container{max-width:100%}
.gp-chart-cap{margin:.5rem 0 0;color:var(--gp-ink);font-size:.9375rem}
.gp-table-wrap{overflow-x:auto;max-width:100%}
.gp-table-wrap:focus-visible{outline:3px solid var(--gp-accent);outline-offset:2px}
.gp-table{border-collapse:collapse;width:100%;font-size:.9375rem}
.gp-table caption{text-align:left;color:var(--gp-ink);font-size:.875rem;padding:0 0 .6rem}
.gp-table th,.gp-table td{padding:.5rem .6rem;border-bottom:1px solid var(--gp-line);text-align:left;white-space:nowrap}
.gp-table thead th{font-size:.8125rem;color:var(--gp-ink);font-weight:700}
.gp-table tbody th{font-weight:550}
.gp-table tbody th,.gp-table thead th:first-child{position:sticky;left:0;background:var(--gp-surface,#fff);z-index:1}
.gp-num{text-align:right !important;font-variant-numeric:tabular-nums;white-space:nowrap}
.gp-th-scope{display:block;font-weight:400;font-size:.75rem}
.gp-nodata td{color:var(--gp-muted);font-style:italic}
.gp-debt{color:var(--gp-danger);font-weight:650}
.gp-kv-row{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.15rem 1rem;padding:.35rem 0;
  border-bottom:1px dashed var(--gp-line)}
.gp-kv-row dt{color:var(--gp-ink);flex:1 1 9rem;min-width:0}
.gp-kv-row dd{margin:0 0 0 auto;font-weight:600;text-align:right;min-width:0;overflow-wrap:break-word}
.gp-statement-h{font-size:1rem;margin:.5rem 0 0}
.gp-lines{list-style:none;margin:0;padding:0;display:grid;gap:.3rem}
.gp-line{display:flex;justify-content:space-between;align-items:baseline;gap:1rem}
.gp-line span:first-child{min-width:0;flex:1 1 auto;overflow-wrap:break-word}
.gp-line .gp-num{flex:none}
.gp-debt-line{display:flex;gap:.5rem;align-items:center;padding:.8rem 1rem;border-radius:.8rem;margin:0;font-size:1.05rem}
.gp-debt-line.gp-debt{background:#fdecea;border:1px solid #f2aaa6;color:#8a1c12}
.gp-no-debt{background:#e9f7ee;border:1px solid #9fd6b0;color:#14532d;font-weight:650}
/* A phone: each month is a block of labelled lines (the column's name and what it covers before
   each value), so nothing is cut and nothing scrolls sideways; the caption wraps. */
@media (max-width:47.99rem){
  .gp-table,.gp-table caption,.gp-table tbody,.gp-table tr,.gp-table th,.gp-table td{display:block}
  .gp-table caption{white-space:normal}
  .gp-table thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
  .gp-table tbody tr{border-bottom:1px solid var(--gp-line);padding:.45rem 0}
  .gp-table tbody th{position:static;border:0;padding:.1rem 0 .25rem;white-space:normal;font-weight:700}
  .gp-table td{display:grid;grid-template-columns:minmax(0,1fr) auto;align-items:baseline;gap:0 .75rem;
    border:0;padding:.15rem 0;white-space:normal}
  .gp-table td::before{content:attr(data-label);text-align:left;color:var(--gp-muted);font-weight:400;
    font-variant-numeric:normal;min-width:0;overflow-wrap:anywhere}
  .gp-table-wrap{overflow:visible}
}
"""
