"""/contacts (also /feedback and /support with that kind chosen) and /messages.

The contacts (address, phones, hours, e-mail, website) are public, as on any utility's site: a
guest sees them and a prompt to sign in to write; a signed-in customer sees the message form
(kind, subject, text, optional account) with live character counters. /messages lists what the
customer wrote with a status badge and the date in the profile's time zone.
"""
from __future__ import annotations

import reflex as rx

from gazportal.components.app_layout import APP_CSS, app_layout, page_title
from gazportal.components.contacts import contact_items
from gazportal.components.forms import alert, button, error_summary, field, submission_input
from gazportal.components.layout import layout
from gazportal.state.i18n import I18nState
from gazportal.state import messages as svc
from gazportal.state.messages import FORM_PREFIX, MessagesState as S
from gazportal.state.session import SessionState

T = I18nState.t

KIND_ICONS = {"contact": "mail", "feedback": "lightbulb", "support": "life-buoy"}

PAGE_CSS = """
.gp-kinds{border:0;margin:0;padding:0;min-width:0}
.gp-kinds legend{padding:0;margin-bottom:.35rem}
.gp-kind-list{display:grid;grid-template-columns:minmax(0,1fr);gap:.5rem}
.gp-kind{display:flex;align-items:flex-start;gap:.6rem;padding:.7rem .85rem;border:1.5px solid var(--gp-line);border-radius:.8rem;
  background:var(--gp-surface);cursor:pointer;min-height:2.9rem;box-sizing:border-box}
.gp-kind:has(input:checked){border-color:var(--gp-hero);background:var(--gp-tint)}
.gp-kind input{margin:.2rem 0 0;width:1.15rem;height:1.15rem;flex:none;accent-color:var(--gp-hero)}
.gp-kind-text{display:flex;flex-direction:column;gap:.1rem;min-width:0}
.gp-kind-title{font-weight:650}
.gp-kind-hint{font-size:.8125rem;color:var(--gp-muted)}
.gp-counter{font-size:.8125rem;color:var(--gp-muted);margin:0;text-align:right;font-variant-numeric:tabular-nums}
.gp-msgs{list-style:none;margin:0;padding:0;display:grid;gap:.75rem}
.gp-msg{background:var(--gp-surface);border:1px solid var(--gp-line);border-radius:1rem;padding:1rem 1.1rem;
  display:flex;flex-direction:column;
  gap:.45rem;min-width:0}
.gp-msg-top{display:flex;justify-content:space-between;align-items:flex-start;gap:.75rem}
.gp-msg-subject{font-size:1.0625rem;font-weight:700;margin:0;overflow-wrap:anywhere}
.gp-msg-meta{font-size:.8125rem;color:var(--gp-muted);display:flex;flex-wrap:wrap;gap:.25rem .9rem;margin:0}
.gp-msg-body{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;color:var(--gp-ink)}
.gp-msg-reply{border-left:4px solid var(--gp-hero);background:var(--gp-tint);border-radius:.6rem;padding:.6rem .8rem;
  display:flex;flex-direction:column;gap:.3rem}
.gp-msg-reply .gp-msg-meta{align-items:center}
.gp-badge[data-status="new"]{background:#e6efff;border-color:#a9c2f0}
.gp-badge[data-status="in_progress"]{background:#fff4d6;border-color:#f0d58a}
.gp-badge[data-status="answered"]{background:#ddf3e4;border-color:#9fd6b0}
.gp-badge[data-status="closed"]{background:#eceff2;border-color:#c5ccd3}
.gp-guest-main{display:flex;flex-direction:column;gap:1.25rem;padding-top:1.5rem;padding-bottom:2rem}
.gp-contacts-panel .gp-contacts{border:0;padding:0;background:transparent}
@media (min-width:48rem){.gp-kind-list{grid-template-columns:repeat(3,minmax(0,1fr))}}
"""


