"""The accounts page: the customer's account cards, adding one (payment proof or the address
picker), unlinking, and requests to re-register an account with documents.

Thin: every handler is declared (``state/contract.py``: access and arguments are checked before the
body runs, the user comes in ``ctx``), calls one function of ``gazportal.services.accounts`` (which
checks ownership) and sets display vars. The create forms (adding an account, a request, sending
it) carry the state's submission id: a repeated submit stores nothing. A document uploaded twice to
the same draft (the same bytes) is stored once (:attr:`AccountsState._doc_sha`).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import accounts as svc
from gazportal.services import captcha, dashboard, i18n
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state.contract import (
    CUSTOMER, Choice, Ctx, Files, Form, FormMixin, Id, call, engine, field_texts, handler, utility, say,
)
from gazportal.state.i18n import resay_on_language_change
from gazportal.state.register import CAPTCHA_FIELD, RESET_WIDGET
from gazportal.state.views import AccountCard, DocumentRow, HolderView, Option, RequestRow, balance_text, refusal

UPLOAD_ID = "rereg-doc"
PICKER_LEVELS = ("branch", "settlement", "street", "house", "flat")
PICKER_LISTS = {"branch": "branches", "settlement": "settlements", "street": "streets", "house": "houses",
                "flat": "flats"}  # level -> the state var with its options
_LOADERS = {
    "settlement": svc.settlements,
    "street": svc.streets,
    "house": svc.houses,
    "flat": svc.flats,
}


def _options(items) -> list[Option]:
    return [Option(str(o.id), o.name) for o in items]


def _size(n: int, lang: str) -> str:
    if n < 1024 * 1024:
        return i18n.t("accounts.docs.size_kb", lang, size=i18n.format_number(max(1, round(n / 1024)), lang))
    return i18n.t("accounts.docs.size_mb", lang, size=i18n.format_number(round(n / 2**20, 1), lang, places=1))


def _add_methods() -> list[str]:
    return list(utility().add_account_by)


PICK = Id(blank=True)  # an option of the address picker ("" clears the level)
# the adding forms: the account number, the exact last payment and, when the server asks, the CAPTCHA
_ADD_FIELDS = ("number", "last_payment", CAPTCHA_FIELD)


def _add_form(prefix: str) -> Form:
    return Form(_ADD_FIELDS, optional=(CAPTCHA_FIELD,), secrets=(CAPTCHA_FIELD,), limits={CAPTCHA_FIELD: 4096},
                max_len=64, prefix=prefix)


class AccountsState(FormMixin, rx.State):
    """What the accounts page shows; nothing here decides who may see what."""

    PERSONAL: ClassVar[bool] = True

    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"add_payment", "add_address", "request", "submit_request"})

    loaded: bool = False
    cards: list[AccountCard] = []
    can_add: bool = False

    # adding
    add_mode: str = ""
    add_errors: dict[str, str] = {}
    add_form_key: int = 0
    captcha_required: bool = False  # the server asked for the CAPTCHA (the number is being guessed)
    challenge: str = ""  # the ALTCHA challenge JSON for the widget
    branches: list[Option] = []
    settlements: list[Option] = []
    streets: list[Option] = []
    houses: list[Option] = []
    flats: list[Option] = []
    sel_branch: str = ""
    sel_settlement: str = ""
    sel_street: str = ""
    sel_house: str = ""
    sel_flat: str = ""
    flats_loaded: bool = False

    # unlinking, and taking an account away from a later portal user
    unlink_id: str = ""
    unlink_number: str = ""
    drop_account: str = ""  # the account id and the link id of the holder to remove
    drop_link: str = ""
    drop_who: str = ""

    # re-registration
    requests: list[RequestRow] = []
    draft_id: str = ""
    draft_number: str = ""
    draft_owner: str = ""
    docs: list[DocumentRow] = []
    req_errors: dict[str, str] = {}
    req_notice: str = ""
    req_error: str = ""
    req_form_key: int = 0
    uploading: bool = False
    _doc_sha: dict[str, str] = {}  # document id -> sha256 of its bytes, the shown draft's documents

    # --- helpers ----------------------------------------------------------------------------

    def _clear_messages(self) -> None:
        self.notice = self.error = ""

    def _refresh(self, user_id: int, lang: str, now: datetime) -> None:
        with read_session(engine()) as s:
            cards = svc.list_accounts(s, user_id)
            balances = dashboard.balances_today(s, utility(), user_id, now=now)
            self.can_add = svc.can_add_accounts(s, user_id)
            others = {c.id: svc.other_holders(s, utility(), user_id, c.id) for c in cards} if self.can_add else {}
            reqs = svc.list_requests(s, user_id)
            if self.can_add and "address_picker" in _add_methods() and not self.branches:
                self.branches = _options(svc.branches(s))
        self.cards = [
            AccountCard(str(c.id), c.number, c.holder_name, c.address, c.kind, [
                HolderView(str(h.link_id), h.who, i18n.t("accounts.holders.since", lang, date=i18n.format_date(
                    h.since.astimezone(utility().tz), lang, "medium")), h.removable)
                for h in others.get(c.id, [])], *balance_text(balances.get(c.id, Decimal(0)), lang))
            for c in cards
        ]
        self._show_requests(reqs, lang)

    def _show_requests(self, reqs, lang: str) -> None:
        self.requests = [
            RequestRow(
                id=str(r.id),
                number=r.account_number,
                owner=r.new_owner_name,
                status=r.status,
                status_text=i18n.t(f"accounts.rereg.status.{r.status}", lang),
                date=i18n.format_date(r.submitted_at or r.created_at, lang, "medium"),
                count=str(len(r.documents)),
            )
            for r in reqs
            if r.status != "draft"
        ]
        draft = next((r for r in reqs if r.status == "draft" and str(r.id) == self.draft_id), None)
        if draft is None:
            draft = next((r for r in reqs if r.status == "draft"), None)
        if draft is None:
            self.draft_id = self.draft_number = self.draft_owner = ""
            self.docs = []
            self._doc_sha = {}
        else:
            self.draft_id = str(draft.id)
            self.draft_number = draft.account_number
            self.draft_owner = draft.new_owner_name
            self.docs = [
                DocumentRow(str(d.id), d.filename, _size(d.size, lang), d.content_type)
                for d in draft.documents
            ]
            shown = {d.id for d in self.docs}  # a removed document may be uploaded again
            self._doc_sha = {k: v for k, v in self._doc_sha.items() if k in shown}

    async def _reload(self, ctx: Ctx) -> None:
        await call(self._refresh, ctx.user_id, ctx.lang, ctx.now)

    # --- loading ----------------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER)
    async def load(self, ctx: Ctx):
        """on_load of /accounts."""
        self._clear_messages()
        self.req_notice = self.req_error = ""
        self.add_errors, self.req_errors = {}, {}
        self.unlink_id = self.unlink_number = ""
        self.drop_account = self.drop_link = self.drop_who = ""
        if self.add_mode not in _add_methods():
            self.add_mode = _add_methods()[0]
        await self._reload(ctx)
        self.loaded = True
        return None

    @rx.event
    @handler(CUSTOMER)
    async def relang(self, ctx: Ctx):
        """The language was switched on this page: the requests' dates and statuses again in it."""
        if self.loaded:
            await self._reload(ctx)
        return None

    @rx.event
    @handler(CUSTOMER, mode=Choice(_add_methods))
    def set_add_mode(self, ctx: Ctx, mode: str):
        self.add_mode = mode
        self.add_errors = {}

    # --- adding by payment ------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER, creates=True, form=_add_form("add"))
    async def add_by_payment(self, ctx: Ctx, form: dict[str, str]):
        self._clear_messages()
        return await self._link(ctx, svc.link_by_payment, form)

    async def _link(self, ctx: Ctx, link, form: dict[str, str], *args) -> Any:
        """Add an account with ``link`` (a service function: engine, profile, user id, ``args``,
        the number and the last payment): its refusal on the adding form — with the CAPTCHA from
        then on, once the server has asked for it — or the new card and a notice."""
        try:
            card = await call(link, engine(), utility(), ctx.user_id, *args, form["number"], form["last_payment"],
                              now=ctx.now, lang=ctx.lang, source=ctx.source, captcha_solution=form[CAPTCHA_FIELD])
        except DomainError as e:
            self.add_errors, self.error = refusal(e, ctx.lang)
            self.refusals += 1
            if isinstance(e, FormErrors) and "captcha" in e.fields:
                self.captcha_required = True
            if self.captcha_required:  # a solved challenge is single use
                self.challenge = json.dumps(captcha.new_challenge())
                return rx.call_script(RESET_WIDGET)
            return None
        self.add_errors = {}
        self.add_form_key += 1
        if self.captcha_required:
            self.challenge = json.dumps(captcha.new_challenge())
        self.notice = i18n.t("accounts.added", ctx.lang, number=card.number)
        await self._reload(ctx)
        return None

    # --- the address picker -----------------------------------------------------------------

    async def _pick(self, level: str, option: int | None):
        """Choose ``option`` at ``level`` (None: none); clear what lies below, load the next
        level's list."""
        value = "" if option is None else str(option)
        index = PICKER_LEVELS.index(level)
        if index > 0 and not getattr(self, f"sel_{PICKER_LEVELS[index - 1]}"):
            return None  # the parent is not chosen yet
        if value and value not in {o.id for o in getattr(self, PICKER_LISTS[level])}:
            return None  # not one of the options shown
        setattr(self, f"sel_{level}", value)
        for lower in PICKER_LEVELS[index + 1 :]:
            setattr(self, f"sel_{lower}", "")
            setattr(self, PICKER_LISTS[lower], [])
        self.flats_loaded = False
        self.add_errors = {}
        if value and index + 1 < len(PICKER_LEVELS):
            nxt = PICKER_LEVELS[index + 1]

            def load():
                with read_session(engine()) as s:
                    return _options(_LOADERS[nxt](s, int(value)))

            setattr(self, PICKER_LISTS[nxt], await call(load))
            if nxt == "flat":
                self.flats_loaded = True
        return None

    @rx.event
    @handler(CUSTOMER, level=Choice(PICKER_LEVELS), value=PICK)
    async def pick(self, ctx: Ctx, level: str, value: int | None):
        """A select of the address picker changed (``value`` None: none chosen)."""
        return await self._pick(level, value)

    @rx.event
    @handler(CUSTOMER, creates=True, form=_add_form("pick"))
    async def add_by_address(self, ctx: Ctx, form: dict[str, str]):
        lang = ctx.lang
        self._clear_messages()
        if not self.sel_house:
            self.add_errors = {"house": i18n.t("accounts.picker.choose_house", lang)}
            return
        if self.flats and not self.sel_flat:
            self.add_errors = {"flat": i18n.t("accounts.picker.choose_flat", lang)}
            return
        flat = int(self.sel_flat) if self.sel_flat else None
        return await self._link(ctx, svc.link_by_address, form, int(self.sel_house), flat)

    # --- unlinking --------------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER, account_id=Id())
    async def ask_unlink(self, ctx: Ctx, account_id: int):
        """Open the confirmation for one of the user's accounts (a foreign id opens nothing)."""
        aid, user, lang = account_id, ctx.user, ctx.lang
        self._clear_messages()

        def find():
            with read_session(engine()) as s:
                number = svc.require_account(s, user.user_id, aid).number
                if not svc.can_add_accounts(s, user.user_id):
                    raise svc.AccountsFixed()
                return number

        try:
            number = await call(find)
        except DomainError as e:
            self.error = say(e, lang)
            return
        self.unlink_id, self.unlink_number = str(aid), number

    @rx.event
    @handler(CUSTOMER)
    def cancel_unlink(self, ctx: Ctx):
        self.unlink_id = self.unlink_number = ""

    @rx.event
    @handler(CUSTOMER)
    async def confirm_unlink(self, ctx: Ctx):
        user, lang = ctx.user, ctx.lang
        self._clear_messages()
        if not self.unlink_id:
            return
        number = self.unlink_number
        try:
            await call(svc.unlink, engine(), user.user_id, int(self.unlink_id), now=ctx.now)
        except DomainError as e:
            self.error = say(e, lang)
        else:
            self.notice = i18n.t("accounts.unlinked", lang, number=number)
        self.unlink_id = self.unlink_number = ""
        await self._reload(ctx)

    # --- taking the account away from a later portal user -----------------------------------

    @rx.event
    @handler(CUSTOMER, account_id=Id(), link_id=Id())
    def ask_remove_holder(self, ctx: Ctx, account_id: int, link_id: int):
        """Open the confirmation for one of the other portal users shown on a card (only those the
        page shows; the server checks again on confirming)."""
        self._clear_messages()
        card = next((c for c in self.cards if c.id == str(account_id)), None)
        other = None if card is None else next((h for h in card.others if h.link_id == str(link_id)), None)
        if card is None or other is None or not other.removable:
            return
        self.drop_account, self.drop_link, self.drop_who = card.id, other.link_id, other.who

    @rx.event
    @handler(CUSTOMER)
    def cancel_remove_holder(self, ctx: Ctx):
        self.drop_account = self.drop_link = self.drop_who = ""

    @rx.event
    @handler(CUSTOMER)
    async def confirm_remove_holder(self, ctx: Ctx):
        self._clear_messages()
        if not self.drop_link:
            return
        who = self.drop_who
        try:
            await call(svc.remove_holder, engine(), utility(), ctx.user_id, int(self.drop_account),
                       int(self.drop_link), now=ctx.now)
        except DomainError as e:
            self.error = say(e, ctx.lang)
        else:
            self.notice = i18n.t("accounts.holders.removed", ctx.lang, who=who)
        self.drop_account = self.drop_link = self.drop_who = ""
        await self._reload(ctx)

    # --- re-registration --------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER, creates=True, form=Form(("account_number", "new_owner_name", "phone", "comment"),
                                               long=("comment",), prefix="rereg"))
    async def start_request(self, ctx: Ctx, form: dict[str, str]):
        data, user, lang = form, ctx.user, ctx.lang
        self.req_notice = self.req_error = ""
        if self.draft_id:
            return  # one draft at a time: finish or drop it first
        try:
            rid = await call(
                svc.create_request, engine(), utility(), user.user_id, data["account_number"],
                data["new_owner_name"], data["phone"], data["comment"], now=ctx.now,
            )
        except DomainError as e:
            self.req_errors, self.req_error = refusal(e, lang)
            return
        self.req_errors = {}
        self.draft_id = str(rid)
        self.req_form_key += 1
        await self._reload(ctx)

    @rx.event
    @handler(CUSTOMER, files=Files(1))
    async def upload_document(self, ctx: Ctx, files: list[rx.UploadFile]):
        """One file from rx.upload, checked by the service (size, type by content). The same bytes
        uploaded again to the same draft (a repeated drop, a replayed upload) are stored once.

        The annotation is what Reflex's upload endpoint looks for."""
        self.uploading = False
        user, lang = ctx.user, ctx.lang
        self.req_notice = self.req_error = ""
        if not self.draft_id:
            self.req_errors = {"file": i18n.t("accounts.docs.one_at_a_time", lang)}
            return
        upload = files[0]
        limit = svc.MAX_DOCUMENT_BYTES
        data = await upload.read(limit + 1)  # never more than the limit + 1 byte in memory
        name = upload.filename or ""
        name = name if isinstance(name, str) else ""
        sha = hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else ""
        draft_id = self.draft_id
        if sha and sha in self._doc_sha.values():
            self.req_errors = {}
            self.req_notice = i18n.t("accounts.docs.uploaded", lang)
            return  # already stored with this draft: answered as the first upload was
        try:
            doc = await call(
                svc.add_document, engine(), user.user_id, int(draft_id), name[-200:], data,
                now=ctx.now,
            )
        except FormErrors as e:
            self.req_errors = field_texts(e, lang)
            return
        except DomainError as e:
            self.req_errors = {}
            self.req_error = say(e, lang)
            await self._reload(ctx)
            return
        if sha:
            self._doc_sha = {**self._doc_sha, str(doc.id): sha}
        self.req_errors = {}
        self.req_notice = i18n.t("accounts.docs.uploaded", lang)
        await self._reload(ctx)

    @rx.event
    @handler(CUSTOMER, document_id=Id())
    async def remove_document(self, ctx: Ctx, document_id: int):
        did, user, lang = document_id, ctx.user, ctx.lang
        self.req_notice = self.req_error = ""
        try:
            await call(svc.remove_document, engine(), user.user_id, did, now=ctx.now)
        except DomainError as e:
            self.req_error = say(e, lang)
        await self._reload(ctx)

    @rx.event
    @handler(CUSTOMER, creates=True, form=Form(("draft",), prefix="send"))
    async def submit_request(self, ctx: Ctx, form: dict[str, str]):
        """Send the draft shown: the form names it (``draft``) and carries the submission id; a
        repeat, or a form for another draft than the one shown, sends nothing."""
        user, lang = ctx.user, ctx.lang
        self.req_notice = self.req_error = ""
        if not self.draft_id or form["draft"] != self.draft_id:
            return
        try:
            await call(svc.submit_request, engine(), user.user_id, int(self.draft_id), now=ctx.now)
        except FormErrors as e:
            self.req_errors = field_texts(e, lang)
            return
        except DomainError as e:
            self.req_error = say(e, lang)
            await self._reload(ctx)
            return
        self.req_errors = {}
        self.draft_id = ""
        self.req_notice = i18n.t("accounts.rereg.submitted", lang)
        await self._reload(ctx)


# A language switch on /accounts says the requests' dates and statuses again.
resay_on_language_change("/accounts", AccountsState.relang)
