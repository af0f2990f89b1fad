"""/accounts: the customer's personal accounts, adding and removing them, re-registration requests."""
from __future__ import annotations

import reflex as rx

from gazportal.components.altcha import captcha_field
from gazportal.components.app_layout import app_layout, page_title
from gazportal.components.forms import alert, busy_form, button, error_summary, field, submission_input
from gazportal.settings import get_settings
from gazportal.state.accounts import PICKER_LEVELS, PICKER_LISTS, UPLOAD_ID, AccountsState as S
from gazportal.state.i18n import I18nState

T = I18nState.t
# the adding form's own fields (the error summary's links)
ADD_FIELDS = [("number", "accounts.add.number"), ("last_payment", "accounts.add.last_payment"),
              ("captcha", "auth.captcha.label")]


def _row(icon: str, label_key: str, value) -> rx.Component:
    return rx.el.div(
        rx.el.dt(rx.icon(icon, size=16, aria_hidden="true"), T[label_key]),
        rx.el.dd(value),
        class_name="gp-acc-row",
    )


def account_card(card) -> rx.Component:
    return rx.el.li(
        rx.el.article(
            rx.el.div(
                rx.el.div(
                    rx.el.span(T["accounts.card.number"], class_name="gp-acc-label"),
                    rx.el.h3(card.number, class_name="gp-acc-num"),
                ),
                rx.cond(
                    card.kind == "legal",
                    rx.el.span(rx.icon("building-2", size=14, aria_hidden="true"), T["accounts.card.legal"],
                               class_name="gp-badge"),
                ),
                class_name="gp-acc-top",
            ),
            rx.el.dl(
                _row("user-round", "accounts.card.holder", card.holder),
                _row("map-pin", "accounts.card.address", card.address),
                _row("scale", "accounts.card.balance", rx.el.span(
                    rx.cond(card.in_debt, rx.icon("triangle-alert", size=16, aria_hidden="true")),
                    card.balance,
                    class_name=rx.cond(card.in_debt, "gp-dash-debt", "gp-dash-ok"),
                    data_balance=card.number,
                    data_debt=rx.cond(card.in_debt, "true", "false"),
                )),
            ),
            rx.cond(card.others.length() > 0, _others(card)),
            rx.el.a(
                rx.icon("gauge", size=18, aria_hidden="true"),
                rx.el.span(T["accounts.card.open"]),
                href="/dashboard?account=" + card.id,
                class_name="gp-btn gp-btn-ghost gp-btn-sm",
                aria_label=T["accounts.card.open"] + " " + card.number,
                data_open=card.number,
            ),
            rx.cond(
                S.can_add,
                rx.el.div(
                    button(
                        T["accounts.unlink"],
                        icon="unlink",
                        kind="danger",
                        class_name="gp-btn-sm",
                        on_click=S.ask_unlink(card.id),
                        aria_label=T["accounts.unlink"] + " " + card.number,
                        data_unlink=card.number,
                    ),
                    class_name="gp-actions",
                ),
            ),
            class_name="gp-acc",
            data_account=card.number,
        ),
    )


def _other(card, h) -> rx.Component:
    return rx.el.li(
        rx.el.span(h.who, class_name="gp-holder-who"),
        rx.el.span(h.since, class_name="gp-muted"),
        rx.cond(
            h.removable,
            button(T["accounts.holders.remove"], icon="user-x", kind="danger", class_name="gp-btn-sm",
                   on_click=S.ask_remove_holder(card.id, h.link_id),
                   aria_label=T["accounts.holders.remove"] + " " + h.who, data_remove_holder=h.who),
        ),
        class_name="gp-holder",
    )


def _others(card) -> rx.Component:
    """The other portal users of the account: who, since when, and — for those who came later —
    the way to take the access away."""
    return rx.el.div(
        rx.el.p(T["accounts.holders.title"], class_name="gp-acc-label"),
        rx.el.ul(rx.foreach(card.others, lambda h: _other(card, h)), class_name="gp-holders"),
        class_name="gp-acc-holders",
    )


