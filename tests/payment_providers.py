"""Local stand-ins of the payment providers for the tests (stdlib http.server in a thread), each
speaking its published protocol — written from the documents, not from our code:

* :class:`LiqPayStandIn`: ``POST /api/3/checkout`` takes ``data``+``signature`` (base64 JSON,
  base64(sha1(private + data + private))) and remembers the order; ``POST /api/request`` answers
  ``action: status`` for a signed request (``result: error, err_code: payment_not_found`` for an
  unknown order, ``invalid_signature`` for a bad one); :meth:`callback` makes the server callback
  LiqPay sends to ``server_url`` (form ``data``+``signature``).
* :class:`CloudPaymentsStandIn`: ``POST /payments/find`` with HTTP Basic (Public ID, API secret)
  and JSON ``{"InvoiceId"}``; :meth:`notification` makes a Check / Pay / Fail notification: a
  form-urlencoded body with ``X-Content-HMAC`` and ``Content-HMAC`` = base64(HMAC-SHA256(secret, body)).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode


class _Server:
    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, reply = outer.handle(self.path, dict(self.headers.items()), body)
                raw = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.requests: list[str] = []

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def liqpay_sign(private_key: str, data: str) -> str:
    return base64.b64encode(hashlib.sha1((private_key + data + private_key).encode()).digest()).decode()


class LiqPayStandIn(_Server):
    def __init__(self, public_key: str, private_key: str) -> None:
        self.public_key, self.private_key = public_key, private_key
        self.orders: dict[str, dict] = {}  # order_id -> the checkout's params (+ status, payment_id)
        super().__init__()

    def _read(self, body: bytes) -> dict | None:
        form = parse_qs(body.decode())
        data, sig = form.get("data", [""])[0], form.get("signature", [""])[0]
        if not hmac.compare_digest(liqpay_sign(self.private_key, data), sig):
            return None
        return json.loads(base64.b64decode(data))

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, Any]:
        self.requests.append(path)
        params = self._read(body)
        if params is None or params.get("public_key") != self.public_key:
            return 200, {"result": "error", "err_code": "invalid_signature"}
        if path == "/api/3/checkout" and params.get("action") == "pay":
            self.orders[params["order_id"]] = {**params, "status": "wait_secure"}
            return 200, {"result": "ok"}
        if path == "/api/request" and params.get("action") == "status":
            o = self.orders.get(params.get("order_id"))
            if o is None:
                return 200, {"result": "error", "err_code": "payment_not_found"}
            return 200, self._payload(o)
        return 404, {"result": "error"}

    def _payload(self, o: dict) -> dict:
        return {"result": "ok", "action": "pay", "public_key": self.public_key, "version": 3,
                "status": o["status"], "order_id": o["order_id"], "payment_id": o.get("payment_id", 0),
                "amount": float(o["amount"]), "currency": o["currency"], "description": o.get("description", "")}

    def pay(self, order_id: str, status: str = "success") -> None:
        """The customer finished on LiqPay's page: the order's status becomes ``status``."""
        o = self.orders[order_id]
        o["status"], o["payment_id"] = status, secrets.randbelow(10**9) + 10**9

    def callback(self, order_id: str, **override: Any) -> tuple[str, bytes, dict[str, str]]:
        """The server callback LiqPay sends for the order: (server_url, body, headers)."""
        o = self.orders[order_id]
        payload = {**self._payload(o), **override}
        data = base64.b64encode(json.dumps(payload).encode()).decode()
        body = urlencode({"data": data, "signature": liqpay_sign(self.private_key, data)}).encode()
        return o["server_url"], body, {"content-type": "application/x-www-form-urlencoded"}


def cp_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class CloudPaymentsStandIn(_Server):
    def __init__(self, public_id: str, api_secret: str) -> None:
        self.public_id, self.api_secret = public_id, api_secret
        self.payments: dict[str, dict] = {}  # InvoiceId -> the transaction
        super().__init__()

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, Any]:
        self.requests.append(path)
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.public_id}:{self.api_secret}".encode()).decode()
        if not hmac.compare_digest(auth, expected):
            return 401, {"Success": False, "Message": "Unauthorized"}
        if path == "/payments/find":
            tx = self.payments.get(json.loads(body).get("InvoiceId"))
            if tx is None:
                return 200, {"Success": False, "Message": "Not found", "Model": None}
            return 200, {"Success": True, "Message": None, "Model": tx}
        return 404, {"Success": False}

    def charge(self, options: dict, status: str = "Completed") -> dict:
        """The widget charged a card with ``options`` (what the portal's page passes to pay())."""
        tx = {"TransactionId": secrets.randbelow(10**9) + 10**9, "Amount": options["amount"],
              "Currency": options["currency"], "InvoiceId": options["invoiceId"],
              "AccountId": options["accountId"], "Status": status, "OperationType": "Payment", "TestMode": True}
        self.payments[options["invoiceId"]] = tx
        return tx

    def notification(self, invoice_id: str, kind: str = "pay", **override: Any) -> tuple[str, bytes, dict[str, str]]:
        """A Check / Pay / Fail notification about the invoice: (kind, body, headers)."""
        tx = {**self.payments[invoice_id], **override}
        body = urlencode({k: str(v) for k, v in tx.items()}).encode()
        return kind, body, {"content-type": "application/x-www-form-urlencoded",
                            "X-Content-HMAC": cp_hmac(self.api_secret, body),
                            "Content-HMAC": cp_hmac(self.api_secret, unquote_plus(body.decode()).encode())}
