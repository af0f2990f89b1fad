"""The password page: the current password, the new one twice; success ends the user's other
sessions (the service does it, keeping this one)."""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from gazportal.services import auth
from gazportal.services import i18n
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state import signed_in as si

FIELDS = ("current", "password", "password2")
MAX_PASSWORD = 256  # the form's inputs stop at 128; anything longer is not from the page


class PasswordState(si.BusyMixin, rx.State):
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"change"})

    errors: dict[str, str] = {}
    notice: str = ""
    error: str = ""
    form_key: int = 0

    @rx.event
    @si.handler
    async def load(self):
        await si.current_user(self)
        self.errors, self.notice, self.error = {}, "", ""
        return None

    @rx.event
    @si.handler
    async def change(self, form_data: Any):
        data = si.form(form_data, FIELDS, max_len=MAX_PASSWORD, prefix="pw")
        user = await si.current_user(self)
        lang = await si.language(self)
        self.notice = self.error = ""
        # Passwords are taken as typed (no strip): spaces are part of them.
        raw = {k: form_data[k] for k in FIELDS}
        try:
            await si.call(
                auth.change_password, si.engine(), si.profile(), user.user_id, raw["current"], raw["password"],
                raw["password2"], now=si.now(), keep_session_id=user.session_id,
            )
        except FormErrors as e:
            self.errors = si.field_errors(e, lang)
            return None
        except DomainError as e:
            self.errors = {}
            self.error = si.error_text(e, lang)
            return None
        del data, raw
        self.errors = {}
        self.form_key += 1  # empty the form
        self.notice = i18n.t("change_password.done", lang)
        return None


def policy_lines(profile, lang: str) -> list[str]:
    """The profile's password rules as short sentences (for the hint)."""
    p = profile.password_policy
    out = [i18n.t("change_password.policy.min_length", lang, min=p.min_length)]
    if p.require_upper_and_lower:
        out.append(i18n.t("change_password.policy.upper_lower", lang))
    if p.require_digit:
        out.append(i18n.t("change_password.policy.digit", lang))
    if p.require_symbol:
        out.append(i18n.t("change_password.policy.symbol", lang))
    if p.reject_common:
        out.append(i18n.t("change_password.policy.common", lang))
    return out


from gazportal.state import gate  # noqa: E402

gate.allow(PasswordState, "load", "begin", "change", access=gate.USER)
