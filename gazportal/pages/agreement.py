"""/agreement: the user agreement the registration form links to."""
from __future__ import annotations

import reflex as rx

from gazportal.components.auth_page import auth_page, link
from gazportal.state.i18n import I18nState

T = I18nState.t
SECTIONS = ("subject", "account", "data", "duties", "changes")


def agreement() -> rx.Component:
    return auth_page(
        "auth.agreement.title",
        "auth.agreement.lead",
        rx.el.div(
            *[
                rx.fragment(
                    rx.el.h2(T[f"auth.agreement.{s}.title"]),
                    rx.el.p(T[f"auth.agreement.{s}.text"]),
                )
                for s in SECTIONS
            ],
            class_name="gp-agreement",
        ),
        rx.el.div(link(T["auth.agreement.back"], "/register"), class_name="gp-auth-foot"),
        wide=True,
        icon="file-text",
    )