def cards() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("wallet-cards", size=20, aria_hidden="true"), T["accounts.list_title"],
                 class_name="gp-panel-h", id="accounts-list-title"),
        rx.cond(
            S.cards.length() > 0,
            rx.el.ul(rx.foreach(S.cards, account_card), class_name="gp-acc-list"),
            rx.cond(
                S.loaded,
                rx.el.p(T["accounts.empty"], class_name="gp-empty"),
                # Until the cards arrive, a placeholder of a card's height keeps the forms below
                # from jumping down (Lighthouse measured a layout shift of 0.47 without it).
                rx.el.ul(rx.el.li(rx.el.div(class_name="gp-acc gp-acc-skeleton")), class_name="gp-acc-list",
                         aria_hidden="true"),
            ),
        ),
        rx.cond(
            S.loaded & ~S.can_add,
            rx.el.p(rx.icon("info", size=18, aria_hidden="true"), rx.el.span(T["accounts.legal_fixed"]),
                    class_name="gp-alert gp-alert-info"),
        ),
        aria_labelledby="accounts-list-title",
        class_name="gp-form",
    )


def _last_payment(prefix: str, **props) -> rx.Component:
    return field(prefix, "last_payment", "accounts.add.last_payment", S.add_errors, input_mode="decimal",
                 auto_complete="off", max_length=20, hint=T["accounts.add.last_payment_hint"],
                 **props)


def _payment_form() -> rx.Component:
    utility = get_settings().utility
    return busy_form(
        S, "add_payment", S.add_by_payment,
        error_summary("add-by-payment", S.error, S.add_errors, ADD_FIELDS, S.refusals, prefix="add"),
        rx.el.div(
            field("add", "number", "accounts.add.number", S.add_errors, input_mode="numeric",
                  auto_complete="off", placeholder=utility.account_number_example, max_length=20),
            _last_payment("add"),
            rx.cond(S.captcha_required, captcha_field(S.challenge, S.add_errors, "add")),
            class_name="gp-form-grid",
        ),
        label=T["accounts.add.submit"], icon="plus", key=S.add_form_key, id="add-by-payment",
    )


def _select(level: str) -> rx.Component:
    """The select of one level of the address picker (disabled until the level above is chosen)."""
    fid = f"pick-{level}"
    has_error = S.add_errors.contains(level)
    index = PICKER_LEVELS.index(level)
    disabled = False if index == 0 else getattr(S, f"sel_{PICKER_LEVELS[index - 1]}") == ""
    return rx.el.div(
        rx.el.label(T[f"accounts.picker.{level}"], html_for=fid, class_name="gp-label"),
        rx.el.select(
            rx.el.option(T["accounts.picker.choose"], value=""),
            rx.foreach(getattr(S, PICKER_LISTS[level]), lambda o: rx.el.option(o.name, value=o.id)),
            id=fid,
            value=getattr(S, f"sel_{level}"),
            on_change=lambda value: S.pick(level, value),
            disabled=disabled,
            class_name="gp-input",
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=f"{fid}-err",
        ),
        rx.el.p(rx.cond(has_error, S.add_errors[level], ""), id=f"{fid}-err", class_name="gp-field-error"),
        class_name="gp-field",
    )


def _address_form() -> rx.Component:
    utility = get_settings().utility
    return rx.el.div(
        # at the top: the address's selects come before the form's own fields
        error_summary("add-by-address", S.error, S.add_errors,
                      [(level, f"accounts.picker.{level}") for level in PICKER_LEVELS] + ADD_FIELDS,
                      S.refusals, prefix="pick"),
        rx.el.div(
            *[_select(level) for level in PICKER_LEVELS[:-1]],
            rx.cond(S.flats.length() > 0, _select("flat")),  # only where the house has flats
            class_name="gp-form-grid",
        ),
        busy_form(
            S, "add_address", S.add_by_address,
            rx.el.div(
                field("pick", "number", "accounts.add.number", S.add_errors, input_mode="numeric",
                      auto_complete="off", placeholder=utility.account_number_example, max_length=20,
                      disabled=S.sel_house == ""),
                _last_payment("pick", disabled=S.sel_house == ""),
                rx.cond(S.captcha_required, captcha_field(S.challenge, S.add_errors, "pick")),
                class_name="gp-form-grid",
            ),
            label=T["accounts.add.submit"], icon="plus", key=S.add_form_key, id="add-by-address",
            disabled=(S.sel_house == "") | (S.busy == "add_address"),
        ),
        class_name="gp-form",
    )


