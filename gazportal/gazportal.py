"""The Reflex app: pages, head, and the event gate."""
import reflex as rx

import gazportal.models  # noqa: F401  (registers every table for `reflex db`)
from gazportal.components.theme import stylesheet
from gazportal.pages.index import index
from gazportal.services.i18n import t
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

profile = get_settings().profile
lang = profile.default_language

app = rx.App(
    html_lang=lang,
    head_components=[
        rx.el.meta(name="description", content=t("index.meta_description", lang)),
        rx.el.meta(name="theme-color", content=profile.colors.primary),
        rx.el.link(rel="icon", href=profile.logo, type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
        rx.el.style(stylesheet(profile)),
    ],
)

app.add_page(
    index,
    route="/",
    title=I18nState.t["profile.name"] + " · " + I18nState.t["index.meta_title"],
    image=profile.logo,
    on_load=I18nState.sync_document,
)
