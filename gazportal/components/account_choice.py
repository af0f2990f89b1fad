"""The account switcher of the signed-in pages (dashboard, statistics, statement): one radio choice
per account with its number and its whole address, wrapped at spaces (issue 14 point 20: a
``<select>`` cut a long address mid-word on a 390 px phone, and its options were cut at 120
characters). Choosing one calls the page's handler with the account's id."""
from __future__ import annotations

from typing import Any, Callable

import reflex as rx

from gazportal.state.i18n import I18nState

T = I18nState.t

CSS = """
.gp-acc-switch{width:100%;border:0;margin:0;padding:0;min-width:0;display:flex;flex-direction:column;gap:.4rem}
.gp-acc-choices{display:flex;flex-wrap:wrap;gap:.5rem}
.gp-acc-choice{display:flex;gap:.6rem;align-items:flex-start;padding:.6rem .85rem;border:1.5px solid var(--gp-line);
  border-radius:.8rem;cursor:pointer;flex:1 1 15rem;min-width:0;min-height:2.9rem;box-sizing:border-box;background:var(--gp-surface)}
.gp-acc-choice:has(input:checked){border-color:var(--gp-hero);background:var(--gp-tint)}
.gp-acc-choice:has(input:focus-visible){outline:3px solid var(--gp-accent);outline-offset:2px}
.gp-acc-choice input{width:1.15rem;height:1.15rem;margin:.15rem 0 0;flex:none;accent-color:var(--gp-hero)}
.gp-acc-choice-text{display:flex;flex-direction:column;min-width:0}
.gp-acc-choice-num{font-weight:700}
.gp-acc-choice-addr{font-size:.9rem;white-space:normal;overflow-wrap:break-word}
"""


def account_choice(accounts: Any, chosen: Any, pick: Callable[[Any], Any], fid: str, label_key: str,
                   **attrs: Any) -> rx.Component:
    """A fieldset (id ``fid``, legend ``label_key``) with a radio choice for each of ``accounts``
    (a list var of ``views.AccountOption``: id, number, address); ``chosen`` is the id var of the
    account shown, ``pick(id)`` the event its change sends."""

    def choice(a: Any) -> rx.Component:
        return rx.el.label(
            rx.el.input(type="radio", name=fid, value=a.id, checked=chosen == a.id, on_change=pick(a.id)),
            rx.el.span(
                rx.el.span(a.number, class_name="gp-acc-choice-num"),
                rx.el.span(a.address, class_name="gp-acc-choice-addr"),
                class_name="gp-acc-choice-text",
            ),
            class_name="gp-acc-choice",
            data_account=a.number,
        )

    return rx.el.fieldset(
        rx.el.legend(T[label_key], class_name="gp-label"),
        rx.el.div(rx.foreach(accounts, choice), class_name="gp-acc-choices"),
        class_name="gp-acc-switch",
        id=fid,
        **attrs,
    )
