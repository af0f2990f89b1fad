"""The public verification page of a certificate of no debt: ``GET /verify?c=<code>[&lang=xx]``
(an ASGI wrapper, like ``session_http``; the QR on the certificate points here).

Server-rendered HTML with no script (``services.documents.verify_page``): 200 with the
certificate's number and dates when the code is known, 404 with "no certificate" otherwise (a
malformed code too). No personal data either way; ``Cache-Control: no-store`` and ``noindex``.
The language is ``lang`` when the profile has it, else the profile's default. The guard (outermost)
adds the security headers and limits.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from gazportal.db import get_engine, read_session
from gazportal.services import documents
from gazportal.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

VERIFY_PATH = "/verify"
MAX_QUERY = 200


def _params(scope: Scope) -> tuple[str | None, str | None]:
    raw = scope.get("query_string", b"")[:MAX_QUERY + 1]
    if len(raw) > MAX_QUERY:
        return None, None
    q = parse_qs(raw.decode("latin-1"), max_num_fields=4)
    return (q.get("c") or [None])[0], (q.get("lang") or [None])[0]


def _page(code: str | None, lang: str | None) -> tuple[int, str]:
    utility = get_settings().utility
    lang = lang if lang in utility.languages else utility.default_language
    with read_session(get_engine()) as session:
        check = documents.check_certificate(session, utility, code)
    return (200 if check else 404), documents.verify_page(utility, check, lang)


def verify_route(app: ASGIApp) -> ASGIApp:
    """Wrap the portal's ASGI app with ``GET /verify`` (``rx.App(api_transformer=)``)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path") not in (VERIFY_PATH, VERIFY_PATH + "/"):
            await app(scope, receive, send)
            return
        method = scope.get("method")
        if method not in ("GET", "HEAD"):
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"allow", b"GET, HEAD"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        status, page = await asyncio.to_thread(_page, *_params(scope))
        body = page.encode("utf-8")
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store"),
            (b"x-robots-tag", b"noindex"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    return wrapped
