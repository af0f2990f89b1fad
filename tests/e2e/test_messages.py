"""Contacts and messages in Chromium: a guest sees the contacts and a prompt to sign in; a customer
signs in, opens the contacts from the navigation, sends an invalid message (marked, nothing sent)
and a valid one (inline notice + toast), and finds it in "my messages" with its status. Desktop
and phone screenshots in two languages per profile; axe-core finds nothing serious or critical.

Run: python -m pytest -q tests/e2e/test_messages.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import re

import pytest

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import PASSWORD, VIEWPORTS, check_page, nav_to, new_page, switch_lang
from test_accounts import _customer

TIMEOUT = 15_000


def _t(key, lang, **kw):
    return i18n.t(key, lang, **kw)


def _two_languages(utility) -> list[str]:
    others = [lang for lang in utility.languages if lang != utility.default_language]
    return [utility.default_language, *others[:1]]


@pytest.mark.parametrize("device", VIEWPORTS)
def test_contacts_and_messages(portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    langs = _two_languages(utility)
    who = _customer(portal)
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)

        # A guest: the contacts, phones as tel: links, and a prompt to sign in (no form).
        page.goto(portal.url + "/contacts")
        expect(page.locator("#msg-guest")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#msg-form")).to_have_count(0)
        expect(page.locator("a[href^='tel:']")).to_have_count(len(utility.contacts.phones))
        expect(page.locator(f"a[href='mailto:{utility.contacts.email}']")).to_be_visible()
        for lang_ in langs:
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(_t("messages.contacts.title", lang_))
            check_page(page, axe_source, screenshots, utility, "contacts-guest", lang_, device)
        switch_lang(page, lang)
        # "my messages" is for customers only
        page.goto(portal.url + "/messages")
        expect(page).to_have_url(re.compile(r"/signin"), timeout=TIMEOUT)

        page.locator("#signin-login").fill(who.login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).not_to_have_url(re.compile(r"/signin"), timeout=TIMEOUT)
        # /support and /feedback are the same form with that kind chosen
        page.goto(portal.url + "/support")
        expect(page.locator("[data-kind=support] input")).to_be_checked()
        page.goto(portal.url + "/feedback")
        expect(page.locator("[data-kind=feedback] input")).to_be_checked()
        nav_to(page, "contacts")
        expect(page).to_have_url(re.compile(r"/contacts$"))
        expect(page.locator("#msg-form")).to_be_visible()
        expect(page.locator("#msg-account_id option")).to_have_count(2)  # "none" + the customer's account

        # Invalid: too short a subject and text -> marked, nothing sent.
        page.locator("#msg-subject").fill("ab")
        page.locator("#msg-body").fill("short")
        expect(page.locator("#msg-body-count")).to_have_text("5 / 5000")
        page.locator("#msg-send").click()
        expect(page.locator("#msg-subject")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#msg-body")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#msg-subject-err")).to_contain_text(_t("errors.field_too_short", lang, min=3))
        expect(page.locator("#msg-subject")).to_have_value("ab")  # what was typed stays

        # Valid: technical support about the customer's account.
        subject = f"Support {device}"
        page.locator("[data-kind=support]").click()
        page.locator("#msg-subject").fill(subject)
        page.locator("#msg-body").fill("The chart on the statistics page stays empty.\nSecond line.")
        page.locator("#msg-account_id").select_option(label=who.own_number)
        page.locator("#msg-send").click()
        expect(page.locator("#msg-notice")).to_contain_text(subject)
        expect(page.locator("[data-sonner-toast]").first).to_be_visible()
        expect(page.locator("#msg-subject")).to_have_value("")  # a fresh form
        expect(page.locator("#msg-subject")).to_have_attribute("aria-invalid", "false")
        # the toast (Sonner's, fading in and out) is gone before the page is checked
        expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=TIMEOUT)
        for lang_ in langs:
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(_t("messages.contacts.title", lang_))
            expect(page.locator("#msg-notice")).to_have_text(_t("messages.sent", lang_, subject=subject))
            check_page(page, axe_source, screenshots, utility, "contacts", lang_, device)
        switch_lang(page, lang)

        # My messages, from the navigation (on a phone under "More"): the one just sent, with its status.
        nav_to(page, "messages")
        expect(page).to_have_url(re.compile(r"/messages$"))
        expect(page.locator("[data-nav=messages][aria-current=page]").first).to_be_attached()
        item = page.locator("[data-message]")
        expect(item).to_have_count(1)
        expect(item).to_contain_text(subject)
        expect(item).to_contain_text(who.own_number)
        expect(item.locator("[data-status=new]")).to_have_text(_t("messages.status.new", lang))
        for lang_ in langs:
            switch_lang(page, lang_)
            expect(page.locator("[data-status=new]")).to_have_text(_t("messages.status.new", lang_))
            page.reload()  # dates are formatted on load, in the page's language
            expect(page.locator("h1")).to_have_text(_t("messages.list.title", lang_))
            expect(page.locator("[data-status=new]")).to_have_text(_t("messages.status.new", lang_))
            check_page(page, axe_source, screenshots, utility, "messages", lang_, device)
        switch_lang(page, lang)
        assert not errors, errors
    finally:
        context.close()
