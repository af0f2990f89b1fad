"""Sign-in: login identifier (per profile), password, "remember me"."""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.services import auth
from gazportal.services.errors import DomainError
from gazportal.state.auth_forms import AuthFormState, BadForm, call, engine, now, profile, read_form
from gazportal.state.gate import public
from gazportal.state.i18n import adopt_user_language
from gazportal.state.session import HOME_ROUTE, SessionState

LOCKED_KEY = "errors.sign_in_locked"
NOT_CONFIRMED_KEY = "errors.sign_in_not_confirmed"


class SignInState(AuthFormState):
    locked: bool = False  # the message points to recovery
    not_confirmed: bool = False  # the message points to the confirmation page

    @rx.event
    @public
    async def submit(self, form_data: Any):
        self._reset_messages()
        self.locked = self.not_confirmed = False
        try:
            form = read_form(form_data, ("login", "password"), checkboxes=("remember",), secrets=("password",))
        except BadForm as e:
            await self._refuse(e)
            return
        self.busy = True
        yield
        try:
            user_agent = self.router.headers.user_agent if self.router else ""
            result = await call(
                auth.sign_in,
                engine(),
                profile(),
                form["login"],
                form["password"],
                remember=form["remember"],
                now=now(),
                user_agent=(user_agent or "")[:300],
            )
        except DomainError as e:
            self.locked = e.key == LOCKED_KEY
            self.not_confirmed = e.key == NOT_CONFIRMED_KEY
            await self._refuse(e)
            return
        finally:
            self.busy = False
        session = await self.get_state(SessionState)
        session._start(result.token, bool(result.remember))
        await adopt_user_language(self)  # the language saved in the user's profile
        yield rx.redirect(HOME_ROUTE, replace=True)

    @rx.event
    @public
    def clear(self):
        """on_load: a fresh form."""
        self._reset_messages()
        self.locked = self.not_confirmed = False
        self.busy = False
