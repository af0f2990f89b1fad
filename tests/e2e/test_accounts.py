"""The signed-in pages in Chromium: sign in, see the account cards, add an account (payment proof or
the address picker, per profile), unlink one, ask for re-registration with a document, edit the
profile, change the password, sign out. Every page in every language on a desktop and a phone:
screenshots and axe-core (no serious or critical findings).

Run: python -m pytest -q tests/e2e -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.settings import load_utility
from helpers import (
    PASSWORD, VIEWPORTS, add_account, check_and_shoot, check_page, nav_to, new_page, picker_address, switch_lang, t,
)

TIMEOUT = 15_000
NEW_PASSWORD = "Quiet-Harbour-77"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_serial = itertools.count(1)


@dataclass
class Customer:
    login: str
    own_number: str
    add_number: str
    add_payment: str  # the latest payment of the account to add, as typed
    address: dict  # branch, settlement, street, house, flat names of the account to add


def _customer(portal) -> Customer:
    """A confirmed customer with one demo account, made directly in the portal's database."""
    from sqlmodel import select

    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, Payment, User, UserAccountLink
    from gazportal.services.passwords import hash_password

    utility = load_utility(portal.utility_id)
    n = next(_serial)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    if utility.login_identifier == "phone":
        login = f"+38050{stamp}{n}"[:13]
        email = None
    else:
        login = email = f"e2e{stamp}{n}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            logins = set(s.exec(select(User.login)).all())  # an account number can be a login too
            free = [a for a in s.exec(select(Account).where(Account.kind == "person").order_by(Account.id)).all()
                    if a.id not in taken and a.house_id and a.number not in logins]
            own, target = free[0], free[1]
            if utility.login_identifier == "account":  # e.g. Shygysenergotrade: sign in by account number
                login = own.number
            user = User(login=login, email=email, phone=login if email is None else None,
                        password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                        email_verified=email is not None, phone_verified=email is None,
                        language=utility.default_language, created_at=datetime.now(UTC) - timedelta(days=1))
            s.add(user)
            s.flush()
            s.add(UserAccountLink(user_id=user.id, account_id=own.id))
            pay = s.exec(select(Payment).where(Payment.account_id == target.id)
                         .order_by(Payment.paid_at.desc(), Payment.id.desc())).first()
            address = picker_address(s, target)
            return Customer(login, own.number, target.number, f"{pay.amount:.2f}" if pay else "", address)
    finally:
        engine.dispose()



