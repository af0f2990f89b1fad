"""Password recovery: ask for a link or a code, then set a new password. Works on a locked
account; the answer to the request is the same whether or not the login exists."""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.services import auth
from gazportal.state.auth_forms import AuthFormState, call, engine, now, profile, read_form, refusing
from gazportal.state.gate import public
from gazportal.state.session import valid_token


def by_code() -> bool:
    """The profile resets by an SMS code (phone logins / SMS confirmation), else by e-mail link."""
    p = profile()
    return p.confirmation == "sms_code" or p.login_identifier == "phone"


class RecoverState(AuthFormState):
    # request -> (code: code + new password) | (link: "check your mail"); link page: new password
    stage: str = "request"
    login_hint: str = ""
    done: bool = False
    _token: str = ""  # the link token from the URL, kept on the server side only

    @rx.event
    @public
    @refusing
    async def load(self):
        self.done = False
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        self._token = valid_token(token) or ""
        self.stage = "link" if self._token else "request"
        if token and not self._token:
            self.error = await self._say("errors.link_invalid")

    @rx.event
    @public
    @refusing
    async def request(self, form_data: Any):
        form = read_form(form_data, ("login",))
        self.login_hint = form["login"]
        self.busy = True
        yield
        await call(auth.request_reset, engine(), profile(), form["login"], now=now())
        self.busy = False
        if by_code():
            self.stage = "code"
            self.notice = await self._say("auth.recover.sent_sms")
        else:
            self.stage = "sent"
            self.notice = await self._say("auth.recover.sent_email")

    @rx.event
    @public
    @refusing
    async def reset_with_code(self, form_data: Any):
        form = read_form(form_data, ("login", "code", "password", "password2"), secrets=("password", "password2"))
        self.login_hint = form["login"]
        await call(
            auth.reset_password_with_code, engine(), profile(), form["login"], form["code"],
            form["password"], form["password2"], now=now(),
        )
        self.done = True
        self.notice = await self._say("auth.recover.done")

    @rx.event
    @public
    @refusing
    async def reset_with_link(self, form_data: Any):
        if not self._token:
            self.error = await self._say("errors.link_invalid")
            return
        form = read_form(form_data, ("password", "password2"), secrets=("password", "password2"))
        await call(
            auth.reset_password_with_link, engine(), profile(), self._token,
            form["password"], form["password2"], now=now(),
        )
        self._token = ""
        self.done = True
        self.notice = await self._say("auth.recover.done")
