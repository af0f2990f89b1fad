"""The utility's contacts (address, phones, hours, e-mail, web site) as the rows of a ``<dl>``:
the landing page and the contacts page show the same list under their own heading."""
from __future__ import annotations

import re

import reflex as rx

from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState

T = I18nState.t


def tel(number: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", number)


def _contact(icon: str, label_key: str, *value: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.dt(rx.icon(icon, size=22, aria_hidden="true"), T[label_key]),
        rx.el.dd(*value),
        class_name="gp-contact",
    )


def contact_items(*, space_after_label: bool = False) -> list[rx.Component]:
    """One row per contact of the profile (the web site when it has one). The contacts page puts a
    space between a phone's label and its number; the landing page does not."""
    c = get_settings().utility.contacts
    gap = (" ",) if space_after_label else ()
    items = [
        _contact("map-pin", "index.contacts.address", T["utility.address"]),
        _contact(
            "phone",
            "index.contacts.phones",
            rx.el.ul(
                *[
                    rx.el.li(
                        rx.el.span(T[f"utility.phone.{i}"], class_name="gp-phone-label"),
                        *gap,
                        rx.el.a(p.number, href=tel(p.number), class_name="gp-link"),
                    )
                    for i, p in enumerate(c.phones)
                ],
                class_name="gp-phones",
            ),
        ),
        _contact("clock", "index.contacts.hours", T["utility.opening_hours"]),
        _contact("mail", "index.contacts.email", rx.el.a(c.email, href=f"mailto:{c.email}", class_name="gp-link")),
    ]
    if c.website:
        shown = re.sub(r"^https?://", "", c.website).rstrip("/")
        items.append(_contact("globe", "index.contacts.website", rx.el.a(shown, href=c.website, class_name="gp-link")))
    return items
