"""/dashboard?account=<id>: one of the customer's accounts (switchable), its balance and last month,
its meters with their previous readings, and a reading form per meter checked while typing."""
from __future__ import annotations

import reflex as rx
from reflex.event import EventChain, no_args_event_spec

from gazportal.components.account_choice import account_choice
from gazportal.components.app_layout import app_layout, page_title
from gazportal.components.forms import alert, button, submission_input
from gazportal.state.dashboard import DashboardState
from gazportal.state.dashboard import DashboardState as S
from gazportal.state.i18n import I18nState
from gazportal.state.payments import PayState as P

T = I18nState.t
DEBOUNCE_MS = 350
# Issue 14 point 8: an error that more digits can put right ("5" on the way to "55" is below the
# last reading) waits for a pause this long after the last key, the blur or the submit. 1 s is
# about three times Reflex's input debounce and longer than the usual gap between two keys of a
# number being typed, yet short enough to be there before a finger reaches the send button; a
# person who stops longer mid-number sees it, and it goes with the next digit's check.
PAUSE_MS = 1000


def switcher() -> rx.Component:
    return rx.cond(
        S.accounts.length() > 1,
        account_choice(S.accounts, S.account_id, S.switch_account, "dashboard-account", "dashboard.switch"),
    )


def _kv(icon: str, label_key: str, value, **attrs) -> rx.Component:
    return rx.el.div(
        rx.el.dt(rx.icon(icon, size=16, aria_hidden="true"), T[label_key]),
        rx.el.dd(value, **attrs),
        class_name="gp-acc-row",
    )


def _last_volumes(S=S) -> rx.Component:
    """Last month's volume of each service with its unit (m³ and kWh are never added up)."""
    return rx.cond(
        S.last_volumes.length() > 0,
        rx.el.ul(
            rx.foreach(S.last_volumes, lambda v: rx.el.li(
                rx.el.span(v.label, class_name="gp-dash-vol-svc"), " ", rx.el.span(v.text, class_name="gp-num"),
                data_service=v.service)),
            class_name="gp-dash-vols",
        ),
        rx.el.span(T["dashboard.no_volume"]),
    )


def summary(S=S) -> rx.Component:
    """The account's summary; ``S``: the dashboard's state or the staff view's (the same vars)."""
    return rx.el.section(
        rx.el.h2(rx.icon("wallet-cards", size=20, aria_hidden="true"), T["dashboard.account"], " ",
                 S.info.number, class_name="gp-panel-h", id="dash-account-h"),
        rx.el.dl(
            _kv("user-round", "dashboard.label.holder", S.info.holder),
            _kv("map-pin", "dashboard.label.address", S.info.address),
            _kv(
                "scale", "dashboard.label.balance",
                rx.el.span(
                    rx.cond(S.in_debt, rx.icon("triangle-alert", size=16, aria_hidden="true")),
                    S.info.balance,
                    class_name=rx.cond(S.in_debt, "gp-dash-debt", "gp-dash-ok"),
                ),
                id="dash-balance",
                data_debt=rx.cond(S.in_debt, "true", "false"),
            ),
            _kv("calendar", "dashboard.label.last_month", S.info.last_period),
            _kv("gauge", "dashboard.label.last_volume", _last_volumes(S), id="dash-volumes"),
            _kv("receipt", "dashboard.label.last_charged", S.info.last_charged),
            class_name="gp-dash-dl",
        ),
        *([pay_form()] if S is DashboardState else []),  # the customer's own page only, not the staff view
        rx.el.p(
            rx.cond(S.window_open, rx.icon("calendar-check", size=18, aria_hidden="true"),
                    rx.icon("calendar-clock", size=18, aria_hidden="true")),
            rx.el.span(S.window_text),
            class_name=rx.cond(S.window_open, "gp-alert gp-alert-ok", "gp-alert gp-alert-info"),
            id="dash-window",
            data_open=rx.cond(S.window_open, "true", "false"),
        ),
        aria_labelledby="dash-account-h",
        class_name="gp-panel",
    )


