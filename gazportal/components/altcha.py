"""The ALTCHA proof-of-work widget (npm ``altcha``, a web component) as a Reflex component.

The challenge comes from the server inline (``challengejson``: JSON made by
services.captcha.new_challenge), so the widget never fetches anything. Solving runs in the
browser; the widget then puts its payload into a hidden ``<input name="altcha">`` inside the
surrounding form, and the form's submit carries it to the server, where
services.captcha.verify_solution checks it (signature, expiry, single use).

The custom element is registered by importing the package in the browser only (an effect), so
the server-side prerender never evaluates it.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

ALTCHA_NPM = "altcha@2.3.0"


class AltchaWidget(rx.Component):
    """``<altcha-widget>``.

    ``tag`` is a JS identifier on purpose: Reflex names the memo component that wraps this one
    (it has state props) after the tag, and "altcha-widget" would make that name invalid JS
    (the production build then fails). The element itself is rendered as "altcha-widget"."""

    tag = "AltchaWidget"
    library = None
    _is_tag_in_global_scope: ClassVar[bool] = True
    lib_dependencies: list[str] = [ALTCHA_NPM]

    challengejson: rx.Var[str]
    name: rx.Var[str]
    strings: rx.Var[str]
    hidelogo: rx.Var[bool]
    hidefooter: rx.Var[bool]
    auto: rx.Var[str]

    def _get_tag_name(self) -> str:
        return '"altcha-widget"'

    def add_imports(self) -> dict[str, Any]:
        return {"react": [rx.ImportVar(tag="useEffect")]}

    def add_hooks(self) -> list[str]:
        return ['useEffect(() => { import("altcha"); }, []);']


def altcha_widget(challenge: Any, strings: Any, **props: Any) -> rx.Component:
    return AltchaWidget.create(
        challengejson=challenge,
        name="altcha",
        strings=strings,
        hidelogo=True,
        hidefooter=True,
        **props,
    )


def captcha_field(challenge: Any, field_errors: Any, prefix: str) -> rx.Component:
    """The CAPTCHA as a form field: the widget with its texts in the page's language, and under it
    the field's message (``field_errors["captcha"]``, id ``<prefix>-captcha-err``). ``challenge``
    is the state's challenge JSON; a new one remounts the widget (``key``)."""
    from gazportal.state.i18n import I18nState

    t = I18nState.t
    strings = rx.Var.create(
        {
            "label": t["auth.captcha.label"],
            "verified": t["auth.captcha.verified"],
            "verifying": t["auth.captcha.verifying"],
            "waitAlert": t["auth.captcha.wait"],
            "error": t["auth.captcha.error"],
            "expired": t["auth.captcha.expired"],
        }
    ).to_string()
    return rx.el.div(
        altcha_widget(challenge, strings, key=challenge),
        rx.el.p(
            rx.cond(field_errors.contains("captcha"),
                    rx.fragment(rx.icon("circle-alert", size=16, aria_hidden="true"), field_errors["captcha"])),
            id=f"{prefix}-captcha-err",
            class_name="gp-field-error",
        ),
        class_name="gp-captcha gp-field",
        id=f"{prefix}-captcha",  # where the error summary's link leads
    )
