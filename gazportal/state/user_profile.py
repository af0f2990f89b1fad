"""The profile page (surname, name, phone, e-mail, birth date, gender, language) and the page
that confirms a new e-mail address from the link sent to it."""
from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import auth
from gazportal.services import i18n
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state import signed_in as si
from gazportal.state.i18n import I18nState, _document_script, resay_on_language_change

FIELDS = ("surname", "name", "phone", "email", "birth_date", "gender", "language")


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class ProfileState(si.BusyMixin, rx.State):
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"save"})

    loaded: bool = False
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    notice: str = ""
    error: str = ""
    pending_email: str = ""
    kind: str = "person"
    form_key: int = 0

    def _fill(self, p) -> None:
        self.values = {f: _s(getattr(p, f, "")) for f in FIELDS}
        self.pending_email = _s(getattr(p, "pending_email", "") or "")
        self.kind = _s(getattr(p, "kind", "person")) or "person"
        self.form_key += 1

    def _read(self, user_id: int):
        with read_session(si.engine()) as s:
            return auth.get_user_profile(s, user_id)

    @rx.event
    @si.handler
    async def load(self):
        user = await si.current_user(self)
        self.notice = self.error = ""
        self.errors = {}
        self._fill(await si.call(self._read, user.user_id))
        self.loaded = True
        return None

    @rx.event
    @si.handler
    async def relang(self):
        """The language was switched in the header (and saved as the user's): the form's language
        field says the same, so that "Save" does not switch it back."""
        await si.current_user(self)
        lang = await si.language(self)
        if self.loaded and self.values.get("language") != lang:
            self.values = {**self.values, "language": lang}
            self.form_key += 1
        return None

    @rx.event
    @si.handler
    async def save(self, form_data: Any):
        data = si.form(form_data, FIELDS, prefix="prof")
        user = await si.current_user(self)
        lang = await si.language(self)
        self.notice = self.error = ""
        before = await si.call(self._read, user.user_id)
        old_email = _s(getattr(before, "email", ""))
        # A contact left empty that was empty before is not a change (and not an error).
        for name in ("email", "phone"):
            if data[name] == "" and not _s(getattr(before, name, "")):
                del data[name]
        try:
            after = await si.call(
                auth.update_user_profile, si.engine(), si.profile(), user.user_id, data, now=si.now()
            )
        except FormErrors as e:
            self.errors = si.field_errors(e, lang)
            return None
        except DomainError as e:
            self.errors = {}
            self.error = si.error_text(e, lang)
            return None
        self.errors = {}
        self._fill(after)
        asked = data.get("email", "")
        link_sent = bool(asked) and asked.casefold() != old_email.casefold() and self.pending_email != ""
        # The language is the user's: the portal switches to it at once.
        new_lang = _s(getattr(after, "language", ""))
        script = None
        if new_lang in si.profile().languages:
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
    async def confirm(self):
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        if not isinstance(token, str) or not 16 <= len(token) <= 200:
            self.status = "failed"
            return
        try:
            await si.call(auth.confirm_email_change, si.engine(), token, now=si.now())
        except DomainError:
            self.status = "failed"
            return
        self.status = "ok"


from gazportal.state import gate  # noqa: E402

# A language switch on /profile updates the form's language field.
resay_on_language_change("/profile", ProfileState.relang)

gate.allow(ProfileState, "load", "relang", "begin", "save", access=gate.USER)
# The link is the proof (single use, expiring); it may be opened in a browser that is not signed in.
gate.allow(ConfirmEmailState, "confirm", access=gate.PUBLIC)