def pay_form() -> rx.Component:
    """"Pay" next to the balance: the debt pre-filled, any amount within the limits (the server
    decides: state/payments.py); closed before the profile's payment day."""
    return rx.cond(
        S.pay_open,
        rx.el.form(
            rx.el.input(type="hidden", name="account", value=S.account_id),
            rx.el.div(
                rx.el.label(T["dashboard.pay.amount"], html_for="pay-amount", class_name="gp-label"),
                rx.el.input(id="pay-amount", name="amount", default_value=S.pay_default, inputmode="decimal",
                            autocomplete="off", class_name="gp-input gp-dash-pay-input",
                            aria_invalid=rx.cond(P.error != "", "true", "false"), aria_describedby="pay-err"),
                class_name="gp-field",
            ),
            button(T["dashboard.pay.button"], icon="credit-card", type="submit", id="pay-submit",
                   loading=P.busy == "pay"),
            rx.el.p(rx.cond(P.error != "", rx.fragment(rx.icon("circle-alert", size=16, aria_hidden="true"), P.error)),
                    id="pay-err", class_name="gp-field-error", role="alert"),
            submission_input(P),
            on_submit=[P.begin("pay"), P.start],
            reset_on_submit=False,
            key=S.account_id + S.pay_default,
            class_name="gp-dash-pay",
            id="pay-form",
        ),
        rx.el.p(rx.icon("calendar-clock", size=18, aria_hidden="true"), rx.el.span(S.pay_text),
                class_name="gp-alert gp-alert-info", id="pay-closed"),
    )


def _history(m, S=S) -> rx.Component:
    rows = S.history[m.id]
    return rx.el.details(
        rx.el.summary(T["dashboard.history"]),
        rx.el.table(
            rx.el.thead(rx.el.tr(
                rx.el.th(T["dashboard.col.date"], scope="col"),
                rx.el.th(T["dashboard.col.value"], scope="col"),
                rx.el.th(T["dashboard.col.source"], scope="col"),
            )),
            rx.el.tbody(rx.foreach(rows, lambda h: rx.el.tr(
                rx.el.td(h.date),
                rx.el.td(h.value, class_name="gp-num"),
                rx.el.td(h.source, rx.cond(h.replaced, rx.el.span(" · ", h.replaced_by, class_name="gp-dash-repl"))),
                data_replaced=rx.cond(h.replaced, "true", "false"),
            ))),
            class_name="gp-dash-table",
        ),
        class_name="gp-dash-history",
        open=True,
    )


def _live(m) -> rx.Component:
    mid = m.id
    has = S.live.contains(mid)
    return rx.el.div(
        rx.cond(
            has,
            rx.el.p(
                rx.match(
                    S.live[mid].kind,
                    ("ok", rx.icon("circle-check", size=16, aria_hidden="true")),
                    ("warning", rx.icon("triangle-alert", size=16, aria_hidden="true")),
                    rx.icon("circle-alert", size=16, aria_hidden="true"),
                ),
                rx.el.span(S.live[mid].text),
                class_name="gp-dash-live",
                data_kind=S.live[mid].kind,
                # a submit's refusal is said at once (role=alert); a live check politely (the box)
                role=rx.cond(S.alerting.contains(mid), "alert", "status"),
            ),
        ),
        rx.cond(
            has & (S.live[mid].note != ""),
            rx.el.p(rx.icon("info", size=16, aria_hidden="true"), rx.el.span(S.live[mid].note),
                    class_name="gp-dash-note", id="note-live-" + mid),
        ),
        rx.cond(
            has & (S.live[mid].kind == "warning"),
            rx.el.p(S.live[mid].ok, class_name="gp-hint"),
        ),
        rx.cond(
            has & (S.live[mid].kind == "warning") & (S.live[mid].confirm_label != ""),
            rx.fragment(
                rx.el.label(
                    rx.el.input(
                        type="checkbox",
                        id="cf-" + mid,
                        checked=S.confirm.contains(mid) & S.confirm[mid].to(bool),
                        on_change=lambda checked: S.set_confirm(mid, checked),
                        class_name="gp-check",
                    ),
                    rx.el.span(S.live[mid].confirm_label),
                    html_for="cf-" + mid,
                    class_name="gp-dash-confirm",
                ),
            ),
        ),
        id="live-" + mid,
        aria_live="polite",
        class_name="gp-dash-live-box",
        # the form's one field: after a refused submit this box, right under it, takes the focus and
        # is scrolled into view like other forms' error summaries (components/forms.ERROR_SUMMARY_JS)
        tab_index=-1,
        custom_attrs={"data-summary-for": "reading-form-" + mid,
                      "data-refusal": rx.cond(S.refused.contains(mid), S.refused[mid].to_string(), "0")},
    )


def _after_pause(mid) -> rx.Var:
    """The input's ``onInput``: settle_reading of the meter ``PAUSE_MS`` after the last change
    (a trigger of its own: on_change's chain carries the check's shorter debounce)."""
    chain = EventChain.create(value=S.settle_reading(mid).debounce(PAUSE_MS), args_spec=no_args_event_spec,
                              key="on_input")
    return rx.Var.create(chain)


