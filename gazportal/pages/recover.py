"""/recover: ask for a reset link or code (works on a locked account), then choose a new password;
/recover?token=... is where the e-mail link lands."""
from __future__ import annotations

import reflex as rx

from gazportal.components.auth_page import auth_page, code_field, link, login_field, password_hint
from gazportal.components.forms import alert, button, field
from gazportal.state.i18n import I18nState
from gazportal.state.recover import RecoverState, by_code

T = I18nState.t
S = RecoverState


def _new_password_fields(form: str) -> list[rx.Component]:
    return [
        field(form, "password", "auth.field.password_new", S.field_errors, hint=password_hint(),
              type="password", auto_complete="new-password", required=True),
        field(form, "password2", "auth.field.password_repeat", S.field_errors, type="password",
              auto_complete="new-password", required=True),
    ]


def _request_form() -> rx.Component:
    return rx.el.form(
        login_field("rec", S),
        button(T["auth.recover.send"], icon="send", type="submit", loading=S.busy, id="recover-submit"),
        on_submit=S.request,
        no_validate=True,
        class_name="gp-form",
    )


def _code_form() -> rx.Component:
    return rx.el.form(
        login_field("rc", S),
        code_field("rc", S),
        *_new_password_fields("rc"),
        button(T["auth.recover.save"], icon="key-round", type="submit", id="reset-submit"),
        on_submit=S.reset_with_code,
        no_validate=True,
        class_name="gp-form",
    )


def _link_form() -> rx.Component:
    return rx.el.form(
        *_new_password_fields("rl"),
        button(T["auth.recover.save"], icon="key-round", type="submit", id="reset-submit"),
        on_submit=S.reset_with_link,
        no_validate=True,
        class_name="gp-form",
    )


def recover() -> rx.Component:
    lead = "auth.recover.lead_sms" if by_code() else "auth.recover.lead_email"
    return auth_page(
        "auth.recover.title",
        lead,
        rx.cond(
            S.done,
            rx.el.div(alert("ok", S.notice, id="recover-done"), link(T["auth.recover.to_signin"], "/signin", id="to-signin"),
                      class_name="gp-form"),
            rx.fragment(
                alert("err", S.error, id="recover-error"),
                rx.cond(S.notice != "", alert("info", S.notice, id="recover-notice")),
                rx.match(
                    S.stage,
                    ("code", _code_form()),
                    ("link", _link_form()),
                    ("sent", rx.fragment()),
                    _request_form(),
                ),
                rx.el.div(link(T["auth.recover.to_signin"], "/signin"), class_name="gp-auth-foot"),
            ),
        ),
        icon="key-round",
    )
