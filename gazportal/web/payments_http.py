"""The HTTP side of online payments (an ASGI wrapper around the portal, ``rx.App(api_transformer=)``).

* ``POST /_gp/pay/callback/<provider>[/<kind>]``: a provider's server callback (LiqPay: form
  ``data``+``signature``; CloudPayments: ``.../check``, ``.../pay``, ``.../fail`` with
  ``X-Content-HMAC``). Verified and booked by ``services.payments.receive``; answered in the
  provider's protocol. A forged callback changes nothing and stores nothing.
* ``GET /_gp/pay/go/<order>``: sends the browser to the provider's page for the order (a redirect,
  or a form that submits itself for LiqPay) and marks the order pending.
* ``GET|POST /_gp/pay/demo/<order>`` (+ ``/3ds``): the demo provider's card page (local runs).
* ``GET /_gp/pay/cloudpayments/<order>``: the page that opens CloudPayments' widget.
* ``GET /_gp/pay/result/<order>``: what happened, told truthfully: paid, declined, expired, or
  still waiting for the bank's callback (then the page refreshes itself every 3 seconds).

The order's 128-bit id is the capability for the browser pages; they show the account number,
amount and status only. Pages are in the order's language (``locales/``, keys ``pay.*``).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from gazportal.db import get_engine
from gazportal.services import i18n, payments
from gazportal.services.errors import DomainError, FormErrors
from gazportal.services.payments import demo as demo_bank
from gazportal.services.payments.providers import NAMES, get
from gazportal.settings import get_settings

log = logging.getLogger("gazportal.payments_http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/_gp/pay/"
MAX_BODY = 16 * 1024
_ROUTE = re.compile(r"^/_gp/pay/(callback|go|demo|cloudpayments|result)/([A-Za-z0-9_-]{1,32})(?:/([a-z0-9]{1,10}))?/?$")


async def _body(receive: Receive) -> bytes | None:
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


async def _send(send: Send, status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8",
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, url: str) -> None:
    await _send(send, 303, extra=[(b"location", url.encode())])


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}


def _page(lang: str, title: str, body: str, *, refresh: bool = False) -> bytes:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    style = ("body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
             "label{display:block;margin-top:1rem}input{font-size:1.1rem;padding:.5rem;width:100%;box-sizing:border-box}"
             "button{margin-top:1.2rem;font-size:1.1rem;padding:.6rem 1.2rem}.err{color:#b00020}.note{color:#555}")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">{meta}'
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body>"
            f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>").encode()


def _amount(view: payments.OrderView) -> str:
    return i18n.format_money(view.amount, view.currency, view.language)


def _result_page(view: payments.OrderView) -> tuple[bytes, bool]:
    lang = view.language
    key = {"paid": "paid", "failed": "failed", "expired": "expired"}.get(view.status, "pending")
    text = i18n.t(f"pay.result.{key}", lang, amount=_amount(view))
    back = f'<p><a href="/accounts">{html.escape(i18n.t("pay.result.back", lang))}</a></p>'
    body = (f'<p>{html.escape(i18n.t("pay.account", lang, number=view.account_number))}</p>'
            f'<p role="status" data-status="{key}">{html.escape(text)}</p>{back}')
    return _page(lang, i18n.t("pay.result.title", lang), body, refresh=key == "pending"), key == "pending"


def _secure_token(provider: demo_bank.DemoProvider, order: str) -> str:
    return hmac.new(provider.key, f"3ds:{order}".encode(), hashlib.sha256).hexdigest()


def _demo_form(view: payments.OrderView, errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> bytes:
    lang, errors, values = view.language, errors or {}, values or {}

    def field(name: str, autocomplete: str, mode: str) -> str:
        err = errors.get(name)
        note = f'<span class="err" id="{name}-err">{html.escape(err)}</span>' if err else ""
        invalid = ' aria-invalid="true"' if err else ""
        return (f'<label for="{name}">{html.escape(i18n.t("pay.demo." + name, lang))}</label>'
                f'<input id="{name}" name="{name}" autocomplete="{autocomplete}" inputmode="{mode}" '
                f'value="{html.escape(values.get(name, ""))}"{invalid}>{note}')

    body = (f'<p>{html.escape(i18n.t("pay.account", lang, number=view.account_number))}</p>'
            f'<p class="note">{html.escape(i18n.t("pay.demo.note", lang))}</p>'
            f'<form method="post" action="/_gp/pay/demo/{view.public_id}">'
            f'{field("card", "cc-number", "numeric")}{field("expiry", "cc-exp", "numeric")}{field("cvc", "cc-csc", "numeric")}'
            f'<button type="submit">{html.escape(i18n.t("pay.demo.submit", lang, amount=_amount(view)))}</button></form>')
    return _page(lang, i18n.t("pay.demo.title", lang), body)


def _now() -> datetime:
    return datetime.now(UTC)


async def _callback(scope: Scope, receive: Receive, send: Send, name: str, kind: str | None) -> None:
    if scope.get("method") != "POST" or name not in NAMES:
        await _send(send, 404)
        return
    body = await _body(receive)
    if body is None:
        await _send(send, 413)
        return
    provider = get(name)
    path = scope.get("path", "")
    note, _result, code = await asyncio.to_thread(payments.receive, get_engine(), get_settings().utility, provider,
                                                  body, _headers(scope), path, now=_now())
    answer = provider.answer(note, note is not None, code)
    await _send(send, answer.status, answer.body, answer.content_type)


async def _go(send: Send, order_id: str) -> None:
    engine = get_engine()
    order = await asyncio.to_thread(payments.get_order, engine, order_id)
    if order.status not in payments.OPEN:
        await _redirect(send, f"/_gp/pay/result/{order_id}")
        return
    settings = get_settings()
    provider = get(order.provider)
    view = await asyncio.to_thread(payments.order_view, engine, order_id)
    checkout = provider.checkout(
        order, result_url=f"{settings.public_url}/_gp/pay/result/{order_id}",
        callback_url=f"{settings.public_url}/_gp/pay/callback/{order.provider}",
        description=i18n.t("pay.account", view.language, number=view.account_number))
    await asyncio.to_thread(payments.mark_pending, engine, order_id, _now())
    if not checkout.fields:
        await _redirect(send, checkout.url)
        return
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in checkout.fields.items())
    body = (f'<form id="go" method="post" action="{html.escape(checkout.url)}" accept-charset="utf-8">{inputs}'
            f'<button type="submit">{html.escape(i18n.t("pay.cloudpayments.open", view.language))}</button></form>'
            '<script>document.getElementById("go").submit()</script>')
    await _send(send, 200, _page(view.language, i18n.t("pay.result.title", view.language), body), "text/html; charset=utf-8")


async def _demo(scope: Scope, receive: Receive, send: Send, order_id: str, step: str | None) -> None:
    engine = get_engine()
    view = await asyncio.to_thread(payments.order_view, engine, order_id)
    lang = view.language
    if view.provider != "demo":
        await _send(send, 404)
        return
    if view.status not in payments.OPEN:
        await _redirect(send, f"/_gp/pay/result/{order_id}")
        return
    if scope.get("method") == "GET" and step is None:
        await _send(send, 200, _demo_form(view), "text/html; charset=utf-8")
        return
    if scope.get("method") != "POST":
        await _send(send, 405)
        return
    raw = await _body(receive)
    form = {k: v[0] for k, v in parse_qs((raw or b"").decode("utf-8", "replace"), max_num_fields=10).items()}
    provider = get("demo")
    assert isinstance(provider, demo_bank.DemoProvider)
    if step == "3ds":
        if not hmac.compare_digest(form.get("t", ""), _secure_token(provider, order_id)):
            await _send(send, 403)
            return
        outcome = "success" if form.get("answer") == "confirm" else "failure"
    else:
        try:
            card = demo_bank.read_card(form.get("card"), form.get("expiry"), form.get("cvc"),
                                       today=_now().astimezone(get_settings().utility.tz).date())
        except FormErrors as e:
            errors = {k: i18n.t(n.key, lang) for k, n in e.fields.items()}
            values = {"card": form.get("card", ""), "expiry": form.get("expiry", "")}
            await _send(send, 422, _demo_form(view, errors, values), "text/html; charset=utf-8")
            return
        if card.behaviour == "3ds":
            token = _secure_token(provider, order_id)
            buttons = "".join(
                f'<button type="submit" name="answer" value="{v}">{html.escape(i18n.t("pay.demo." + v, lang))}</button> '
                for v in ("confirm", "cancel"))
            body = (f'<p>{html.escape(i18n.t("pay.demo.secure_text", lang, amount=_amount(view)))}</p>'
                    f'<form method="post" action="/_gp/pay/demo/{order_id}/3ds"><input type="hidden" name="t" value="{token}">'
                    f'{buttons}</form>')
            await _send(send, 200, _page(lang, i18n.t("pay.demo.secure_title", lang), body), "text/html; charset=utf-8")
            return
        if card.behaviour == "timeout":
            await _redirect(send, f"/_gp/pay/result/{order_id}")
            return
        outcome = "success" if card.behaviour == "success" else "failure"
    order = await asyncio.to_thread(payments.get_order, engine, order_id)
    body, headers = provider.callback(order, outcome)  # the demo bank's callback, through the real path
    await asyncio.to_thread(payments.receive, engine, get_settings().utility, provider, body, headers,
                            "/_gp/pay/callback/demo", now=_now())
    await _redirect(send, f"/_gp/pay/result/{order_id}")


async def _cloudpayments(send: Send, order_id: str) -> None:
    engine = get_engine()
    order = await asyncio.to_thread(payments.get_order, engine, order_id)
    view = await asyncio.to_thread(payments.order_view, engine, order_id)
    provider = get("cloudpayments")
    settings = get_settings()
    options = provider.widget_options(order, view.account_number, i18n.t("pay.account", view.language,  # type: ignore[attr-defined]
                                                                        number=view.account_number))
    result = f"/_gp/pay/result/{order_id}"
    script = (f'<script src="{html.escape(settings.payments.cloudpayments_widget_url)}"></script><script>'
              f'document.getElementById("pay").onclick=function(){{new cp.CloudPayments().pay("charge",'
              f'{json.dumps(options)},{{onComplete:function(){{location.href={json.dumps(result)}}}}})}};'
              'document.getElementById("pay").click()</script>')
    body = (f'<p>{html.escape(i18n.t("pay.account", view.language, number=view.account_number))}: {html.escape(_amount(view))}</p>'
            f'<button id="pay" type="button">{html.escape(i18n.t("pay.cloudpayments.open", view.language))}</button>{script}')
    await _send(send, 200, _page(view.language, i18n.t("pay.result.title", view.language), body), "text/html; charset=utf-8")


async def _result(send: Send, order_id: str) -> None:
    view = await asyncio.to_thread(payments.order_view, get_engine(), order_id)
    page, _ = _result_page(view)
    await _send(send, 200, page, "text/html; charset=utf-8")


def payment_routes(app: ASGIApp) -> ASGIApp:
    """Wrap the portal's ASGI app with the payment endpoints (``rx.App(api_transformer=)``)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope.get("type") != "http" or not path.startswith(PREFIX):
            await app(scope, receive, send)
            return
        m = _ROUTE.match(path)
        if m is None:
            await _send(send, 404)
            return
        what, ident, step = m[1], m[2], m[3]
        try:
            if what == "callback":
                await _callback(scope, receive, send, ident, step)
            elif scope.get("method") not in ("GET", "POST"):
                await _send(send, 405)
            elif what == "go":
                await _go(send, ident)
            elif what == "demo":
                await _demo(scope, receive, send, ident, step)
            elif what == "cloudpayments":
                await _cloudpayments(send, ident)
            else:
                await _result(send, ident)
        except DomainError:
            lang = get_settings().utility.default_language
            await _send(send, 404, _page(lang, i18n.t("pay.result.title", lang),
                                         f'<p>{html.escape(i18n.t("pay.result.not_found", lang))}</p>'),
                        "text/html; charset=utf-8")

    return wrapped