def _form(m) -> rx.Component:
    mid = m.id
    invalid = S.live.contains(mid) & (S.live[mid].kind == "error")
    return rx.el.form(
        rx.el.input(type="hidden", name="meter", value=mid),
        submission_input(S),
        rx.el.div(
            rx.el.label(m.reading_for, html_for="rd-" + mid, class_name="gp-label", id="rd-for-" + mid),
            rx.el.p(m.hint, id="rd-hint-" + mid, class_name="gp-hint"),
            rx.cond(m.replaces != "",
                    rx.el.p(rx.icon("replace", size=16, aria_hidden="true"), rx.el.span(m.replaces),
                            id="rd-replaces-" + mid, class_name="gp-dash-note")),
            rx.el.input(
                id="rd-" + mid,
                name="reading",
                input_mode="numeric",
                auto_complete="off",
                max_length=40,
                class_name="gp-input gp-dash-input",
                aria_invalid=rx.cond(invalid, "true", "false"),
                aria_describedby=rx.cond(m.replaces != "", "rd-hint-" + mid + " rd-replaces-" + mid,
                                         "rd-hint-" + mid) + " live-" + mid,
                # data-keep: kept in the browser while typed (state/dashboard.keep_script); the
                # input event (typed, pasted, filled in) also starts the pause (PAUSE_MS)
                custom_attrs={"data-keep": mid, "on_input": _after_pause(mid)},
                on_change=lambda v: S.type_reading(mid, v, True).debounce(DEBOUNCE_MS),
                on_blur=lambda v: S.type_reading(mid, v),
            ),
            _live(m),
            # shown by keep_script when it puts back a value kept from before the session ended,
            # hidden again when the server has answered its send (issue 14 point 10)
            rx.el.p(rx.icon("history", size=16, aria_hidden="true"), rx.el.span(T["dashboard.kept_note"]),
                    id="rd-kept-" + mid, class_name="gp-dash-note", hidden=True,
                    custom_attrs={"data-kept-note": mid}),
            class_name="gp-field",
        ),
        rx.el.div(
            # "Please wait" starts with the click (Enter in the box clicks it too): the form's own
            # submit chain is compiled outside the meters' loop, where the meter is not known.
            button(T["dashboard.submit"], icon="send", type="submit", id="rd-submit-" + mid,
                   loading=S.busy == "reading-" + mid, on_click=S.begin("reading-" + mid)),
            class_name="gp-actions",
        ),
        on_submit=S.submit,
        reset_on_submit=False,
        key=S.form_key.to_string() + "-" + mid,
        class_name="gp-form",
        id="reading-form-" + mid,
    )


def _result(m) -> rx.Component:
    mid = m.id
    return rx.cond(
        S.result.contains(mid),
        rx.el.p(
            rx.match(S.result[mid].kind,
                     ("ok", rx.icon("circle-check", size=18, aria_hidden="true")),
                     ("review", rx.icon("clipboard-list", size=18, aria_hidden="true")),
                     rx.icon("circle-alert", size=18, aria_hidden="true")),
            rx.el.span(S.result[mid].text),
            class_name=rx.match(S.result[mid].kind, ("ok", "gp-alert gp-alert-ok"),
                                ("review", "gp-alert gp-alert-info"), "gp-alert gp-alert-err"),
            role="status",
            id="result-" + mid,
            data_kind=S.result[mid].kind,
        ),
    )


def _review_note(mid, S=S) -> rx.Component:
    """The staff review of this meter's reading (issue 16 point 6): held, or accepted / rejected
    with staff's reason. Read-only."""
    note = S.review_notes[mid]
    return rx.cond(
        S.review_notes.contains(mid),
        rx.el.div(
            rx.cond(note["status"] == "rejected", rx.icon("circle-x", size=18, aria_hidden="true"),
                    rx.icon("info", size=18, aria_hidden="true")),
            rx.el.div(
                rx.el.p(note["text"]),
                rx.cond(note["reason"] != "",
                        rx.el.p(rx.el.strong(T["review.notice.reason"], ": "), note["reason"],
                                class_name="gp-review-reason")),
            ),
            class_name=rx.cond(note["status"] == "rejected", "gp-alert gp-alert-err", "gp-alert gp-alert-info"),
            id="review-" + mid, data_review=note["status"], role="status",
        ),
    )


