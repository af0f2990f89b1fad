"""/register: the fields the profile asks for. A wrong field is marked red with its message
under it (aria-invalid + aria-describedby); the other fields keep what was typed."""
from __future__ import annotations

import reflex as rx

from gazportal.components.altcha import captcha_field
from gazportal.components.auth_page import (
    auth_page, checkbox, link, login_hint, login_input_attrs, login_label_key, password_hint, phone_hint,
    radio_group,
)
from gazportal.components.forms import alert, button, error_summary, field, submission_input
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState
from gazportal.state.register import RegisterState

T = I18nState.t
S = RegisterState
F = "reg"
FORM_ID = "reg-form"


def _summary_fields() -> list[tuple[str, str]]:
    """The fields the profile's form shows, in its order, with their label keys: the error
    summary's links (a login that is the phone or the account number is refused on both names,
    and only the login is on the page)."""
    p = get_settings().utility
    shown = {
        "email": p.login_identifier != "email",
        "phone": p.login_identifier != "phone",
        "bin": p.legal_entities,
        "account_number": p.proof_by_last_payment and p.login_identifier != "account",
        "last_payment": p.proof_by_last_payment,
        "agreement": bool(p.user_agreement),
    }
    fields = [("login", login_label_key()), ("password", "auth.field.password_new"),
              ("password2", "auth.field.password_repeat"), ("surname", "auth.field.surname"),
              ("name", "auth.field.name"), ("email", "auth.field.email"), ("phone", "auth.field.phone"),
              ("bin", "auth.field.bin"), ("account_number", "auth.field.account_number"),
              ("last_payment", "auth.field.last_payment"), ("agreement", "auth.register.agreement_link"),
              ("captcha", "auth.captcha.label")]
    return [(name, key) for name, key in fields if shown.get(name, True)]


def _form() -> rx.Component:
    p = get_settings().utility
    fe = S.field_errors
    parts: list[rx.Component] = [
        rx.el.h2(T["auth.register.section_login"], class_name="gp-section-h"),
        field(F, "login", login_label_key(), fe, hint=login_hint(), span2=True, required=True,
              **login_input_attrs()),
        field(F, "password", "auth.field.password_new", fe, hint=password_hint(), type="password",
              auto_complete="new-password", required=True),
        field(F, "password2", "auth.field.password_repeat", fe, type="password", auto_complete="new-password",
              required=True),
        rx.el.h2(T["auth.register.section_person"], class_name="gp-section-h"),
        field(F, "surname", "auth.field.surname", fe, auto_complete="family-name", required=True),
        field(F, "name", "auth.field.name", fe, auto_complete="given-name", required=True),
    ]
    if p.login_identifier != "email":
        email_needed = p.confirmation == "email_link"
        parts.append(field(F, "email", "auth.field.email", fe, type="email", input_mode="email", auto_complete="email",
                           hint=T["auth.field.email_hint" if email_needed else "auth.field.email_optional_hint"],
                           span2=True, required=email_needed))
    if p.login_identifier != "phone":
        parts.append(field(F, "phone", "auth.field.phone", fe, type="tel", input_mode="tel", auto_complete="tel",
                           hint=phone_hint("auth.field.phone_hint"), span2=True, required=True))
    if p.legal_entities:
        parts.append(radio_group(F, "kind", "auth.field.kind",
                                 [("person", "auth.field.kind_person"), ("legal", "auth.field.kind_legal")],
                                 S.kind, S.set_kind))
        parts.append(rx.cond(S.kind == "legal",
                             field(F, "bin", "auth.field.bin", fe, hint=T["auth.field.bin_hint"], input_mode="numeric",
                                   max_length=12, span2=True)))
    if p.proof_by_last_payment:
        parts += [
            rx.el.h2(T["auth.register.section_account"], class_name="gp-section-h"),
            field(F, "account_number", "auth.field.account_number", fe, input_mode="numeric",
                  hint=T["auth.field.account_number_hint"] + " " + p.account_number_example, required=True)
            if p.login_identifier != "account"
            else rx.fragment(),
            field(F, "last_payment", "auth.field.last_payment", fe, input_mode="decimal",
                  hint=T["auth.field.last_payment_hint"], required=True),
        ]
    if p.user_agreement:
        parts.append(checkbox(F, "agreement",
                              rx.fragment(T["auth.register.agree"], " ",
                                          rx.el.a(T["auth.register.agreement_link"], href="/agreement", target="_blank",
                                                  class_name="gp-link")),
                              fe))
    # The profile's CAPTCHA is always there; otherwise it appears when the server asks for it
    # (the account number is being guessed from elsewhere: services/throttle.py).
    parts.append(captcha_field(S.challenge, fe, F) if p.captcha
                 else rx.cond(S.captcha_required, captcha_field(S.challenge, fe, F)))
    return rx.el.form(
        rx.el.div(*parts, class_name="gp-form-grid"),
        submission_input(S),
        button(T["auth.register.submit"], icon="user-plus", type="submit", loading=S.busy, id="reg-submit"),
        on_submit=S.submit,
        class_name="gp-form",
        id=FORM_ID,
        aria_labelledby="page-title",
        no_validate=True,
    )


def _done() -> rx.Component:
    p = get_settings().utility
    next_link = (
        link(T["auth.register.to_confirm"], "/confirm", id="to-confirm")
        if p.confirmation == "sms_code"
        else link(T["auth.register.to_signin"], "/signin", id="to-signin")
    )
    return rx.el.div(alert("ok", S.notice, id="reg-done"), next_link, class_name="gp-form")


def register() -> rx.Component:
    return auth_page(
        "auth.register.title",
        "auth.register.lead",
        rx.cond(
            S.done,
            _done(),
            rx.fragment(
                error_summary(FORM_ID, S.error, S.field_errors, _summary_fields(), S.refusals, prefix=F, id="reg-error"),
                _form(),
                rx.el.div(
                    rx.el.span(T["auth.register.have_account"]),
                    link(T["auth.register.to_signin"], "/signin"),
                    class_name="gp-auth-foot",
                ),
            ),
        ),
        wide=True,
        icon="user-plus",
    )
