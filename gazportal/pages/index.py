"""The first page: what the portal is for, when readings are accepted, how to reach the utility."""
from __future__ import annotations

import reflex as rx

from gazportal.components.contacts import contact_items
from gazportal.components.layout import layout
from gazportal.components.forms import alert
from gazportal.settings import get_settings
from gazportal.state.demo import DEMO_PASSWORD, DemoState, known_demo_login
from gazportal.state.i18n import I18nState

T = I18nState.t

SERVICE_ICONS = {"gas": "flame", "water": "droplet", "electricity": "zap"}
FEATURES = (
    ("readings", "gauge"),
    ("balance", "wallet"),
    ("statistics", "chart-column"),
    ("messages", "message-square-text"),
)


def _icon(name: str, size: int = 22) -> rx.Component:
    return rx.icon(name, size=size, aria_hidden="true")


def hero() -> rx.Component:
    utility = get_settings().utility
    return rx.el.section(
        rx.el.div(
            rx.el.div(
                rx.el.ul(
                    *[
                        rx.el.li(_icon(SERVICE_ICONS[s], 16), T[f"services.{s}"], class_name="gp-chip")
                        for s in utility.services
                    ],
                    class_name="gp-chips",
                    aria_label=T["index.services_label"],
                ),
                rx.el.h1(T["index.title"], class_name="gp-h1"),
                rx.el.p(T["index.lead"], class_name="gp-lead"),
                rx.el.div(
                    rx.el.a(T["auth.signin.submit"], href="/signin", id="index-signin", class_name="gp-cta gp-cta-main"),
                    rx.el.a(T["auth.signin.register"], href="/register", id="index-register", class_name="gp-cta"),
                    class_name="gp-ctas",
                ),
            ),
            rx.el.aside(
                rx.el.div(
                    _icon("calendar-days", 24),
                    rx.el.h2(T["index.window.title"], class_name="gp-h2"),
                    class_name="gp-window-head",
                ),
                rx.el.p(T["utility.reading_window"], id="reading-window"),
                class_name="gp-window",
                aria_label=T["index.window.title"],
            ),
            class_name="gp-container gp-hero-grid",
        ),
        class_name="gp-hero",
    )


def demo() -> rx.Component:
    """Demo mode only: the demo customer's sign-in details and a button that signs in as them."""
    settings = get_settings()
    if not settings.demo:
        return rx.fragment()
    login = known_demo_login(settings.utility)
    return rx.el.section(
        rx.el.div(
            rx.el.div(_icon("sparkles"), class_name="gp-card-icon"),
            rx.el.div(
                rx.el.h2(T["index.demo.title"], class_name="gp-h3", id="demo-title"),
                rx.el.p(T["index.demo.text"]),
                *([rx.el.p(T["index.demo.login"], " ", rx.el.code(login), class_name="gp-muted")] if login else []),
                rx.el.p(T["index.demo.password"], " ", rx.el.code(DEMO_PASSWORD), class_name="gp-muted"),
                alert("err", DemoState.error, id="demo-error"),
                rx.el.button(_icon("log-in", 18), T["index.demo.enter"], type="button", on_click=DemoState.enter,
                             disabled=DemoState.busy, aria_busy=rx.cond(DemoState.busy, "true", "false"),
                             id="demo-enter", class_name="gp-demo-btn"),
                class_name="gp-demo-body",
            ),
            class_name="gp-card gp-demo",
        ),
        class_name="gp-container gp-section",
        aria_labelledby="demo-title",
    )


def features() -> rx.Component:
    return rx.el.section(
        rx.el.h2(T["index.features.title"], class_name="gp-h2", id="features-title"),
        rx.el.ul(
            *[
                rx.el.li(
                    rx.el.div(_icon(icon), class_name="gp-card-icon"),
                    rx.el.div(
                        rx.el.h3(T[f"index.features.{key}.title"], class_name="gp-h3"),
                        rx.el.p(T[f"index.features.{key}.text"]),
                    ),
                    class_name="gp-card",
                )
                for key, icon in FEATURES
            ],
            class_name="gp-cards",
        ),
        class_name="gp-container gp-section",
        aria_labelledby="features-title",
    )


def contacts() -> rx.Component:
    return rx.el.section(
        rx.el.h2(T["index.contacts.title"], class_name="gp-h2", id="contacts-title"),
        rx.el.dl(*contact_items(), class_name="gp-contacts"),
        class_name="gp-container gp-section",
        aria_labelledby="contacts-title",
    )


def index() -> rx.Component:
    return layout(hero(), demo(), features(), contacts())
