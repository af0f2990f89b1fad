"""Who the client is, as the web layer sees it: its address and its device cookie.

* **Address** (:func:`address`): the peer of the connection, or — with
  ``GAZPORTAL_TRUSTED_PROXY_HOPS`` = n — the n-th address from the right of ``X-Forwarded-For``
  (each proxy appends the address it was connected from; what Reflex does with
  ``trusted_proxy_hops``). The guard (``web/guard.py``) decides it once per connection and puts
  it on the websocket's request as :data:`ADDRESS_HEADER` (any such header the client sent is
  dropped), so the event gate reads the guard's answer, not a second rule.
* **Device cookie** (:data:`DEVICE_COOKIE`): 256 random bits the guard gives every browser on its
  first page (HttpOnly, SameSite=Lax, Secure on https, 400 days — the longest a browser keeps a
  cookie). It names a browser, not a person; the database keeps only its HMAC
  (``services.throttle.device_hash``). Failures of sign-in and of the registration proof are
  bound to it and to the address (``services/throttle.py``).
"""
from __future__ import annotations

import secrets
from typing import Any

from gazportal.services import throttle

DEVICE_COOKIE = "gp_device"
DEVICE_MAX_AGE = 400 * 24 * 3600  # seconds; browsers cap a cookie's life at 400 days (RFC 6265bis)
ADDRESS_HEADER = "gazportal-client-address"
MAX_COOKIE_HEADER = 8192


def address(peer: Any, forwarded_for: Any, trusted_proxy_hops: int) -> str:
    """The client's address from the connection's ``peer`` and its ``X-Forwarded-For`` header."""
    found = str(peer) if peer else "unknown"
    if trusted_proxy_hops and isinstance(forwarded_for, str):
        forwarded = [ip.strip() for ip in forwarded_for.split(",") if ip.strip()]
        if len(forwarded) >= trusted_proxy_hops:
            found = forwarded[-trusted_proxy_hops]
    return found[:100]


def cookie_value(header: Any, name: str) -> str | None:
    """The value of the cookie ``name`` in a ``Cookie`` request header (RFC 6265: ``name=value;
    ...``), quotes removed, or None. Another cookie's bad syntax does not hide it; of two cookies
    of that name the first counts, as browsers send the most specific first."""
    if not isinstance(header, str) or not header or len(header) > MAX_COOKIE_HEADER:
        return None
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None


def device_of(cookie_header: Any) -> str | None:
    """The device cookie's value in a ``Cookie`` request header when it has the shape of ours."""
    value = cookie_value(cookie_header, DEVICE_COOKIE)
    return value if throttle.is_device_value(value) else None


def new_device_cookie(*, secure: bool) -> str:
    """A ``Set-Cookie`` value that gives a browser a new device cookie."""
    return (f"{DEVICE_COOKIE}={secrets.token_urlsafe(32)}; Path=/; Max-Age={DEVICE_MAX_AGE}; HttpOnly; "
            f"SameSite=Lax" + ("; Secure" if secure else ""))
