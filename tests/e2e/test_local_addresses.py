"""Every local address works (issue 14, 1) and the web guard on the real server (issue 13, 9).

The portal runs as ``./run.sh`` runs it — public URL ``http://localhost:<port>``, Reflex printing
``http://0.0.0.0:<port>/`` — and a person signs in with Chromium at 127.0.0.1, localhost and
0.0.0.0. Opened at an address the portal does not accept (this machine's LAN address), the page
shows the translated "no connection" notice with the public address. Every response carries the
security headers and no server banner; an upload without a session and an oversized body are
refused.

Run: python -m pytest -q tests/e2e/test_local_addresses.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import http.client
import re
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.settings import load_utility
from helpers import PASSWORD, new_page, t

TIMEOUT = 20_000
PROFILE = "default"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_portal(portal_factory):
    port = _free_port()
    # A build directory of its own: the public URL differs from the other tests' portals.
    return portal_factory(PROFILE, port=port, build=f"{PROFILE}-local",
                          extra_env={"GAZPORTAL_PUBLIC_URL": f"http://localhost:{port}"})


def _user(portal) -> str:
    from gazportal.db import make_engine, write_session
    from gazportal.models import User
    from gazportal.services.passwords import hash_password

    login = f"local{datetime.now(UTC):%H%M%S%f}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            s.add(User(login=login, email=login, password_hash=hash_password(PASSWORD), surname="Тест",
                       name="Олена", is_active=True, email_verified=True, language="en",
                       created_at=datetime.now(UTC) - timedelta(days=1)))
    finally:
        engine.dispose()
    return login


def _port(portal) -> int:
    return int(portal.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0"])
def test_a_person_signs_in_at_every_local_address(local_portal, browser, host):
    from playwright.sync_api import expect

    base = f"http://{host}:{_port(local_portal)}"
    login = _user(local_portal)
    context = browser.new_context()
    try:
        page, errors = new_page(context, TIMEOUT)
        page.goto(base + "/signin")
        page.locator("#signin-login").fill(login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(re.escape(base) + r"/accounts$"))
        expect(page.locator("#gp-connection-notice")).to_have_count(0)
        assert not errors
    finally:
        context.close()


def _lan_address() -> str | None:
    """This machine's address on its network (not loopback), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_another_origin_sees_a_translated_notice(local_portal, browser):
    from playwright.sync_api import expect

    address = _lan_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    lang = load_utility(PROFILE).default_language
    context = browser.new_context()
    try:
        page, _ = new_page(context, TIMEOUT)
        page.goto(f"http://{address}:{_port(local_portal)}/signin")  # the page itself loads
        notice = page.locator("#gp-connection-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(t("connection.title", lang))
        expect(notice.locator("a")).to_have_attribute("href", f"http://localhost:{_port(local_portal)}")
        expect(page.get_by_text("Cannot connect to server")).to_have_count(0)
    finally:
        context.close()


def _request(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def test_headers_and_limits_on_the_real_server(local_portal):
    for path in ("/", "/signin", "/accounts", "/ping", "/profiles/default.svg", "/nothing-here"):
        status, headers = _request(local_portal.url + path)
        csp = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert headers.get("x-content-type-options") == "nosniff", path
        assert headers.get("referrer-policy") == "no-referrer", path
        assert headers.get("permissions-policy"), path
        assert headers.get_all("server") == [""], (path, headers.get_all("server"))  # not "granian"
    upload = local_portal.url + "/_upload"
    form = {"content-type": "multipart/form-data; boundary=x"}
    assert _request(upload, b"--x--\r\n", form)[0] == 401  # no session
    # Over the cap: refused on the declared length, before a byte of the body is sent.
    conn = http.client.HTTPConnection("127.0.0.1", _port(local_portal), timeout=30)
    try:
        conn.putrequest("POST", "/_upload")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(12 * 2**20))
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()
