"""Who sent an event: the session cookie of the request itself, never a value kept in the state.

The browser keeps its session as an HttpOnly cookie (``gazportal/session_http.py``): no script can
read it, it never travels in a websocket message. Reflex keys a tab's server-side state by a client
token that travels in the websocket URL, so anything kept in that state would be available to
whoever presents the token. Therefore:

* the user of an event comes from the ``Cookie`` header of the websocket handshake that carried the
  event (Reflex's server-side copy of the connection's headers, not what the browser says), through
  ``services.auth.resolve_session`` (hash, revoked, idle and absolute timeouts) — once per event, by
  the gate (``state/gate.py``), handed to the handler by ``state/contract.py``;
* the states that hold a customer's data (``PERSONAL = True``) are wiped whenever the user of an
  event is not the user they were filled for (``SessionState._owner``): after a sign-out, on a
  connection without the cookie, or another user's cookie on the same client token. A state that
  was not hydrated on this connection with this cookie therefore shows no one's data.

A sign-in opens the session and hands it to the cookie with a one-time code (:func:`start_script`).
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import reflex as rx

from gazportal.db import get_engine
from gazportal.models._base import utcnow
from gazportal.services import auth, throttle
from gazportal.services.auth import handoff as session_handoff
from gazportal.services.staff import is_staff
from gazportal.state.contract import SIGNIN_ROUTE, STAFF_HOME, PUBLIC, Ctx, handler, safe_next, signin_route_for
from gazportal.web import client

# What a token from auth.sign_in looks like (token_urlsafe); anything else is not looked up.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,128}")

HOME_ROUTE = "/accounts"
SESSION_ENDPOINT = "/_gp/session"
SIGNOUT_ENDPOINT = "/_gp/signout"


def home_of(user: Any) -> str:
    """Where a signed-in user lands: staff on the staff console, customers on their accounts."""
    return STAFF_HOME if is_staff(getattr(user, "role", None)) else HOME_ROUTE


def landing(user: Any, wanted: Any) -> str:
    """Where a sign-in leads ``user``: back to ``wanted`` (a ``?next=`` path, ``safe_next``) when it
    is a page of their kind — /staff pages for staff, the others for customers — else home."""
    nxt = safe_next(wanted)
    if nxt is None or (nxt == STAFF_HOME or nxt.startswith(STAFF_HOME + "/")) != is_staff(getattr(user, "role", None)):
        return home_of(user)
    return nxt


class NotSignedIn(Exception):
    """No valid session: none given, unknown, revoked, or timed out."""


def valid_token(value: Any) -> str | None:
    """``value`` when it has the shape of one of our tokens, else None."""
    return value if isinstance(value, str) and TOKEN_RE.fullmatch(value) else None


def cookie_header_of(router_data: Any) -> str:
    """The ``Cookie`` header of the connection an event came on ("" when none)."""
    headers = router_data.get("headers") if isinstance(router_data, dict) else None
    value = headers.get("cookie", "") if isinstance(headers, dict) else ""
    return value if isinstance(value, str) else ""


def token_of(router_data: Any) -> str | None:
    """The session token in the connection's cookie, or None."""
    from gazportal.session_http import token_from_cookie_header

    return token_from_cookie_header(cookie_header_of(router_data))


async def end_reason_of(router_data: Any) -> str | None:
    """Why the session named by the connection's cookie ended (``auth.session_end``), or None
    (no cookie, an unknown token, a live session). Read only on the way to the sign-in page."""
    token = token_of(router_data)
    if token is None:
        return None
    return await asyncio.to_thread(auth.session_end, get_engine(), token, now=utcnow())


def source_of(router_data: Any) -> throttle.Source:
    """Who sent an event (``services.throttle.Source``): the device cookie of the connection and
    the client address the guard found for it (``web/client.py``); what the browser says in an
    event's own data plays no part."""
    headers = router_data.get("headers") if isinstance(router_data, dict) else None
    if not isinstance(headers, dict):
        return throttle.ANONYMOUS
    address = headers.get(client.ADDRESS_HEADER, "")
    return throttle.source(client.device_of(headers.get("cookie", "")), address if isinstance(address, str) else "")


def _resolve(token: str | None):
    if token is None:
        return None
    return auth.resolve_session(get_engine(), token, now=utcnow())


async def user_for(router_data: Any):
    """The signed-in user (``auth.SessionUser``) of a connection's router data, or None."""
    return await asyncio.to_thread(_resolve, token_of(router_data))


async def user_of_state(root: Any):
    """The signed-in user of the request a (root) state is answering now, or None."""
    return await user_for(getattr(root, "router_data", None))


