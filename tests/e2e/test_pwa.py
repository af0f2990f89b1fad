"""Installable and dark, in Chromium: the manifest link resolves to a valid manifest whose icons
load; the service worker registers, controls the page after a reload and serves the public page
offline; the colour-mode switch turns the dark mode on (kept after a reload), axe-core is clean in
it on the start page and on a signed-in page; the signed-in user's saved language is applied.

Screenshots: <profile>-{index,signin,accounts}-dark-<device>.png.
Run: python -m pytest -q tests/e2e/test_pwa.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_and_shoot, new_page

TIMEOUT = 15_000
PASSWORD = "Sturdy-Lantern-42"
UTILITIES = ("default", "kremenchukgaz")
_serial = itertools.count(1)


@pytest.fixture(scope="module", params=UTILITIES)
def pwa_portal(request, portal_factory):
    # A build directory of its own: other e2e files may be building the profile's usual one.
    return portal_factory(request.param, build=f"{request.param}-pwa")


def _user(portal, language: str) -> str:
    from gazportal.db import make_engine, write_session
    from gazportal.models import User
    from gazportal.services.passwords import hash_password

    utility = load_utility(portal.utility_id)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    n = next(_serial)
    if utility.login_identifier == "phone":
        login, email = f"+38067{stamp}{n}"[:13], None
    else:
        login = email = f"pwa{stamp}{n}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            s.add(User(login=login, email=email, phone=login if email is None else None,
                       password_hash=hash_password(PASSWORD), surname="Темна", name="Олена", is_active=True,
                       email_verified=email is not None, phone_verified=email is None, language=language,
                       created_at=datetime.now(UTC) - timedelta(days=1)))
    finally:
        engine.dispose()
    return login


def _hydrated(page):
    from playwright.sync_api import expect

    # the switch answers only once React has hydrated and the socket is up
    expect(page.locator("[data-testid=color-mode]")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("() => document.documentElement.classList.length > 0", timeout=TIMEOUT)


def test_manifest_and_icons(pwa_portal, browser):
    utility = load_utility(pwa_portal.utility_id)
    context = browser.new_context(**VIEWPORTS["phone"])
    try:
        page = context.new_page()
        page.goto(pwa_portal.url + "/")
        href = page.locator("link[rel=manifest]").get_attribute("href")
        assert href == f"/profiles/{utility.id}/manifest.webmanifest"
        r = page.request.get(pwa_portal.url + href)
        assert r.ok
        manifest = json.loads(r.text())
        assert manifest["short_name"] == utility.short_name and manifest["display"] == "standalone"
        assert manifest["start_url"] == "/" and manifest["theme_color"] == utility.colors.primary
        sizes = set()
        for icon in manifest["icons"]:
            ir = page.request.get(pwa_portal.url + icon["src"])
            assert ir.ok and ir.body()[:8] == b"\x89PNG\r\n\x1a\n", icon["src"]
            sizes.add((icon["purpose"], icon["sizes"]))
        assert {("any", "192x192"), ("any", "512x512"), ("maskable", "192x192"), ("maskable", "512x512")} <= sizes
        apple = page.locator("link[rel=apple-touch-icon]").get_attribute("href")
        assert page.request.get(pwa_portal.url + apple).ok
        assert page.locator("meta[name=apple-mobile-web-app-capable]").get_attribute("content") == "yes"
        # the icons the page shows load for real (naturalWidth > 0)
        loaded = page.evaluate("""async (srcs) => Promise.all(srcs.map(src => new Promise(ok => {
            const i = new Image(); i.onload = () => ok([src, i.naturalWidth]); i.onerror = () => ok([src, 0]); i.src = src;
        })))""", [i["src"] for i in manifest["icons"]] + [apple])
        assert all(w > 0 for _, w in loaded), loaded
    finally:
        context.close()


def test_chromium_finds_the_portal_installable(pwa_portal, browser, tmp_path):
    """Chromium's own verdict (what Lighthouse's PWA audits used before Lighthouse 12 dropped
    them): the manifest parses without errors and nothing stands in the way of installing. A
    persistent profile: Chromium refuses installs in incognito contexts (Playwright's default)."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **VIEWPORTS["phone"])
    try:
        page = context.new_page()
        page.goto(pwa_portal.url + "/")
        page.wait_for_function("async () => !!(await navigator.serviceWorker.ready).active", timeout=TIMEOUT)
        cdp = context.new_cdp_session(page)
        parsed = cdp.send("Page.getAppManifest")
        assert parsed["url"].endswith("/manifest.webmanifest"), parsed
        assert not [e for e in parsed["errors"] if e.get("critical")], parsed["errors"]
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
    finally:
        context.close()


def test_service_worker_controls_the_page_and_keeps_the_shell(pwa_portal, browser):
    from playwright.sync_api import expect

    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(pwa_portal.url + "/")
        script = page.evaluate("""async () => {
            const reg = await navigator.serviceWorker.ready;
            return reg.active ? reg.active.scriptURL : null;
        }""")
        assert script and re.search(r"/sw\.js\?v=[0-9a-f]{12}$", script), script
        page.reload()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=TIMEOUT)
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == script
        _hydrated(page)  # the websocket still works under the worker
        caches = page.evaluate("""async () => {
            const names = await caches.keys();
            const out = {};
            for (const n of names) {
                const c = await caches.open(n);
                out[n] = (await c.keys()).map(r => new URL(r.url).pathname);
            }
            return out;
        }""")
        shell = [n for n in caches if n.startswith("gazportal-shell-")]
        assert len(shell) == 1, caches
        paths = caches[shell[0]]
        assert "/" in paths and "/signin" in paths
        assert any(p.startswith("/assets/") for p in paths), paths  # the built JS/CSS
        assert not any(p.startswith("/_") or p.startswith("/api") for p in paths), paths
        # offline, the installed portal still opens (the cached start page)
        context.set_offline(True)
        page.goto(pwa_portal.url + "/")
        expect(page.locator("h1")).to_be_visible()
        context.set_offline(False)
    finally:
        context.close()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_dark_mode_and_the_users_language(pwa_portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    utility = load_utility(pwa_portal.utility_id)
    # The user's saved language differs from the profile's default: sign-in switches to it.
    saved = next(lang for lang in utility.languages if lang != utility.default_language)
    login = _user(pwa_portal, saved)
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        page.goto(pwa_portal.url + "/")
        _hydrated(page)
        switch = page.locator("[data-testid=color-mode]")
        assert switch.get_attribute("aria-label")
        expect(page.locator("section[aria-label*=Notifications]")).to_have_count(1)  # the app-wide Toaster
        expect(page.locator("html")).not_to_have_class(re.compile(r"\bdark\b"))
        expect(switch).to_have_attribute("aria-pressed", "false")
        switch.click()
        expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
        expect(switch).to_have_attribute("aria-pressed", "true")
        bg = page.evaluate("getComputedStyle(document.querySelector('.gp-page')).backgroundColor")
        assert sum(int(x) for x in re.findall(r"\d+", bg)[:3]) < 150, bg  # a dark page
        check_and_shoot(page, axe_source, screenshots / f"{utility.id}-index-dark-{device}.png")

        page.reload()  # the choice is kept
        _hydrated(page)
        expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))

        page.goto(pwa_portal.url + "/signin")
        expect(page.locator("html")).to_have_attribute("lang", utility.default_language)
        _hydrated(page)
        expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
        check_and_shoot(page, axe_source, screenshots / f"{utility.id}-signin-dark-{device}.png")
        page.locator("#signin-login").fill(login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts$"), timeout=TIMEOUT)
        expect(page.locator("html")).to_have_attribute("lang", saved)
        expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
        expect(page.locator("[data-testid=color-mode]")).to_have_attribute("aria-pressed", "true")
        page.wait_for_load_state("networkidle")
        check_and_shoot(page, axe_source, screenshots / f"{utility.id}-accounts-dark-{device}.png")

        # back to light with the same switch
        page.locator("[data-testid=color-mode]").click()
        expect(page.locator("html")).not_to_have_class(re.compile(r"\bdark\b"))
        assert not errors, errors
    finally:
        context.close()
