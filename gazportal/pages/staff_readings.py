"""/staff/readings: the readings review queue of the staff console (issue 16 point 6).

Tabs (held, accepted, rejected) with their counts; a held reading's row opens its decision form
below it (accept and bill, or reject with a reason the customer sees). In the staff layout; the
table becomes cards below 48rem (a tablet in portrait and up shows the table)."""
from __future__ import annotations

import reflex as rx

from gazportal.components.app_layout import app_layout, page_title
from gazportal.components.forms import alert, busy_form, field
from gazportal.pages.staff import CSS as STAFF_CSS
from gazportal.pages.staff import staff_table
from gazportal.state.i18n import I18nState
from gazportal.state.reviews import DISPUTED, FLAG_TABS, LATE, TABS
from gazportal.state.reviews import StaffReviewState as R

T = I18nState.t

CSS = STAFF_CSS + """
.gp-tabs{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:1rem}
.gp-tabs button[aria-pressed="true"]{background:var(--gp-hero);color:var(--gp-on-hero);border-color:var(--gp-hero)}
.gp-count{display:inline-block;min-width:1.5rem;margin-left:.35rem;padding:0 .35rem;border-radius:999px;
  border:1px solid currentColor;font-size:.8125rem;text-align:center}
.gp-decide{border:1px solid var(--gp-line);border-radius:.8rem;padding:.75rem .9rem;background:var(--gp-tint)}
.gp-choices{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;border:0;margin:0 0 .5rem;padding:0}
.gp-choices legend{font-weight:650;margin-bottom:.35rem;padding:0}
.gp-choices label{display:inline-flex;align-items:center;gap:.4rem;min-height:2.75rem}
.gp-muted{color:var(--gp-muted);font-size:.875rem;display:block}
"""


def _tab(tab: str) -> rx.Component:
    return rx.el.button(
        T[f"staff.readings.tab.{tab}"],
        *([rx.el.span(R.counts[tab].to_string(), class_name="gp-count")] if tab in (*TABS, DISPUTED) else []),
        type="button", class_name="gp-btn gp-btn-ghost gp-btn-sm", data_tab=tab,
        aria_pressed=rx.cond(R.tab == tab, "true", "false"), on_click=R.set_tab(tab),
    )


def _decide_form() -> rx.Component:
    choice = R.errors.contains("decision")
    return busy_form(
        R, "decide", R.decide,
        rx.el.input(type="hidden", name="review_id", value=R.picked),
        rx.el.fieldset(
            rx.el.legend(T["staff.readings.col.decision"]),
            *[rx.el.label(rx.el.input(type="radio", name="decision", value=d, id=f"rv-decision-{d}",
                                      aria_invalid=rx.cond(choice, "true", "false")),
                          T[f"staff.readings.{d}"]) for d in ("accept", "reject")],
            rx.el.p(rx.cond(choice, R.errors["decision"], ""), class_name="gp-field-error", aria_live="polite"),
            class_name="gp-choices",
        ),
        field("rv", "reason", "staff.readings.reason.label", R.errors, control="textarea", max_length=500, rows=3,
              hint=T["staff.readings.reason.hint"]),
        label=T["staff.readings.decide"], icon="gavel", key=R.form_key, id="review-form",
    )


def _row(r) -> rx.Component:
    return rx.fragment(
        rx.el.tr(
            rx.el.td(T["services." + r.service], rx.el.span(r.serial + " · " + r.account, class_name="gp-muted"),
                     data_label=T["staff.readings.col.meter"]),
            rx.el.td(rx.el.strong(r.value[I18nState.lang]),
                     rx.el.span(r.detail[I18nState.lang], class_name="gp-muted"),
                     rx.el.span(r.period[I18nState.lang], class_name="gp-muted"),
                     data_label=T["staff.readings.col.reading"]),
            rx.el.td(r.customer, data_label=T["staff.readings.col.customer"]),
            rx.el.td(rx.el.time(r.dates[I18nState.lang], date_time=r.date_iso), data_label=T["staff.col.date"]),
            rx.el.td(
                rx.cond(
                    r.status == "open",
                    rx.el.button(T["staff.readings.decide"], type="button", class_name="gp-btn gp-btn-sm",
                                 data_review=r.id, on_click=R.pick(r.id),
                                 aria_expanded=rx.cond(R.picked == r.id, "true", "false")),
                    rx.fragment(
                        rx.el.span(T["staff.readings.tab." + r.status], class_name="gp-badge", data_status=r.status),
                        rx.el.span(r.decided[I18nState.lang], class_name="gp-muted"),
                        rx.cond(r.reason != "", rx.el.p(r.reason, class_name="gp-msg-body")),
                    ),
                ),
                data_label=T["staff.readings.col.decision"],
            ),
            data_row=r.id,
        ),
        rx.cond(R.picked == r.id,
                rx.el.tr(rx.el.td(rx.el.div(_decide_form(), class_name="gp-decide"), col_span=5))),
    )


