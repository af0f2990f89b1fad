"""/auth/oidc/callback: where the single sign-on provider sends the browser back. The on_load
handler (OidcState.callback) finishes the sign-in and goes to /accounts; a refusal is shown here
with the way back to /signin."""
from __future__ import annotations

import reflex as rx

from gazportal.components.auth_page import auth_page, link, links
from gazportal.state.i18n import I18nState
from gazportal.state.oidc import CALLBACK_ROUTE, OidcState  # noqa: F401 (CALLBACK_ROUTE: for add_page)

T = I18nState.t
S = OidcState


def oidc_callback() -> rx.Component:
    return auth_page(
        "auth.oidc.title",
        None,
        rx.cond(
            S.failed,
            rx.el.div(
                rx.el.div(
                    rx.icon("circle-alert", size=18, aria_hidden="true"),
                    rx.el.span(S.error),
                    class_name="gp-alert gp-alert-err",
                    role="alert",
                    id="oidc-error",
                ),
                links(link(T["auth.oidc.back"], "/signin", id="oidc-back")),
                class_name="gp-form",
            ),
            rx.el.p(
                rx.icon("loader-circle", size=18, aria_hidden="true"),
                rx.el.span(T["auth.oidc.working"]),
                class_name="gp-alert gp-alert-info",
                role="status",
                id="oidc-working",
            ),
        ),
        icon="key-round",
    )
