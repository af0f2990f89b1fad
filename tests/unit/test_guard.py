"""Limits before work and the security headers (gazportal/web/guard.py), at the ASGI level: the
Guard around a small Starlette app shaped like Reflex's backend (pages, /_upload, /_event)."""
from __future__ import annotations

import logging
import warnings

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocketDisconnect

from gazportal.settings import Web, get_settings
from gazportal.web.guard import CSP, Guard, client_address

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

GOOD = "g" * 30  # a session token the fake resolver accepts
CAP = 1000


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def seen():
    return {"bodies": [], "uploads": 0}


def _settings(**web):
    import dataclasses

    return dataclasses.replace(get_settings(), web=Web(**{"max_request_bytes": CAP, **web}))


def _backend(tmp_path, seen):
    (tmp_path / "index.html").write_text("home")

    async def echo(request: Request):
        body = await request.body()
        seen["bodies"].append(len(body))
        return PlainTextResponse(f"got {len(body)}", headers={"server": "uvicorn"})

    async def upload(request: Request):
        seen["uploads"] += 1
        form = await request.form()
        return PlainTextResponse(f"files {len(form)}")

    async def event(ws):
        seen.setdefault("addresses", []).append(ws.headers.getlist("gazportal-client-address"))
        await ws.accept()
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass

    return Starlette(routes=[
        Route("/echo", echo, methods=["POST"]),
        Route("/_upload", upload, methods=["POST"]),
        WebSocketRoute("/_event/", event),
        Mount("/", app=StaticFiles(directory=tmp_path, html=True)),
    ])


def _client(tmp_path, seen, clock=None, **web):
    guard = Guard(_backend(tmp_path, seen), _settings(**web), upload_allowed=lambda cookie, tab: f"gp_session={GOOD}" in cookie,
                  clock=clock or Clock())
    return TestClient(guard), guard


# --- headers --------------------------------------------------------------------------------------

def test_every_response_has_the_security_headers_and_no_server_banner(tmp_path, seen):
    client, _ = _client(tmp_path, seen)
    for response in (client.get("/"), client.get("/missing"), client.post("/echo", content=b"x"),
                     client.post("/_upload"), client.post("/echo", content=b"x" * (CAP + 1))):
        h = response.headers
        assert h["content-security-policy"] == CSP, response.url
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert "camera=()" in h["permissions-policy"]
        assert h.get_list("server") == [""]  # an empty one, so Granian adds no "server: granian"


# --- body cap -------------------------------------------------------------------------------------

def test_a_declared_body_over_the_cap_is_refused_before_the_app_runs(tmp_path, seen):
    client, _ = _client(tmp_path, seen)
    assert client.post("/echo", content=b"x" * CAP).text == f"got {CAP}"
    response = client.post("/echo", content=b"x" * (CAP + 1))
    assert response.status_code == 413
    assert seen["bodies"] == [CAP]
    assert client.post("/echo", content=b"x", headers={"content-length": "-1"}).status_code == 400


async def test_the_declared_length_is_refused_without_reading_the_body():
    async def app(scope, receive, send):
        raise AssertionError("the app must not run")

    async def receive():
        raise AssertionError("the body must not be read")

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/_upload", "query_string": b"",
             "headers": [(b"content-length", str(CAP + 1).encode()), (b"cookie", f"gp_session={GOOD}".encode())]}
    await Guard(app, _settings(), upload_allowed=lambda cookie, tab: True)(scope, receive, send)
    assert sent[0]["status"] == 413


def test_a_streamed_body_is_cut_off_at_the_cap(tmp_path, seen):
    client, _ = _client(tmp_path, seen)

    def chunks(n):
        for _ in range(n):
            yield b"y" * 300

    small = client.post("/echo", content=chunks(3))  # no Content-Length: chunked
    assert small.status_code == 200 and small.text == "got 900"
    big = client.post("/echo", content=chunks(50))
    assert big.status_code == 413 and big.text == "Request body too large"
    assert seen["bodies"] == [900]  # the app never got the big body


# --- uploads ----------------------------------------------------------------------------------

def test_an_upload_needs_a_valid_session_before_the_body_is_read(tmp_path, seen):
    client, _ = _client(tmp_path, seen)
    files = {"files": ("a.pdf", b"%PDF-1.4 small", "application/pdf")}
    assert client.post("/_upload", files=files).status_code == 401
    assert client.post("/_upload", files=files, headers={"cookie": "gp_session=" + "x" * 30}).status_code == 401
    assert client.get("/_upload/someone-else.pdf").status_code == 401
    assert seen["uploads"] == 0
    ok = client.post("/_upload", files=files, headers={"cookie": f"other=1; gp_session={GOOD}"})
    assert ok.status_code == 200 and seen["uploads"] == 1


def test_the_session_cookie_is_read_in_one_place():
    """The guard reads the upload's cookie with the one reader (gazportal/session_http.py)."""
    import inspect as _inspect

    from gazportal.session_http import token_from_cookie_header
    from gazportal.web import guard as guard_module

    assert token_from_cookie_header(f"gp_session={GOOD}") == GOOD
    assert "user_from_cookie_header" in _inspect.getsource(guard_module._upload_allowed)
    for bad in ("", "gp_session=short", f"xgp_session={GOOD}", f"gp_session={GOOD}!", None, 42,
                f"gp_session={'a' * 129}"):
        assert token_from_cookie_header(bad) is None, bad