def contacts_block() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("building-2", size=20, aria_hidden="true"), T["index.contacts.title"],
                 class_name="gp-panel-h", id="contacts-title"),
        rx.el.dl(*contact_items(space_after_label=True), class_name="gp-contacts"),
        aria_labelledby="contacts-title",
        class_name="gp-panel gp-contacts-panel",
    )


def _kind_option(kind: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="radio",
            name="kind",
            value=kind,
            checked=S.kind == kind,
            on_change=S.set_kind,
        ),
        rx.el.span(
            rx.el.span(T[f"messages.kind.{kind}"], class_name="gp-kind-title"),
            rx.el.span(T[f"messages.kind_hint.{kind}"], class_name="gp-kind-hint"),
            class_name="gp-kind-text",
        ),
        class_name="gp-kind",
        data_kind=kind,
    )


def _counter(var, limit: int, fid: str) -> rx.Component:
    return rx.el.p(
        var.to_string() + " / " + str(limit),
        id=f"{fid}-count",
        class_name="gp-counter",
        aria_live="off",
    )


def message_form() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("send", size=20, aria_hidden="true"), T["messages.form.title"], class_name="gp-panel-h",
                 id="msg-form-title"),
        rx.el.p(T["messages.form.lead"], class_name="gp-panel-sub"),
        alert("ok", rx.cond(S.sent_subject != "", T["messages.sent"].replace("{subject}", S.sent_subject), ""),
              id="msg-notice"),
        rx.el.form(
            error_summary("msg-form", S.error, S.errors, [("kind", "messages.form.kind"), ("subject", "messages.form.subject"),
                                       ("body", "messages.form.body"), ("account_id", "messages.form.account")], S.refusals,
                          prefix=FORM_PREFIX, id="msg-error"),
            rx.el.fieldset(
                rx.el.legend(T["messages.form.kind"], class_name="gp-label"),
                rx.el.div(*[_kind_option(k) for k in svc.KINDS], class_name="gp-kind-list"),
                rx.el.p(
                    rx.cond(S.errors.contains("kind"), rx.el.span(S.errors["kind"])),
                    class_name="gp-field-error",
                    id=f"{FORM_PREFIX}-kind-err",
                ),
                class_name="gp-kinds",
                id=f"{FORM_PREFIX}-kind",
                aria_describedby=f"{FORM_PREFIX}-kind-err",
            ),
            rx.el.div(
                field(FORM_PREFIX, "subject", "messages.form.subject", S.errors, max_length=svc.SUBJECT_MAX,
                      auto_complete="off", on_change=S.count_subject),
                _counter(S.subject_len, svc.SUBJECT_MAX, f"{FORM_PREFIX}-subject"),
                class_name="gp-field",
            ),
            rx.el.div(
                field(FORM_PREFIX, "body", "messages.form.body", S.errors, control="textarea",
                      max_length=svc.BODY_MAX, rows=6, on_change=S.count_body,
                      hint=T["messages.form.body_hint"]),
                _counter(S.body_len, svc.BODY_MAX, f"{FORM_PREFIX}-body"),
                class_name="gp-field",
            ),
            rx.cond(
                S.accounts.length() > 0,
                rx.el.div(
                    rx.el.label(T["messages.form.account"], html_for=f"{FORM_PREFIX}-account_id",
                                class_name="gp-label"),
                    rx.el.select(
                        rx.el.option(T["messages.form.no_account"], value=""),
                        rx.foreach(S.accounts, lambda a: rx.el.option(a.number, value=a.id)),
                        id=f"{FORM_PREFIX}-account_id",
                        name="account_id",
                        class_name="gp-input",
                        aria_invalid=rx.cond(S.errors.contains("account_id"), "true", "false"),
                        aria_describedby=f"{FORM_PREFIX}-account_id-err",
                    ),
                    rx.el.p(
                        rx.cond(S.errors.contains("account_id"), rx.el.span(S.errors["account_id"])),
                        id=f"{FORM_PREFIX}-account_id-err",
                        class_name="gp-field-error",
                    ),
                    class_name="gp-field",
                ),
                rx.el.input(type="hidden", name="account_id", value=""),
            ),
            rx.el.div(
                button(T["messages.form.send"], icon="send", type="submit", id="msg-send", loading=S.busy == "send"),
                rx.el.a(rx.icon("inbox", size=18, aria_hidden="true"), rx.el.span(T["messages.my_link"]), href="/messages",
                        class_name="gp-btn gp-btn-ghost", id="msg-my-link"),
                class_name="gp-actions",
            ),
            submission_input(S),
            on_submit=[S.begin("send"), S.send],
            reset_on_submit=False,
            key=S.form_key.to_string(),
            class_name="gp-form",
            id="msg-form",
            aria_labelledby="msg-form-title",
        ),
        class_name="gp-panel",
    )