@pytest.mark.parametrize("device", VIEWPORTS)
def test_signed_in_pages(portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    who = _customer(portal)
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)

        # Not signed in: the accounts page sends the visitor to sign in.
        page.goto(portal.url + "/accounts")
        expect(page).to_have_url(re.compile(r"/signin"), timeout=TIMEOUT)

        page.locator("#signin-login").fill(who.login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts$"), timeout=TIMEOUT)
        expect(page.locator(f"[data-account='{who.own_number}']")).to_be_visible()
        expect(page.locator("h1")).to_have_text(t("accounts.title", lang))

        # Add an account.
        add_account(page, utility, who.add_number, who.add_payment, who.address)

        # Unlink it again, through the confirmation dialog.
        page.locator(f"[data-unlink='{who.add_number}']").click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_contain_text(who.add_number)
        check_and_shoot(page, axe_source, screenshots / f"{utility.id}-accounts-unlink-{lang}-{device}.png")
        page.locator("#unlink-confirm").click()
        expect(page.locator(f"[data-account='{who.add_number}']")).to_have_count(0)

        # A re-registration request with a document.
        page.locator("#rereg-account_number").fill(who.own_number)
        page.locator("#rereg-new_owner_name").fill("Петренко Петро")
        page.locator("#rereg-phone").fill("+77011234567" if utility.phone_region == "KZ" else "+380501234567")
        page.locator("#rereg-form button[type=submit]").click()
        upload = page.locator("#rereg-doc input[type=file]")
        expect(upload).to_have_count(1)
        upload.set_input_files(files=[{"name": "contract.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        expect(page.locator(".gp-doc")).to_have_count(1)
        expect(page.locator(".gp-doc-name")).to_have_text("contract.pdf")
        page.locator("#rereg-submit").click()
        expect(page.locator(".gp-req [data-status=submitted]")).to_have_count(1)

        for lang_ in utility.languages:
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(t("accounts.title", lang_))
            check_page(page, axe_source, screenshots, utility, "accounts", lang_, device)
        switch_lang(page, lang)

        # Profile: edit a field, the change is kept.
        nav_to(page, "profile")
        expect(page).to_have_url(re.compile(r"/profile$"))
        expect(page.locator("#prof-surname")).to_have_value("Тестова")
        # a required field left empty: the portal's translated message, not the browser's bubble
        page.locator("#prof-surname").fill("")
        page.locator("#profile-form button[type=submit]").click()
        expect(page.locator("#prof-surname")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#prof-surname-err")).not_to_be_empty()
        page.locator("#prof-surname").fill("Новикова")
        page.locator("#prof-birth_date").fill("1990-05-17")
        page.locator("#profile-form button[type=submit]").click()
        expect(page.locator("#profile-notice")).to_have_text(t("my_profile.saved", lang))
        page.reload()
        expect(page.locator("#prof-surname")).to_have_value("Новикова")
        for lang_ in utility.languages:
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(t("my_profile.title", lang_))
            expect(page.locator("#prof-language")).to_have_value(lang_)  # the form agrees with the switch
            check_page(page, axe_source, screenshots, utility, "profile", lang_, device)
        switch_lang(page, lang)

        # Password: a wrong current one is marked, then the change goes through.
        nav_to(page, "password")
        expect(page).to_have_url(re.compile(r"/password$"))
        for lang_ in utility.languages:
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(t("change_password.title", lang_))
            check_page(page, axe_source, screenshots, utility, "password", lang_, device)
        switch_lang(page, lang)
        page.locator("#pw-current").fill("not-my-password-1")
        page.locator("#pw-password").fill(NEW_PASSWORD)
        page.locator("#pw-password2").fill(NEW_PASSWORD)
        page.locator("#password-form button[type=submit]").click()
        expect(page.locator("#pw-current")).to_have_attribute("aria-invalid", "true")
        page.locator("#pw-current").fill(PASSWORD)
        page.locator("#pw-password").fill(NEW_PASSWORD)
        page.locator("#pw-password2").fill(NEW_PASSWORD)
        page.locator("#password-form button[type=submit]").click()
        expect(page.locator("#password-notice")).to_have_text(t("change_password.done", lang))

        # Sign out: back to sign-in, and the accounts page is closed again.
        nav_to(page, "sign_out")
        expect(page).to_have_url(re.compile(r"/signin"))
        page.goto(portal.url + "/accounts")
        expect(page).to_have_url(re.compile(r"/signin"))
        assert not errors, errors
    finally:
        context.close()



def _later_user_of(portal, number: str) -> str:
    """Another portal user who added ``number`` after its holder (made in the database); returns
    the masked login the holder's card shows."""
    from sqlmodel import select

    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, User, UserAccountLink
    from gazportal.services.passwords import hash_password

    utility = load_utility(portal.utility_id)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    n = next(_serial)
    login = f"+38067{stamp}{n}"[:13] if utility.login_identifier == "phone" else f"later{stamp}{n}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            acc = s.exec(select(Account).where(Account.number == number)).one()
            user = User(login=login, email=None if login.startswith("+") else login,
                        phone=login if login.startswith("+") else None, password_hash=hash_password(PASSWORD),
                        surname="Інша", name="Особа", is_active=True, language=utility.default_language)
            s.add(user)
            s.flush()
            s.add(UserAccountLink(user_id=user.id, account_id=acc.id, created_at=datetime.now(UTC) + timedelta(minutes=1)))
    finally:
        engine.dispose()
    if login.startswith("+"):
        return login[:4] + "*" * (len(login) - 6) + login[-2:]
    local = login.partition("@")[0]
    return local[:2] + "***" + local[-2:] + "@example.org"  # enough to tell two apart


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_holder_sees_a_later_user_and_takes_the_access_away(portal, browser, axe_source, screenshots, device):
    """Issue 15 point 1: the card names the other portal users of the account; its holder removes
    one who came later, through a confirmation, and the list says so at once."""
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    who = _customer(portal)
    masked = _later_user_of(portal, who.own_number)
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        # a deep link opened before signing in is where the sign-in leads (issue 14 point 18)
        page.goto(portal.url + "/statement")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Fstatement$"), timeout=TIMEOUT)
        page.locator("#signin-login").fill(who.login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/statement$"), timeout=TIMEOUT)
        nav_to(page, "accounts")
        expect(page).to_have_url(re.compile(r"/accounts$"), timeout=TIMEOUT)
        card = page.locator(f"[data-account='{who.own_number}']")
        expect(card.locator(".gp-holder-who")).to_have_text(masked)
        for lang_ in utility.languages:
            switch_lang(page, lang_)
            expect(card).to_contain_text(t("accounts.holders.title", lang_))
            check_page(page, axe_source, screenshots, utility, "accounts-holders", lang_, device)
        switch_lang(page, lang)
        card.locator(f"[data-remove-holder='{masked}']").click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_contain_text(masked)
        page.locator("#remove-holder-confirm").click()
        expect(card.locator(".gp-holder")).to_have_count(0)
        expect(page.locator("#accounts-notice")).to_contain_text(masked)
        assert not errors, errors
    finally:
        context.close()
