"""/confirm: the e-mail link lands here (?token=...), or the customer types the SMS code; either
way a new link or code can be asked for."""
from __future__ import annotations

import reflex as rx

from gazportal.components.auth_page import auth_page, code_field, link, login_field
from gazportal.components.forms import alert, button, field
from gazportal.settings import get_settings
from gazportal.state.confirm import ConfirmState
from gazportal.state.i18n import I18nState

T = I18nState.t
S = ConfirmState


def _resend_form() -> rx.Component:
    return rx.el.form(
        rx.el.h2(T["auth.confirm.resend_title"], class_name="gp-panel-h"),
        login_field("resend", S),
        button(T["auth.confirm.resend"], icon="send", type="submit", kind="ghost", id="resend-submit"),
        on_submit=S.resend,
        no_validate=True,
        class_name="gp-form gp-auth-sub",
    )


def _password(form: str) -> rx.Component:
    """The password chosen at registration, asked when the login was registered more than once."""
    return field(form, "password", "auth.field.password", S.field_errors, type="password",
                 auto_complete="current-password", hint=T["auth.confirm.password_hint"], required=True)


def _link_password_form() -> rx.Component:
    return rx.el.form(
        _password("confirm"),
        button(T["auth.confirm.submit_password"], icon="check", type="submit", id="confirm-password-submit"),
        on_submit=S.submit_link_password,
        no_validate=True,
        class_name="gp-form",
    )


def _code_form() -> rx.Component:
    return rx.el.form(
        login_field("code", S),
        code_field("code", S),
        rx.cond(S.needs_password, _password("code")),
        button(T["auth.confirm.submit_code"], icon="check", type="submit", id="code-submit"),
        on_submit=S.submit_code,
        no_validate=True,
        class_name="gp-form",
    )


def _taken() -> rx.Component:
    """The login was confirmed by another registration: sign in or recover, never "send again"."""
    return rx.el.div(
        link(T["auth.confirm.to_signin"], "/signin", id="taken-signin"),
        link(T["auth.signin.forgot"], "/recover", id="taken-recover"),
        class_name="gp-form",
    )


def _done() -> rx.Component:
    return rx.el.div(
        alert("ok", S.notice, id="confirm-done"),
        link(T["auth.confirm.to_signin"], "/signin", id="to-signin"),
        class_name="gp-form",
    )


def confirm() -> rx.Component:
    p = get_settings().utility
    if p.confirmation == "none":
        body = rx.el.div(
            rx.el.p(T["auth.confirm.not_needed"]), link(T["auth.confirm.to_signin"], "/signin"), class_name="gp-form"
        )
    else:
        # an SMS code is typed here; a link arrives by e-mail (until it does, say where to look)
        middle = (_code_form() if p.confirmation == "sms_code"
                  else rx.cond(S.needs_password, _link_password_form(),
                               rx.cond(~S.had_link, rx.el.p(T["auth.confirm.check_mail"], class_name="gp-auth-text"))))
        body = rx.cond(
            S.confirmed,
            _done(),
            rx.fragment(
                alert("err", S.error, id="confirm-error"),
                rx.cond(S.notice != "", alert("info", S.notice, id="confirm-notice")),
                rx.cond(S.taken, _taken(), rx.fragment(middle, _resend_form())),
            ),
        )
    lead = "auth.confirm.lead_sms" if p.confirmation == "sms_code" else "auth.confirm.lead_email"
    return auth_page("auth.confirm.title", lead, body, icon="mail-check")
