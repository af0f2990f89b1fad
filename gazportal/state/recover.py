"""Password recovery: ask for a link or a code, then set a new password. Works on a locked
account; the answer to the request is the same whether or not the login exists."""
from __future__ import annotations


import reflex as rx

from gazportal.services import auth
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, Form, call, engine, handler, utility
from gazportal.state.session import valid_token

PASSWORDS = ("password", "password2")


def by_code() -> bool:
    """The profile resets by an SMS code (phone logins / SMS confirmation), else by e-mail link."""
    p = utility()
    return p.confirmation == "sms_code" or p.login_identifier == "phone"


class RecoverState(AuthFormState):
    # request -> (code: code + new password) | (link: "check your mail"); link page: new password
    stage: str = "request"
    login_hint: str = ""
    done: bool = False
    _token: str = ""  # the link token from the URL, kept on the server side only

    @rx.event
    @handler(PUBLIC)
    async def load(self, ctx: Ctx):
        self._reset_messages()
        self.done = False
        token = self.router.url.query_parameters.get("token", "") if self.router else ""
        self._token = valid_token(token) or ""
        self.stage = "link" if self._token else "request"
        if token and not self._token:
            self.error = await self._say("errors.link_invalid")

    @rx.event
    @handler(PUBLIC, form_data=Form(("login",), prefix="rec"))
    async def request(self, ctx: Ctx, form_data: dict[str, str]):
        self._reset_messages()
        self.login_hint = form_data["login"]
        self.busy = True
        yield
        await call(auth.request_reset, engine(), utility(), form_data["login"], now=ctx.now, source=ctx.source)
        self.busy = False
        if by_code():
            self.stage = "code"
            self.notice = await self._say("auth.recover.sent_sms")
        else:
            self.stage = "sent"
            self.notice = await self._say("auth.recover.sent_email")

    @rx.event
    @handler(PUBLIC, form_data=Form(("login", "code") + PASSWORDS, secrets=PASSWORDS, prefix="rc"))
    async def reset_with_code(self, ctx: Ctx, form_data: dict[str, str]):
        self._reset_messages()
        self.login_hint = form_data["login"]
        await call(
            auth.reset_password_with_code, engine(), utility(), form_data["login"], form_data["code"],
            form_data["password"], form_data["password2"], now=ctx.now,
        )
        self.done = True
        self.notice = await self._say("auth.recover.done")

    @rx.event
    @handler(PUBLIC, form_data=Form(PASSWORDS, secrets=PASSWORDS, prefix="rl"))
    async def reset_with_link(self, ctx: Ctx, form_data: dict[str, str]):
        self._reset_messages()
        if not self._token:
            self.error = await self._say("errors.link_invalid")
            self.refusals += 1
            return
        await call(
            auth.reset_password_with_link, engine(), utility(), self._token,
            form_data["password"], form_data["password2"], now=ctx.now,
        )
        self._token = ""
        self.done = True
        self.notice = await self._say("auth.recover.done")
