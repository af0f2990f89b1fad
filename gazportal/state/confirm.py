"""Confirmation of a new registration: the e-mail link (/confirm?token=...) or the SMS code."""
from __future__ import annotations


from typing import Any

import reflex as rx

from gazportal.services import auth
from gazportal.services.errors import DomainError
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, Form, call, engine, handler, utility
from gazportal.state.session import valid_token

# the login had more than one registration: the link or code alone does not choose (issue 15 point 3)
PASSWORD_KEYS = frozenset({"errors.confirm_needs_password", "errors.confirm_password_mismatch"})
# the login was confirmed by another registration meanwhile: sending the link again cannot help
TAKEN_KEY = "errors.login_taken"


class ConfirmState(AuthFormState):
    confirmed: bool = False
    login_hint: str = ""  # the login just registered (pre-fills the code form)
    had_link: bool = False  # the page was opened from an e-mail link
    needs_password: bool = False  # the server asked for the password chosen at registration
    taken: bool = False  # another registration of the login was confirmed: offer sign-in, not "send again"

    def _show_error(self, err: DomainError, lang: str) -> Any:
        if err.key in PASSWORD_KEYS:
            self.needs_password = True
        if err.key == TAKEN_KEY:
            self.taken, self.needs_password = True, False
        return super()._show_error(err, lang)

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "") if self.router else ""

    @rx.event
    @handler(PUBLIC)
    async def load(self, ctx: Ctx):
        """on_load: with ?token=... confirm the e-mail link at once."""
        self._reset_messages()
        self.confirmed = self.needs_password = self.taken = False
        token = self._token()
        self.had_link = bool(token)
        if not token:
            return
        if valid_token(token) is None:
            self.error = await self._say("errors.link_invalid")
            return
        await call(auth.confirm_link, engine(), token, now=ctx.now)
        self.confirmed = True
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @handler(PUBLIC, form_data=Form(("password",), secrets=("password",), prefix="confirm"))
    async def submit_link_password(self, ctx: Ctx, form_data: dict[str, str]):
        """The link of a login registered more than once, with the password chosen at registration."""
        self._reset_messages()
        token = self._token()
        if not self.needs_password or valid_token(token) is None:
            return
        await call(auth.confirm_link, engine(), token, now=ctx.now, password=form_data["password"])
        self.confirmed, self.needs_password = True, False
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @handler(PUBLIC, form_data=Form(("login", "code", "password"), optional=("password",), secrets=("password",),
                                    prefix="code"))
    async def submit_code(self, ctx: Ctx, form_data: dict[str, str]):
        self._reset_messages()
        self.login_hint = form_data["login"]
        await call(auth.confirm_code, engine(), utility(), form_data["login"], form_data["code"], now=ctx.now,
                   password=form_data["password"] or None)
        self.confirmed, self.needs_password = True, False
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @handler(PUBLIC, form_data=Form(("login",), prefix="resend"))
    async def resend(self, ctx: Ctx, form_data: dict[str, str]):
        """Send the link or code again; the same answer whether or not the login exists."""
        self._reset_messages()
        self.login_hint = form_data["login"]
        await call(auth.resend_confirmation, engine(), utility(), form_data["login"], now=ctx.now, source=ctx.source)
        key = "auth.confirm.resent_sms" if utility().confirmation == "sms_code" else "auth.confirm.resent_email"
        self.notice = await self._say(key)
