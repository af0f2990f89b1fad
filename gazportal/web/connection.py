"""What a page shows when its websocket cannot connect, in the customer's language.

Reflex's own overlay (``app_wraps[(5, "Overlay")]``) is an English toast, "Cannot connect to
server: websocket error", and a pulsing icon. It appears whenever the socket fails twice in a row:
the server is down or restarting, the network is gone, or — the case that left a dead page — the
page was opened at an origin the server refuses (Reflex answers the websocket of any origin not in
``cors_allowed_origins`` with 403, and the browser reports only "websocket error", so the page
cannot tell these apart). We put our own notice in its place: what happened, what to do, and the
portal's public address as a link, in the page's language (the texts are the compiled ones of
the profile's default language until the socket first connects).
"""
from __future__ import annotations

import reflex as rx
from reflex.components.core.banner import has_too_many_connection_errors

from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

T = I18nState.t

_BAR = {
    "position": "fixed",
    "top": "0",
    "left": "0",
    "right": "0",
    "z_index": "10000",
    "padding": "0.75rem 1rem",
    "background": "#8a1c1c",
    "color": "#ffffff",
    "font_size": "1rem",
    "line_height": "1.4",
    "text_align": "center",
    "box_shadow": "0 2px 8px rgba(0,0,0,.25)",
}


def connection_notice_body() -> rx.Component:
    """Shown after two failed attempts in a row (Reflex retries with a growing pause)."""
    url = get_settings().public_url
    return rx.cond(
        has_too_many_connection_errors,
        rx.el.div(
            rx.el.strong(T["connection.title"]),
            " ",
            rx.el.span(T["connection.hint"]),
            " ",
            rx.el.a(url, href=url, style={"color": "#ffffff", "text_decoration": "underline"}),
            role="alert",
            id="gp-connection-notice",
            style=_BAR,
        ),
    )


# A component of its own, so that its hooks (the socket's errors, the texts) live in it.
connection_notice = rx.memo(connection_notice_body)


def overlay(stateful: bool) -> rx.Component | None:
    """The app wrap that replaces Reflex's connection toast and pulser."""
    return rx.fragment(connection_notice()) if stateful else None


def install(app: rx.App) -> None:
    app.app_wraps[(5, "Overlay")] = overlay
