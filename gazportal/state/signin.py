"""Sign-in: login identifier (per profile), password, "remember me".

A successful sign-in opens the session on the server and hands it to the browser's HttpOnly
cookie with a one-time code (``state/session.py``: the page posts the code, then opens the
accounts page as a new page whose websocket carries the cookie)."""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.services import auth
from gazportal.services.errors import DomainError
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, Form, call, engine, handler, utility
from gazportal.state.i18n import adopt_user_language
from gazportal.state.session import HOME_ROUTE, hand_over, start_script

LOCKED_KEY = "errors.sign_in_locked"
NOT_CONFIRMED_KEY = "errors.sign_in_not_confirmed"
SIGN_IN_FORM = Form(("login", "password"), checkboxes=("remember",), secrets=("password",), prefix="signin")


class SignInState(AuthFormState):
    locked: bool = False  # the message points to recovery
    not_confirmed: bool = False  # the message points to the confirmation page

    def _show_error(self, err: DomainError, lang: str) -> Any:
        self.locked = err.key == LOCKED_KEY
        self.not_confirmed = err.key == NOT_CONFIRMED_KEY
        return super()._show_error(err, lang)

    @rx.event
    @handler(PUBLIC, form=SIGN_IN_FORM)
    async def submit(self, ctx: Ctx, form: dict[str, Any]):
        self._reset_messages()
        self.locked = self.not_confirmed = False
        self.busy = True
        yield
        user_agent = self.router.headers.user_agent if self.router else ""
        result = await call(
            auth.sign_in, engine(), utility(), form["login"], form["password"], remember=form["remember"],
            now=ctx.now, user_agent=(user_agent or "")[:300],
        )
        user, code = await call(hand_over, result.token)
        if user is not None:
            await adopt_user_language(self, user.language)  # the language saved in the profile
        yield start_script(code, HOME_ROUTE)

    @rx.event
    @handler(PUBLIC)
    def clear(self, ctx: Ctx):
        """on_load: a fresh form."""
        self._reset_messages()
        self.locked = self.not_confirmed = False
        self.busy = False