def _dispute(m) -> rx.Component:
    """Dispute a booked reading of this meter (issue 16 point 6): which one (the readings that
    count), why; staff answer in the review queue and the customer is told."""
    mid = m.id
    said = S.disputed[mid]
    return rx.el.details(
        rx.el.summary(T["dispute.open"]),
        rx.el.form(
            rx.el.input(type="hidden", name="meter", value=mid),
            submission_input(S),
            rx.el.div(
                rx.el.label(T["dispute.reading"], html_for="dp-reading-" + mid, class_name="gp-label"),
                rx.el.select(
                    rx.el.option(T["dispute.choose"], value=""),
                    rx.foreach(S.history[mid], lambda h: rx.cond(
                        h.counts, rx.el.option(h.value + " · " + h.date, value=h.id))),
                    name="reading", id="dp-reading-" + mid, class_name="gp-input",
                ),
                class_name="gp-field",
            ),
            rx.el.div(
                rx.el.label(T["dispute.reason"], html_for="dp-reason-" + mid, class_name="gp-label"),
                rx.el.textarea(name="reason", id="dp-reason-" + mid, rows=3, max_length=500, class_name="gp-input",
                               aria_describedby="dp-said-" + mid),
                class_name="gp-field",
            ),
            rx.el.p(rx.cond(S.disputed.contains(mid), said.text, ""), id="dp-said-" + mid, role="status",
                    class_name=rx.cond(S.disputed.contains(mid) & (said.kind == "ok"), "gp-dash-live gp-ok",
                                       "gp-dash-live gp-field-error"),
                    data_kind=rx.cond(S.disputed.contains(mid), said.kind, "")),
            rx.el.div(button(T["dispute.send"], icon="flag", type="submit", id="dp-submit-" + mid,
                             loading=S.busy == "dispute-" + mid, on_click=S.begin("dispute-" + mid)),
                      class_name="gp-actions"),
            on_submit=S.dispute,
            reset_on_submit=False,
            key=S.form_key.to_string() + "-dp-" + mid,
            class_name="gp-form",
            id="dispute-form-" + mid,
        ),
        class_name="gp-dash-history gp-dash-dispute",
    )


def meter_card(m, S=S, read_only: bool = False) -> rx.Component:
    """A meter's card; ``read_only`` (the staff view, issue 16 point 5): no reading form and no
    dispute form, a sentence in their place."""
    mid = m.id
    if read_only:
        form = rx.cond(
            m.can_submit,
            rx.el.p(rx.icon("eye", size=18, aria_hidden="true"), rx.el.span(m.reading_for, " · ", T["staff.view.no_form"]),
                    class_name="gp-alert gp-alert-info", id="note-" + mid),
            rx.el.p(rx.icon("info", size=18, aria_hidden="true"), rx.el.span(m.note),
                    class_name="gp-alert gp-alert-info", id="note-" + mid),
        )
    else:
        form = rx.fragment(
            _result(m),
            rx.cond(
                m.can_submit,
                _form(m),
                rx.el.p(rx.icon("info", size=18, aria_hidden="true"), rx.el.span(m.note),
                        class_name="gp-alert gp-alert-info", id="note-" + mid),
            ),
            _dispute(m),
        )
    return rx.el.li(
        rx.el.article(
            rx.el.h3(rx.icon("gauge", size=18, aria_hidden="true"), m.title, class_name="gp-dash-meter-h"),
            rx.el.dl(
                _kv("history", "dashboard.label.last_reading",
                    rx.cond(m.last_value != "",
                            rx.el.span(rx.el.strong(m.last_value), " · ", m.last_date, " · ", m.last_source),
                            T["dashboard.no_readings"])),
                _kv("list-checks", "dashboard.label.this_month", m.left),
                class_name="gp-dash-dl",
            ),
            _history(m, S),
            _review_note(mid, S),
            form,
            class_name="gp-dash-meter",
            data_meter=m.serial,
        ),
    )


def meters(S=S, read_only: bool = False) -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("gauge", size=20, aria_hidden="true"), T["dashboard.meters"], class_name="gp-panel-h",
                 id="dash-meters-h"),
        rx.cond(
            S.meters.length() > 0,
            rx.el.ul(rx.foreach(S.meters, lambda m: meter_card(m, S, read_only)), class_name="gp-dash-meters"),
            rx.el.p(T["dashboard.no_meters"], class_name="gp-empty"),
        ),
        aria_labelledby="dash-meters-h",
        class_name="gp-dash-section",
    )


