"""The frame of the sign-in, registration, confirmation and recovery pages: the public header
(logo, name, language switch), a card with the form, and a side note; plus small form pieces
(checkbox, radio group, link row) the shared ``components.forms`` does not have."""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.components.app_layout import APP_CSS
from gazportal.components.forms import field
from gazportal.components.layout import layout
from gazportal.services import passwords
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

T = I18nState.t

LOGIN_LABEL = {"email": "auth.field.login_email", "phone": "auth.field.login_phone", "account": "auth.field.login_account"}
LOGIN_INPUT = {
    "email": dict(type="email", input_mode="email", auto_complete="username"),
    "phone": dict(type="tel", input_mode="tel", auto_complete="username"),
    "account": dict(type="text", input_mode="numeric", auto_complete="username"),
}


def login_label_key() -> str:
    return LOGIN_LABEL[get_settings().utility.login_identifier]


def login_input_attrs() -> dict[str, Any]:
    return dict(LOGIN_INPUT[get_settings().utility.login_identifier])


def login_hint_key() -> str:
    return {"email": "auth.field.login_email_hint", "phone": "auth.field.login_phone_hint",
            "account": "auth.field.login_account_hint"}[get_settings().utility.login_identifier]


def login_field(form: str, state: Any) -> rx.Component:
    """The login (e-mail, phone or account number, per profile), pre-filled with ``state.login_hint``."""
    return field(form, "login", login_label_key(), state.field_errors, default_value=state.login_hint, required=True,
                 **login_input_attrs())


def code_field(form: str, state: Any) -> rx.Component:
    """A 6-digit code from an SMS (the phone's keypad, the OS offers it from the message)."""
    return field(form, "code", "auth.field.code", state.field_errors, hint=T["auth.field.code_hint"],
                 input_mode="numeric", auto_complete="one-time-code", max_length=6, required=True)


def auth_page(title_key: str, lead_key: str | None, *children: rx.Component, wide: bool = False,
              icon: str = "lock-keyhole") -> rx.Component:
    return layout(
        rx.el.style(APP_CSS + AUTH_CSS),
        rx.el.div(
            rx.el.section(
                rx.el.div(
                    rx.el.span(rx.icon(icon, size=26, aria_hidden="true"), class_name="gp-auth-badge"),
                    rx.el.div(
                        rx.el.h1(T[title_key], class_name="gp-auth-h1", id="page-title"),
                        rx.el.p(T[lead_key], class_name="gp-auth-lead") if lead_key else rx.fragment(),
                    ),
                    class_name="gp-auth-head",
                ),
                *children,
                class_name="gp-auth-card" + (" gp-auth-wide" if wide else ""),
                aria_labelledby="page-title",
            ),
            class_name="gp-container gp-auth-wrap",
        ),
    )


def checkbox(form: str, name: str, label: Any, errors: Any | None = None, **attrs: Any) -> rx.Component:
    fid = f"{form}-{name}"
    extra: dict[str, Any] = {}
    if errors is not None:
        extra = dict(aria_invalid=rx.cond(errors.contains(name), "true", "false"), aria_describedby=f"{fid}-err")
    return rx.el.div(
        rx.el.label(
            rx.el.input(type="checkbox", id=fid, name=name, class_name="gp-check-input", **extra, **attrs),
            rx.el.span(label),
            class_name="gp-check",
        ),
        rx.el.p(
            rx.cond(errors.contains(name), rx.fragment(rx.icon("circle-alert", size=16, aria_hidden="true"), errors[name])),
            id=f"{fid}-err",
            class_name="gp-field-error",
        )
        if errors is not None
        else rx.fragment(),
        class_name="gp-field gp-span2",
    )


def radio_group(form: str, name: str, legend_key: str, options: list[tuple[str, str]], value: Any,
                on_change: Any) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(T[legend_key], class_name="gp-label"),
        rx.el.div(
            *[
                rx.el.label(
                    rx.el.input(
                        type="radio", name=name, value=v, id=f"{form}-{name}-{v}",
                        checked=value == v, on_change=on_change(v), class_name="gp-check-input",
                    ),
                    rx.el.span(T[key]),
                    class_name="gp-radio",
                )
                for v, key in options
            ],
            class_name="gp-radios",
        ),
        class_name="gp-fieldset gp-span2",
    )


def links(*items: rx.Component) -> rx.Component:
    return rx.el.div(*items, class_name="gp-auth-links")


def link(text: Any, href: str, **attrs: Any) -> rx.Component:
    return rx.el.a(text, href=href, class_name="gp-link", **attrs)


