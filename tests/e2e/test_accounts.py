"""The signed-in pages in Chromium: sign in, see the account cards, add an account (payment proof or
the address picker, per profile), unlink one, ask for re-registration with a document, edit the
profile, change the password, sign out. Every page in every language on a desktop and a phone:
screenshots and axe-core (no serious or critical findings).

Run: python -m pytest -q tests/e2e -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.services import i18n
from gazportal.settings import load_profile

VIEWPORTS = {
    "desktop": dict(viewport={"width": 1280, "height": 800}, device_scale_factor=1),
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True),
}
TIMEOUT = 15_000
PASSWORD = "Sturdy-Lantern-42"
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
    from gazportal.models import Account, Branch, Flat, House, Payment, Settlement, Street, User, UserAccountLink
    from gazportal.services.passwords import hash_password

    profile = load_profile(portal.profile_id)
    n = next(_serial)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    if profile.login_identifier == "phone":
        login = f"+38050{stamp}{n}"[:13]
        email = None
    else:
        login = email = f"e2e{stamp}{n}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            free = [a for a in s.exec(select(Account).where(Account.kind == "person").order_by(Account.id)).all()
                    if a.id not in taken and a.house_id]
            own, target = free[0], free[1]
            if profile.login_identifier == "account":  # e.g. Shygysenergotrade: sign in by account number
                login = own.number
            user = User(login=login, email=email, phone=login if email is None else None,
                        password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                        email_verified=email is not None, phone_verified=email is None,
                        language=profile.default_language, created_at=datetime.now(UTC) - timedelta(days=1))
            s.add(user)
            s.flush()
            s.add(UserAccountLink(user_id=user.id, account_id=own.id))
            pay = s.exec(select(Payment).where(Payment.account_id == target.id)
                         .order_by(Payment.paid_at.desc(), Payment.id.desc())).first()
            house = s.get(House, target.house_id)
            street = s.get(Street, house.street_id)
            settlement = s.get(Settlement, street.settlement_id)
            branch = s.get(Branch, settlement.branch_id)
            flat = s.get(Flat, target.flat_id) if target.flat_id else None
            address = dict(branch=branch.name, settlement=settlement.name, street=street.name, house=house.number,
                           flat=flat.number if flat else None)
            return Customer(login, own.number, target.number, f"{pay.amount:.2f}" if pay else "", address)
    finally:
        engine.dispose()



def nav_to(page, name: str) -> None:
    """Click a navigation entry as a person would: on a phone the less used pages and sign-out
    are under "More" in the bottom tab bar."""
    # Wait for the navigation to be on the page (right after a redirect it may not be yet).
    page.locator(f"[data-nav={name}]:visible, [data-nav=more]:visible").first.wait_for()
    link = page.locator(f"[data-nav={name}]:visible")
    if link.count() == 0:
        page.locator("[data-nav=more]:visible").click()
        link = page.locator(f"[data-nav={name}]:visible")
    link.first.click()

def _axe(page, axe_source: str) -> list[dict]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa','best-practice']}})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _check_page(page, axe_source, screenshots, profile, name, lang, device):
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{name}/{lang}: the page scrolls sideways ({width[0]} > {width[1]} px)"
    page.screenshot(path=screenshots / f"{profile.id}-{name}-{lang}-{device}.png", full_page=True)
    bad = _axe(page, axe_source)
    assert not bad, f"{name}/{lang}/{device}: axe found:\n" + json.dumps(
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in bad],
        indent=1,
    )


def _t(key, lang, **kw):
    return i18n.t(key, lang, **kw)


@pytest.mark.parametrize("device", VIEWPORTS)
def test_signed_in_pages(portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    profile = load_profile(portal.profile_id)
    lang = profile.default_language
    who = _customer(portal)
    context = browser.new_context(**VIEWPORTS[device])
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(TIMEOUT)

        # Not signed in: the accounts page sends the visitor to sign in.
        page.goto(portal.url + "/accounts")
        expect(page).to_have_url(re.compile(r"/signin"), timeout=TIMEOUT)

        page.locator("#signin-login").fill(who.login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts$"), timeout=TIMEOUT)
        expect(page.locator(f"[data-account='{who.own_number}']")).to_be_visible()
        expect(page.locator("h1")).to_have_text(_t("accounts.title", lang))

        # Add an account.
        if "payment_proof" in profile.add_account_by:
            if len(profile.add_account_by) > 1:
                page.locator("button[data-mode=payment_proof]").click()
            page.locator("#add-number").fill(who.add_number)
            page.locator("#add-last_payment").fill("1.00")
            page.locator("#add-by-payment button[type=submit]").click()
            expect(page.locator("#add-last_payment")).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#add-number")).to_have_value(who.add_number)  # kept
            page.locator("#add-last_payment").fill(who.add_payment)
            page.locator("#add-by-payment button[type=submit]").click()
        else:
            a = who.address
            page.locator("#pick-branch").select_option(label=a["branch"])
            expect(page.locator("#pick-settlement")).to_be_enabled()
            page.locator("#pick-settlement").select_option(label=a["settlement"])
            expect(page.locator("#pick-street")).to_be_enabled()
            page.locator("#pick-street").select_option(label=a["street"])
            expect(page.locator("#pick-house")).to_be_enabled()
            page.locator("#pick-house").select_option(label=a["house"])
            if a["flat"]:
                expect(page.locator("#pick-flat")).to_be_enabled()
                page.locator("#pick-flat").select_option(label=a["flat"])
            expect(page.locator("#pick-number")).to_be_enabled()
            page.locator("#pick-number").fill(who.add_number)
            page.locator("#add-by-address button[type=submit]").click()
        expect(page.locator(f"[data-account='{who.add_number}']")).to_be_visible()
        expect(page.locator("#accounts-notice")).to_contain_text(who.add_number)

        # Unlink it again, through the confirmation dialog.
        page.locator(f"[data-unlink='{who.add_number}']").click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_contain_text(who.add_number)
        page.screenshot(path=screenshots / f"{profile.id}-accounts-unlink-{lang}-{device}.png")
        page.locator("#unlink-confirm").click()
        expect(page.locator(f"[data-account='{who.add_number}']")).to_have_count(0)

        # A re-registration request with a document.
        page.locator("#rereg-account_number").fill(who.own_number)
        page.locator("#rereg-new_owner_name").fill("Петренко Петро")
        page.locator("#rereg-phone").fill("+77011234567" if profile.phone_region == "KZ" else "+380501234567")
        page.locator("#rereg-form button[type=submit]").click()
        upload = page.locator("#rereg-doc input[type=file]")
        expect(upload).to_have_count(1)
        upload.set_input_files(files=[{"name": "contract.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        expect(page.locator(".gp-doc")).to_have_count(1)
        expect(page.locator(".gp-doc-name")).to_have_text("contract.pdf")
        page.locator("#rereg-submit").click()
        expect(page.locator(".gp-req [data-status=submitted]")).to_have_count(1)

        for lang_ in profile.languages:
            _switch(page, lang_)
            expect(page.locator("h1")).to_have_text(_t("accounts.title", lang_))
            _check_page(page, axe_source, screenshots, profile, "accounts", lang_, device)
        _switch(page, lang)

        # Profile: edit a field, the change is kept.
        nav_to(page, "profile")
        expect(page).to_have_url(re.compile(r"/profile$"))
        expect(page.locator("#prof-surname")).to_have_value("Тестова")
        page.locator("#prof-surname").fill("Новикова")
        page.locator("#prof-birth_date").fill("1990-05-17")
        page.locator("#profile-form button[type=submit]").click()
        expect(page.locator("#profile-notice")).to_have_text(_t("my_profile.saved", lang))
        page.reload()
        expect(page.locator("#prof-surname")).to_have_value("Новикова")
        for lang_ in profile.languages:
            _switch(page, lang_)
            expect(page.locator("h1")).to_have_text(_t("my_profile.title", lang_))
            _check_page(page, axe_source, screenshots, profile, "profile", lang_, device)
        _switch(page, lang)

        # Password: a wrong current one is marked, then the change goes through.
        nav_to(page, "password")
        expect(page).to_have_url(re.compile(r"/password$"))
        for lang_ in profile.languages:
            _switch(page, lang_)
            expect(page.locator("h1")).to_have_text(_t("change_password.title", lang_))
            _check_page(page, axe_source, screenshots, profile, "password", lang_, device)
        _switch(page, lang)
        page.locator("#pw-current").fill("not-my-password-1")
        page.locator("#pw-password").fill(NEW_PASSWORD)
        page.locator("#pw-password2").fill(NEW_PASSWORD)
        page.locator("#password-form button[type=submit]").click()
        expect(page.locator("#pw-current")).to_have_attribute("aria-invalid", "true")
        page.locator("#pw-current").fill(PASSWORD)
        page.locator("#pw-password").fill(NEW_PASSWORD)
        page.locator("#pw-password2").fill(NEW_PASSWORD)
        page.locator("#password-form button[type=submit]").click()
        expect(page.locator("#password-notice")).to_have_text(_t("change_password.done", lang))

        # Sign out: back to sign-in, and the accounts page is closed again.
        nav_to(page, "sign_out")
        expect(page).to_have_url(re.compile(r"/signin"))
        page.goto(portal.url + "/accounts")
        expect(page).to_have_url(re.compile(r"/signin"))
        assert not errors, errors
    finally:
        context.close()


def _switch(page, lang: str) -> None:
    from playwright.sync_api import expect

    button = page.locator(f"button[data-lang={lang}]")
    if button.count():
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
