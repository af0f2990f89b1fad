"""The signed-in browser: an opaque server-issued token in a cookie, checked on every event.

The browser keeps only the token (``secrets.token_urlsafe``, >= 128 bits; the database keeps its
hash). Who the user is comes from ``auth.resolve_session`` on every event, never from anything
the browser sends, and never from a value cached in this state: a revoked or timed-out session
stops working on the very next event.

Two cookies, one in use at a time: ``gp_session`` is a browser-session cookie (gone when the
browser closes); with "remember me" the token goes to ``gp_session_kept`` instead, which carries a
``max_age`` of the remember period. Reflex fixes a cookie's options when the state class is
declared, so "max_age only with remember me" is two cookies rather than one with changing
options. Both are SameSite=Strict, and Secure when the public URL is https.

Other states reach the user like this::

    user = await (await self.get_state(SessionState))._user()   # raises NotSignedIn
"""
from __future__ import annotations

import asyncio
import re
from typing import Any

import reflex as rx

from gazportal.db import get_engine
from gazportal.models._base import utcnow
from gazportal.services import auth
from gazportal.settings import get_settings

_settings = get_settings()
_SECURE = _settings.public_url.startswith("https://")
_KEPT_SECONDS = _settings.session_remember_days * 24 * 3600

# What a token from auth.sign_in looks like (token_urlsafe); anything else is not looked up.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,128}")

SIGNIN_ROUTE = "/signin"
HOME_ROUTE = "/accounts"


class NotSignedIn(Exception):
    """No valid session: none given, unknown, revoked, or timed out."""


def valid_token(value: Any) -> str | None:
    return value if isinstance(value, str) and TOKEN_RE.fullmatch(value) else None


def _resolve(token: str | None):
    if token is None:
        return None
    return auth.resolve_session(get_engine(), token, now=utcnow())


class SessionState(rx.State):
    """The session cookie and what the header shows about the user."""

    token: str = rx.Cookie("", name="gp_session", same_site="strict", secure=_SECURE)
    token_kept: str = rx.Cookie(
        "", name="gp_session_kept", same_site="strict", secure=_SECURE, max_age=_KEPT_SECONDS
    )
    # For display only (header); never used to decide anything.
    signed_in: bool = False
    display_name: str = ""

    # --- helpers (underscore: not callable from the browser) ---------------------------------

    def _token(self) -> str | None:
        return valid_token(self.token) or valid_token(self.token_kept)

    async def _user(self):
        """The signed-in user (auth.SessionUser), resolved against the database now."""
        user = await asyncio.to_thread(_resolve, self._token())
        if user is None:
            raise NotSignedIn()
        return user

    async def _current(self):
        """The user or None, and the display fields kept in step."""
        try:
            user = await self._user()
        except NotSignedIn:
            self._forget()
            return None
        self.signed_in = True
        self.display_name = user.display_name or ""
        return user

    def _start(self, token: str, remember: bool) -> None:
        """Keep a fresh token from auth.sign_in in the right cookie."""
        if remember:
            self.token, self.token_kept = "", token
        else:
            self.token, self.token_kept = token, ""
        self.signed_in = True

    def _forget(self) -> None:
        if self.token:
            self.token = ""
        if self.token_kept:
            self.token_kept = ""
        self.signed_in = False
        self.display_name = ""

    # --- events -------------------------------------------------------------------------------

    @rx.event
    async def sign_out(self):
        """Revoke the session on the server, drop the cookies, go to the sign-in page."""
        token = self._token()
        if token is not None:
            await asyncio.to_thread(auth.sign_out, get_engine(), token, now=utcnow())
        self._forget()
        return rx.redirect(SIGNIN_ROUTE, replace=True)

    @rx.event
    async def load_public(self):
        """on_load of public pages: show whether someone is signed in."""
        await self._current()

    @rx.event
    async def load_guest(self):
        """on_load of the sign-in and registration pages: a signed-in user goes to the accounts."""
        if await self._current() is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        return None

    @rx.event
    async def require_user(self):
        """on_load of pages for signed-in users (the gate has already checked the session)."""
        if await self._current() is None:
            return rx.redirect(SIGNIN_ROUTE, replace=True)
        return None
