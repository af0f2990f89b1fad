"""A customer's own documents over HTTP: ``GET /documents/{invoice,act,receipt}?account=<id>&...``
(an ASGI wrapper, like ``session_http``), for links on the portal's pages.

The person is the request's own session cookie (HttpOnly ``gp_session``, SameSite=Strict), never a
parameter; the account must be theirs (``documents.for_customer`` checks it with
``accounts.require_account`` before reading anything): anything else answers 404, the same for an
account that does not exist and one that is someone else's. Parameters: ``account`` (the account
id), ``period`` (invoice: the month; act: the first month), ``to`` (act: the last month),
``payment`` (receipt: the payment id), ``lang`` (one of the profile's; else the customer's language).
A refused parameter answers 400 with the translated message as text. A certificate of no debt is
not served here: issuing one records a row, which a GET must not do.

Answers: 200 ``application/pdf`` as an attachment with the document's file name and
``Cache-Control: no-store``; 401 without a live session; 405 for another method.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from gazportal.db import get_engine, read_session
from gazportal.services import documents, i18n
from gazportal.services.errors import DomainError, NotFound
from gazportal.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/documents/"
KINDS = ("invoice", "act", "receipt")
MAX_QUERY = 300


def _query(scope: Scope) -> dict[str, str] | None:
    raw = scope.get("query_string", b"")
    if len(raw) > MAX_QUERY:
        return None
    try:
        q = parse_qs(raw.decode("ascii"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in q.items() if len(v) == 1}


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) < 12 else None


def _render(kind: str, q: dict[str, str], cookie: str) -> tuple[int, bytes, str]:
    """(status, body, file name) — blocking: runs in a thread."""
    from gazportal.session_http import user_from_cookie_header

    user = user_from_cookie_header(cookie)
    if user is None:
        return 401, b"", ""
    settings = get_settings()
    utility = settings.utility
    lang = q.get("lang") if q.get("lang") in utility.languages else (
        user.language if user.language in utility.languages else utility.default_language)
    try:
        with read_session(get_engine()) as session:
            doc = documents.for_customer(
                session, utility, user.user_id, _int(q.get("account")), kind, lang, settings=settings,
                now=datetime.now(UTC), period=q.get("period"), last=q.get("to") or q.get("period"),
                payment_id=_int(q.get("payment")))
    except NotFound:
        return 404, b"", ""
    except DomainError as e:
        return 400, i18n.error_text(e, lang, tz=utility.tz, currency=utility.currency.code).encode(), ""
    return 200, doc.data, doc.filename


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def document_routes(app: ASGIApp) -> ASGIApp:
    """Wrap the portal's ASGI app with ``GET /documents/<kind>`` (``rx.App(api_transformer=)``)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope.get("type") != "http" or not path.startswith(PREFIX):
            await app(scope, receive, send)
            return
        kind = path[len(PREFIX):]
        if kind not in KINDS:
            await _answer(send, 404, b"", [])
            return
        if scope.get("method") != "GET":
            await _answer(send, 405, b"", [(b"allow", b"GET")])
            return
        q = _query(scope)
        if q is None:
            await _answer(send, 400, b"", [])
            return
        cookie = next((v.decode("latin-1") for k, v in scope.get("headers") or [] if k.lower() == b"cookie"), "")
        status, body, name = await asyncio.to_thread(_render, kind, q, cookie)
        if status != 200:
            ctype = b"text/plain; charset=utf-8"
            await _answer(send, status, body, [(b"content-type", ctype)])
            return
        await _answer(send, 200, body, [(b"content-type", b"application/pdf"),
                                        (b"content-disposition", f'attachment; filename="{name}"'.encode())])

    return wrapped
