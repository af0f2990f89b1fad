"""The session cookie, set and cleared by HTTP answers (an ASGI wrapper around the portal).

The browser holds its session as ``gp_session``: HttpOnly (no script can read it, so it never
travels in a websocket message or a state delta), SameSite=Strict, Secure when the public URL is
https, Path=/; with "remember me" it carries a Max-Age of the session's remaining life, else it is a
browser-session cookie. Every event and every upload reads it from the request itself (the
websocket handshake's ``Cookie`` header, the upload's headers): see :func:`token_from_cookie_header`.

* ``POST /_gp/session`` with ``{"code": "<hand-over code>"}`` (made by the sign-in handler,
  ``services/session_handoff.py``): 204 and the cookie; a bad code: 403, nothing set.
* ``POST /_gp/signout``: the cookie's session is revoked and the cookie cleared (204).

Both refuse a request whose ``Origin`` is not the portal's own (403): SameSite=Strict already keeps
other sites' requests cookie-less; the check keeps them from starting a session either.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from gazportal.db import get_engine
from gazportal.services import auth
from gazportal.services.auth import handoff as session_handoff
from gazportal.services.errors import DomainError
from gazportal.settings import get_settings
from gazportal.web.client import cookie_value

log = logging.getLogger("gazportal.session_http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "gp_session"
SESSION_PATH = "/_gp/session"
SIGNOUT_PATH = "/_gp/signout"
MAX_BODY = 1024


def token_from_cookie_header(header: Any) -> str | None:
    """The session token from a ``Cookie`` request header (RFC 6265: ``name=value; ...``), or None
    (no cookie of ours, or not the shape of a token). Another cookie's bad syntax does not hide
    ours; of two cookies of our name the first counts, as browsers send the most specific first."""
    value = cookie_value(header, COOKIE)
    return _valid(value) if value is not None else None


def _valid(value: str) -> str | None:
    from gazportal.state.session import valid_token

    return valid_token(value)


def user_from_cookie_header(header: Any, *, now: datetime | None = None):
    """The signed-in user (``auth.SessionUser``) of a request's ``Cookie`` header, or None.
    Blocking (a database read): call it in a thread from async code."""
    token = token_from_cookie_header(header)
    if token is None:
        return None
    return auth.resolve_session(get_engine(), token, now=now or datetime.now(UTC))


def _cookie(token: str, max_age: int | None) -> str:
    secure = "; Secure" if get_settings().public_url.startswith("https://") else ""
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}{age}"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _same_origin(scope: Scope) -> bool:
    origin = _header(scope, b"origin")
    if not origin:
        return False
    host = _header(scope, b"host")
    parts = urlsplit(origin)
    if parts.netloc and parts.netloc == host:
        return True
    public = urlsplit(get_settings().public_url)
    return (parts.scheme, parts.netloc) == (public.scheme, public.netloc)


async def _read_body(receive: Receive) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        if message.get("type") != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body"):
            return body


async def _answer(send: Send, status: int, cookie: str | None = None) -> None:
    headers = [(b"cache-control", b"no-store"), (b"content-length", b"0")]
    if cookie is not None:
        headers.append((b"set-cookie", cookie.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _start_session(scope: Scope, receive: Receive, send: Send) -> None:
    body = await _read_body(receive)
    try:
        code = json.loads(body or b"").get("code")
    except (ValueError, AttributeError):
        code = None
    if not isinstance(code, str):
        await _answer(send, 400)
        return
    now = datetime.now(UTC)
    try:
        claimed = await asyncio.to_thread(session_handoff.claim, get_engine(), code, now=now)
    except DomainError:
        log.info("session hand-over refused")
        await _answer(send, 403)
        return
    max_age = int((claimed.expires_at - now).total_seconds()) if claimed.remember else None
    await _answer(send, 204, _cookie(claimed.token, max_age))


async def _sign_out(scope: Scope, receive: Receive, send: Send) -> None:
    token = token_from_cookie_header(_header(scope, b"cookie"))
    if token is not None:
        await asyncio.to_thread(auth.sign_out, get_engine(), token, now=datetime.now(UTC))
    await _answer(send, 204, _cookie("", 0))


def session_routes(app: ASGIApp) -> ASGIApp:
    """Wrap the portal's ASGI app with the two session endpoints (``rx.App(api_transformer=)``)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope.get("type") != "http" or path not in (SESSION_PATH, SIGNOUT_PATH):
            await app(scope, receive, send)
            return
        if scope.get("method") != "POST":
            await _answer(send, 405)
            return
        if not _same_origin(scope):
            log.warning("session endpoint: refused a request from another origin")
            await _answer(send, 403)
            return
        if path == SESSION_PATH:
            await _start_session(scope, receive, send)
        else:
            await _sign_out(scope, receive, send)

    return wrapped
