"""Confirmation of a new registration: the e-mail link (/confirm?token=...) or the SMS code."""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.services import auth
from gazportal.services.errors import DomainError
from gazportal.state.auth_forms import AuthFormState, BadForm, call, engine, now, profile, read_form
from gazportal.state.gate import public
from gazportal.state.session import valid_token


class ConfirmState(AuthFormState):
    confirmed: bool = False
    login_hint: str = ""  # the login just registered (pre-fills the code form)
    had_link: bool = False  # the page was opened from an e-mail link

    @rx.event
    @public
    async def load(self):
        """on_load: with ?token=... confirm the e-mail link at once."""
        self._reset_messages()
        self.busy = False
        self.confirmed = False
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        self.had_link = bool(token)
        if not token:
            return
        if valid_token(token) is None:
            self.error = await self._say("errors.link_invalid")
            return
        try:
            await call(auth.confirm_link, engine(), token, now=now())
        except DomainError as e:
            await self._refuse(e)
            return
        self.confirmed = True
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @public
    async def submit_code(self, form_data: Any):
        self._reset_messages()
        try:
            form = read_form(form_data, ("login", "code"))
        except BadForm as e:
            await self._refuse(e)
            return
        self.login_hint = form["login"]
        try:
            await call(auth.confirm_code, engine(), profile(), form["login"], form["code"], now=now())
        except DomainError as e:
            await self._refuse(e)
            return
        self.confirmed = True
        self.notice = await self._say("auth.confirm.done")

    @rx.event
    @public
    async def resend(self, form_data: Any):
        """Send the link or code again; the same answer whether or not the login exists."""
        self._reset_messages()
        try:
            form = read_form(form_data, ("login",))
        except BadForm as e:
            await self._refuse(e)
            return
        self.login_hint = form["login"]
        try:
            await call(auth.resend_confirmation, engine(), profile(), form["login"], now=now())
        except DomainError as e:
            await self._refuse(e)
            return
        key = "auth.confirm.resent_sms" if profile().confirmation == "sms_code" else "auth.confirm.resent_email"
        self.notice = await self._say(key)
