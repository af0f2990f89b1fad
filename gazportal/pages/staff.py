"""The staff console's pages: /staff (the inbox, with the number of messages past their SLA),
/staff/message?id=N (one message: customer and account, replies and internal notes, status moves)
and /staff/audit (the audit log, admin). In the app's layout with the staff navigation; a table
of rows that become cards below 48rem (a tablet in portrait and up shows the table)."""
from __future__ import annotations

import reflex as rx

from gazportal.components.app_layout import app_layout, page_title, panel
from gazportal.components.forms import alert, busy_form, field
from gazportal.pages.messages import PAGE_CSS as MESSAGES_CSS
from gazportal.state.i18n import I18nState
from gazportal.state.staff import BODY_MAX, KINDS, STATUSES
from gazportal.state.staff import StaffAuditState as A
from gazportal.state.staff import StaffInboxState as B
from gazportal.state.staff import StaffMessageState as M

T = I18nState.t


def staff_table(rows, headers: list[str], render, table_id: str, *, empty: str | None = None, loaded=None,
                class_name: str = "gp-table") -> rx.Component:
    """A staff page's list: a table of ``rows`` (a list var) with a column per locale key of
    ``headers`` and a row per item by ``render``; when there are none, the ``empty`` sentence (a
    locale key) once the page has ``loaded`` (a bool var), else nothing."""
    table = rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(T[h], scope="col") for h in headers])),
        rx.el.tbody(rx.foreach(rows, render)),
        class_name=class_name, id=table_id,
    )
    if empty is None:
        return rx.cond(rows.length() > 0, table)
    return rx.cond(rows.length() > 0, table, rx.cond(loaded, rx.el.p(T[empty], class_name="gp-empty")))

CSS = MESSAGES_CSS + """
.gp-filters{display:flex;flex-wrap:wrap;gap:.75rem 1rem;align-items:flex-end}
.gp-filters .gp-field{flex:1 1 14rem;max-width:24rem}
.gp-sla{display:inline-flex;align-items:center;gap:.4rem;font-weight:700;padding:.45rem .8rem;border-radius:.75rem;
  border:1px solid #f2aaa6;background:#fdecea;color:#8a1c12}
.gp-sla[data-count="0"]{border-color:#9fd6b0;background:#e9f7ee;color:#14532d}
.gp-table{width:100%;border-collapse:collapse}
.gp-table th,.gp-table td{text-align:left;padding:.6rem .5rem;border-bottom:1px solid var(--gp-line);vertical-align:top;
  overflow-wrap:anywhere}
.gp-table th{font-size:.8125rem;color:var(--gp-muted);font-weight:650;overflow-wrap:normal}
.gp-table a{color:var(--gp-link);font-weight:650}
.gp-late{color:#b42318;font-weight:700;font-size:.8125rem;display:block}
.gp-event{border:1px solid var(--gp-line);border-radius:.8rem;padding:.75rem .9rem;display:flex;flex-direction:column;gap:.3rem}
.gp-event[data-kind="note"]{background:#fff8e6;border-color:#f0d58a}
.gp-event[data-kind="reply"]{background:var(--gp-tint)}
.gp-events{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}
.gp-json{font-family:ui-monospace,monospace;font-size:.8125rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
.gp-kv dt{font-size:.8125rem;color:var(--gp-muted);margin:0}
.gp-kv dd{margin:0 0 .35rem;font-weight:550;overflow-wrap:anywhere}
.gp-pager{display:flex;align-items:center;gap:.75rem;flex-wrap:wrap}
.gp-table-wide td:nth-child(-n+3){overflow-wrap:normal;word-break:normal}
/* rows become cards: the inbox below a tablet's width, the audit log (five wide columns) below a desktop's */
@media (max-width:47.99rem){
  .gp-table thead{display:none}
  .gp-table,.gp-table tbody,.gp-table tr,.gp-table td{display:block;width:100%;box-sizing:border-box}
  .gp-table tr{border:1px solid var(--gp-line);border-radius:.8rem;padding:.4rem .6rem;margin-bottom:.6rem}
  .gp-table td{border:0;padding:.25rem 0}
  .gp-table td[data-label]::before{content:attr(data-label);display:block;font-size:.75rem;color:var(--gp-muted)}
}
@media (max-width:63.99rem){
  .gp-table-wide thead{display:none}
  .gp-table-wide,.gp-table-wide tbody,.gp-table-wide tr,.gp-table-wide td{display:block;width:100%;box-sizing:border-box}
  .gp-table-wide tr{border:1px solid var(--gp-line);border-radius:.8rem;padding:.4rem .6rem;margin-bottom:.6rem}
  .gp-table-wide td{border:0;padding:.25rem 0}
  .gp-table-wide td[data-label]::before{content:attr(data-label);display:block;font-size:.75rem;color:var(--gp-muted)}
}
"""


