"""/signin: login identifier (per profile), password, remember me; links to recovery and
registration; a wait message that points to recovery; the CAPTCHA when the server asks for it."""
from __future__ import annotations

import reflex as rx

from gazportal.components.altcha import captcha_field
from gazportal.components.auth_page import (
    auth_page, checkbox, link, links, login_input_attrs, login_label_key,
)
from gazportal.components.forms import alert, button, error_summary, field
from gazportal.state.i18n import I18nState
from gazportal.state.oidc import OidcState, oidc_enabled
from gazportal.state.signin import SignInState

T = I18nState.t
S = SignInState
FORM_ID = "signin-form"
OIDC_ROUTES = True  # the button's handler (OidcState.start) and /auth/oidc/callback are served


def _oidc_button() -> rx.Component:
    """Single sign-on (gazportal/state/oidc.py): only when issuer, client id and secret are set."""
    if not OIDC_ROUTES or not oidc_enabled():
        return rx.fragment()
    return rx.el.div(
        alert("err", OidcState.error, id="oidc-error"),
        button(T["auth.signin.oidc"], icon="key-round", kind="ghost", on_click=OidcState.start,
               disabled=OidcState.busy, id="oidc-start"),
        class_name="gp-form",
    )


def signin() -> rx.Component:
    return auth_page(
        "auth.signin.title",
        "auth.signin.lead",
        error_summary(
            FORM_ID, S.error, S.field_errors,
            [("login", login_label_key()), ("password", "auth.field.password"), ("captcha", "auth.captcha.label")],
            S.refusals,
            rx.cond(S.locked, rx.el.a(T["auth.signin.locked_recover"], href="/recover", class_name="gp-link gp-alert-link")),
            rx.cond(S.not_confirmed, rx.el.a(T["auth.signin.not_confirmed_link"], href="/confirm",
                                             class_name="gp-link gp-alert-link")),
            prefix="signin", id="signin-error",
        ),
        # why the session ended (?why=...), when the page was opened because of it
        alert("info", S.ended, id="signin-ended"),
        rx.el.form(
            field("signin", "login", login_label_key(), S.field_errors, required=True, **login_input_attrs()),
            field("signin", "password", "auth.field.password", S.field_errors, type="password",
                  auto_complete="current-password", required=True),
            checkbox("signin", "remember", T["auth.signin.remember"]),
            rx.cond(S.captcha_required, captcha_field(S.challenge, S.field_errors, "signin")),
            button(T["auth.signin.submit"], icon="log-in", type="submit", loading=S.busy, id="signin-submit"),
            on_submit=S.submit,
            no_validate=True,
            class_name="gp-form",
            id=FORM_ID,
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
