"""Demo mode's "try the demo" on the start page: sign in as the demo customer
(``services/auth/demo.py``) through the ordinary sign-in, with its limits. Outside demo mode the
handler does nothing (the page does not show the button either)."""
from __future__ import annotations

import reflex as rx

from gazportal.services import auth
from gazportal.services.auth.demo import DEMO_PASSWORD, demo_login, known_demo_login
from gazportal.services.errors import DomainError
from gazportal.settings import get_settings
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, call, engine, handler, utility
from gazportal.state.i18n import adopt_user_language
from gazportal.state.session import HOME_ROUTE, hand_over, start_script

__all__ = ["DEMO_PASSWORD", "DemoState", "known_demo_login"]  # the page shows the sign-in next to the button


class DemoState(AuthFormState):
    @rx.event
    @handler(PUBLIC)
    async def enter(self, ctx: Ctx):
        """Sign in as the demo customer and open their accounts (demo mode only)."""
        self._reset_messages()
        if not get_settings().demo:
            return
        self.busy = True
        yield
        login = await call(demo_login, engine())
        if login is None:
            self.error = await self._say("errors.demo_no_customer")
            return
        user_agent = self.router.headers.user_agent if self.router else ""
        try:
            result = await call(auth.sign_in, engine(), utility(), login, DEMO_PASSWORD, remember=False, now=ctx.now,
                                user_agent=(user_agent or "")[:300], source=ctx.source)
        except DomainError as e:
            self._show_error(e, ctx.lang)
            return
        user, code = await call(hand_over, result.token)
        if user is not None:
            await adopt_user_language(self, user.language)
        yield start_script(code, HOME_ROUTE)