def _flag_row(f) -> rx.Component:
    return rx.el.tr(
        rx.el.td(T["services." + f.service], rx.el.span(f.serial + " · " + f.account, class_name="gp-muted"),
                 data_label=T["staff.readings.col.meter"]),
        rx.el.td(f.previous[I18nState.lang], data_label=T["staff.readings.col.previous"]),
        rx.el.td(rx.el.strong(f.value[I18nState.lang]), rx.el.span(f.period[I18nState.lang], class_name="gp-muted"),
                 data_label=T["staff.readings.col.reading"]),
        rx.el.td(rx.el.time(f.dates[I18nState.lang], date_time=f.date_iso), data_label=T["staff.col.date"]),
        data_flag=f.id,
    )


def _flags() -> rx.Component:
    return rx.fragment(
        rx.el.p(T["staff.readings.flag." + R.tab], class_name="gp-muted"),
        staff_table(R.flags, ["staff.readings.col.meter", "staff.readings.col.previous", "staff.readings.col.reading",
                              "staff.col.date"], _flag_row, "flag-list", empty="staff.readings.empty", loaded=R.loaded),
    )


def _late_form() -> rx.Component:
    return busy_form(
        R, "late", R.book_late,
        rx.el.div(
            field("late", "account", "staff.readings.late.account", R.errors, autocomplete="off"),
            field("late", "serial", "staff.readings.late.serial", R.errors, autocomplete="off"),
            field("late", "day", "staff.readings.late.day", R.errors, type="date"),
            field("late", "value", "staff.readings.late.value", R.errors, inputmode="numeric", autocomplete="off"),
            field("late", "reason", "staff.readings.late.reason", R.errors, control="textarea", max_length=500,
                  rows=2, span2=True),
            class_name="gp-form-grid",
        ),
        label=T["staff.readings.late.submit"], icon="calendar-check", key=R.form_key, id="late-form",
    )


def _late_row(f) -> rx.Component:
    return rx.el.tr(
        rx.el.td(T["services." + f.service], rx.el.span(f.serial + " · " + f.account, class_name="gp-muted"),
                 data_label=T["staff.readings.col.meter"]),
        rx.el.td(rx.el.strong(f.value[I18nState.lang]), rx.el.span(f.period[I18nState.lang], class_name="gp-muted"),
                 data_label=T["staff.readings.col.reading"]),
        rx.el.td(rx.el.time(f.dates[I18nState.lang], date_time=f.date_iso), data_label=T["staff.readings.late.day"]),
        rx.el.td(f.previous[I18nState.lang], data_label=T["staff.readings.col.booked"]),
        data_late=f.id,
    )


def _late_tab() -> rx.Component:
    return rx.fragment(
        rx.el.p(T["staff.readings.late.lead"], class_name="gp-muted"),
        rx.el.div(rx.el.h2(T["staff.readings.late.title"], class_name="gp-panel-h"), _late_form(),
                  class_name="gp-decide"),
        staff_table(R.flags, ["staff.readings.col.meter", "staff.readings.col.reading", "staff.readings.late.day",
                              "staff.readings.col.booked"], _late_row, "late-list"),
    )


def readings_page() -> rx.Component:
    return app_layout(
        "readings",
        rx.el.style(CSS),
        page_title("staff.readings.title", "staff.readings.lead"),
        alert("ok", rx.cond(R.done != "", T["staff.readings." + R.done], ""), id="review-notice"),
        alert("err", R.error, id="review-error"),
        rx.el.section(
            rx.el.div(*[_tab(t) for t in (TABS[0], DISPUTED, *TABS[1:], LATE, *FLAG_TABS)], class_name="gp-tabs",
                      role="group", aria_label=T["staff.readings.tabs"]),
            rx.match(R.tab, ("rollovers", _flags()), ("zero", _flags()), (LATE, _late_tab()),
                     (DISPUTED, _disputed_tab()), _queue()),
            class_name="gp-panel",
            aria_label=T["staff.readings.title"],
        ),
        staff=True,
    )


