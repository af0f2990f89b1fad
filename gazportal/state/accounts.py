"""The accounts page: the customer's account cards, adding one (payment proof or the address
picker), unlinking, and requests to re-register an account with documents.

Thin: every handler checks what the browser sent, takes the user from the session, calls one
function of ``gazportal.services.accounts`` (which checks ownership) and sets display vars.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import accounts as svc
from gazportal.services import i18n
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state import signed_in as si
from gazportal.state.i18n import resay_on_language_change

UPLOAD_ID = "rereg-doc"
PICKER_LEVELS = ("branch", "settlement", "street", "house", "flat")
_LOADERS = {
    "settlement": svc.settlements,
    "street": svc.streets,
    "house": svc.houses,
    "flat": svc.flats,
}


def _options(items) -> list[dict[str, str]]:
    return [{"id": str(o.id), "name": o.name} for o in items]


def _size(n: int, lang: str) -> str:
    if n < 1024 * 1024:
        return i18n.t("accounts.docs.size_kb", lang, size=i18n.format_number(max(1, round(n / 1024)), lang))
    return i18n.t("accounts.docs.size_mb", lang, size=i18n.format_number(round(n / 2**20, 1), lang, places=1))


class AccountsState(si.BusyMixin, rx.State):
    """What the accounts page shows; nothing here decides who may see what."""

    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"add_payment", "add_address", "request", "submit_request"})

    loaded: bool = False
    cards: list[dict[str, str]] = []
    can_add: bool = False
    notice: str = ""
    error: str = ""

    # adding
    add_mode: str = ""
    add_errors: dict[str, str] = {}
    add_form_key: int = 0
    branches: list[dict[str, str]] = []
    settlements: list[dict[str, str]] = []
    streets: list[dict[str, str]] = []
    houses: list[dict[str, str]] = []
    flats: list[dict[str, str]] = []
    sel_branch: str = ""
    sel_settlement: str = ""
    sel_street: str = ""
    sel_house: str = ""
    sel_flat: str = ""
    flats_loaded: bool = False

    # unlinking
    unlink_id: str = ""
    unlink_number: str = ""

    # re-registration
    requests: list[dict[str, str]] = []
    draft_id: str = ""
    draft_number: str = ""
    draft_owner: str = ""
    docs: list[dict[str, str]] = []
    req_errors: dict[str, str] = {}
    req_notice: str = ""
    req_error: str = ""
    req_form_key: int = 0
    uploading: bool = False

    # --- helpers ----------------------------------------------------------------------------

    async def _who(self):
        return await si.current_user(self)

    def _clear_messages(self) -> None:
        self.notice = self.error = ""

    def _methods(self) -> list[str]:
        return list(si.profile().add_account_by)

    def _refresh(self, user_id: int, lang: str) -> None:
        with read_session(si.engine()) as s:
            cards = svc.list_accounts(s, user_id)
            self.can_add = svc.can_add_accounts(s, user_id)
            reqs = svc.list_requests(s, user_id)
            if self.can_add and "address_picker" in self._methods() and not self.branches:
                self.branches = _options(svc.branches(s))
        self.cards = [
            {"id": str(c.id), "number": c.number, "holder": c.holder_name, "address": c.address, "kind": c.kind}
            for c in cards
        ]
        self._show_requests(reqs, lang)

    def _show_requests(self, reqs, lang: str) -> None:
        self.requests = [
            {
                "id": str(r.id),
                "number": r.account_number,
                "owner": r.new_owner_name,
                "status": r.status,
                "status_text": i18n.t(f"accounts.rereg.status.{r.status}", lang),
                "date": i18n.format_date(r.submitted_at or r.created_at, lang, "medium"),
                "count": str(len(r.documents)),
            }
            for r in reqs
            if r.status != "draft"
        ]
        draft = next((r for r in reqs if r.status == "draft" and str(r.id) == self.draft_id), None)
        if draft is None:
            draft = next((r for r in reqs if r.status == "draft"), None)
        if draft is None:
            self.draft_id = self.draft_number = self.draft_owner = ""
            self.docs = []
        else:
            self.draft_id = str(draft.id)
            self.draft_number = draft.account_number
            self.draft_owner = draft.new_owner_name
            self.docs = [
                {"id": str(d.id), "name": d.filename, "size": _size(d.size, lang), "type": d.content_type}
                for d in draft.documents
            ]

    async def _reload(self, user) -> None:
        await si.call(self._refresh, user.user_id, await si.language(self))

    # --- loading ----------------------------------------------------------------------------

    @rx.event
    @si.handler
    async def load(self):
        """on_load of /accounts."""
        user = await self._who()
        self._clear_messages()
        self.req_notice = self.req_error = ""
        self.add_errors, self.req_errors = {}, {}
        self.unlink_id = self.unlink_number = ""
        if self.add_mode not in self._methods():
            self.add_mode = self._methods()[0]
        await self._reload(user)
        self.loaded = True
        return None

    @rx.event
    @si.handler
    async def relang(self):
        """The language was switched on this page: the requests' dates and statuses again in it."""
        user = await self._who()
        if self.loaded:
            await self._reload(user)
        return None

    @rx.event
    def set_add_mode(self, mode: Any):
        if not isinstance(mode, str) or mode not in self._methods():
            return
        self.add_mode = mode
        self.add_errors = {}

    # --- adding by payment ------------------------------------------------------------------

    @rx.event
    @si.handler
    async def add_by_payment(self, form_data: Any):
        data = si.form(form_data, ("number", "last_payment"), max_len=64, prefix="add")
        user = await self._who()
        lang = await si.language(self)
        self._clear_messages()
        try:
            card = await si.call(
                svc.link_by_payment, si.engine(), si.profile(), user.user_id, data["number"], data["last_payment"],
                now=si.now(),
            )
        except FormErrors as e:
            self.add_errors = si.field_errors(e, lang)
            return
        except DomainError as e:
            self.add_errors = {}
            self.error = si.error_text(e, lang)
            return
        self.add_errors = {}
        self.add_form_key += 1
        self.notice = i18n.t("accounts.added", lang, number=card.number)
        await self._reload(user)

    # --- the address picker -----------------------------------------------------------------

    async def _pick(self, level: str, value: Any):
        """Choose ``value`` at ``level``; clear what lies below, load the next level's list."""
        if not isinstance(value, str) or len(value) > 20:
            return None
        if value:
            si.ident(value)
        await self._who()
        index = PICKER_LEVELS.index(level)
        if index > 0 and not getattr(self, f"sel_{PICKER_LEVELS[index - 1]}"):
            return None  # the parent is not chosen yet
        if value and value not in {o["id"] for o in getattr(self, self._list_name(level))}:
            return None  # not one of the options shown
        setattr(self, f"sel_{level}", value)
        for lower in PICKER_LEVELS[index + 1 :]:
            setattr(self, f"sel_{lower}", "")
            setattr(self, self._list_name(lower), [])
        self.flats_loaded = False
        self.add_errors = {}
        if value and index + 1 < len(PICKER_LEVELS):
            nxt = PICKER_LEVELS[index + 1]

            def load():
                with read_session(si.engine()) as s:
                    return _options(_LOADERS[nxt](s, int(value)))

            setattr(self, self._list_name(nxt), await si.call(load))
            if nxt == "flat":
                self.flats_loaded = True
        return None

    @staticmethod
    def _list_name(level: str) -> str:
        return {"branch": "branches", "settlement": "settlements", "street": "streets", "house": "houses",
                "flat": "flats"}[level]

    @rx.event
    @si.handler
    async def pick_branch(self, value: Any):
        return await self._pick("branch", value)

    @rx.event
    @si.handler
    async def pick_settlement(self, value: Any):
        return await self._pick("settlement", value)

    @rx.event
    @si.handler
    async def pick_street(self, value: Any):
        return await self._pick("street", value)

    @rx.event
    @si.handler
    async def pick_house(self, value: Any):
        return await self._pick("house", value)

    @rx.event
    @si.handler
    async def pick_flat(self, value: Any):
        return await self._pick("flat", value)

    @rx.event
    @si.handler
    async def add_by_address(self, form_data: Any):
        data = si.form(form_data, ("number",), max_len=64, prefix="pick")
        user = await self._who()
        lang = await si.language(self)
        self._clear_messages()
        if not self.sel_house:
            self.add_errors = {"house": i18n.t("accounts.picker.choose_house", lang)}
            return
        if self.flats and not self.sel_flat:
            self.add_errors = {"flat": i18n.t("accounts.picker.choose_flat", lang)}
            return
        try:
            card = await si.call(
                svc.link_by_address, si.engine(), si.profile(), user.user_id, int(self.sel_house),
                int(self.sel_flat) if self.sel_flat else None, data["number"], now=si.now(),
            )
        except FormErrors as e:
            self.add_errors = si.field_errors(e, lang)
            return
        except DomainError as e:
            self.add_errors = {}
            self.error = si.error_text(e, lang)
            return
        self.add_errors = {}
        self.add_form_key += 1
        self.notice = i18n.t("accounts.added", lang, number=card.number)
        await self._reload(user)

    # --- unlinking --------------------------------------------------------------------------

    @rx.event
    @si.handler
    async def ask_unlink(self, account_id: Any):
        """Open the confirmation for one of the user's accounts (a foreign id opens nothing)."""
        aid = si.ident(account_id)
        user = await self._who()
        lang = await si.language(self)
        self._clear_messages()

        def find():
            with read_session(si.engine()) as s:
                number = svc.require_account(s, user.user_id, aid).number
                if not svc.can_add_accounts(s, user.user_id):
                    raise svc.AccountsFixed()
                return number

        try:
            number = await si.call(find)
        except DomainError as e:
            self.error = si.error_text(e, lang)
            return
        self.unlink_id, self.unlink_number = str(aid), number

    @rx.event
    def cancel_unlink(self):
        self.unlink_id = self.unlink_number = ""

    @rx.event
    @si.handler
    async def confirm_unlink(self):
        user = await self._who()
        lang = await si.language(self)
        self._clear_messages()
        if not self.unlink_id:
            return
        number = self.unlink_number
        try:
            await si.call(svc.unlink, si.engine(), user.user_id, int(self.unlink_id), now=si.now())
        except DomainError as e:
            self.error = si.error_text(e, lang)
        else:
            self.notice = i18n.t("accounts.unlinked", lang, number=number)
        self.unlink_id = self.unlink_number = ""
        await self._reload(user)

    # --- re-registration --------------------------------------------------------------------

    @rx.event
    @si.handler
    async def start_request(self, form_data: Any):
        data = si.form(
            form_data, ("account_number", "new_owner_name", "phone", "comment"), long=("comment",),
            prefix="rereg",
        )
        user = await self._who()
        lang = await si.language(self)
        self.req_notice = self.req_error = ""
        if self.draft_id:
            return  # one draft at a time: finish or drop it first
        try:
            rid = await si.call(
                svc.create_request, si.engine(), si.profile(), user.user_id, data["account_number"],
                data["new_owner_name"], data["phone"], data["comment"], now=si.now(),
            )
        except FormErrors as e:
            self.req_errors = si.field_errors(e, lang)
            return
        except DomainError as e:
            self.req_errors = {}
            self.req_error = si.error_text(e, lang)
            return
        self.req_errors = {}
        self.draft_id = str(rid)
        self.req_form_key += 1
        await self._reload(user)

    @rx.event
    @si.handler
    async def upload_document(self, files: list[rx.UploadFile]):
        """One file from rx.upload, checked by the service (size, type by content).

        The annotation is what Reflex's upload endpoint looks for; it is not enforced, so
        ``files`` is checked like any other argument."""
        self.uploading = False
        user = await self._who()
        lang = await si.language(self)
        self.req_notice = self.req_error = ""
        if (
            not self.draft_id
            or not isinstance(files, list)
            or len(files) != 1
            or not hasattr(files[0], "read")
        ):
            self.req_errors = {"file": i18n.t("accounts.docs.one_at_a_time", lang)}
            return
        upload = files[0]
        limit = svc.MAX_DOCUMENT_BYTES
        data = await upload.read(limit + 1)  # never more than the limit + 1 byte in memory
        name = upload.filename or ""
        name = name if isinstance(name, str) else ""
        try:
            await si.call(
                svc.add_document, si.engine(), user.user_id, int(self.draft_id), name[-200:], data,
                now=si.now(),
            )
        except FormErrors as e:
            self.req_errors = si.field_errors(e, lang)
            return
        except DomainError as e:
            self.req_errors = {}
            self.req_error = si.error_text(e, lang)
            await self._reload(user)
            return
        self.req_errors = {}
        self.req_notice = i18n.t("accounts.docs.uploaded", lang)
        await self._reload(user)

    @rx.event
    @si.handler
    async def remove_document(self, document_id: Any):
        did = si.ident(document_id)
        user = await self._who()
        lang = await si.language(self)
        self.req_notice = self.req_error = ""
        try:
            await si.call(svc.remove_document, si.engine(), user.user_id, did, now=si.now())
        except DomainError as e:
            self.req_error = si.error_text(e, lang)
        await self._reload(user)

    @rx.event
    @si.handler
    async def submit_request(self):
        user = await self._who()
        lang = await si.language(self)
        self.req_notice = self.req_error = ""
        if not self.draft_id:
            return
        try:
            await si.call(svc.submit_request, si.engine(), user.user_id, int(self.draft_id), now=si.now())
        except FormErrors as e:
            self.req_errors = si.field_errors(e, lang)
            return
        except DomainError as e:
            self.req_error = si.error_text(e, lang)
            await self._reload(user)
            return
        self.req_errors = {}
        self.draft_id = ""
        self.req_notice = i18n.t("accounts.rereg.submitted", lang)
        await self._reload(user)


# A language switch on /accounts says the requests' dates and statuses again.
resay_on_language_change("/accounts", AccountsState.relang)

# Every handler above needs a signed-in user (the gate checks the session before it runs).
from gazportal.state import gate  # noqa: E402

gate.allow(
    AccountsState,
    "load", "relang", "begin", "set_add_mode", "add_by_payment", "pick_branch", "pick_settlement", "pick_street", "pick_house",
    "pick_flat", "add_by_address", "ask_unlink", "cancel_unlink", "confirm_unlink", "start_request",
    "upload_document", "remove_document", "submit_request",
    access=gate.USER,
)
