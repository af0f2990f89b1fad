"""CloudPayments (Kazakhstan), from its published documents.

* Checkout: the portal's page runs CloudPayments' widget with the merchant's ``publicId``, the
  amount, currency, ``invoiceId`` (the order) and ``accountId`` (the personal account).
* Notifications (POST, form-urlencoded, to the URLs set in the merchant's dashboard): **Check**
  before charging, **Pay** after a success, **Fail** after a decline. Each carries ``InvoiceId``,
  ``TransactionId``, ``Amount``, ``Currency``, ``Status``; the header ``X-Content-HMAC`` holds
  base64(HMAC-SHA256(API secret, raw body)) (``Content-HMAC``: the same over the URL-decoded body).
  The answer is JSON ``{"code": 0}``; a Check may refuse with 10 (unknown invoice), 12 (wrong
  amount) or 20 (expired).
* Status API: ``POST {api}/payments/find`` with HTTP Basic (Public ID, API secret) and JSON
  ``{"InvoiceId": ...}`` → ``{"Success": true, "Model": {TransactionId, Amount, Currency, Status}}``
  (``Success: false`` for an invoice it never saw).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote_plus

import httpx

from gazportal.models import PaymentOrder
from gazportal.services.payments.providers import Answer, Checkout, Forged, Notification, Outcome, loads, money, text

TIMEOUT = 15.0
CODE_OK, CODE_BAD_INVOICE, CODE_BAD_AMOUNT, CODE_EXPIRED = 0, 10, 12, 20
KINDS = {"check", "pay", "fail"}


def hmac_b64(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): CloudPayments' signature of a notification."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _outcome(status: object, kind: str) -> Outcome:
    if kind == "fail" or status in ("Declined", "Cancelled"):
        return "failure"
    if status == "Completed":
        return "success"
    return "pending"


class CloudPayments:
    """The CloudPayments protocol with one merchant's Public ID and API secret."""

    name = "cloudpayments"

    def __init__(self, public_id: str, api_secret: str, *, api_url: str, public_url: str) -> None:
        self.public_id = public_id
        self.api_secret = api_secret
        self.api_url = api_url.rstrip("/")
        self.public_url = public_url

    def checkout(self, order: PaymentOrder, *, result_url: str, callback_url: str, description: str) -> Checkout:
        """The portal's widget page for ``order`` (``web/payments_http.py`` draws it)."""
        return Checkout(f"{self.public_url}/_gp/pay/cloudpayments/{order.public_id}")

    def widget_options(self, order: PaymentOrder, account_number: str, description: str) -> dict:
        """The options of the widget's ``pay("charge", ...)`` call (``amount`` is a JS number: the
        shortest repr of a 2-place amount below 10^10 is exact; the notification's ``Amount`` is
        compared with the order's as a Decimal)."""
        return {"publicId": self.public_id, "description": description, "amount": float(order.amount),
                "currency": order.currency, "invoiceId": order.public_id, "accountId": account_number,
                "skin": "mini"}

    def _signed(self, body: bytes, headers: dict[str, str]) -> bool:
        if not self.api_secret:
            return False
        given = headers.get("x-content-hmac")
        if given is not None:
            return hmac.compare_digest(hmac_b64(self.api_secret, body).encode(), given.encode())
        given = headers.get("content-hmac")
        if given is not None:
            decoded = unquote_plus(body.decode("latin-1")).encode("latin-1")
            return hmac.compare_digest(hmac_b64(self.api_secret, decoded).encode(), given.encode())
        return False

    def verify(self, body: bytes, headers: dict[str, str], path: str) -> Notification:
        """The notification's fields if its HMAC is right; :class:`Forged` otherwise. ``path``
        ends with the notification's kind (check, pay, fail)."""
        kind = path.rstrip("/").rsplit("/", 1)[-1]
        if kind not in KINDS or not self._signed(body, headers):
            raise Forged("signature")
        try:
            if body.lstrip().startswith(b"{"):
                fields = loads(body)
            else:
                fields = {k: v[0] for k, v in parse_qs(body.decode(), strict_parsing=True, max_num_fields=100).items()}
        except (UnicodeDecodeError, ValueError):
            raise Forged("form") from None
        if not isinstance(fields, dict):
            raise Forged("form")
        tx = fields.get("TransactionId")
        return Notification(
            order=text(fields.get("InvoiceId")), outcome=_outcome(fields.get("Status"), kind),
            transaction_id=text(tx) if tx is not None else None,
            amount=money(fields.get("Amount")), currency=text(fields.get("Currency"), 3),
            kind="check" if kind == "check" else "pay",
        )

    def answer(self, note: Notification | None, accepted: bool, code: int = 0) -> Answer:
        """``{"code": N}``: 0 when taken (or a duplicate), the refusal's code for a Check."""
        if note is None:
            return Answer(401)
        return Answer(200, json.dumps({"code": code}).encode(), "application/json")

    def status(self, order: PaymentOrder) -> Notification:
        """``payments/find`` for ``order``; ``unknown`` when CloudPayments never saw it."""
        reply = httpx.post(f"{self.api_url}/payments/find", json={"InvoiceId": order.public_id},
                           auth=(self.public_id, self.api_secret), timeout=TIMEOUT)
        reply.raise_for_status()
        body = loads(reply.content)
        model = body.get("Model") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not body.get("Success") or not isinstance(model, dict):
            return Notification(order=order.public_id, outcome="unknown")
        tx = model.get("TransactionId")
        return Notification(order=text(model.get("InvoiceId", order.public_id)), outcome=_outcome(model.get("Status"), "pay"),
                            transaction_id=text(tx) if tx is not None else None,
                            amount=money(model.get("Amount")), currency=text(model.get("Currency"), 3))
