"""ASGI middleware around the portal's server (``rx.App(api_transformer=...)``).

In production Reflex serves the prerendered pages with Starlette's static files, which answer
``/accounts`` with a 307 to ``/accounts/`` (the page is ``accounts/index.html``). On a phone that
is one more round trip before anything is drawn (Lighthouse: about 600 ms on its slow 4G) on every
direct load: a bookmark, the home-screen icon, a link in an e-mail. This middleware serves the page
at the address asked for instead: when the answer to a GET/HEAD is exactly that redirect (to the
same path plus "/"), it is dropped and the request is served again with the slash added. Nothing
else changes: other redirects, other methods, the websocket and the API pass through as they are.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def serve_pages_without_slash_redirect(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD") or path.endswith("/"):
            await app(scope, receive, send)
            return
        dropped = False

        async def watch(message: Message) -> None:
            nonlocal dropped
            if message["type"] == "http.response.start" and message["status"] in (301, 307, 308):
                location = dict(message.get("headers") or []).get(b"location", b"").decode("latin-1")
                if urlsplit(location).path == path + "/":
                    dropped = True
                    return
            if not dropped:
                await send(message)

        await app(scope, receive, watch)
        if dropped:
            again = dict(scope)
            again["path"] = path + "/"
            if isinstance(scope.get("raw_path"), bytes):
                again["raw_path"] = scope["raw_path"] + b"/"
            await app(again, receive, send)

    return wrapped