def dashboard_page() -> rx.Component:
    return app_layout(
        "dashboard",
        rx.el.style(DASH_CSS),
        page_title("dashboard.title", None, switcher()),
        alert("err", S.error, id="dashboard-error"),
        rx.cond(
            S.account_id != "",
            rx.el.div(summary(), meters(), class_name="gp-dash"),
            rx.cond(
                S.loaded & (S.accounts.length() == 0),
                rx.el.p(rx.icon("info", size=18, aria_hidden="true"),
                        rx.el.a(T["dashboard.no_accounts"], href="/accounts"),
                        class_name="gp-alert gp-alert-info"),
            ),
        ),
    )


DASH_CSS = """
.gp-dash{display:grid;grid-template-columns:minmax(0,1fr);gap:1.25rem}
.gp-dash-dl{margin:0 0 1rem;display:grid;grid-template-columns:minmax(0,1fr);gap:.6rem}
.gp-dash-dl dt{font-size:.8125rem;color:var(--gp-muted);display:flex;align-items:center;gap:.4rem;margin:0}
.gp-dash-dl dd{margin:0;font-weight:550;overflow-wrap:anywhere}
.gp-dash-vols{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
.gp-dash-vol-svc{font-weight:400;color:var(--gp-muted)}
.gp-dash-section{display:flex;flex-direction:column;gap:.5rem;min-width:0}
.gp-dash-meters{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:minmax(0,1fr);gap:1rem}
.gp-dash-meter{background:var(--gp-surface);border:1px solid var(--gp-line);border-left:5px solid var(--gp-hero);border-radius:1rem;
  padding:1rem 1.1rem;display:flex;flex-direction:column;gap:.75rem;min-width:0}
.gp-dash-meter-h{margin:0;font-size:1.0625rem;display:flex;align-items:center;gap:.45rem;overflow-wrap:anywhere}
.gp-dash-meter-h svg{color:var(--gp-link);flex:none}
.gp-dash-history summary{cursor:pointer;font-weight:600;min-height:2.75rem;display:flex;align-items:center}
.gp-dash-table{width:100%;border-collapse:collapse;font-size:.9375rem}
.gp-dash-table th,.gp-dash-table td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--gp-line)}
.gp-dash-table th{font-size:.8125rem;color:var(--gp-muted);font-weight:600;overflow-wrap:normal;word-break:normal;hyphens:auto}
.gp-num{font-variant-numeric:tabular-nums}
.gp-dash-table .gp-num,.gp-dash-vols .gp-num{white-space:nowrap}
.gp-dash-table td{overflow-wrap:normal}
@media (max-width:30rem){
  .gp-dash-table{font-size:.8125rem}
  .gp-dash-table th,.gp-dash-table td{padding:.35rem .3rem}
}
.gp-dash-input{font-size:1.25rem;letter-spacing:.08em;font-variant-numeric:tabular-nums;max-width:16rem}
.gp-dash-live-box{display:flex;flex-direction:column;gap:.4rem;min-height:1.5rem}
.gp-dash-live{margin:0;display:flex;gap:.4rem;align-items:flex-start;font-weight:600;font-size:.9375rem}
.gp-dash-live svg{flex:none;margin-top:.15rem}
.gp-dash-live[data-kind="ok"]{color:var(--gp-ok)}
.gp-dash-live[data-kind="error"]{color:var(--gp-error)}
.gp-dash-live[data-kind="warning"]{color:var(--gp-warn)}
.gp-dash-note{margin:0;display:flex;gap:.4rem;align-items:flex-start;font-size:.9375rem;color:var(--gp-muted)}
.gp-dash-note svg{flex:none;margin-top:.15rem}
.gp-dash-note[hidden]{display:none}
.gp-dash-confirm{display:flex;gap:.55rem;align-items:center;font-weight:600;min-height:2.75rem;cursor:pointer}
.gp-check{width:1.35rem;height:1.35rem;flex:none}
.gp-dash-table tr[data-replaced="true"] .gp-num{text-decoration:line-through;color:var(--gp-muted)}
.gp-dash-repl{color:var(--gp-muted)}
.gp-dash-pay{display:flex;flex-wrap:wrap;align-items:flex-end;gap:.4rem 1rem;margin:0 0 1rem}
.gp-dash-pay .gp-field{margin:0}
.gp-dash-pay-input{max-width:12rem;font-variant-numeric:tabular-nums}
.gp-dash-pay .gp-field-error{flex-basis:100%;margin:0}
@media (min-width:48rem){.gp-dash-dl{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media (min-width:64rem){.gp-dash-meters{grid-template-columns:repeat(2,minmax(0,1fr))}}
"""