def _select(fid: str, label_key: str, value, options: list[tuple[str, str]], on_change) -> rx.Component:
    return rx.el.div(
        rx.el.label(T[label_key], html_for=fid, class_name="gp-label"),
        rx.el.select(
            *[rx.el.option(T[key], value=v) for v, key in options],
            id=fid, value=value, on_change=on_change, class_name="gp-input",
        ),
        class_name="gp-field",
    )


def _inbox_row(m) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.el.a(m.subject, href="/staff/message?id=" + m.id, data_message=m.id),
                 rx.cond(m.breached, rx.el.span(T["staff.sla_breached"], class_name="gp-late")),
                 data_label=T["staff.col.subject"]),
        rx.el.td(T["messages.kind." + m.kind], data_label=T["staff.col.kind"]),
        rx.el.td(rx.el.span(T["messages.status." + m.status], class_name="gp-badge", data_status=m.status),
                 data_label=T["staff.col.status"]),
        rx.el.td(m.customer, rx.cond(m.account != "", rx.el.span(" · " + m.account)), data_label=T["staff.col.customer"]),
        rx.el.td(rx.el.time(m.dates[I18nState.lang], date_time=m.date_iso), data_label=T["staff.col.date"]),
    )


def inbox_page() -> rx.Component:
    return app_layout(
        "inbox",
        rx.el.style(CSS),
        page_title("staff.inbox.title", "staff.inbox.lead",
                   rx.el.p(T["staff.sla_count"], ": ", rx.el.strong(B.breached.to_string()),
                           class_name="gp-sla", data_count=B.breached.to_string(), id="sla-breached",
                           role="status")),
        rx.el.section(
            rx.el.div(
                _select("staff-status", "staff.filter.status", B.status,
                        [("", "staff.filter.all")] + [(s, f"messages.status.{s}") for s in STATUSES],
                        B.set_status_filter),
                _select("staff-kind", "staff.filter.kind", B.kind,
                        [("", "staff.filter.all")] + [(k, f"messages.kind.{k}") for k in KINDS],
                        B.set_kind_filter),
                class_name="gp-filters",
            ),
            staff_table(B.items, [f"staff.col.{c}" for c in ("subject", "kind", "status", "customer", "date")],
                        _inbox_row, "staff-inbox", empty="staff.inbox.empty", loaded=B.loaded),
            class_name="gp-panel",
            aria_label=T["staff.inbox.title"],
        ),
        staff=True,
    )


def _event(e) -> rx.Component:
    return rx.el.li(
        rx.el.p(rx.el.strong(T["staff.event." + e.kind]), " · ", e.author, " · ",
                rx.el.time(e.dates[I18nState.lang], date_time=e.date_iso), class_name="gp-msg-meta"),
        rx.el.p(e.body, class_name="gp-msg-body"),
        class_name="gp-event", data_kind=e.kind,
    )


def _event_form(kind: str) -> rx.Component:
    return busy_form(
        M, kind, M.add,
        rx.el.input(type="hidden", name="message_id", value=M.message_id),
        rx.el.input(type="hidden", name="kind", value=kind),
        field(f"staff-{kind}", "body", f"staff.{kind}.label", M.errors, control="textarea", max_length=BODY_MAX,
              rows=4, hint=T[f"staff.{kind}.hint"]),
        label=T[f"staff.{kind}.send"], icon="send" if kind == "reply" else "notebook-pen",
        key=M.form_key, id=f"staff-{kind}-form",
        **({} if kind == "reply" else {"kind": "ghost"}),
    )


def _kv(label_key: str, value) -> rx.Component:
    return rx.cond(value != "", rx.el.div(rx.el.dt(T[label_key]), rx.el.dd(value), class_name="gp-acc-row"))


