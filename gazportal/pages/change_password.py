"""/password: change the password (the current one, the new one twice)."""
from __future__ import annotations

import reflex as rx

from gazportal.components.app_layout import app_layout, page_title, panel
from gazportal.components.auth_page import password_rules
from gazportal.components.forms import alert, busy_form, error_summary, field
from gazportal.state.change_password import PasswordState as S
from gazportal.state.i18n import I18nState

T = I18nState.t
# the form's fields and their labels (the error summary's links)
FIELDS = [("current", "change_password.current"), ("password", "change_password.new"),
          ("password2", "change_password.new2")]


def _policy() -> rx.Component:
    return password_rules(id="password-policy", class_name="gp-alert gp-alert-info",
                          style={"flex_direction": "column", "gap": "0"})


def password_page() -> rx.Component:
    pw = dict(type="password", max_length=128, required=True)
    return app_layout(
        "password",
        page_title("change_password.title", "change_password.lead"),
        panel(
            "key-round", "change_password.form_title", "password-title",
            busy_form(
                S, "change", S.change,
                error_summary("password-form", S.error, S.errors, FIELDS, S.refusals, prefix="pw"),
                field("pw", "current", "change_password.current", S.errors, auto_complete="current-password", **pw),
                _policy(),
                field("pw", "password", "change_password.new", S.errors, auto_complete="new-password", **pw),
                field("pw", "password2", "change_password.new2", S.errors, auto_complete="new-password", **pw),
                alert("ok", S.notice, id="password-notice"),
                label=T["change_password.submit"], icon="check", key=S.form_key, id="password-form",
            ),
            style={"max_width": "36rem"},
        ),
    )
