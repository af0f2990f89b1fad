"""The frame of every page: skip link, header (logo, name, language switch), main, footer."""
from __future__ import annotations

import reflex as rx

from gazportal.components.color_mode import header_tools
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

T = I18nState.t


def header() -> rx.Component:
    utility = get_settings().utility
    return rx.el.header(
        rx.el.div(
            rx.el.a(
                rx.el.img(src=utility.logo, alt="", width="48", height="48"),
                rx.el.span(
                    rx.el.span(T["utility.name"], class_name="gp-brand-name"),
                    rx.el.span(T["app.product"], class_name="gp-brand-sub"),
                    class_name="gp-brand-text",
                ),
                href="/",
                class_name="gp-brand",
            ),
            header_tools(),
            class_name="gp-container gp-header-row",
        ),
        class_name="gp-header",
    )


def footer() -> rx.Component:
    return rx.el.footer(
        rx.el.div(
            rx.el.span(T["utility.copyright"]),
            rx.el.span(T["utility.address"]),
            class_name="gp-container",
        ),
        class_name="gp-footer",
    )


def layout(*children: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.a(T["app.skip_to_content"], href="#main", class_name="gp-skip"),
        header(),
        rx.el.main(*children, id="main", tab_index=-1, class_name="gp-main"),
        footer(),
        class_name="gp-page",
    )
