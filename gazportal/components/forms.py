"""Form pieces shared by the signed-in pages: a labelled field with its error, alerts, buttons.

A field's error comes from a ``dict[str, str]`` state var (field name -> translated message);
the input is marked ``aria-invalid`` and described by the message, so a screen reader says why.
Inputs are plain <input>s tied to their <label for>, uncontrolled: what the customer typed stays
when the server refuses another field.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.state.i18n import I18nState

T = I18nState.t


def field(
    form: str,
    name: str,
    label_key: str,
    errors: Any,
    *,
    hint: Any = None,
    control: str = "input",
    options: list[tuple[str, Any]] | None = None,
    span2: bool = False,
    **attrs: Any,
) -> rx.Component:
    """``<label>`` + control + error. ``errors`` is the state's dict var of field errors."""
    fid = f"{form}-{name}"
    has_error = errors.contains(name)
    described = [f"{fid}-err"] + ([f"{fid}-hint"] if hint is not None else [])
    common = dict(
        id=fid,
        name=name,
        class_name="gp-input",
        aria_invalid=rx.cond(has_error, "true", "false"),
        aria_describedby=" ".join(described),
        **attrs,
    )
    if control == "select":
        ctl = rx.el.select(*[rx.el.option(label, value=value) for value, label in (options or [])], **common)
    elif control == "textarea":
        ctl = rx.el.textarea(**common)
    else:
        ctl = rx.el.input(**common)
    return rx.el.div(
        rx.el.label(T[label_key], html_for=fid, class_name="gp-label"),
        rx.el.p(hint, id=f"{fid}-hint", class_name="gp-hint") if hint is not None else rx.fragment(),
        ctl,
        rx.el.p(
            rx.cond(has_error, rx.fragment(rx.icon("circle-alert", size=16, aria_hidden="true"), errors[name])),
            id=f"{fid}-err",
            class_name="gp-field-error",
            aria_live="polite",
        ),
        class_name="gp-field gp-span2" if span2 else "gp-field",
    )


def alert(kind: str, text: Any, **attrs: Any) -> rx.Component:
    icon = {"ok": "circle-check", "err": "circle-alert", "info": "info"}[kind]
    return rx.cond(
        text != "",
        rx.el.p(
            rx.icon(icon, size=18, aria_hidden="true"),
            rx.el.span(text),
            class_name=f"gp-alert gp-alert-{kind}",
            role="alert" if kind == "err" else "status",
            **attrs,
        ),
    )


def spinner() -> rx.Component:
    """A small turning circle (decorative: the button says ``aria-busy``)."""
    return rx.el.span(class_name="gp-spin", aria_hidden="true")


def button(label: Any, *, icon: str | None = None, kind: str = "", loading: Any = None, **attrs: Any) -> rx.Component:
    """A button; with ``loading`` (a bool state var, e.g. the state's ``busy`` while its handler
    runs) it shows a spinner instead of its icon, says ``aria-busy`` and is disabled meanwhile,
    so a slow action cannot be sent twice."""
    attrs.setdefault("type", "button")
    cls = "gp-btn" + (f" gp-btn-{kind}" if kind else "")
    if "class_name" in attrs:
        cls += " " + attrs.pop("class_name")
    glyph = rx.icon(icon, size=18, aria_hidden="true") if icon else rx.fragment()
    if loading is not None:
        attrs.setdefault("disabled", loading)
        attrs["aria_busy"] = rx.cond(loading, "true", "false")
        glyph = rx.cond(loading, spinner(), glyph)
    return rx.el.button(
        glyph,
        rx.el.span(label),
        class_name=cls,
        **attrs,
    )


def submission_input(state: Any) -> rx.Component:
    """The hidden ``submission`` field of a create form: the state's current submission id, used
    once by the server (``state/contract.py``, ``services/submissions.py``), so a double click or a
    replayed event stores one row."""
    # Before the page's state arrives the prerendered page would hold the id made when the page was
    # built (the same for every visitor): it says "" instead, which the server takes once per tab.
    return rx.el.input(type="hidden", name="submission", value=rx.cond(rx.State.is_hydrated, state.submission, ""))


def busy_form(state: Any, name: str, handler: Any, *children: rx.Component, label: Any, icon: str, key: Any,
              id: str, creates: bool = True, **button_attrs: Any) -> rx.Component:
    """A form with "please wait": ``children``, then its submit button (a spinner while ``state.busy``
    is ``name``) and, for a create form, the submission id. Its submit chain is
    ``[state.begin(name), handler]``; what was typed stays after a submit, and the form is emptied
    when ``key`` (an int var) changes. The browser's own validation is off (``novalidate``):
    required and malformed fields get the portal's translated messages from the server."""
    return rx.el.form(
        *children,
        rx.el.div(button(label, icon=icon, type="submit", loading=state.busy == name, **button_attrs),
                  class_name="gp-actions"),
        *([submission_input(state)] if creates else []),
        on_submit=[state.begin(name), handler],
        reset_on_submit=False,
        # the server checks every field and says what is wrong in the page's language; the
        # browser's own bubbles (in the browser's language, one at a time) would stop it first
        no_validate=True,
        key=key.to_string(),
        class_name="gp-form",
        id=id,
    )