AUTH_CSS = """
.gp-alert-body{display:flex;flex-direction:column;gap:.45rem;min-width:0}
.gp-alert-body .gp-alert-link{align-self:flex-start}
.gp-auth-wrap{padding-top:2rem;padding-bottom:1rem;display:flex;justify-content:center}
.gp-auth-card{width:100%;max-width:28rem;background:var(--gp-surface);border:1px solid var(--gp-line);border-top:5px solid var(--gp-hero);
  border-radius:1.1rem;padding:1.5rem 1.25rem;box-sizing:border-box;box-shadow:0 10px 30px rgba(20,40,70,.08);
  display:flex;flex-direction:column;gap:1.1rem}
.gp-auth-wide{max-width:46rem}
.gp-auth-head{display:flex;gap:.9rem;align-items:flex-start}
.gp-auth-badge{flex:none;display:flex;align-items:center;justify-content:center;width:3rem;height:3rem;border-radius:.9rem;
  background:var(--gp-tint-strong);color:var(--gp-link)}
.gp-auth-h1{font-size:1.5rem;line-height:1.2;margin:0;font-weight:750;letter-spacing:-.01em}
.gp-auth-lead{margin:.3rem 0 0;color:var(--gp-muted);font-size:.9375rem}
.gp-auth-links{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem 1rem;font-size:.9375rem}
.gp-auth-foot{border-top:1px solid var(--gp-line);padding-top:1rem;display:flex;flex-wrap:wrap;gap:.35rem .5rem;
  align-items:center;justify-content:center;font-size:.9375rem;color:var(--gp-muted)}
.gp-auth-card .gp-btn{width:100%}
.gp-auth-card .gp-actions .gp-btn{width:auto;flex:1 1 auto}
.gp-check{display:flex;gap:.6rem;align-items:flex-start;cursor:pointer;font-size:.9375rem;line-height:1.4}
.gp-check-input{width:1.25rem;height:1.25rem;margin:.05rem 0 0;flex:none;accent-color:var(--gp-hero)}
.gp-check-input[aria-invalid="true"]{outline:2px solid #c62828;outline-offset:2px}
.gp-fieldset{border:0;margin:0;padding:0;min-width:0;display:flex;flex-direction:column;gap:.45rem}
.gp-radios{display:flex;flex-wrap:wrap;gap:.5rem}
.gp-radio{display:flex;gap:.55rem;align-items:center;padding:.6rem .9rem;border:1.5px solid var(--gp-line);border-radius:.7rem;
  cursor:pointer;flex:1 1 10rem;min-height:2.9rem;box-sizing:border-box}
.gp-radio:has(input:checked){border-color:var(--gp-hero);background:var(--gp-tint)}
.gp-section-h{font-size:1rem;font-weight:700;margin:.25rem 0 0;grid-column:1/-1;color:var(--gp-ink);
  border-top:1px solid var(--gp-line);padding-top:1rem}
.gp-captcha{grid-column:1/-1;--altcha-max-width:100%;--altcha-border-radius:.7rem;--altcha-color-border:#8b96a3}
/* a refusal's CAPTCHA message goes once the widget has solved its fresh challenge */
.gp-captcha:has(.altcha[data-state=verified]) .gp-field-error{display:none}
.gp-agreement h2{font-size:1.0625rem;margin:1rem 0 .35rem}
.gp-agreement p{margin:0 0 .6rem;line-height:1.6}
.gp-page a.gp-link{color:var(--gp-link);font-weight:600;text-decoration:underline;text-underline-offset:3px}
.gp-auth-card input:focus-visible,.gp-auth-card button:focus-visible,.gp-auth-card select:focus-visible{
  outline:3px solid var(--gp-accent);outline-offset:2px}
@media (min-width:48rem){
  .gp-auth-wrap{padding-top:3rem}
  .gp-auth-card{padding:2rem 2.25rem}
  .gp-auth-wide .gp-form-grid{grid-template-columns:repeat(2,minmax(0,1fr))}
  .gp-auth-wide .gp-form-grid .gp-span2{grid-column:1/-1}
}
"""


PHONE_EXAMPLE = {"KZ": "+7 701 123 4567", "UA": "+380 50 123 4567"}


def password_rule_texts() -> list[Any]:
    """The utility's password rules as texts of the page's language, in order, from the one rule
    list (``services.passwords.hints``): what every new-password field says."""
    out = []
    for notice in passwords.hints(get_settings().utility):
        text = T[notice.key]
        for name, value in notice.params.items():
            text = text.replace("{" + name + "}", str(value))
        out.append(text)
    return out


def password_hint() -> Any:
    """The rules in one sentence, for the hint under a new-password field (registration, reset)."""
    texts = password_rule_texts()
    sentence = T["change_password.policy.title"] + " " + texts[0]
    for text in texts[1:]:
        sentence = sentence + "; " + text
    return sentence + "."


def password_rules(**attrs: Any) -> rx.Component:
    """The rules as a list under their title (the password page)."""
    return rx.el.div(
        rx.el.p(T["change_password.policy.title"], class_name="gp-label", style={"margin": "0"}),
        rx.el.ul(*[rx.el.li(text) for text in password_rule_texts()],
                 style={"margin": ".25rem 0 0", "padding_left": "1.25rem"}, class_name="gp-hint"),
        **attrs,
    )


def phone_hint(key: str) -> Any:
    return T[key].replace("{example}", PHONE_EXAMPLE[get_settings().utility.phone_region])


def login_hint() -> Any:
    return phone_hint(login_hint_key())
