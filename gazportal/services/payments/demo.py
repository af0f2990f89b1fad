"""The built-in demo provider for local runs: the portal's own checkout page plays the bank.

The page (``web/payments_http.py``) takes a card number (Luhn-checked), expiry (MM/YY, not past)
and CVC (3 digits). Test cards decide the outcome:

==================  ==========================================================================
4242 4242 4242 4242  paid at once
4000 0000 0000 0002  declined
4000 0000 0000 3220  needs 3-D Secure: a confirmation page, then paid (or declined on cancel)
4000 0000 0000 0119  times out: no callback ever comes; the order stays pending until re-checked
==================  ==========================================================================

Any other valid card number is declined. The "bank" sends its callback through the same path as a
real provider's: a JSON body signed with HMAC-SHA256 under a key derived from the portal's secret,
verified by :meth:`DemoProvider.verify` — so nothing but the demo bank can book a demo payment.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gazportal.models import PaymentOrder
from gazportal.services.errors import FormErrors, Notice
from gazportal.services.payments.providers import Answer, Checkout, Forged, Notification, loads, money, text

CARD_SUCCESS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_3DS = "4000000000003220"
CARD_TIMEOUT = "4000000000000119"
Behaviour = Literal["success", "declined", "3ds", "timeout"]
HEADER = "x-demo-signature"


def luhn_ok(number: str) -> bool:
    """The Luhn (mod 10) check of a card number of 12–19 digits (ISO/IEC 7812-1)."""
    if not re.fullmatch(r"\d{12,19}", number):
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Card:
    number: str
    behaviour: Behaviour


def read_card(number: object, expiry: object, cvc: object, *, today: date) -> Card:
    """The card typed on the demo checkout page. Spaces and dashes in the number are ignored.
    Raises :class:`FormErrors` (fields ``card``, ``expiry``, ``cvc``; keys under ``pay.demo.``)."""
    errors: dict[str, Notice] = {}
    digits = re.sub(r"[\s-]", "", number) if isinstance(number, str) else ""
    if not luhn_ok(digits):
        errors["card"] = Notice("pay.demo.card_invalid")
    m = re.fullmatch(r"\s*(\d{2})\s*/\s*(\d{2})\s*", expiry) if isinstance(expiry, str) else None
    if m is None or not 1 <= int(m[1]) <= 12:
        errors["expiry"] = Notice("pay.demo.expiry_invalid")
    elif (2000 + int(m[2]), int(m[1])) < (today.year, today.month):
        errors["expiry"] = Notice("pay.demo.expiry_past")
    if not (isinstance(cvc, str) and re.fullmatch(r"\d{3}", cvc.strip())):
        errors["cvc"] = Notice("pay.demo.cvc_invalid")
    if errors:
        raise FormErrors(errors)
    behaviour: Behaviour = {CARD_SUCCESS: "success", CARD_3DS: "3ds", CARD_TIMEOUT: "timeout"}.get(digits, "declined")  # type: ignore[assignment]
    return Card(digits, behaviour)


class DemoProvider:
    """The demo bank: its key is derived from the portal's secret key."""

    name = "demo"

    def __init__(self, secret_key: bytes, public_url: str) -> None:
        self.key = hmac.new(secret_key, b"gazportal demo payment provider", hashlib.sha256).digest()
        self.public_url = public_url

    def checkout(self, order: PaymentOrder, *, result_url: str, callback_url: str, description: str) -> Checkout:
        """The portal's demo card page for ``order``."""
        return Checkout(f"{self.public_url}/_gp/pay/demo/{order.public_id}")

    def sign(self, body: bytes) -> str:
        """Hex HMAC-SHA256 of ``body`` under the demo bank's key."""
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def callback(self, order: PaymentOrder, outcome: Literal["success", "failure"]) -> tuple[bytes, dict[str, str]]:
        """The signed callback the demo bank sends about ``order`` (body, headers)."""
        body = json.dumps({"order": order.public_id, "status": outcome, "amount": str(order.amount),
                           "currency": order.currency, "transaction": "demo-" + secrets.token_hex(8)}).encode()
        return body, {HEADER: self.sign(body)}

    def verify(self, body: bytes, headers: dict[str, str], path: str) -> Notification:
        """The demo callback if signed by the demo bank; :class:`Forged` otherwise."""
        given = headers.get(HEADER, "")
        if not hmac.compare_digest(self.sign(body).encode(), given.encode()):
            raise Forged("signature")
        try:
            data = loads(body)
        except ValueError:
            raise Forged("body") from None
        if not isinstance(data, dict) or data.get("status") not in ("success", "failure"):
            raise Forged("body")
        return Notification(order=text(data.get("order")), outcome=data["status"],
                            transaction_id=text(data.get("transaction")), amount=money(data.get("amount")),
                            currency=text(data.get("currency"), 3))

    def answer(self, note: Notification | None, accepted: bool, code: int = 0) -> Answer:
        return Answer(200 if note is not None else 400)

    def status(self, order: PaymentOrder) -> Notification:
        """The demo bank keeps no record: an order it never called back about is unknown."""
        return Notification(order=order.public_id, outcome="unknown")
