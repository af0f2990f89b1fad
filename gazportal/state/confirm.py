"""Confirmation of a new registration: the e-mail link (/confirm?token=...) or the SMS code."""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.services import auth
from gazportal.state.auth_forms import AuthFormState, call, engine, now, profile, read_form, refusing
from gazportal.state.gate import public
from gazportal.state.session import valid_token


class ConfirmState(AuthFormState):
    confirmed: bool = False
    login_hint: str = ""  # the login just registered (pre-fills the code form)
    had_link: bool = False  # the page was opened from an e-mail link

    @rx.event
    @public
    @refusing
    async def load(self):
        """on_load: with ?token=... confirm the e-mail link at once."""
        self.confirmed = False
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        self.had_link = bool(token)
        if not token:
            return
        if valid_token(token) is None:
            self.error = await self._say("errors.link_invalid")
            return
        await call(auth.confirm_link, engine(), token, now=now())
        self.confirmed = True
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @public
    @refusing
    async def submit_code(self, form_data: Any):
        form = read_form(form_data, ("login", "code"))
        self.login_hint = form["login"]
        await call(auth.confirm_code, engine(), profile(), form["login"], form["code"], now=now())
        self.confirmed = True
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @public
    @refusing
    async def resend(self, form_data: Any):
        """Send the link or code again; the same answer whether or not the login exists."""
        form = read_form(form_data, ("login",))
        self.login_hint = form["login"]
        await call(auth.resend_confirmation, engine(), profile(), form["login"], now=now())
        key = "auth.confirm.resent_sms" if profile().confirmation == "sms_code" else "auth.confirm.resent_email"
        self.notice = await self._say(key)
