"""The colour-mode switch (light / dark) and the header's tools: language switch + colour mode.

One toggle button with a name ("Dark mode") and ``aria-pressed``: a screen reader says whether
the dark mode is on. Reflex keeps the choice in the browser (localStorage "theme") and puts the
class ``dark`` or ``light`` on <html>; components/theme.py gives both modes their colours.
"""
from __future__ import annotations

import reflex as rx

from gazportal.components.lang_switch import lang_switch
from gazportal.state.i18n import I18nState


def color_mode_button() -> rx.Component:
    return rx.el.button(
        rx.color_mode_cond(
            rx.icon("moon", size=20, aria_hidden="true"),
            rx.icon("sun", size=20, aria_hidden="true"),
        ),
        type="button",
        class_name="gp-mode-btn",
        aria_label=I18nState.t["theme.dark_mode"],
        title=I18nState.t["theme.dark_mode"],
        aria_pressed=rx.color_mode_cond("false", "true"),
        on_click=rx.toggle_color_mode,
        data_testid="color-mode",
    )


def header_tools() -> rx.Component:
    return rx.el.div(lang_switch(), color_mode_button(), class_name="gp-tools")
