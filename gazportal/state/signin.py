"""Sign-in: login identifier (per profile), password, "remember me"; the CAPTCHA when the server
asks for it.

A successful sign-in opens the session on the server and hands it to the browser's HttpOnly
cookie with a one-time code (``state/session.py``: the page posts the code, then opens the
accounts page as a new page whose websocket carries the cookie). Failures are bound to the
event's source (``ctx.source``: the device cookie and the client address, ``services/throttle.py``):
a source with too many wrong passwords is told how long to wait (``locked``, with the way to
recovery); when the login is being guessed from elsewhere the server asks this browser for the
CAPTCHA (``captcha_required``: the ALTCHA widget appears, with a fresh challenge after every
answer, since a solved one is single use)."""
from __future__ import annotations

import json
from typing import Any

import reflex as rx

from gazportal.services import auth, captcha
from gazportal.services.errors import DomainError
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, Form, call, engine, handler, utility
from gazportal.state.i18n import adopt_user_language
from gazportal.state.register import CAPTCHA_FIELD, RESET_WIDGET
from gazportal.state.session import hand_over, landing, start_script

LOCKED_KEY = "errors.sign_in_locked"
NOT_CONFIRMED_KEY = "errors.sign_in_not_confirmed"
CAPTCHA_KEY = "errors.sign_in_captcha"
SIGN_IN_FORM = Form(("login", "password", CAPTCHA_FIELD), checkboxes=("remember",),
                    secrets=("password", CAPTCHA_FIELD), optional=(CAPTCHA_FIELD,), limits={CAPTCHA_FIELD: 4096},
                    prefix="signin")


class SignInState(AuthFormState):
    locked: bool = False  # the message points to recovery
    not_confirmed: bool = False  # the message points to the confirmation page
    captcha_required: bool = False  # the server asked this browser for the CAPTCHA
    challenge: str = ""  # the ALTCHA challenge JSON for the widget
    # why the session ended (?why=...). Not ``notice``: that var is AuthFormState's, shared by every
    # auth page state, and /signin's next on_load step (OidcState.reset_messages) clears it.
    ended: str = ""

    def _show_error(self, err: DomainError, lang: str) -> Any:
        self.locked = err.key == LOCKED_KEY
        self.not_confirmed = err.key == NOT_CONFIRMED_KEY
        if err.key == CAPTCHA_KEY:
            self.captcha_required = True
        if self.captcha_required:  # a solved challenge is single use
            self.challenge = json.dumps(captcha.new_challenge())
        return super()._show_error(err, lang)

    @rx.event
    @handler(PUBLIC, form=SIGN_IN_FORM)
    async def submit(self, ctx: Ctx, form: dict[str, Any]):
        self._reset_messages()
        self.locked = self.not_confirmed = False
        self.busy = True
        yield
        user_agent = self.router.headers.user_agent if self.router else ""
        try:
            result = await call(
                auth.sign_in, engine(), utility(), form["login"], form["password"], remember=form["remember"],
                now=ctx.now, user_agent=(user_agent or "")[:300], source=ctx.source, captcha=form[CAPTCHA_FIELD],
            )
        except DomainError as e:
            self._show_error(e, ctx.lang)
            if self.captcha_required:
                yield rx.call_script(RESET_WIDGET)
            return
        user, code = await call(hand_over, result.token)
        if user is not None:
            await adopt_user_language(self, user.language)  # the language saved in the profile
        wanted = self.router.url.query_parameters.get("next") if self.router else None
        # back where they were going (a page of their kind), else home: staff land on the console
        yield start_script(code, landing(user, wanted))

    @rx.event
    @handler(PUBLIC)
    async def clear(self, ctx: Ctx):
        """on_load: a fresh form; with ``?why=`` (a session that ended: signed out, password or
        e-mail changed elsewhere, timed out) the page says why (issue 14 point 19)."""
        self._reset_messages()
        why = self.router.url.query_parameters.get("why") if self.router else None
        self.ended = await self._say(f"auth.ended.{why}") if why in auth.END_REASONS else ""
        self.locked = self.not_confirmed = self.captcha_required = False
        self.challenge = ""
        self.busy = False
