"""The Reflex app: pages, head, and the event gate."""
import reflex as rx

import gazportal.models  # noqa: F401  (registers every table for `reflex db`)


def index() -> rx.Component:
    return rx.text("gazportal")


app = rx.App()
app.add_page(index, route="/")
