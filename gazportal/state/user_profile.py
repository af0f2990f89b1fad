"""The profile page (surname, name, phone, e-mail, birth date, gender, language; the current
password to change the e-mail or phone), the page that confirms a new e-mail address from the
link sent to it, and the page of the "it was not me" link sent to the old address."""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, ClassVar
from urllib.parse import urlencode

import reflex as rx

from gazportal.db import read_session
from gazportal.services import auth
from gazportal.services import i18n
from gazportal.services.errors import DomainError
from gazportal.state.contract import (
    CUSTOMER, PUBLIC, Ctx, Form, FormMixin, call, engine, handler, utility,
)
from gazportal.state.i18n import I18nState, _document_script, resay_on_language_change
from gazportal.state.views import ProfileValues, refusal

FIELDS = tuple(f.name for f in dataclasses.fields(ProfileValues))  # the form's fields
CURRENT = "current"  # the current password: asked for a new e-mail or phone, taken as typed
PROFILE_FORM = Form(FIELDS + (CURRENT,), optional=(CURRENT,), secrets=(CURRENT,), prefix="prof",
                    limits={CURRENT: 256})


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class ProfileState(FormMixin, rx.State):
    PERSONAL: ClassVar[bool] = True
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"save"})

    loaded: bool = False
    values: ProfileValues = ProfileValues()
    pending_email: str = ""
    kind: str = "person"
    form_key: int = 0

    def _show_error(self, err: DomainError, lang: str) -> None:
        self.errors, self.error = refusal(err, lang)
        self.refusals += 1

    def _fill(self, p: auth.UserProfile) -> None:
        self.values = ProfileValues(**{f: _s(getattr(p, f)) for f in FIELDS})
        self.pending_email = _s(p.pending_email)
        self.kind = p.kind or "person"
        self.form_key += 1

    def _read(self, user_id: int):
        with read_session(engine()) as s:
            return auth.get_user_profile(s, user_id)

    @rx.event
    @handler(CUSTOMER)
    async def load(self, ctx: Ctx):
        user = ctx.user
        self.notice = self.error = ""
        self.errors = {}
        self._fill(await call(self._read, user.user_id))
        self.loaded = True
        return None

    @rx.event
    @handler(CUSTOMER)
    async def relang(self, ctx: Ctx):
        """The language was switched in the header (and saved as the user's): the form's language
        field says the same, so that "Save" does not switch it back."""
        lang = ctx.lang
        if self.loaded and self.values.language != lang:
            self.values = dataclasses.replace(self.values, language=lang)
            self.form_key += 1
        return None

    @rx.event
    @handler(CUSTOMER, form=PROFILE_FORM)
    async def save(self, ctx: Ctx, form: dict[str, str]):
        data, user, lang = dict(form), ctx.user, ctx.lang
        current = data.pop(CURRENT)
        del form
        self.notice = self.error = ""
        before = await call(self._read, user.user_id)
        old_email = _s(before.email)
        # A contact left empty that was empty before is not a change (and not an error).
        for name in ("email", "phone"):
            if data[name] == "" and not _s(getattr(before, name)):
                del data[name]
        # a refusal goes to the form (_show_error)
        after = await call(auth.update_user_profile, engine(), utility(), user.user_id, data, now=ctx.now,
                           current_password=current, session_id=user.session_id, source=ctx.source)
        self.errors = {}
        self._fill(after)
        asked = data.get("email", "")
        link_sent = bool(asked) and asked.casefold() != old_email.casefold() and self.pending_email != ""
        # The language is the user's: the portal switches to it at once.
        new_lang = after.language
        script = None
        if new_lang in utility().languages:
            i18n_state = await self.get_state(I18nState)
            if i18n_state.lang_pref != new_lang:
                i18n_state.lang_pref = new_lang
                script = rx.call_script(_document_script(new_lang))
            lang = new_lang
        if link_sent:
            self.notice = i18n.t("my_profile.email_link_sent", lang, email=self.pending_email)
        else:
            self.notice = i18n.t("my_profile.saved", lang)
        return script


class ConfirmEmailState(rx.State):
    """/confirm-email?token=...: the link from the message sent to the new address."""

    status: str = ""  # "" (working) | ok | failed

    @rx.event
    @handler(PUBLIC)
    async def confirm(self, ctx: Ctx):
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        if not isinstance(token, str) or not 16 <= len(token) <= 200:
            self.status = "failed"
            return
        try:
            await call(auth.confirm_email_change, engine(), token, now=ctx.now)
        except DomainError:
            self.status = "failed"
            return
        self.status = "ok"


class EmailUndoState(rx.State):
    """/email-undo?token=...: the link sent to the old address of an e-mail change. A waiting
    change is cancelled or a made one undone, every session ends, and the page leads to the reset
    form (the password stops working: whoever made the change knew it)."""

    status: str = ""  # "" (working) | cancelled | restored | failed
    email: str = ""  # the address in use again
    reset_link: str = ""  # /reset?token=... to choose a new password

    @rx.event
    @handler(PUBLIC)
    async def undo(self, ctx: Ctx):
        self.email = self.reset_link = ""
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        if not isinstance(token, str) or not 16 <= len(token) <= 200:
            self.status = "failed"
            return
        try:
            done = await call(auth.undo_email_change, engine(), token, now=ctx.now)
        except DomainError:
            self.status = "failed"
            return
        self.email = done.email
        self.reset_link = "/reset?" + urlencode({"token": done.reset_token})
        self.status = "restored" if done.undone else "cancelled"


# A language switch on /profile updates the form's language field.
resay_on_language_change("/profile", ProfileState.relang)
