"""Limits before work, and the security headers: ASGI middleware around the whole portal.

It is the outermost of ``rx.App(api_transformer=[...])`` (``gazportal/gazportal.py``), so it sees
every request of the backend app — pages and static files (production serves the built frontend
from the same app), the websocket at ``/_event``, ``/_upload``, ``/ping``, ``/_health`` — before
Reflex or Starlette parses anything:

* **Request bodies** larger than ``settings.web.max_request_bytes`` are refused with 413: at once
  when ``Content-Length`` says so, and while streaming (chunked bodies) as soon as the count passes
  the cap — the application is told the client went away, and whatever it would have answered is
  replaced by the 413. Starlette's ``request.form()`` (Reflex's upload endpoint) has no cap of its
  own and spools the whole body to disk.
* **Uploads need a session**: ``/_upload`` (Reflex 0.10's upload endpoint, and the files it
  serves under it) without a cookie that ``services.auth.resolve_session`` accepts gets 401
  before a byte of the body is read.
* **Per-client caps on the websocket** (``/_event``): concurrent connections per client address,
  and distinct client tokens (``?token=``: each token is a server-side state) per address in a
  time window. Past a cap the handshake is refused (close 1008 before accept: HTTP 403), with one
  warning line a minute at most.
* **Headers on every HTTP response**: ``Content-Security-Policy`` (``CSP``, why each source is
  there is said beside it), ``X-Content-Type-Options``, ``Referrer-Policy``,
  ``Permissions-Policy``, ``X-Frame-Options``, ``Cross-Origin-Opener-Policy``. The server banner:
  Granian (Reflex's production server) adds ``server: granian`` unless the application sends a
  ``server`` header itself and has no option to turn it off, so every response carries an empty
  one. HSTS belongs to the TLS-terminating proxy (README, "Deploy").

* **Who the client is** (``web/client.py``): a page answer (``text/html``) to a request without a
  device cookie gives the browser one (``gp_device``: HttpOnly, SameSite=Lax, Secure on https, 400
  days; such an answer is marked ``Cache-Control: private`` so no shared cache hands one browser's
  cookie to another); the websocket's request carries the client address as the guard found it
  (``gazportal-client-address``), which the event gate puts into every handler's ``ctx.source``.

The client address is the peer of the connection, or — with ``GAZPORTAL_TRUSTED_PROXY_HOPS`` = n —
the n-th address from the right of ``X-Forwarded-For`` (what Reflex does with ``trusted_proxy_hops``):
``web/client.address``, the one rule.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gazportal.asgi import ASGIApp, Message, Receive, Scope, Send
from gazportal.settings import Settings, get_settings
from gazportal.web import client

log = logging.getLogger("gazportal.web.guard")

# --- the session cookie -------------------------------------------------------------------------


async def _upload_allowed(cookie_header: str, client_token: str) -> bool:
    """An upload may go on when the request's own session cookie names a live session whose user
    is the one the tab (``reflex-client-token``) belongs to: the upload's event then runs as that
    tab's user (state/gate.py reads the tab's websocket headers for it)."""
    from gazportal.session_http import user_from_cookie_header

    user = await asyncio.to_thread(user_from_cookie_header, cookie_header)
    if user is None or not client_token or len(client_token) > 100:
        return False
    return await _tab_owner(client_token) == user.user_id


async def _tab_owner(client_token: str) -> int | None:
    """The user whose data the tab's states hold (``SessionState._owner``), read from Reflex's
    state store; None for an unknown tab."""
    from reflex.istate.manager.token import BaseStateToken
    from reflex.state import State

    from gazportal.gazportal import app
    from gazportal.state.session import SessionState

    try:
        root = await app.state_manager.get_state(BaseStateToken(ident=client_token, cls=State))
        return (await root.get_state(SessionState))._owner or None
    except Exception:  # an unknown or unreadable tab is nobody's
        log.info("upload refused: the tab's state could not be read")
        return None


# --- headers ------------------------------------------------------------------------------------

CSP = "; ".join((
    "default-src 'self'",
    # Reflex's runtime runs rx.call_script / callbacks with eval() (state.js: processEvent) and
    # imports dynamic components from data: URIs; the prerendered pages carry inline scripts
    # (React Router's hydration data, the colour-mode and the service-worker snippets) whose text
    # changes with every build and page, so neither nonces nor hashes fit a static build.
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    # Emotion (Reflex's style props) and our <style> in the head insert style elements at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    # The websocket to this same origin ('self' covers ws:/wss: of it), fetch() of /_upload.
    "connect-src 'self'",
    # ALTCHA solves its proof of work in a worker made from a blob: URL; sw.js is ours.
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Reset and confirmation links carry their token in the URL.
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy",
     # Only features Chromium knows: an unknown one is an error in the console on every page.
     b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), midi=(), "
     b"magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate CSP 2
    (b"cross-origin-opener-policy", b"same-origin"),
)
_REPLACED = {name for name, _ in SECURITY_HEADERS} | {b"server"}


def with_security_headers(headers: Any, path: str = "") -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in (headers or []) if bytes(k).lower() not in _REPLACED]
    if path.startswith(PAYMENT_PAGES):
        return [*kept, (b"content-security-policy", payment_csp().encode()),
                *(h for h in SECURITY_HEADERS if h[0] != b"content-security-policy"), (b"server", b"")]
    return [*kept, *SECURITY_HEADERS, (b"server", b"")]


# The pages that hand the browser to the payment provider (gazportal/web/payments_http.py): LiqPay's
# checkout takes a form POST; CloudPayments' widget is a script that opens its own frame.
PAYMENT_PAGES = ("/_gp/pay/go/", "/_gp/pay/cloudpayments/")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def payment_csp() -> str:
    """The CSP of the provider hand-over pages: ours plus the configured providers' origins."""
    from gazportal.settings import get_settings

    cfg = get_settings().payments
    liqpay = _origin_of(cfg.liqpay_checkout_url)
    widget = _origin_of(cfg.cloudpayments_widget_url)
    extra = {
        "form-action": f" {liqpay}",
        "script-src": f" {widget}",
        "frame-src": f" 'self' {widget} https://*.cloudpayments.kz",
        "connect-src": f" {widget} https://*.cloudpayments.kz",
    }
    parts = []
    for directive in CSP.split("; "):
        name = directive.split(" ", 1)[0]
        parts.append(directive + extra.pop(name, ""))
    parts.extend(name + value for name, value in extra.items())
    return "; ".join(parts)


