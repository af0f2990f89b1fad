"""The public pages the documents' QR codes point at (ASGI wrappers, like ``session_http``):
the verification page of a certificate of no debt, ``GET /verify?c=<code>[&lang=xx]``, and the pay
link of a Kazakh invoice, ``GET /pay?t=<token>[&lang=xx]`` (:func:`pay_link_route`).

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


def _get_route(path: str, answer: Callable[[Scope], tuple[int, str, tuple]]) -> Callable[[ASGIApp], ASGIApp]:
    """An ``api_transformer`` serving ``GET``/``HEAD`` of ``path`` with ``answer(scope)`` →
    (status, HTML page, extra headers), run in a worker thread; other methods get 405, other
    paths pass through."""

    def route(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope.get("type") != "http" or scope.get("path") not in (path, path + "/"):
                await app(scope, receive, send)
                return
            method = scope.get("method")
            if method not in ("GET", "HEAD"):
                await _not_allowed(send)
                return
            status, page, headers = await asyncio.to_thread(answer, scope)
            await _html(send, status, page, method, headers)

        return wrapped

    return route


def _verify_answer(scope: Scope) -> tuple[int, str, tuple]:
    return (*_page(*_params(scope)), ())


async def _html(send: Send, status: int, page: str, method: Any, headers: tuple = ()) -> None:
    body = page.encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store"),
        (b"x-robots-tag", b"noindex"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


async def _not_allowed(send: Send) -> None:
    await send({"type": "http.response.start", "status": 405,
                "headers": [(b"allow", b"GET, HEAD"), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


PAY_PATH = "/pay"


def _pay_answer(scope: Scope) -> tuple[int, str, tuple]:
    """A valid, unexpired pay link: 303 to the dashboard, where the customer (signed in first if
    need be) pays the live debt from the Pay form — the link's amount is only what the paper said,
    and whose account it is is decided by the session, never by the link. Otherwise 400 (forged,
    altered, malformed) or 410 (expired) with the reason in the page's language."""
    from datetime import UTC, datetime

    from gazportal.services.documents.qr import read_pay_link
    from gazportal.services.errors import InvalidInput

    settings = get_settings()
    utility = settings.utility
    raw = scope.get("query_string", b"")[:MAX_QUERY * 3 + 1]
    q = parse_qs(raw.decode("latin-1"), max_num_fields=4) if len(raw) <= MAX_QUERY * 3 else {}
    lang = (q.get("lang") or [None])[0]
    lang = lang if lang in utility.languages else utility.default_language
    try:
        read_pay_link(settings, (q.get("t") or [None])[0], datetime.now(UTC))
    except InvalidInput as e:
        status = 410 if e.key == "errors.pay_link_expired" else 400
        return status, documents.pay_link_page(utility, e.key, lang), ()
    return 303, "", ((b"location", b"/dashboard"),)


verify_route = _get_route(VERIFY_PATH, _verify_answer)
verify_route.__doc__ = "Wrap the portal's ASGI app with ``GET /verify`` (``rx.App(api_transformer=)``)."
pay_link_route = _get_route(PAY_PATH, _pay_answer)
pay_link_route.__doc__ = "Wrap the portal's ASGI app with ``GET /pay?t=...`` (``rx.App(api_transformer=)``)."
