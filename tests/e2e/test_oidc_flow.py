"""Single sign-on in Chromium: the portal is started with GAZPORTAL_OIDC_* pointing at a local
OpenID Connect provider this module starts (tests/oidc_provider.py; loopback http is accepted by
the client), a customer whose e-mail the portal has confirmed presses "Sign in with single sign-on"
on /signin, the provider approves, and the browser lands on /accounts signed in.

Run: GAZPORTAL_E2E_PROFILES=default python -m pytest -q tests/e2e/test_oidc_flow.py -p no:asyncio
(the portal gets a build directory of its own, "<profile>-oidc", since its sign-in page differs).
"""
from __future__ import annotations

import re
import socket
from datetime import UTC, datetime

import pytest

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_and_shoot, new_page
from tests.oidc_provider import IdpUser, Provider

TIMEOUT = 20_000
EMAIL = "sso.anna@example.org"


def _t(key, lang, **kw):
    return i18n.t(key, lang, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sso(portal_factory):
    """(provider, portal): the local provider, and the portal configured to use it."""
    utility_id = "default" if "default" in _utilities() else _utilities()[0]
    port = _free_port()
    provider = Provider(redirect_uri=f"http://127.0.0.1:{port}/auth/oidc/callback").start()
    try:
        portal = portal_factory(
            utility_id,
            port=port,
            build=f"{utility_id}-oidc",
            extra_env={
                "GAZPORTAL_OIDC_ISSUER": provider.issuer,
                "GAZPORTAL_OIDC_CLIENT_ID": provider.client_id,
                "GAZPORTAL_OIDC_CLIENT_SECRET": provider.client_secret,
            },
        )
        yield provider, portal
    finally:
        provider.stop()


def _utilities() -> list[str]:
    import os

    return [p.strip() for p in os.environ.get("GAZPORTAL_E2E_PROFILES", "default,kremenchukgaz,shygysenergotrade").split(",") if p.strip()]


def _engine(portal):
    from gazportal.db import make_engine

    return make_engine(portal.db_url)


def _add_customer(portal, email: str) -> int:
    """A registered customer whose e-mail the portal has confirmed (what SSO links by)."""
    from gazportal.db import write_session
    from gazportal.models import User

    engine = _engine(portal)
    try:
        with write_session(engine) as s:
            u = User(login=email, email=email, password_hash="x", surname="Ахметова", name="Анна", kind="person",
                     is_active=True, email_verified=True, role="customer",
                     language=load_utility(portal.utility_id).default_language)
            s.add(u)
            s.flush()
            return u.id
    finally:
        engine.dispose()


def _check(page, axe_source, screenshots, utility_id, name, device):
    check_and_shoot(page, axe_source, screenshots / f"{utility_id}-{name}-{device}.png")


@pytest.mark.parametrize("device", VIEWPORTS)
def test_sign_in_page_offers_single_sign_on(sso, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    provider, portal = sso
    lang = load_utility(portal.utility_id).default_language
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        page.goto(portal.url + "/signin")
        expect(page.locator("h1")).to_have_text(_t("auth.signin.title", lang))
        expect(page.locator("#oidc-start")).to_have_text(_t("auth.signin.oidc", lang))
        expect(page.locator("#oidc-start")).to_be_enabled()
        _check(page, axe_source, screenshots, portal.utility_id, "signin-sso", device)
        assert not errors, errors
    finally:
        context.close()


def test_customer_signs_in_with_single_sign_on(sso, browser, axe_source, screenshots):
    """Button -> provider -> /auth/oidc/callback -> /accounts, a real session; the same callback
    URL opened again is refused with the way back to /signin."""
    from playwright.sync_api import expect

    from gazportal.db import read_session
    from gazportal.models import User
    from gazportal.services import auth

    provider, portal = sso
    lang = load_utility(portal.utility_id).default_language
    uid = _add_customer(portal, EMAIL)
    provider.user = IdpUser(sub="sso-anna", email=EMAIL.upper(), email_verified=True)
    context = browser.new_context(**VIEWPORTS["phone"])
    callbacks: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.on("request", lambda r: callbacks.append(r.url) if "/auth/oidc/callback?" in r.url else None)
        page.goto(portal.url + "/signin")
        page.locator("#oidc-start").click()
        expect(page).to_have_url(re.compile(r"/accounts$"))
        expect(page.locator("h1")).to_have_text(_t("accounts.title", lang))

        cookies = {c["name"]: c for c in context.cookies()}
        token = cookies["gp_session"]["value"]
        assert cookies["gp_session"]["sameSite"] == "Strict" and len(token) >= 43
        assert cookies["gp_session"]["httpOnly"] is True
        engine = _engine(portal)
        try:
            who = auth.resolve_session(engine, token, now=datetime.now(UTC))
            assert who is not None and who.user_id == uid and not who.remember
            with read_session(engine) as s:
                assert s.get(User, uid).oidc_subject == f"{provider.issuer}|sso-anna"
        finally:
            engine.dispose()

        # The provider's redirect back, replayed: refused (the pending request was used up).
        assert callbacks and "state=" in callbacks[0] and "code=" in callbacks[0]
        page.goto(callbacks[0])
        expect(page.locator("#oidc-error")).to_have_text(_t("errors.oidc_failed", lang))
        expect(page.locator("#oidc-back")).to_have_attribute("href", "/signin")
        _check(page, axe_source, screenshots, portal.utility_id, "sso-refused", "phone")
        assert len(provider.token_requests) == 1  # the replayed code never reached the provider
    finally:
        context.close()


def test_identity_without_a_portal_account_is_told_to_register(sso, browser):
    from playwright.sync_api import expect

    provider, portal = sso
    lang = load_utility(portal.utility_id).default_language
    provider.user = IdpUser(sub="stranger", email="stranger@example.org", email_verified=True)
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(portal.url + "/signin")
        page.locator("#oidc-start").click()
        expect(page).to_have_url(re.compile(r"/auth/oidc/callback/?\?"))
        expect(page.locator("#oidc-error")).to_have_text(_t("errors.oidc_register_first", lang))
        page.locator("#oidc-back").click()
        expect(page).to_have_url(re.compile(r"/signin$"))
        expect(page.locator("#oidc-error")).to_have_count(0)  # no message left over on /signin
        assert not any(c["name"] == "gp_session" and c["value"] for c in context.cookies())
    finally:
        context.close()
