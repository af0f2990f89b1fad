"""/signin: login identifier (per profile), password, remember me; links to recovery and
registration; a lock message that points to recovery."""
from __future__ import annotations

import reflex as rx

from gazportal.components.auth_page import (
    auth_page, checkbox, link, links, login_input_attrs, login_label_key,
)
from gazportal.components.forms import alert, button, field
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState
from gazportal.state.signin import SignInState

T = I18nState.t
S = SignInState
OIDC_ROUTES = False  # set True once /auth/oidc/start and /auth/oidc/callback are served


def _oidc_button() -> rx.Component:
    # Single sign-on (services/oidc.py) is not wired to /auth/oidc/start and /auth/oidc/callback
    # yet: no button until those routes exist.
    if not get_settings().oidc.issuer or not OIDC_ROUTES:
        return rx.fragment()
    return rx.el.a(
        rx.icon("key-round", size=18, aria_hidden="true"),
        rx.el.span(T["auth.signin.oidc"]),
        href="/auth/oidc/start",
        class_name="gp-btn gp-btn-ghost",
    )


def signin() -> rx.Component:
    return auth_page(
        "auth.signin.title",
        "auth.signin.lead",
        rx.cond(
            S.error != "",
            rx.el.div(
                rx.icon("circle-alert", size=18, aria_hidden="true"),
                rx.el.div(
                    rx.el.span(S.error),
                    rx.cond(S.locked, rx.el.a(T["auth.signin.locked_recover"], href="/recover", class_name="gp-link gp-alert-link")),
                    rx.cond(S.not_confirmed, rx.el.a(T["auth.signin.not_confirmed_link"], href="/confirm", class_name="gp-link gp-alert-link")),
                    class_name="gp-alert-body",
                ),
                class_name="gp-alert gp-alert-err",
                role="alert",
                id="signin-error",
            ),
        ),
        rx.el.form(
            field("signin", "login", login_label_key(), S.field_errors, required=True, **login_input_attrs()),
            field("signin", "password", "auth.field.password", S.field_errors, type="password",
                  auto_complete="current-password", required=True),
            checkbox("signin", "remember", T["auth.signin.remember"]),
            button(T["auth.signin.submit"], icon="log-in", type="submit", disabled=S.busy, id="signin-submit"),
            on_submit=S.submit,
        no_validate=True,
            class_name="gp-form",
            aria_labelledby="page-title",
        ),
        links(link(T["auth.signin.forgot"], "/recover", id="to-recover")),
        _oidc_button(),
        rx.el.div(
            rx.el.span(T["auth.signin.new_here"]),
            link(T["auth.signin.register"], "/register", id="to-register"),
            class_name="gp-auth-foot",
        ),
    )
