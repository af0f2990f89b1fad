"""/profile: the customer's own details and language; /confirm-email: the link to a new e-mail;
/email-undo: the old address's "it was not me" link."""
from __future__ import annotations

import reflex as rx

from gazportal.components.app_layout import APP_CSS, app_layout, page_title, panel
from gazportal.components.forms import alert, busy_form, error_summary, field
from gazportal.components.layout import layout
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState
from gazportal.state.user_profile import ConfirmEmailState, EmailUndoState, ProfileState as S

T = I18nState.t
# the form's fields in its order (the error summary's links)
PROFILE_FIELDS = [(f, f"my_profile.{f}") for f in ("surname", "name", "phone", "email", "birth_date", "gender",
                                                   "language")] + [("current", "my_profile.current_password")]


def _v(name: str):
    return getattr(S.values, name)


def profile_form() -> rx.Component:
    utility = get_settings().utility
    genders = [("", T["my_profile.gender_unset"]), ("female", T["my_profile.gender_female"]),
               ("male", T["my_profile.gender_male"])]
    languages = [(code, T[f"lang.{code}"]) for code in utility.languages]  # each in its own language
    return busy_form(
        S, "save", S.save,
        error_summary("profile-form", S.error, S.errors, PROFILE_FIELDS, S.refusals, prefix="prof"),
        rx.el.div(
            field("prof", "surname", "my_profile.surname", S.errors, default_value=_v("surname"),
                  auto_complete="family-name", max_length=100, required=True),
            field("prof", "name", "my_profile.name", S.errors, default_value=_v("name"),
                  auto_complete="given-name", max_length=100, required=True),
            field("prof", "phone", "my_profile.phone", S.errors, default_value=_v("phone"), type="tel",
                  auto_complete="tel", max_length=30),
            field("prof", "email", "my_profile.email", S.errors, default_value=_v("email"), type="email",
                  auto_complete="email", max_length=254, hint=T["my_profile.email_hint"]),
            field("prof", "birth_date", "my_profile.birth_date", S.errors, default_value=_v("birth_date"),
                  type="date", auto_complete="bday", min="1900-01-01", max="2100-12-31"),
            field("prof", "gender", "my_profile.gender", S.errors, control="select", options=genders,
                  default_value=_v("gender")),
            field("prof", "language", "my_profile.language", S.errors, control="select", options=languages,
                  default_value=_v("language"), hint=T["my_profile.language_hint"]),
            field("prof", "current", "my_profile.current_password", S.errors, type="password",
                  auto_complete="current-password", max_length=128, hint=T["my_profile.current_password_hint"]),
            class_name="gp-form-grid",
        ),
        rx.cond(
            S.pending_email != "",
            rx.el.p(rx.icon("mail", size=18, aria_hidden="true"),
                    rx.el.span(T["my_profile.pending_email"], " ", rx.el.strong(S.pending_email)),
                    class_name="gp-alert gp-alert-info"),
        ),
        alert("ok", S.notice, id="profile-notice"),
        label=T["my_profile.save"], icon="save", key=S.form_key, id="profile-form", creates=False,
    )


def profile_page() -> rx.Component:
    return app_layout(
        "profile",
        page_title("my_profile.title", "my_profile.lead"),
        panel(
            "id-card", "my_profile.details", "profile-details",
            rx.cond(S.loaded, profile_form(), rx.el.p(T["my_profile.loading"], class_name="gp-empty")),
            style={"max_width": "48rem"},
        ),
    )


def confirm_email_page() -> rx.Component:
    return layout(
        rx.el.style(APP_CSS),
        rx.el.div(
            rx.el.section(
                rx.el.h1(T["confirm_email.title"], class_name="gp-app-h1"),
                rx.match(
                    ConfirmEmailState.status,
                    ("ok", alert("ok", T["confirm_email.ok"], id="confirm-email-result")),
                    ("failed", alert("err", T["confirm_email.failed"], id="confirm-email-result")),
                    rx.el.p(T["confirm_email.working"], class_name="gp-empty"),
                ),
                rx.el.div(
                    rx.el.a(T["confirm_email.to_profile"], href="/profile", class_name="gp-btn"),
                    class_name="gp-actions",
                ),
                class_name="gp-panel gp-form",
                style={"max_width": "36rem", "margin": "0 auto"},
            ),
            class_name="gp-container gp-app-main",
        ),
    )


def email_undo_page() -> rx.Component:
    U = EmailUndoState
    return layout(
        rx.el.style(APP_CSS),
        rx.el.div(
            rx.el.section(
                rx.el.h1(T["email_undo.title"], class_name="gp-app-h1"),
                rx.match(
                    U.status,
                    ("cancelled", alert("ok", T["email_undo.cancelled"], id="email-undo-result")),
                    ("restored", alert("ok", T["email_undo.restored"].replace("{email}", U.email),
                                       id="email-undo-result")),
                    ("failed", alert("err", T["email_undo.failed"], id="email-undo-result")),
                    rx.el.p(T["email_undo.working"], class_name="gp-empty"),
                ),
                rx.cond(
                    U.reset_link != "",
                    rx.fragment(
                        rx.el.p(T["email_undo.new_password"]),
                        rx.el.div(rx.el.a(T["email_undo.choose_password"], href=U.reset_link, id="email-undo-reset",
                                          class_name="gp-btn"),
                                  class_name="gp-actions"),
                    ),
                ),
                class_name="gp-panel gp-form",
                style={"max_width": "36rem", "margin": "0 auto"},
            ),
            class_name="gp-container gp-app-main",
        ),
    )
