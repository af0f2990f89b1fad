"""/recover: ask for a reset link or code (works on a locked account), then choose a new password;
/recover?token=... is where the e-mail link lands."""
from __future__ import annotations

import reflex as rx

from gazportal.components.auth_page import auth_page, code_field, link, login_field, login_label_key, password_hint
from gazportal.components.forms import alert, button, error_summary, field
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


LABELS = {"code": "auth.field.code", "password": "auth.field.password_new", "password2": "auth.field.password_repeat"}


def _summary(form: str, prefix: str, fields: list[str]) -> rx.Component:
    """The refusal at the top of the form shown (one form at a time: the state's one message)."""
    labelled = [(f, login_label_key() if f == "login" else LABELS[f]) for f in fields]
    return error_summary(form, S.error, S.field_errors, labelled, S.refusals, prefix=prefix, id="recover-error")


def _request_form() -> rx.Component:
    return rx.el.form(
        _summary("recover-form", "rec", ["login"]),
        login_field("rec", S),
        button(T["auth.recover.send"], icon="send", type="submit", loading=S.busy, id="recover-submit"),
        on_submit=S.request,
        no_validate=True,
        id="recover-form",
        class_name="gp-form",
    )


def _code_form() -> rx.Component:
    return rx.el.form(
        _summary("reset-code-form", "rc", ["login", "code", "password", "password2"]),
        login_field("rc", S),
        code_field("rc", S),
        *_new_password_fields("rc"),
        button(T["auth.recover.save"], icon="key-round", type="submit", id="reset-submit"),
        on_submit=S.reset_with_code,
        no_validate=True,
        id="reset-code-form",
        class_name="gp-form",
    )


def _link_form() -> rx.Component:
    return rx.el.form(
        _summary("reset-link-form", "rl", ["password", "password2"]),
        *_new_password_fields("rl"),
        button(T["auth.recover.save"], icon="key-round", type="submit", id="reset-submit"),
        on_submit=S.reset_with_link,
        no_validate=True,
        id="reset-link-form",
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
                # a refusal when no form is shown (a dead link): the form's summary otherwise
                rx.cond(S.stage == "sent", alert("err", S.error, id="recover-error")),
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