# --- helpers ------------------------------------------------------------------------------------

def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def client_address(scope: Scope, trusted_proxy_hops: int) -> str:
    """The client's address (``web/client.address``): the peer, or with n trusted proxies the n-th
    entry from the right of X-Forwarded-For."""
    peer = scope.get("client") or ("unknown", 0)
    return client.address(peer[0], _header(scope, b"x-forwarded-for"), trusted_proxy_hops)


_ADDRESS_HEADER = client.ADDRESS_HEADER.encode()


def with_client_address(scope: Scope, address: str) -> Scope:
    """The scope with the guard's answer about the client address as a request header (one the
    client sent under that name is dropped)."""
    headers = [(k, v) for k, v in scope.get("headers") or [] if bytes(k).lower() != _ADDRESS_HEADER]
    return {**scope, "headers": [*headers, (_ADDRESS_HEADER, address.encode("latin-1", "replace"))]}


def _is_page(headers: Any) -> bool:
    return any(bytes(k).lower() == b"content-type" and bytes(v).lower().startswith(b"text/html")
               for k, v in headers or [])


def with_device_cookie(headers: Any, *, secure: bool) -> list[tuple[bytes, bytes]]:
    """A page answer's headers with a new device cookie, kept out of shared caches."""
    kept: list[tuple[bytes, bytes]] = []
    cache = b""
    for k, v in headers or []:
        if bytes(k).lower() == b"cache-control":
            cache = bytes(v)
        else:
            kept.append((k, v))
    if b"private" not in cache.lower() and b"no-store" not in cache.lower():
        cache = b"private" + (b", " + cache if cache else b"")
    return [*kept, (b"cache-control", cache), (b"set-cookie", client.new_device_cookie(secure=secure).encode())]


def _endpoint(path: str, name: str) -> bool:
    return path == name or path.startswith(name + "/")


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


# --- the middleware -----------------------------------------------------------------------------

