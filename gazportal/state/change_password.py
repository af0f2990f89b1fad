"""The password page: the current password, the new one twice; success ends the user's other
sessions (the service does it, keeping this one)."""
from __future__ import annotations

from typing import ClassVar

import reflex as rx

from gazportal.services import auth
from gazportal.services import i18n
from gazportal.services.errors import DomainError
from gazportal.state.contract import CUSTOMER, Ctx, Form, FormMixin, call, engine, handler, utility
from gazportal.state.views import refusal

FIELDS = ("current", "password", "password2")
MAX_PASSWORD = 256  # the form's inputs stop at 128; anything longer is not from the page


# Passwords are taken as typed (no strip): spaces are part of them.
PASSWORD_FORM = Form(FIELDS, secrets=FIELDS, prefix="pw", limits={f: MAX_PASSWORD for f in FIELDS})


class PasswordState(FormMixin, rx.State):
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"change"})

    form_key: int = 0

    def _show_error(self, err: DomainError, lang: str) -> None:
        self.errors, self.error = refusal(err, lang)
        self.refusals += 1

    @rx.event
    @handler(CUSTOMER)
    def load(self, ctx: Ctx):
        self.errors, self.notice, self.error = {}, "", ""
        return None

    @rx.event
    @handler(CUSTOMER, creates=True, form=PASSWORD_FORM)
    async def change(self, ctx: Ctx, form: dict[str, str]):
        """Change the password (a create form: a repeat of the same submit changes nothing more)."""
        user, lang = ctx.user, ctx.lang
        self.notice = self.error = ""
        await call(
            auth.change_password, engine(), utility(), user.user_id, form["current"], form["password"],
            form["password2"], now=ctx.now, keep_session_id=user.session_id, source=ctx.source,
        )  # a refusal goes to the form (_show_error)
        del form
        self.errors = {}
        self.form_key += 1  # empty the form
        self.notice = i18n.t("change_password.done", lang)
        return None