def add_panel() -> rx.Component:
    methods = list(get_settings().utility.add_account_by)
    tabs = rx.fragment()
    if len(methods) > 1:
        tabs = rx.el.div(
            *[
                rx.el.button(
                    T[f"accounts.add.by_{m}"],
                    type="button",
                    class_name="gp-tab",
                    aria_pressed=rx.cond((S.add_mode == m) | ((S.add_mode == "") & (m == methods[0])), "true", "false"),
                    on_click=S.set_add_mode(m),
                    data_mode=m,
                )
                for m in methods
            ],
            role="group",
            aria_label=T["accounts.add.how"],
            class_name="gp-tabs",
        )
    body = {
        "payment_proof": (_payment_form, "accounts.add.payment_intro"),
        "address_picker": (_address_form, "accounts.add.address_intro"),
    }
    def method(m: str) -> rx.Component:
        return rx.fragment(rx.el.p(T[body[m][1]], class_name="gp-panel-sub"), body[m][0]())

    # The first method is the default one (also before the page has loaded: no jump when it does).
    content = method(methods[0]) if len(methods) == 1 else rx.match(
        S.add_mode, *[(m, method(m)) for m in methods[1:]], method(methods[0]))
    # Shown while the page loads too (most customers may add accounts): appearing above the
    # re-registration panel after the first paint, it pushed that panel down (layout shift 0.13).
    # The server refuses additions to a fixed (legal entity's) list whatever the page shows.
    return rx.cond(
        S.can_add | ~S.loaded,
        rx.el.section(
            rx.el.h2(rx.icon("circle-plus", size=20, aria_hidden="true"), T["accounts.add.title"],
                     class_name="gp-panel-h", id="add-title"),
            tabs,
            content,
            class_name="gp-panel",
            aria_labelledby="add-title",
        ),
    )


def _doc(doc) -> rx.Component:
    return rx.el.li(
        rx.cond(doc.type == "application/pdf",  # two static icons: a dynamic name loads all of lucide
                rx.icon("file-text", size=20, aria_hidden="true"), rx.icon("image", size=20, aria_hidden="true")),
        rx.el.span(doc.name, class_name="gp-doc-name"),
        rx.el.span(doc.size, class_name="gp-req-meta"),
        rx.el.button(
            rx.icon("trash-2", size=18, aria_hidden="true"),
            type="button",
            class_name="gp-btn gp-btn-danger gp-btn-sm",
            aria_label=T["accounts.docs.remove"] + " " + doc.name,
            on_click=S.remove_document(doc.id),
        ),
        class_name="gp-doc",
    )


def _request_form() -> rx.Component:
    return busy_form(
        S, "request", S.start_request,
        rx.el.div(
            field("rereg", "account_number", "accounts.rereg.account_number", S.req_errors, input_mode="numeric",
                  auto_complete="off", max_length=20),
            field("rereg", "new_owner_name", "accounts.rereg.new_owner_name", S.req_errors, auto_complete="off",
                  max_length=200),
            field("rereg", "phone", "accounts.rereg.phone", S.req_errors, type="tel", auto_complete="tel",
                  max_length=30),
            field("rereg", "comment", "accounts.rereg.comment", S.req_errors, control="textarea",
                  max_length=2000, span2=True),
            class_name="gp-form-grid",
        ),
        label=T["accounts.rereg.start"], icon="file-plus", key=S.req_form_key, id="rereg-form",
    )


def _draft() -> rx.Component:
    has_error = S.req_errors.contains("file")
    return rx.el.div(
        rx.el.dl(
            rx.el.div(rx.el.dt(T["accounts.rereg.account_number"], class_name="gp-hint"),
                      rx.el.dd(S.draft_number, class_name="gp-label"), class_name="gp-kv"),
            rx.el.div(rx.el.dt(T["accounts.rereg.new_owner_name"], class_name="gp-hint"),
                      rx.el.dd(S.draft_owner, class_name="gp-label"), class_name="gp-kv"),
            class_name="gp-form-grid",
            style={"margin": "0"},
        ),
        rx.el.h3(T["accounts.docs.title"], class_name="gp-h3"),
        rx.el.p(T["accounts.docs.rules"], class_name="gp-hint", id="docs-rules"),
        rx.cond(
            S.docs.length() > 0,
            rx.el.ul(rx.foreach(S.docs, _doc), class_name="gp-docs", aria_label=T["accounts.docs.title"]),
            rx.el.p(T["accounts.docs.none"], class_name="gp-empty"),
        ),
        rx.upload.root(
            rx.el.div(
                rx.icon("upload", size=26, aria_hidden="true"),
                rx.el.span(T["accounts.docs.choose"], class_name="gp-label"),
                rx.el.span(T["accounts.docs.choose_hint"], class_name="gp-hint"),
                class_name="gp-drop",
            ),
            id=UPLOAD_ID,
            multiple=False,
            max_files=1,
            no_keyboard=False,
            accept={
                "application/pdf": [".pdf"],
                "image/jpeg": [".jpg", ".jpeg"],
                "image/png": [".png"],
                "image/heic": [".heic", ".heif"],
            },
            on_drop=S.upload_document(rx.upload_files(upload_id=UPLOAD_ID)),
            aria_label=T["accounts.docs.choose"],
            aria_describedby="docs-rules docs-err",
        ),
        rx.el.p(
            rx.cond(has_error, rx.fragment(rx.icon("circle-alert", size=16, aria_hidden="true"), S.req_errors["file"])),
            id="docs-err",
            class_name="gp-field-error",
            aria_live="polite",
        ),
        alert("ok", S.req_notice),
        rx.el.form(
            # Sending the draft is a create form: it names the draft and carries the submission id.
            rx.el.input(type="hidden", name="draft", value=S.draft_id),
            submission_input(S),
            rx.el.div(button(T["accounts.rereg.submit"], icon="send", type="submit",
                             on_click=S.begin("submit_request"), loading=S.busy == "submit_request",
                             id="rereg-submit"),
                      class_name="gp-actions"),
            on_submit=S.submit_request,
            reset_on_submit=False,
            id="rereg-send",
        ),
        class_name="gp-form",
    )


