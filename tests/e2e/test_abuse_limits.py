"""Issue 15 point 2 in Chromium: a stranger guessing a login or an account number does not keep its
holder out (services/throttle.py).

The portal runs behind one trusted proxy (``GAZPORTAL_TRUSTED_PROXY_HOPS=1``) and each browser
context sends its own ``X-Forwarded-For`` (Chromium sends a context's extra headers with the
websocket's handshake too), so each is a person at an address of their own, with the device cookie
the portal gives it:

* sign-in: the attacker's browser types wrong passwords and is told to wait, with the way to
  recovery; the holder's own browser (signed in there before) goes straight in; the holder's new
  phone is asked for the CAPTCHA — the ALTCHA widget appears, is solved in the browser, and the
  holder is in;
* registration: while the account number is being guessed from elsewhere, the holder's form shows
  the CAPTCHA when the server asks for it; solved, the holder is registered.

Run: python -m pytest -q tests/e2e/test_abuse_limits.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.settings import load_utility
from helpers import PASSWORD, VIEWPORTS, check_and_shoot, new_page, solve_captcha, t, wait_text
from test_auth_flow import _free_account

TIMEOUT = 20_000
PROFILE = "default"
SECRET = "e2e-abuse-limits-" + "k" * 32


@pytest.fixture(scope="module")
def proxied_portal(portal_factory):
    # A build directory of its own: the settings differ from the other tests' default portal.
    return portal_factory(PROFILE, build=f"{PROFILE}-proxied",
                          extra_env={"GAZPORTAL_TRUSTED_PROXY_HOPS": "1", "GAZPORTAL_SECRET_KEY": SECRET})


def _user(portal) -> str:
    from gazportal.db import make_engine, write_session
    from gazportal.models import User
    from gazportal.services.passwords import hash_password

    login = f"holder{secrets.token_hex(4)}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            s.add(User(login=login, email=login, password_hash=hash_password(PASSWORD), surname="Иванова",
                       name="Анна", is_active=True, email_verified=True, language="en",
                       created_at=datetime.now(UTC) - timedelta(days=1)))
    finally:
        engine.dispose()
    return login


def _browser_at(browser, address: str, device: str = "desktop"):
    """A person's browser at ``address`` (behind the portal's trusted proxy)."""
    return browser.new_context(**VIEWPORTS[device], extra_http_headers={"X-Forwarded-For": address})


def _sign_in(page, url: str, login: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/signin")
    expect(page.locator("h1")).to_have_text(t("auth.signin.title", "en"))
    page.locator("#signin-login").fill(login)
    page.locator("#signin-password").fill(password)
    page.locator("#signin-submit").click()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_holder_signs_in_while_another_browser_guesses(proxied_portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    portal = proxied_portal
    utility = load_utility(PROFILE)
    login = _user(portal)
    laptop = _browser_at(browser, "192.0.2.10", device)
    attacker = _browser_at(browser, "198.51.100.66", device)
    phone = _browser_at(browser, "203.0.113.50", device)
    try:
        # The holder signed in on their laptop before: it is a known device from now on.
        page, errors = new_page(laptop, TIMEOUT)
        _sign_in(page, portal.url, login, PASSWORD)
        expect(page).to_have_url(re.compile(r"/accounts/?$"))
        laptop.clear_cookies(name="gp_session")  # signed out; the device cookie stays

        # The attacker guesses: after max_failed_logins wrong passwords that browser waits.
        bad, bad_errors = new_page(attacker, TIMEOUT)
        message = bad.locator("#signin-error .gp-summary-text").first
        for i in range(utility.max_failed_logins + 2):
            _sign_in(bad, portal.url, login, f"guess-{i}-password")
            if i < utility.max_failed_logins - 1:
                expect(message).to_have_text(t("errors.sign_in_failed", "en"))
            else:
                expect(message).to_have_text(wait_text("errors.sign_in_locked", "en"))
        expect(bad.locator("#signin-error a[href='/recover']")).to_be_visible()
        expect(bad.locator("altcha-widget")).to_have_count(0)
        check_and_shoot(bad, axe_source, screenshots / f"abuse-signin-attacker-waits-{device}.png")

        # The holder's laptop: straight in with the right password — no wait, no CAPTCHA.
        _sign_in(page, portal.url, login, PASSWORD)
        expect(page).to_have_url(re.compile(r"/accounts/?$"))

        # The holder's new phone: asked for the CAPTCHA (nothing else), solves it, and is in.
        mobile, mobile_errors = new_page(phone, TIMEOUT)
        _sign_in(mobile, portal.url, login, PASSWORD)
        expect(mobile.locator("#signin-error .gp-summary-text").first).to_have_text(t("errors.sign_in_captcha", "en"))
        expect(mobile.locator("altcha-widget")).to_have_count(1)
        check_and_shoot(mobile, axe_source, screenshots / f"abuse-signin-captcha-{device}.png")
        solve_captcha(mobile)
        mobile.locator("#signin-password").fill(PASSWORD)
        mobile.locator("#signin-submit").click()
        expect(mobile).to_have_url(re.compile(r"/accounts/?$"))
        assert not errors and not bad_errors and not mobile_errors, (errors, bad_errors, mobile_errors)
    finally:
        for context in (laptop, attacker, phone):
            context.close()


def _guess_proofs(portal, number: str, count: int) -> None:
    """Wrong proofs of ``number`` from ``count`` // 5 + 1 other addresses, through the service the
    portal runs (its database, its secret key): the guessing happens elsewhere."""
    import dataclasses

    from gazportal.db import make_engine
    from gazportal.services import auth, throttle
    from gazportal.services.errors import FormErrors
    from gazportal.settings import get_settings

    utility = load_utility(PROFILE)
    s = dataclasses.replace(get_settings(), utility=utility, secret_key=SECRET.encode(), outbox_dir=portal.outbox)
    engine = make_engine(portal.db_url)
    try:
        for i in range(count):
            form = {"login": f"x{secrets.token_hex(4)}@example.org", "password": PASSWORD, "password2": PASSWORD,
                    "surname": "Х", "name": "Х", "phone": "+7 701 234 5678", "kind": "person",
                    "account_number": number, "last_payment": f"{i + 1}.13", "agreement": True}
            with pytest.raises(FormErrors):
                auth.register(engine, utility, form, settings=s,
                              source=throttle.Source(address=f"198.51.100.{i // 5}"))
    finally:
        engine.dispose()


def test_the_holder_registers_while_the_account_number_is_guessed(proxied_portal, browser, axe_source, screenshots):
    from playwright.sync_api import expect

    from gazportal.services.auth import PROOF_CAPTCHA_AFTER

    portal = proxied_portal
    number, payment = _free_account(portal)
    _guess_proofs(portal, number, PROOF_CAPTCHA_AFTER)
    context = _browser_at(browser, "203.0.113.60")
    try:
        page, errors = new_page(context, TIMEOUT)
        page.goto(portal.url + "/register")
        expect(page.locator("h1")).to_have_text(t("auth.register.title", "en"))
        expect(page.locator("altcha-widget")).to_have_count(0)  # the default profile has no CAPTCHA
        email = f"holder{secrets.token_hex(4)}@example.org"
        for fid, value in [("reg-login", email), ("reg-password", PASSWORD), ("reg-password2", PASSWORD),
                           ("reg-surname", "Иванова"), ("reg-name", "Анна"), ("reg-phone", "+7 701 234 5678"),
                           ("reg-account_number", number), ("reg-last_payment", payment)]:
            page.locator(f"#{fid}").fill(value)
        page.locator("#reg-agreement").check()
        page.locator("#reg-submit").click()
        # asked for the CAPTCHA: the widget appears with the reason under it; the form keeps its values
        expect(page.locator("#reg-captcha-err")).to_have_text(t("errors.captcha_required", "en"))
        expect(page.locator("#reg-last_payment")).to_have_value(payment)
        check_and_shoot(page, axe_source, screenshots / "abuse-register-captcha-desktop.png")
        solve_captcha(page)
        page.locator("#reg-password").fill(PASSWORD)
        page.locator("#reg-password2").fill(PASSWORD)
        page.locator("#reg-submit").click()
        expect(page.locator("#reg-done")).to_have_text(t("auth.register.done_email", "en"))
        assert not errors, errors
    finally:
        context.close()
