"""/staff/view?account=N: an account read-only, as its customers see their dashboard (issue 16
point 5). A form asks for the account number and the reason of the look (both required; the look
is written to the audit log before anything is shown); then a banner says whose account is shown,
why and since when, above the dashboard's own summary and meter cards without their forms."""
from __future__ import annotations

import reflex as rx

from gazportal.components.app_layout import app_layout, page_title
from gazportal.components.forms import alert, busy_form, field
from gazportal.pages.dashboard import DASH_CSS, meters, summary
from gazportal.pages.staff import CSS as STAFF_CSS
from gazportal.state.i18n import I18nState
from gazportal.state.view_as import StaffViewState as V

T = I18nState.t

CSS = STAFF_CSS + DASH_CSS + """
.gp-viewing{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;justify-content:space-between;
  border:2px dashed var(--gp-hero);border-radius:.9rem;padding:.75rem 1rem;margin-bottom:1rem;background:var(--gp-tint)}
.gp-viewing p{margin:0;overflow-wrap:anywhere}
.gp-viewing strong{font-weight:700}
"""


def _form() -> rx.Component:
    return busy_form(
        V, "view", V.open,
        rx.el.div(
            field("va", "account", "staff.view.account", V.errors, autocomplete="off", inputmode="numeric",
                  default_value=V.number),
            field("va", "reason", "staff.view.reason", V.errors, control="textarea", max_length=500, rows=2,
                  span2=True, hint=T["staff.view.reason_hint"]),
            class_name="gp-form-grid",
        ),
        label=T["staff.view.open"], icon="eye", key=V.form_key, id="view-form",
    )


def _banner() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.p(rx.el.strong(T["staff.view.banner"]), " ", V.info.number),
            rx.el.p(T["staff.view.reason"], ": ", V.reason, class_name="gp-muted", id="view-reason"),
            rx.el.p(T["staff.view.logged"], " ", V.opened[I18nState.lang], class_name="gp-muted"),
        ),
        rx.el.button(rx.icon("x", size=16, aria_hidden="true"), T["staff.view.close"], type="button",
                     class_name="gp-btn gp-btn-ghost gp-btn-sm", on_click=V.close, id="view-close"),
        class_name="gp-viewing", role="status", id="view-banner",
    )


def view_page() -> rx.Component:
    return app_layout(
        "view",
        rx.el.style(CSS),
        page_title("staff.view.title", "staff.view.lead"),
        rx.cond(
            V.viewing,
            rx.fragment(_banner(), rx.el.div(summary(V), meters(V, read_only=True), class_name="gp-dash",
                                             id="view-dashboard")),
            rx.el.section(alert("err", V.error, id="view-error"), _form(), class_name="gp-panel",
                          aria_label=T["staff.view.title"]),
        ),
        staff=True,
    )