def personal_states() -> list[type[rx.State]]:
    """Every state class that holds a customer's data (``PERSONAL = True``)."""
    out: list[type[rx.State]] = []
    todo = list(rx.State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if getattr(cls, "PERSONAL", False) is True:
            out.append(cls)
    return sorted(out, key=lambda c: c.get_full_name())


async def settle_owner(root: Any, user: Any) -> None:
    """Make the tab's states belong to ``user`` (None: nobody): when they were filled for someone
    else, every personal state is wiped first. Called by the gate on every event."""
    session = await root.get_state(SessionState)
    uid = user.user_id if user is not None else 0
    if session._owner != uid:
        if session._owner:
            for cls in personal_states():
                (await root.get_state(cls)).reset()
        session._owner = uid
    name = (user.display_name or "") if user is not None else ""
    if session.signed_in != (user is not None):
        session.signed_in = user is not None
    if session.display_name != name:
        session.display_name = name


def start_script(code: str, then: str) -> Any:
    """The browser's half of a sign-in: post the hand-over code (the answer sets the HttpOnly
    cookie), then open ``then`` as a new page, whose websocket carries the cookie."""
    body = json.dumps({"code": code})
    return rx.call_script(
        f"fetch({json.dumps(SESSION_ENDPOINT)}, {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}})"
        f".then(r => {{ if (r.ok) window.location.replace({json.dumps(then)}); "
        f"else window.location.replace({json.dumps(SIGNIN_ROUTE)}); }})"
    )


def hand_over(token: str):
    """For a session just opened (``auth.sign_in`` / ``auth.open_session``): its user
    (``auth.SessionUser``, for the language) and a hand-over code for :func:`start_script`.
    Blocking (the database): run it in a thread."""
    user = auth.resolve_session(get_engine(), token, now=utcnow())
    return user, session_handoff.issue(get_engine(), token, now=utcnow())


# What a customer typed in a reading form is kept in the tab's sessionStorage under this prefix
# (state/dashboard.keep_script, issue 14 point 10: it survives a session that *ended*); signing out
# on purpose forgets all of it.
KEEP_PREFIX = "gp-reading-"


def sign_out_script() -> Any:
    """The browser's half of a sign-out: the tab's kept readings go (:data:`KEEP_PREFIX`), the
    answer clears the cookie; then the sign-in page."""
    return rx.call_script(
        f"Object.keys(sessionStorage).filter((k) => k.startsWith({json.dumps(KEEP_PREFIX)}))"
        ".forEach((k) => sessionStorage.removeItem(k));"
        f"fetch({json.dumps(SIGNOUT_ENDPOINT)}, {{method: 'POST', credentials: 'same-origin'}})"
        f".finally(() => window.location.replace({json.dumps(SIGNIN_ROUTE + '?why=signed_out')}))"
    )


class SessionState(rx.State):
    """What the header shows about the user (display only, never used to decide anything), and
    whose data the page states hold."""

    signed_in: bool = False
    display_name: str = ""
    _owner: int = 0  # the user id the personal states were filled for (0: nobody)

    @rx.event
    @handler(PUBLIC)
    async def sign_out(self, ctx: Ctx):
        """Revoke the session on the server, wipe the tab's personal states, drop the cookie (an
        HTTP answer), go to the sign-in page."""
        root = self._get_root_state()
        token = token_of(root.router_data)
        if token is not None:
            await asyncio.to_thread(auth.sign_out, get_engine(), token, now=ctx.now)
        await settle_owner(root, None)
        return sign_out_script()

    @rx.event
    @handler(PUBLIC)
    def load_public(self, ctx: Ctx):
        """on_load of public pages: the header shows whether someone is signed in (the gate has
        settled it already)."""
        return None

    @rx.event
    @handler(PUBLIC)
    def load_guest(self, ctx: Ctx):
        """on_load of the sign-in and registration pages: a signed-in user goes to the accounts."""
        return rx.redirect(home_of(ctx.user), replace=True) if ctx.user is not None else None

    @rx.event
    @handler(PUBLIC)
    async def require_user(self, ctx: Ctx):
        """on_load of pages for signed-in users: a visitor without a session goes to /signin, which
        leads back here after the sign-in (``?next=``)."""
        if ctx.user is not None:
            # staff are not customers: their pages are the staff console's
            return rx.redirect(STAFF_HOME, replace=True) if is_staff(ctx.user.role) else None
        why = await end_reason_of(self.router_data)
        return rx.redirect(signin_route_for(self.router.url if self.router else None, why), replace=True)

    @rx.event
    @handler(PUBLIC)
    async def require_staff(self, ctx: Ctx):
        """on_load of the staff console's pages: a visitor without a session goes to /signin (and
        back here after it), a customer to their accounts. The pages' own handlers are declared
        for a staff role, so the server refuses them to anyone else whatever this step does."""
        if ctx.user is None:
            why = await end_reason_of(self.router_data)
            return rx.redirect(signin_route_for(self.router.url if self.router else None, why), replace=True)
        return None if is_staff(ctx.user.role) else rx.redirect(HOME_ROUTE, replace=True)