# --- websocket caps ---------------------------------------------------------------------------

def _connect(client, token, headers=None):
    return client.websocket_connect(f"/_event/?EIO=4&transport=websocket&token={token}", headers=dict(headers or {}))


def _refused(client, token, headers=None):
    with pytest.raises(WebSocketDisconnect) as e:
        with _connect(client, token, headers):
            pass
    return e.value.code == 1008


def test_open_connections_per_client_are_capped(tmp_path, seen):
    client, guard = _client(tmp_path, seen, connections_per_client=2)
    with _connect(client, "t1"), _connect(client, "t2"):
        assert guard.open == {"testclient": 2}
        assert _refused(client, "t3")
    assert guard.open == {}
    with _connect(client, "t3"):
        pass


def test_new_client_tokens_per_window_are_capped(tmp_path, seen, caplog):
    clock = Clock()
    client, guard = _client(tmp_path, seen, clock=clock, new_clients_per_window=3, new_clients_window_seconds=600)
    guard.PRUNE_EVERY = 10**9  # the window alone lets a token in again, not the periodic clean-up
    assert _refused(client, "")  # no token: not a Reflex client
    for token in ("a", "b", "c"):
        with _connect(client, token):
            pass
    with caplog.at_level(logging.WARNING, logger="gazportal.web.guard"):
        for token in ("d", "e", "f", "g"):
            assert _refused(client, token)
    assert len(caplog.records) == 1  # one line, not one per refusal
    with _connect(client, "a"):  # a known client reconnects
        pass
    clock.now += 601
    with _connect(client, "d"):
        pass


def test_x_forwarded_for_counts_only_with_trusted_proxies(tmp_path, seen, caplog):
    client, _ = _client(tmp_path, seen, new_clients_per_window=1)
    with caplog.at_level(logging.WARNING, logger="gazportal.web.guard"):
        with _connect(client, "a", {"x-forwarded-for": "10.0.0.1"}):
            pass
        with _connect(client, "a", {"x-forwarded-for": "10.0.0.1"}):
            pass
    [told] = caplog.records  # once: a proxy in front of a portal that does not know of it
    assert "GAZPORTAL_TRUSTED_PROXY_HOPS" in told.getMessage()
    assert _refused(client, "b", {"x-forwarded-for": "10.0.0.2"})  # a forged header changes nothing
    client, _ = _client(tmp_path, seen, new_clients_per_window=1, trusted_proxy_hops=1)
    with _connect(client, "a", {"x-forwarded-for": "10.0.0.1"}):
        pass
    with _connect(client, "b", {"x-forwarded-for": "10.0.0.2"}):
        pass
    assert _refused(client, "c", {"x-forwarded-for": "10.0.0.2"})


def test_client_address():
    scope = {"client": ("192.0.2.9", 1), "headers": [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.7")]}
    assert client_address(scope, 0) == "192.0.2.9"
    assert client_address(scope, 1) == "198.51.100.7"
    assert client_address(scope, 2) == "6.6.6.6"
    assert client_address(scope, 3) == "192.0.2.9"  # fewer entries than proxies: the peer


# --- who the client is (web/client.py) -----------------------------------------------------------

def test_a_page_gives_a_browser_without_one_a_device_cookie(tmp_path, seen):
    import dataclasses

    from gazportal.web.client import DEVICE_MAX_AGE, device_of

    client, _ = _client(tmp_path, seen)
    first = client.get("/")
    cookie = first.headers["set-cookie"]
    value = device_of(cookie.split(";")[0])
    assert value is not None and len(value) >= 43  # 256 random bits
    attrs = [a.strip() for a in cookie.split(";")[1:]]
    assert attrs == ["Path=/", f"Max-Age={DEVICE_MAX_AGE}", "HttpOnly", "SameSite=Lax"]  # http: no Secure
    assert first.headers["cache-control"].startswith("private")
    # a browser that has one keeps it; what is not a page gets none
    assert "set-cookie" not in client.get("/", headers={"cookie": f"gp_device={value}"}).headers
    fresh, _ = _client(tmp_path, seen)
    assert "set-cookie" not in fresh.post("/echo", content=b"x").headers
    assert "set-cookie" in fresh.get("/", headers={"cookie": "gp_device=forged!"}).headers  # not one of ours
    # on https it is Secure
    https = dataclasses.replace(_settings(), public_url="https://portal.example")
    secure = TestClient(Guard(_backend(tmp_path, seen), https, upload_allowed=lambda c, t: False, clock=Clock()))
    assert secure.get("/").headers["set-cookie"].endswith("; Secure")
    assert DEVICE_MAX_AGE == 400 * 24 * 3600


def test_the_websocket_carries_the_guards_client_address(tmp_path, seen):
    client, _ = _client(tmp_path, seen)
    with _connect(client, "a", {"gazportal-client-address": "1.2.3.4", "x-forwarded-for": "10.0.0.1"}):
        pass
    client, _ = _client(tmp_path, seen, trusted_proxy_hops=1)
    with _connect(client, "b", {"x-forwarded-for": "6.6.6.6, 10.0.0.1"}):
        pass
    # the client's own header of that name is dropped; the address is the guard's (peer or proxy)
    assert seen["addresses"] == [["testclient"], ["10.0.0.1"]]