def _request_item(r) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.span(r.number, " · ", r.owner, class_name="gp-label"),
            rx.el.span(r.date, " · ", T["accounts.docs.title"], ": ", r.count, class_name="gp-req-meta"),
            class_name="gp-req-main",
        ),
        rx.el.span(T["accounts.rereg.status." + r.status.to(str)], class_name="gp-badge", data_status=r.status),
        class_name="gp-req",
    )


def rereg_panel() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("file-pen-line", size=20, aria_hidden="true"), T["accounts.rereg.title"],
                 class_name="gp-panel-h", id="rereg-title"),
        rx.el.p(T["accounts.rereg.intro"], class_name="gp-panel-sub"),
        alert("err", S.req_error),
        rx.cond(S.draft_id != "", _draft(), rx.fragment(alert("ok", S.req_notice), _request_form())),
        rx.cond(
            S.requests.length() > 0,
            rx.el.div(
                rx.el.h3(T["accounts.rereg.list_title"], class_name="gp-h3", style={"margin_top": "1.25rem"}),
                rx.el.ul(rx.foreach(S.requests, _request_item), class_name="gp-reqs"),
            ),
        ),
        class_name="gp-panel",
        aria_labelledby="rereg-title",
    )


def _confirm_dialog(title: str, text: str, subject, *, open_, on_cancel, ok: str, icon: str, on_ok,
                    ok_id: str) -> rx.Component:
    """A destructive action's confirmation: its title, what it does, whom (``subject``), cancel / do it."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(T[title]),
            rx.alert_dialog.description(T[text], " ", rx.el.strong(subject)),
            rx.el.div(
                rx.alert_dialog.cancel(button(T["accounts.unlink_confirm.cancel"], kind="ghost", on_click=on_cancel)),
                rx.alert_dialog.action(button(T[ok], kind="danger-solid", icon=icon, on_click=on_ok, id=ok_id)),
                class_name="gp-actions",
                style={"justify_content": "flex-end", "margin_top": "1rem"},
            ),
            style={"max_width": "28rem"},
        ),
        open=open_,
    )


def unlink_dialog() -> rx.Component:
    return _confirm_dialog("accounts.unlink_confirm.title", "accounts.unlink_confirm.text", S.unlink_number,
                           open_=S.unlink_id != "", on_cancel=S.cancel_unlink, ok="accounts.unlink_confirm.ok",
                           icon="unlink", on_ok=S.confirm_unlink, ok_id="unlink-confirm")


def remove_holder_dialog() -> rx.Component:
    return _confirm_dialog("accounts.holders.confirm_title", "accounts.holders.confirm_text", S.drop_who,
                           open_=S.drop_link != "", on_cancel=S.cancel_remove_holder, ok="accounts.holders.remove",
                           icon="user-x", on_ok=S.confirm_remove_holder, ok_id="remove-holder-confirm")


def accounts_page() -> rx.Component:
    return app_layout(
        "accounts",
        page_title("accounts.title", "accounts.lead"),
        alert("ok", S.notice, id="accounts-notice"),
        rx.cond(~S.can_add, alert("err", S.error)),
        cards(),
        rx.el.div(add_panel(), rereg_panel(), class_name="gp-grid2"),
        unlink_dialog(),
        remove_holder_dialog(),
    )
