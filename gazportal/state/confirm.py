"""Confirmation of a new registration: the e-mail link (/confirm?token=...) or the SMS code."""
from __future__ import annotations


import reflex as rx

from gazportal.services import auth
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, Form, call, engine, handler, utility
from gazportal.state.session import valid_token


class ConfirmState(AuthFormState):
    confirmed: bool = False
    login_hint: str = ""  # the login just registered (pre-fills the code form)
    had_link: bool = False  # the page was opened from an e-mail link

    @rx.event
    @handler(PUBLIC)
    async def load(self, ctx: Ctx):
        """on_load: with ?token=... confirm the e-mail link at once."""
        self._reset_messages()
        self.confirmed = False
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
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
    @handler(PUBLIC, form_data=Form(("login", "code"), prefix="code"))
    async def submit_code(self, ctx: Ctx, form_data: dict[str, str]):
        self._reset_messages()
        self.login_hint = form_data["login"]
        await call(auth.confirm_code, engine(), utility(), form_data["login"], form_data["code"], now=ctx.now)
        self.confirmed = True
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
