"""Changing the e-mail (the login) in Chromium, as the customer and as the owner of the old address
meet it (issue 15 point 4, issue 14 point 19): the profile asks for the current password before a
new address; the link goes to the new address and a notice to the old one; the old address's "it
was not me" link brings the address back, signs every device out and leads to a new password.
The page of that link in every language on a phone and a desktop: screenshots and axe-core.

Run: python -m pytest -q tests/e2e/test_login_change.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.settings import load_utility
from helpers import (
    PASSWORD, VIEWPORTS, check_page, link_token, new_message, new_page, outbox_files, sign_in, switch_lang, t,
)

TIMEOUT = 20_000
NEW_PASSWORD = "Quiet-Harbour-77"


def _customer(portal) -> str:
    """A confirmed customer who signs in with the e-mail, made in the portal's database."""
    from gazportal.db import make_engine, write_session
    from gazportal.models import User
    from gazportal.services import identity
    from gazportal.services.passwords import hash_password

    login = f"move{uuid.uuid4().hex[:8]}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            s.add(User(login=login, login_skeleton=identity.login_skeleton(login), email=login,
                       password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                       email_verified=True, language=load_utility(portal.utility_id).default_language,
                       created_at=datetime.now(UTC) - timedelta(days=1)))
    finally:
        engine.dispose()
    return login


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_new_email_asks_the_password_and_the_old_address_can_undo_it(portal, browser, axe_source, screenshots,
                                                                      device):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    if utility.login_identifier != "email":
        pytest.skip("the e-mail is the login only where the profile signs in with it (the default profile)")
    lang = utility.default_language
    login = _customer(portal)
    new = "new." + login
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, login)
        page.goto(portal.url + "/profile")
        email = page.locator("#prof-email")
        expect(email).to_have_value(login)

        # A new address without the current password: refused on the password field, as the form says.
        expect(page.locator("#prof-current-hint")).to_have_text(t("my_profile.current_password_hint", lang))
        email.fill(new)
        page.locator("#profile-form button[type=submit]").click()
        current = page.locator("#prof-current")
        expect(current).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#prof-current-err")).to_have_text(t("errors.current_password_for_contact", lang))
        expect(email).to_have_value(new)  # what was typed stays
        expect(page.locator("#profile-notice")).to_have_count(0)
        check_page(page, axe_source, screenshots, utility, "profile-needs-password", lang, device)

        # With it: the link goes to the new address, a notice with the undo link to the old one.
        seen = outbox_files(portal)
        current.fill(PASSWORD)
        page.locator("#profile-form button[type=submit]").click()
        expect(page.locator("#profile-notice")).to_have_text(t("my_profile.email_link_sent", lang, email=new))
        expect(page.locator("#prof-current")).to_have_value("")  # the password is not kept in the form
        to_new = new_message(portal, new, seen)
        new_message(portal, login, seen)  # the old address is told at once

        # The new address confirms; the old address is told again, with its undo link.
        seen = outbox_files(portal)
        page.goto(f"{portal.url}/confirm-email?token={link_token(to_new, portal, '/confirm-email')}")
        expect(page.locator("#confirm-email-result")).to_have_text(t("confirm_email.ok", lang))
        undo = link_token(new_message(portal, login, seen), portal, "/email-undo")

        # The owner of the old address: "it was not me".
        page.goto(f"{portal.url}/email-undo?token={undo}")
        expect(page.locator("#email-undo-result")).to_have_text(t("email_undo.restored", lang).replace("{email}", login))
        for lang_ in utility.languages:  # the switch keeps the result (no reload: the link is used once)
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(t("email_undo.title", lang_))
            expect(page.locator("#email-undo-reset")).to_have_text(t("email_undo.choose_password", lang_))
            check_page(page, axe_source, screenshots, utility, "email-undo", lang_, device)
        switch_lang(page, lang)

        # Every device is signed out; the old password no longer works; a new one is chosen.
        page.locator("#email-undo-reset").click()
        expect(page).to_have_url(re.compile(r"/reset\?token="))
        page.locator("#rl-password").fill(NEW_PASSWORD)
        page.locator("#rl-password2").fill(NEW_PASSWORD)
        page.locator("#reset-submit").click()
        expect(page.locator("#recover-done")).to_have_text(t("auth.recover.done", lang))
        page.goto(portal.url + "/signin")
        page.locator("#signin-login").fill(login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page.locator("#signin-error")).to_contain_text(t("errors.sign_in_failed", lang))
        sign_in(page, portal.url, login, NEW_PASSWORD)
        page.goto(portal.url + "/profile")
        expect(page.locator("#prof-email")).to_have_value(login)
        assert not errors, errors
    finally:
        context.close()
