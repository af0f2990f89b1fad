"""LiqPay (Ukraine), API version 3, from its published documents.

* Checkout: the browser POSTs ``data`` and ``signature`` to ``https://www.liqpay.ua/api/3/checkout``;
  ``data`` = base64(JSON {version, public_key, action: "pay", amount, currency, description,
  order_id, result_url, server_url}); ``signature`` = base64(sha1(private_key + data + private_key)).
* Callback (``server_url``): a form POST of ``data`` and ``signature`` made the same way; the JSON
  holds ``status`` (``success``; ``failure``/``error``/``reversed``; others such as ``wait_secure``,
  ``3ds_verify``, ``processing`` are on their way), ``order_id``, ``payment_id``, ``amount``, ``currency``.
* Status API: POST ``data``+``signature`` of {version, public_key, action: "status", order_id} to
  ``https://www.liqpay.ua/api/request``; the answer is that JSON (``result: error`` with
  ``err_code: payment_not_found`` for an order LiqPay never saw).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from urllib.parse import parse_qs

import httpx

from gazportal.models import PaymentOrder
from gazportal.services.payments.providers import Answer, Checkout, Forged, Notification, Outcome, loads, money, text

FAILED = {"failure", "error", "reversed"}
TIMEOUT = 15.0


def sign(private_key: str, data: str) -> str:
    """base64(sha1(private_key + data + private_key)): LiqPay's signature of ``data``."""
    digest = hashlib.sha1((private_key + data + private_key).encode()).digest()
    return base64.b64encode(digest).decode()


def encode(params: dict) -> str:
    """base64 of the JSON of ``params``; a Decimal amount is written as a JSON number (LiqPay's
    ``amount`` is a Number; the shortest repr of a 2-place amount below 10^10 is exact)."""
    raw = json.dumps(params, default=lambda d: float(d) if isinstance(d, Decimal) else str(d), ensure_ascii=False)
    return base64.b64encode(raw.encode()).decode()


def _outcome(status: object) -> Outcome:
    if status == "success":
        return "success"
    if status in FAILED:
        return "failure"
    return "pending"


class LiqPay:
    """The LiqPay protocol with one merchant's keys."""

    name = "liqpay"

    def __init__(self, public_key: str, private_key: str, *, api_url: str, checkout_url: str) -> None:
        self.public_key = public_key
        self.private_key = private_key
        self.api_url = api_url
        self.checkout_url = checkout_url

    def _signed(self, params: dict) -> dict[str, str]:
        data = encode({"version": 3, "public_key": self.public_key, **params})
        return {"data": data, "signature": sign(self.private_key, data)}

    def checkout(self, order: PaymentOrder, *, result_url: str, callback_url: str, description: str) -> Checkout:
        """A form POST of the signed order to LiqPay's checkout page."""
        return Checkout(self.checkout_url, self._signed({
            "action": "pay", "amount": order.amount, "currency": order.currency, "description": description,
            "order_id": order.public_id, "result_url": result_url, "server_url": callback_url,
            "language": order.language if order.language in ("uk", "en") else "uk",
        }))

    def _read(self, data: str, signature: str) -> dict:
        if not self.private_key or not hmac.compare_digest(sign(self.private_key, data).encode(), signature.encode()):
            raise Forged("signature")
        try:
            body = loads(base64.b64decode(data, validate=True))
        except ValueError:
            raise Forged("data") from None
        if not isinstance(body, dict):
            raise Forged("data")
        return body

    def _note(self, body: dict) -> Notification:
        outcome = _outcome(body.get("status"))
        tx = body.get("payment_id", body.get("transaction_id"))
        return Notification(
            order=text(body.get("order_id")), outcome=outcome,
            transaction_id=text(tx) if tx is not None else None,
            amount=money(body.get("amount")), currency=text(body.get("currency"), 3),
        )

    def verify(self, body: bytes, headers: dict[str, str], path: str) -> Notification:
        """The callback's ``data`` if its ``signature`` is LiqPay's; :class:`Forged` otherwise."""
        try:
            form = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=4)
        except (UnicodeDecodeError, ValueError):
            raise Forged("form") from None
        data, signature = form.get("data"), form.get("signature")
        if not data or not signature or len(data) != 1 or len(signature) != 1:
            raise Forged("form")
        payload = self._read(data[0], signature[0])
        if payload.get("public_key") not in (None, self.public_key):
            raise Forged("public_key")
        return self._note(payload)

    def answer(self, note: Notification | None, accepted: bool, code: int = 0) -> Answer:
        """LiqPay only needs a 200 for a callback it may stop resending; a forged one gets 400."""
        return Answer(200 if note is not None else 400)

    def status(self, order: PaymentOrder) -> Notification:
        """LiqPay's status API for ``order``; ``unknown`` when LiqPay never saw it."""
        reply = httpx.post(self.api_url, data=self._signed({"action": "status", "order_id": order.public_id}),
                           timeout=TIMEOUT)
        reply.raise_for_status()
        body = loads(reply.content)
        if not isinstance(body, dict):
            raise Forged("status")
        if body.get("result") == "error" or "status" not in body:
            return Notification(order=order.public_id, outcome="unknown")
        return self._note(body)