def guest_prompt() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("send", size=20, aria_hidden="true"), T["messages.form.title"], class_name="gp-panel-h"),
        rx.el.p(T["messages.guest.lead"], class_name="gp-panel-sub"),
        rx.el.div(
            rx.el.a(T["messages.guest.sign_in"], href="/signin", class_name="gp-btn"),
            rx.el.a(T["messages.guest.register"], href="/register", class_name="gp-btn gp-btn-ghost"),
            class_name="gp-actions",
        ),
        class_name="gp-panel",
        id="msg-guest",
    )


def contacts_page() -> rx.Component:
    body = [contacts_block()]
    return rx.cond(
        SessionState.signed_in,
        app_layout(
            "contacts",
            rx.el.style(PAGE_CSS),
            page_title("messages.contacts.title", "messages.contacts.lead"),
            rx.el.div(*body, message_form(), class_name="gp-grid2"),
        ),
        layout(
            rx.el.style(APP_CSS + PAGE_CSS),
            rx.el.div(
                rx.el.h1(T["messages.contacts.title"], class_name="gp-app-h1"),
                rx.el.div(*body, guest_prompt(), class_name="gp-grid2"),
                class_name="gp-container gp-guest-main",
            ),
        ),
    )


def _reply(r) -> rx.Component:
    """A staff reply under the customer's message (internal notes never reach this page)."""
    return rx.el.div(
        rx.el.p(rx.icon("reply", size=16, aria_hidden="true"), rx.el.strong(T["messages.reply_from"]),
                rx.el.time(r.dates[I18nState.lang], date_time=r.date_iso), class_name="gp-msg-meta"),
        rx.el.p(r.body, class_name="gp-msg-body"),
        class_name="gp-msg-reply",
    )


def _message_item(m) -> rx.Component:
    return rx.el.li(
        rx.el.article(
            rx.el.div(
                rx.el.h2(m.subject, class_name="gp-msg-subject"),
                rx.el.span(T["messages.status." + m.status], class_name="gp-badge", data_status=m.status),
                class_name="gp-msg-top",
            ),
            rx.el.p(
                rx.el.span(T["messages.kind." + m.kind]),
                rx.el.time(m.dates[I18nState.lang], date_time=m.date_iso),
                rx.cond(m.account != "", rx.el.span(T["messages.list.account"] + " " + m.account)),
                class_name="gp-msg-meta",
            ),
            rx.el.p(m.body, class_name="gp-msg-body"),
            rx.foreach(m.replies, _reply),
            class_name="gp-msg",
            data_message=m.id,
        ),
    )


def messages_page() -> rx.Component:
    return app_layout(
        "messages",  # on a phone under "More": the tab bar has little room
        rx.el.style(PAGE_CSS),
        page_title(
            "messages.list.title",
            "messages.list.lead",
            rx.el.a(rx.icon("pencil", size=18, aria_hidden="true"), rx.el.span(T["messages.list.write"]),
                    href="/contacts", class_name="gp-btn"),
        ),
        rx.cond(
            S.items.length() > 0,
            rx.el.ul(rx.foreach(S.items, _message_item), class_name="gp-msgs", id="my-messages"),
            rx.cond(S.list_loaded, rx.el.p(T["messages.list.empty"], class_name="gp-empty")),
        ),
    )