def _queue() -> rx.Component:
    return staff_table(R.rows, ["staff.readings.col.meter", "staff.readings.col.reading",
                                "staff.readings.col.customer", "staff.col.date", "staff.readings.col.decision"],
                       _row, "review-queue", empty="staff.readings.empty", loaded=R.loaded)


# --- the disputed tab (issue 16 point 6): customers' disputes, and corrections by a supervisor -----

def _resolve_form() -> rx.Component:
    choice = R.errors.contains("decision")
    return busy_form(
        R, "resolve", R.resolve,
        rx.el.input(type="hidden", name="dispute_id", value=R.picked),
        rx.el.fieldset(
            rx.el.legend(T["staff.readings.col.decision"]),
            *[rx.el.label(rx.el.input(type="radio", name="decision", value=d, id=f"dsp-decision-{d}",
                                      aria_invalid=rx.cond(choice, "true", "false")),
                          T[f"staff.disputes.{d}"]) for d in ("correct", "dismiss")],
            rx.el.p(rx.cond(choice, R.errors["decision"], ""), class_name="gp-field-error", aria_live="polite"),
            class_name="gp-choices",
        ),
        field("dsp", "value", "staff.disputes.value", R.errors, inputmode="numeric", autocomplete="off",
              hint=T["staff.disputes.value_hint"]),
        field("dsp", "reason", "staff.readings.reason.label", R.errors, control="textarea", max_length=500, rows=3,
              hint=T["staff.disputes.reason_hint"]),
        label=T["staff.readings.decide"], icon="gavel", key=R.form_key, id="resolve-form",
    )


def _dispute_row(d) -> rx.Component:
    return rx.fragment(
        rx.el.tr(
            rx.el.td(T["services." + d.service], rx.el.span(d.serial + " · " + d.account, class_name="gp-muted"),
                     rx.el.a(T["staff.view.link"], href="/staff/view?account=" + d.account, class_name="gp-muted"),
                     data_label=T["staff.readings.col.meter"]),
            rx.el.td(rx.el.strong(d.value[I18nState.lang]),
                     rx.el.span(d.period[I18nState.lang], class_name="gp-muted"),
                     rx.el.span(T["dashboard.source." + d.source], class_name="gp-muted"),
                     data_label=T["staff.readings.col.reading"]),
            rx.el.td(d.customer, rx.el.p(d.reason, class_name="gp-msg-body"),
                     data_label=T["staff.disputes.col.reason"]),
            rx.el.td(rx.el.time(d.dates[I18nState.lang], date_time=d.date_iso), data_label=T["staff.col.date"]),
            rx.el.td(
                rx.el.button(T["staff.readings.decide"], type="button", class_name="gp-btn gp-btn-sm",
                             data_dispute=d.id, on_click=R.pick(d.id),
                             aria_expanded=rx.cond(R.picked == d.id, "true", "false")),
                data_label=T["staff.readings.col.decision"],
            ),
            data_row=d.id,
        ),
        rx.cond(R.picked == d.id,
                rx.el.tr(rx.el.td(rx.el.div(_resolve_form(), class_name="gp-decide"), col_span=5))),
    )


def _correct_form() -> rx.Component:
    return busy_form(
        R, "correct", R.correct,
        rx.el.div(
            field("fix", "account", "staff.readings.late.account", R.errors, autocomplete="off"),
            field("fix", "serial", "staff.readings.late.serial", R.errors, autocomplete="off"),
            field("fix", "period", "staff.disputes.period", R.errors, type="month"),
            field("fix", "value", "staff.disputes.value", R.errors, inputmode="numeric", autocomplete="off"),
            field("fix", "reason", "staff.readings.reason.label", R.errors, control="textarea", max_length=500,
                  rows=2, span2=True, hint=T["staff.disputes.reason_hint"]),
            class_name="gp-form-grid",
        ),
        label=T["staff.disputes.correct_submit"], icon="pencil", key=R.form_key, id="correct-form",
    )


def _disputed_tab() -> rx.Component:
    return rx.fragment(
        rx.el.p(T["staff.disputes.lead"], class_name="gp-muted"),
        staff_table(R.disputes, ["staff.readings.col.meter", "staff.readings.col.reading", "staff.disputes.col.reason",
                                 "staff.col.date", "staff.readings.col.decision"], _dispute_row, "dispute-list",
                    empty="staff.disputes.empty", loaded=R.loaded),
        rx.el.details(
            rx.el.summary(T["staff.disputes.correct_title"]),
            rx.el.p(T["staff.disputes.correct_lead"], class_name="gp-muted"),
            _correct_form(),
            class_name="gp-decide", id="correct-box",
        ),
    )
