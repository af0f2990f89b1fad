"""The first page in a real browser: translated, switchable, fits a phone, no serious axe findings.

Run: python -m pytest -q tests/e2e -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import html

import pytest

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_and_shoot

TIMEOUT = 15_000


def _expect_language(page, utility, lang: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("h1")).to_have_text(i18n.t("index.title", lang), timeout=TIMEOUT)
    expect(page.locator("html")).to_have_attribute("lang", lang, timeout=TIMEOUT)
    expect(page.locator(".gp-brand-name")).to_have_text(utility.name.get(lang))
    expect(page.locator("#reading-window")).to_have_text(i18n.reading_window_text(utility, lang))
    expect(page.locator("#contacts-title")).to_have_text(i18n.t("index.contacts.title", lang))
    expect(page.locator(f"button[data-lang={lang}]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#index-signin")).to_have_text(i18n.t("auth.signin.submit", lang))
    expect(page.locator("#index-register")).to_have_text(i18n.t("auth.signin.register", lang))
    assert utility.name.get(lang) in page.title()


def test_prerendered_html_is_in_the_default_language(portal):
    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    page = html.unescape(portal.html("/"))
    assert f'<html lang="{lang}"' in page
    assert i18n.t("index.title", lang) in page
    assert utility.name.get(lang) in page
    assert i18n.reading_window_text(utility, lang) in page
    assert f'<meta content="{utility.colors.primary}" name="theme-color"/>' in page
    assert 'name="description"' in page


@pytest.mark.parametrize("device", VIEWPORTS)
def test_index_in_every_language(portal, browser, axe_source, screenshots, device):
    utility = load_utility(portal.utility_id)
    context = browser.new_context(**VIEWPORTS[device])
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(portal.url + "/")
        _expect_language(page, utility, utility.default_language)

        # The switch lists exactly the profile's languages, each named in its own language.
        buttons = page.locator("[role=group] button[data-lang]")
        assert buttons.evaluate_all("bs => bs.map(b => b.dataset.lang)") == utility.languages
        group_name = page.locator("[role=group]").get_attribute("aria-label")
        assert group_name == i18n.t("lang.switch_label", utility.default_language)

        others = [lang for lang in utility.languages if lang != utility.default_language]
        for lang in [*others, utility.default_language]:
            page.locator(f"button[data-lang={lang}]").click()
            _expect_language(page, utility, lang)
            width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width[0] <= width[1], f"{lang}: the page scrolls sideways ({width[0]} > {width[1]} px)"
            heights = buttons.evaluate_all("bs => bs.map(b => b.getBoundingClientRect().height)")
            assert max(heights) < 48, f"{lang}: a language button wraps its name ({heights})"
            # issue 14 point 20: the switch takes one row of the header, on a 390 px phone too
            tops = buttons.evaluate_all("bs => bs.map(b => Math.round(b.getBoundingClientRect().top))")
            assert len(set(tops)) == 1, f"{lang}: the language switch takes {len(set(tops))} rows ({tops})"
            names = buttons.evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
            assert names == [i18n.t(f"lang.{code}", code) for code in utility.languages]
            check_and_shoot(page, axe_source, screenshots / f"{utility.id}-index-{lang}-{device}.png")
        assert not errors, errors
    finally:
        context.close()


def test_language_choice_survives_a_reload_and_a_bad_stored_value_falls_back(portal, browser):
    utility = load_utility(portal.utility_id)
    other = next((lang for lang in utility.languages if lang != utility.default_language), None)
    if other is None:
        pytest.skip("the profile has one language")
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        page.goto(portal.url + "/")
        page.locator(f"button[data-lang={other}]").click()
        _expect_language(page, utility, other)
        page.reload()
        _expect_language(page, utility, other)

        # The browser's storage is the user's to write: a language the profile lacks means
        # the default one.
        for bad in ("xx", "ru" if "ru" not in utility.languages else "zz", '{"a":1}'):
            page.evaluate("v => localStorage.setItem('gazportal_lang', v)", bad)
            page.reload()
            _expect_language(page, utility, utility.default_language)
    finally:
        context.close()


@pytest.fixture(scope="module")
def demo_portal(portal_factory):
    """The default profile in demo mode, as ./run.sh starts it (a build of its own: the start page
    differs), with its demo customer made by the command run.sh calls."""
    import subprocess
    import sys

    portal = portal_factory("default", build="default-demo", extra_env={"GAZPORTAL_DEMO": "1"})
    done = subprocess.run([sys.executable, "-m", "gazportal.cli", "--db-url", portal.db_url, "demo-customer"],
                          capture_output=True, text=True, check=True)
    assert "demo customer: sign in as demo@example.org" in done.stdout
    return portal


@pytest.mark.parametrize("device", VIEWPORTS)
def test_try_the_demo_in_demo_mode(demo_portal, portal, browser, axe_source, screenshots, device):
    """Issue 14 point 2: a newcomer who started the portal presses "Sign in to the demo" and is on
    the demo customer's accounts; a portal not in demo mode offers no such button."""
    import re

    from playwright.sync_api import expect

    context = browser.new_context(**VIEWPORTS[device])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        if portal.utility_id == "default":  # the ordinary build: no demo on the start page
            page.goto(portal.url + "/")
            expect(page.locator("h1")).to_have_text(i18n.t("index.title", "en"))
            expect(page.locator("#demo-enter")).to_have_count(0)
        page.goto(demo_portal.url + "/")
        expect(page.locator("#demo-title")).to_have_text(i18n.t("index.demo.title", "en"))
        check_and_shoot(page, axe_source, screenshots / f"default-index-demo-en-{device}.png")
        page.locator("#demo-enter").click()
        expect(page).to_have_url(re.compile(r"/accounts$"), timeout=TIMEOUT)
        expect(page.locator("[data-account]")).to_have_count(2)
    finally:
        context.close()
