"""What every payment provider gives the portal, and the registry of providers.

A provider turns an order into the place the customer pays (:class:`Checkout`), reads a callback
it sent (``verify``: a :class:`Notification` or :class:`Forged`), answers it in its own protocol,
and tells the status of an order when asked (``status``: the re-check of stale orders).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from gazportal.models import PaymentOrder

Outcome = Literal["success", "failure", "pending", "unknown"]


class Forged(Exception):
    """A callback whose signature or shape is wrong: refused, never booked, never stored."""


@dataclass(frozen=True)
class Notification:
    """What a verified callback (or a status call) says about one order.

    ``order``: the order's ``public_id``; ``outcome``: success (money taken), failure (declined,
    cancelled), pending (still on its way), unknown (the provider has no such order);
    ``amount``: Decimal as the provider sent it (not rounded); ``currency``: ISO 4217 code."""

    order: str
    outcome: Outcome
    transaction_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    kind: Literal["pay", "check"] = "pay"  # "check": CloudPayments asks before charging


@dataclass(frozen=True)
class Checkout:
    """Where the browser goes to pay: a GET to ``url``, or a POST of ``fields`` to it."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to a callback: status, content type, body."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain"


class Provider(Protocol):
    name: str

    def checkout(self, order: PaymentOrder, *, result_url: str, callback_url: str, description: str) -> Checkout:
        """The page the customer pays on for ``order``."""
        ...

    def verify(self, body: bytes, headers: dict[str, str], path: str) -> Notification:
        """The callback's content if its signature is right; raises :class:`Forged` otherwise."""
        ...

    def answer(self, note: Notification | None, accepted: bool, code: int = 0) -> Answer:
        """The answer the provider expects (``note`` None: a forged callback)."""
        ...

    def status(self, order: PaymentOrder) -> Notification:
        """Ask the provider about ``order`` (its status API); ``unknown`` when it has none."""
        ...


def money(value: Any) -> Decimal:
    """A provider's amount (a JSON number read as Decimal, or a string) as a Decimal, unrounded.
    Raises :class:`Forged` for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise Forged("amount")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Forged("amount") from None
    if not amount.is_finite():
        raise Forged("amount")
    return amount


def loads(raw: bytes | str) -> Any:
    """JSON with every number read as Decimal (money never passes through float)."""
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


def text(value: Any, limit: int = 64) -> str:
    """A short identifier from a provider's message; :class:`Forged` when missing or too long."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = str(int(value))
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Forged("identifier")
    return value


def get(name: str | None = None) -> Provider:
    """The provider ``name`` (default: the configured one, ``GAZPORTAL_PAYMENT_PROVIDER``) with
    its credentials from the settings. Raises KeyError for an unknown name."""
    from gazportal.services.payments import cloudpayments, demo, liqpay
    from gazportal.settings import get_settings

    settings = get_settings()
    name = name or settings.payments.provider
    cfg = settings.payments
    if name == "demo":
        return demo.DemoProvider(settings.secret_key, settings.public_url)
    if name == "liqpay":
        return liqpay.LiqPay(cfg.liqpay_public_key, cfg.liqpay_private_key, api_url=cfg.liqpay_api_url,
                             checkout_url=cfg.liqpay_checkout_url)
    if name == "cloudpayments":
        return cloudpayments.CloudPayments(cfg.cloudpayments_public_id, cfg.cloudpayments_api_secret,
                                           api_url=cfg.cloudpayments_api_url, public_url=settings.public_url)
    raise KeyError(name)


NAMES = ("demo", "liqpay", "cloudpayments")