def message_page() -> rx.Component:
    found = rx.fragment(
        page_title("staff.message.title", None,
                   rx.el.a(rx.icon("arrow-left", size=18, aria_hidden="true"), rx.el.span(T["staff.back"]),
                           href="/staff", class_name="gp-btn gp-btn-ghost")),
        alert("ok", rx.cond(M.done != "", T["staff." + M.done].replace("{status}",
                                                                        T["messages.status." + M.done_status]), ""),
              id="staff-notice"),
        alert("err", M.error, id="staff-error"),
        rx.el.div(
            rx.el.article(
                rx.el.div(
                    rx.el.h2(M.subject, class_name="gp-msg-subject", id="staff-subject"),
                    rx.el.span(T["messages.status." + M.status], class_name="gp-badge", data_status=M.status,
                               id="staff-status"),
                    class_name="gp-msg-top",
                ),
                rx.el.p(rx.el.span(T["messages.kind." + M.kind]), rx.el.span(M.dates[I18nState.lang]),
                        rx.cond(M.breached, rx.el.span(T["staff.sla_breached"], class_name="gp-late")),
                        class_name="gp-msg-meta"),
                rx.el.p(M.body, class_name="gp-msg-body"),
                rx.el.div(rx.foreach(M.moves, lambda o: rx.el.button(
                    T["staff.move." + o.name], type="button", class_name="gp-btn gp-btn-ghost gp-btn-sm",
                    data_move=o.id,
                    on_click=M.move(M.message_id, o.id))), class_name="gp-actions"),
                class_name="gp-panel gp-msg",
            ),
            panel("user-round", "staff.customer.title", "staff-customer-title",
                  rx.el.dl(_kv("staff.customer.name", M.customer), _kv("staff.customer.login", M.customer_login),
                           _kv("staff.customer.email", M.customer_email), _kv("staff.customer.phone", M.customer_phone),
                           _kv("staff.customer.account", M.account), _kv("staff.customer.holder", M.account_holder),
                           _kv("staff.customer.address", M.account_address), class_name="gp-kv")),
            class_name="gp-grid2",
        ),
        panel("messages-square", "staff.events.title", "staff-events-title",
              rx.cond(M.events.length() > 0, rx.el.ul(rx.foreach(M.events, _event), class_name="gp-events",
                                                       id="staff-events"),
                      rx.el.p(T["staff.events.empty"], class_name="gp-empty"))),
        rx.el.div(
            panel("send", "staff.reply.title", "staff-reply-title", _event_form("reply")),
            panel("notebook-pen", "staff.note.title", "staff-note-title", _event_form("note")),
            class_name="gp-grid2",
        ),
    )
    return app_layout(
        "inbox",
        rx.el.style(CSS),
        rx.cond(M.found, found,
                rx.cond(M.loaded, rx.el.p(T["staff.message.not_found"], class_name="gp-empty", role="status"))),
        staff=True,
    )


def _audit_row(r) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.el.time(r.at, date_time=r.at_iso), data_label=T["staff.audit.col.at"]),
        rx.el.td(r.actor, data_label=T["staff.audit.col.actor"]),
        rx.el.td(r.action, rx.el.br(), r.object, data_label=T["staff.audit.col.action"]),
        rx.el.td(rx.el.p(r.before, class_name="gp-json"), rx.el.p("→ " + r.after, class_name="gp-json"),
                 data_label=T["staff.audit.col.change"]),
        rx.el.td(r.reason, data_label=T["staff.audit.col.reason"]),
    )


def audit_page() -> rx.Component:
    return app_layout(
        "audit",
        rx.el.style(CSS),
        page_title("staff.audit.title", "staff.audit.lead",
                   rx.el.button(rx.icon("download", size=18, aria_hidden="true"), rx.el.span(T["staff.audit.export"]),
                                type="button", class_name="gp-btn", id="audit-export", on_click=A.export)),
        rx.el.section(
            staff_table(A.rows, [f"staff.audit.col.{c}" for c in ("at", "actor", "action", "change", "reason")],
                        _audit_row, "audit-log", empty="staff.audit.empty", loaded=A.loaded,
                        class_name="gp-table gp-table-wide"),
            rx.el.nav(
                rx.el.button(T["staff.audit.newer"], type="button", class_name="gp-btn gp-btn-ghost gp-btn-sm",
                             disabled=A.page <= 1, on_click=A.go(A.page - 1)),
                rx.el.span(A.page.to_string() + " / " + A.pages.to_string()),
                rx.el.button(T["staff.audit.older"], type="button", class_name="gp-btn gp-btn-ghost gp-btn-sm",
                             disabled=A.page >= A.pages, on_click=A.go(A.page + 1)),
                class_name="gp-pager", aria_label=T["staff.audit.pages"],
            ),
            class_name="gp-panel",
            aria_label=T["staff.audit.title"],
        ),
        staff=True,
    )
