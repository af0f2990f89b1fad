"""Form pieces shared by every page: a labelled field with its error, the error summary, the live
region, alerts, buttons.

A field's error comes from a ``dict[str, str]`` state var (field name -> translated message);
the input is marked ``aria-invalid`` and described by the message, so a screen reader says why.
Inputs are plain <input>s tied to their <label for>, uncontrolled: what the customer typed stays
when the server refuses another field.

After a refused submit (issue 14 point 16) the form's :func:`error_summary` — a heading, the
form-level sentence and a link to each invalid field — is announced (``role=alert``), focused and
scrolled into view by :data:`ERROR_SUMMARY_JS` (one small script in the page head): on a phone the
refusal is where the customer looks, not 1,300 px above the button. Results while typing go to
one polite :func:`live_region` per form; a field's own message is not a live region (it would be
said a second time next to the summary) but the field's description.
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
    so a slow action cannot be sent twice. It is also busy until the page's state has arrived and
    its on_load handlers have run (``is_hydrated``): a submit sent earlier would be answered before
    the page's own reset, which then wiped the refusal it had just shown (seen in CI on a busy
    machine: the registration's error summary took the focus, then vanished)."""
    attrs.setdefault("type", "button")
    cls = "gp-btn" + (f" gp-btn-{kind}" if kind else "")
    if "class_name" in attrs:
        cls += " " + attrs.pop("class_name")
    glyph = rx.icon(icon, size=18, aria_hidden="true") if icon else rx.fragment()
    if loading is not None:
        loading = loading | ~rx.State.is_hydrated
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


# The one script behind every error summary. On a form's submit it notes the refusal count of the
# summary that belongs to that form (``data-summary-for`` = the form's id); when the server's answer
# shows a summary with another count — a refusal, even one with the same messages as before — it
# moves the focus there and scrolls it into view. A link of the summary focuses its field (a plain
# fragment link would scroll but leave the focus where it was).
ERROR_SUMMARY_JS = """(function(){
if(window.gpSummary)return;window.gpSummary=true;
function find(id){return document.querySelector('[data-summary-for="'+id+'"]');}
function count(el){return el?el.getAttribute('data-refusal'):null;}
function show(el){el.focus({preventScroll:true});el.scrollIntoView({block:'start'});}
var watch=null;
document.addEventListener('submit',function(ev){
  var form=ev.target;if(!form||!form.id)return;
  var before=count(find(form.id));
  if(watch){watch.disconnect();}
  var obs=new MutationObserver(function(){
    var el=find(form.id);
    if(el&&el.offsetParent!==null&&count(el)!==before){obs.disconnect();watch=null;show(el);}
  });
  obs.observe(document.body,{subtree:true,childList:true,attributes:true,attributeFilter:['data-refusal']});
  watch=obs;setTimeout(function(){obs.disconnect();},120000);
},true);
document.addEventListener('click',function(ev){
  var a=ev.target&&ev.target.closest&&ev.target.closest('a[data-field-link]');if(!a)return;
  var f=document.getElementById(a.getAttribute('data-field-link'));if(!f)return;
  ev.preventDefault();f.scrollIntoView({block:'center'});f.focus({preventScroll:true});
});
})();"""


def error_summary(form: str, error: Any, errors: Any, fields: list[tuple[str, str]], refusals: Any,
                  *extra: rx.Component, prefix: str | None = None, **attrs: Any) -> rx.Component:
    """The summary of a refused submit, at the top of the form whose id is ``form``: a heading, the
    form-level sentence ``error`` (a str var, "" for none; not shown next to field links, where it
    only says to correct them) and, for each ``(name, label key)`` of
    ``fields`` (in the form's order) that ``errors`` (the state's dict var) names, a link to the
    field (id ``<prefix>-<name>``; ``prefix`` defaults to ``form``) that says "<label>: <message>"
    (several fields may have the same message, e.g. "Please fill in this field."); ``extra`` goes
    after the list (e.g. sign-in's "reset your password" link).

    ``refusals`` is the state's refusal counter (an int var the state raises on each refusal):
    when it changes after a submit of ``form``, :data:`ERROR_SUMMARY_JS` focuses the summary
    (``tabindex=-1``) and scrolls it into view; ``role=alert`` has it said at once."""
    prefix = prefix or form
    has_fields = rx.Var.create(False)
    for name, _ in fields:
        has_fields = has_fields | errors.contains(name)
    title_id = f"{form}-summary-title"
    return rx.cond(
        (error != "") | has_fields,
        rx.el.div(
            rx.icon("circle-alert", size=20, aria_hidden="true"),
            rx.el.div(
                rx.el.h2(T["forms.summary_title"], id=title_id, class_name="gp-summary-h"),
                # with field links the form-level sentence is only "correct the marked fields"
                rx.cond((error != "") & ~has_fields, rx.el.p(error, class_name="gp-summary-text")),
                rx.cond(
                    has_fields,
                    rx.el.ul(
                        *[rx.cond(errors.contains(name),
                                  rx.el.li(rx.el.a(T[label] + ": " + errors[name], href=f"#{prefix}-{name}",
                                                   data_field_link=f"{prefix}-{name}", class_name="gp-link")))
                          for name, label in fields],
                        class_name="gp-summary-list",
                    ),
                ),
                *extra,
                class_name="gp-alert-body",
            ),
            role="alert",
            tab_index=-1,
            aria_labelledby=title_id,
            data_summary_for=form,
            data_refusal=refusals.to_string(),
            class_name="gp-alert gp-alert-err gp-summary",
            **attrs,
        ),
    )


def live_region(text: Any, **attrs: Any) -> rx.Component:
    """The form's one polite live region: results while typing (a live check, a count) are said
    when the customer pauses, without taking the focus. Always in the page (a region added at the
    moment it speaks is not heard), empty when there is nothing to say."""
    return rx.el.div(text, role="status", aria_live="polite", class_name="gp-live", **attrs)