class Guard:
    """See the module's description. ``upload_allowed`` and ``clock`` are for tests."""

    WARN_EVERY = 60.0  # seconds between two "refused" warnings
    PRUNE_EVERY = 60.0

    def __init__(self, app: ASGIApp, settings: Settings | None = None, *,
                 upload_allowed: Callable[[str, str], Any] = _upload_allowed,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        settings = settings or get_settings()
        self.web = settings.web
        self.secure = settings.public_url.startswith("https://")
        self.upload_allowed = upload_allowed
        self.clock = clock
        self.open: dict[str, int] = {}  # address -> open websockets
        self.tokens: dict[str, dict[str, float]] = {}  # address -> token -> last connect
        self._pruned = clock()
        self._warned = -self.WARN_EVERY
        self._refused_since_warning = 0
        self._told_about_proxy = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # HTTP -------------------------------------------------------------------------------------

    async def _refusal(self, scope: Scope, cap: int) -> tuple[int, str] | None:
        """(status, text) when the request is refused before its body is read, else None: a bad or
        too large ``Content-Length``; an upload without the tab's user's session."""
        length = _header(scope, b"content-length")
        if length and not length.isdigit():
            return 400, "Bad Content-Length"
        if length and int(length) > cap:
            return 413, "Request body too large"
        if _endpoint(scope.get("path", ""), "/_upload"):
            allowed = self.upload_allowed(_header(scope, b"cookie"), _header(scope, b"reflex-client-token"))
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                return 401, "Sign in first"
        return None

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        give_device = scope.get("method") in ("GET", "HEAD") and client.device_of(_header(scope, b"cookie")) is None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers")
                if give_device and _is_page(headers):
                    headers = with_device_cookie(headers, secure=self.secure)
                message = {**message, "headers": with_security_headers(headers, scope.get("path", ""))}
            await send(message)

        cap = self.web.max_request_bytes
        refusal = await self._refusal(scope, cap)
        if refusal is not None:
            await _answer(send_with_headers, *refusal)
            return

        received = 0
        over = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body") or b"")
                if received > cap:
                    over = True  # the application sees a client that went away
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # what the application says about a cut-off body is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send_with_headers(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _answer(send_with_headers, 413, "Request body too large")

    # websocket --------------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_without_banner(message: Message) -> None:
            if message["type"] == "websocket.accept":
                headers = [(k, v) for k, v in message.get("headers") or [] if bytes(k).lower() != b"server"]
                message = {**message, "headers": [*headers, (b"server", b"")]}
            await send(message)

        address = client_address(scope, self.web.trusted_proxy_hops)
        if not _endpoint(scope.get("path", ""), "/_event"):
            await self.app(with_client_address(scope, address), receive, send_without_banner)
            return
        if not self.web.trusted_proxy_hops and not self._told_about_proxy and _header(scope, b"x-forwarded-for"):
            # Behind a proxy every client has the proxy's address: they would share one budget.
            self._told_about_proxy = True
            log.warning("requests carry X-Forwarded-For but GAZPORTAL_TRUSTED_PROXY_HOPS is 0: behind a "
                        "reverse proxy set it to the number of proxies, or all clients share the per-client caps")
        query = parse_qs(bytes(scope.get("query_string") or b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        reason = self._admit(address, token)
        if reason is not None:
            self._warn(address, reason)
            message = await receive()  # websocket.connect
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        try:
            await self.app(with_client_address(scope, address), receive, send_without_banner)
        finally:
            left = self.open.get(address, 1) - 1
            if left > 0:
                self.open[address] = left
            else:
                self.open.pop(address, None)

    def _admit(self, address: str, token: str) -> str | None:
        """None and the connection counted, or why it is refused."""
        now = self.clock()
        if now - self._pruned >= self.PRUNE_EVERY:
            self._prune(now)
        if not token or len(token) > 128:
            return "no client token"
        if self.open.get(address, 0) >= self.web.connections_per_client:
            return f"more than {self.web.connections_per_client} open connections"
        window = self.web.new_clients_window_seconds
        seen = {t: at for t, at in self.tokens.get(address, {}).items() if now - at < window}
        if token not in seen and len(seen) >= self.web.new_clients_per_window:
            self.tokens[address] = seen
            return f"more than {self.web.new_clients_per_window} client tokens in {window} s"
        seen[token] = now
        self.tokens[address] = seen
        self.open[address] = self.open.get(address, 0) + 1
        return None

    def _prune(self, now: float) -> None:
        window = self.web.new_clients_window_seconds
        for address in list(self.tokens):
            fresh = {t: at for t, at in self.tokens[address].items() if now - at < window}
            if fresh:
                self.tokens[address] = fresh
            else:
                del self.tokens[address]
        self._pruned = now

    def _warn(self, address: str, reason: str) -> None:
        self._refused_since_warning += 1
        now = self.clock()
        if now - self._warned >= self.WARN_EVERY:
            log.warning("websocket refused for %r: %s (%d refused since the last warning)",
                        address[:64], reason, self._refused_since_warning)
            self._warned = now
            self._refused_since_warning = 0


def guard(app: ASGIApp) -> ASGIApp:
    """The api_transformer: the portal's app inside the Guard with the portal's settings."""
    return Guard(app)
