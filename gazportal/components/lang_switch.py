"""The language switch: one button per language of the profile, the current one pressed."""
from __future__ import annotations

import reflex as rx

from gazportal.services.i18n import t as translate
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState


def _button(code: str) -> rx.Component:
    # The language's own name, in that language, whatever the page's language is; on a phone its
    # first three letters (Қаз, Рус, Укр, Eng), so that the four fit one row of a 390 px header.
    # The accessible name is the whole name, which begins with the visible text (WCAG 2.5.3).
    name = translate(f"lang.{code}", code)
    return rx.el.button(
        rx.el.span(name, class_name="gp-lang-full"),
        rx.el.span(name[:3], class_name="gp-lang-short", aria_hidden="true"),
        type="button",
        lang=code,
        aria_label=name,
        class_name="gp-lang-btn",
        aria_pressed=rx.cond(I18nState.lang == code, "true", "false"),
        on_click=I18nState.set_language(code),
        data_lang=code,
    )


def lang_switch() -> rx.Component:
    languages = get_settings().utility.languages
    if len(languages) < 2:
        return rx.fragment()
    return rx.el.div(
        rx.icon("languages", size=20, class_name="gp-lang-icon", aria_hidden="true"),
        rx.el.div(
            *[_button(code) for code in languages],
            role="group",
            aria_label=I18nState.t["lang.switch_label"],
            class_name="gp-lang-list",
        ),
        class_name="gp-lang",
    )
