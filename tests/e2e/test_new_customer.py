"""A new customer's first visit, walked in one go in Chromium as a person would, for every profile
the portal ships (helpers.shipped_utilities: e-mail + link, phone + SMS code, the account number +
ALTCHA + link, e-mail with no confirmation), on a phone and on a desktop:

sign up (the CAPTCHA solved in the browser where the profile has one) -> confirm (the link or code
read from the portal's outbox; nothing where the profile confirms nothing) -> sign in -> add an account
(by the last payment, or with the address picker) -> open its dashboard -> a reading the server
refuses (below the previous one), then one it accepts -> statistics: the monthly table and the
charts -> send a message and find it in "my messages" -> switch the language -> sign out (the
pages are closed again) -> sign in on another browser: the portal speaks the chosen language.

Screenshots of each step go to tests/e2e/screenshots/<profile>-new-<step>-<lang>-<device>.png,
each page checked with axe-core. The portal runs with a copy of the profile whose reading window is
the whole month (conftest.whole_month_portal), so the walk does not depend on today's date.

Run: python -m pytest -q tests/e2e/test_new_customer.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass

import pytest

from gazportal.services.i18n import format_quantity
from gazportal.settings import load_utility
from helpers import (
    PASSWORD,
    VIEWPORTS,
    add_account,
    check_page,
    link_token,
    nav_to,
    new_message,
    new_page,
    outbox_files,
    picker_address,
    see_charts,
    shipped_utilities,
    sign_in,
    sms_code,
    solve_captcha,
    switch_lang,
    t,
)

TIMEOUT = 20_000


@dataclass
class DemoAccount:
    number: str
    payment: str  # its latest payment, as a customer types it
    address: dict  # branch, settlement, street, house, flat (names, as the picker shows them)
    meter_id: int
    serial: str
    last_value: int  # the meter's latest reading


def _demo_accounts(portal, n: int) -> list[DemoAccount]:
    """``n`` demo accounts of persons nobody has linked, each with a payment and a metered service,
    picked at random (the walks of one run do not meet)."""
    from sqlmodel import select

    from gazportal.db import make_engine, read_session
    from gazportal.models import Account, Meter, Payment, Reading, User, UserAccountLink

    engine = make_engine(portal.db_url)
    found: list[DemoAccount] = []
    try:
        with read_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            logins = set(s.exec(select(User.login)).all())  # an account number can be a login too
            candidates = [a for a in s.exec(select(Account).where(Account.kind == "person")).all()
                          if a.id not in taken and a.number not in logins and a.house_id]
            random.shuffle(candidates)
            for acc in candidates:
                pay = s.exec(select(Payment).where(Payment.account_id == acc.id)
                             .order_by(Payment.paid_at.desc(), Payment.id.desc())).first()
                meter = s.exec(select(Meter).where(Meter.account_id == acc.id).order_by(Meter.id)).first()
                if pay is None or meter is None:
                    continue
                last = s.exec(select(Reading).where(Reading.meter_id == meter.id)
                              .order_by(Reading.taken_at.desc(), Reading.id.desc())).first()
                if last is None or int(last.value) < 1:  # "below the previous one" needs room below
                    continue
                found.append(DemoAccount(acc.number, f"{pay.amount:.2f}", picker_address(s, acc), meter.id, meter.serial,
                                         int(last.value)))
                if len(found) == n:
                    return found
    finally:
        engine.dispose()
    pytest.fail(f"fewer than {n} free demo accounts with a payment and a meter")


@pytest.mark.parametrize("device", VIEWPORTS)
@pytest.mark.parametrize("utility_id", shipped_utilities())
def test_a_new_customer_from_sign_up_to_sign_out(whole_month_portal, browser, axe_source, screenshots,
                                                  utility_id, device):
    from playwright.sync_api import expect

    portal = whole_month_portal(utility_id)
    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    other = next(lg for lg in utility.languages if lg != lang)
    needs_account = utility.proof_by_last_payment
    first, added = (_demo_accounts(portal, 2) if needs_account else [None, *_demo_accounts(portal, 1)])
    email = f"new{uuid.uuid4().hex[:8]}@example.org"
    if utility.login_identifier == "phone":
        digits = f"{random.randint(0, 9_999_999):07d}"
        typed, login = f"067 {digits[:3]} {digits[3:5]} {digits[5:]}", f"+38067{digits}"
    elif utility.login_identifier == "account":  # the bill's account number is the login
        typed = login = first.number
    else:
        typed = login = email
    to = email if utility.confirmation == "email_link" else login  # where the link or code goes
    context = browser.new_context(**VIEWPORTS[device])

    def shot(step: str, lg: str = lang) -> None:
        expect(page.locator("html")).to_have_attribute("lang", lg)
        check_page(page, axe_source, screenshots, utility, f"new-{step}", lg, device)

    try:
        page, errors = new_page(context, TIMEOUT)

        # 1. Sign up, from the first page.
        page.goto(portal.url + "/")
        page.locator("#index-register").click()
        expect(page).to_have_url(re.compile(r"/register$"))
        expect(page.locator("h1")).to_have_text(t("auth.register.title", lang))
        seen = outbox_files(portal)
        page.locator("#reg-login").fill(typed)
        page.locator("#reg-password").fill(PASSWORD)
        page.locator("#reg-password2").fill(PASSWORD)
        page.locator("#reg-surname").fill("Ахметова" if utility.phone_region == "KZ" else "Коваленко")
        page.locator("#reg-name").fill("Дана" if utility.phone_region == "KZ" else "Оксана")
        if page.locator("#reg-phone").count():
            page.locator("#reg-phone").fill("+7 701 234 5678" if utility.phone_region == "KZ" else "+380 50 123 4567")
        if utility.login_identifier != "email" and page.locator("#reg-email").count():
            page.locator("#reg-email").fill(email)
        if needs_account:
            if utility.login_identifier != "account":
                page.locator("#reg-account_number").fill(first.number)
            page.locator("#reg-last_payment").fill(first.payment)
        if utility.user_agreement:
            page.locator("#reg-agreement").check()
        if utility.captcha:
            solve_captcha(page)
        shot("register")
        page.locator("#reg-submit").click()

        # 2. Confirm: the e-mailed link, the SMS code on the page the portal moved to, or nothing.
        if utility.confirmation == "email_link":
            expect(page.locator("#reg-done")).to_have_text(t("auth.register.done_email", lang))
            token = link_token(new_message(portal, to, seen), portal, "/confirm")
            page.goto(f"{portal.url}/confirm?token={token}")
        elif utility.confirmation == "sms_code":
            expect(page).to_have_url(re.compile(r"/confirm/?$"))
            expect(page.locator("#code-login")).to_have_value(typed)
            page.locator("#code-code").fill(sms_code(new_message(portal, to, seen)))
            page.locator("#code-submit").click()
        else:
            assert utility.confirmation == "none", utility.confirmation
            expect(page.locator("#reg-done")).to_have_text(t("auth.register.done_none", lang))
        if utility.confirmation != "none":
            expect(page.locator("#confirm-done")).to_have_text(t("auth.confirm.done", lang))
            shot("confirmed")

        # 3. Sign in with the login as typed.
        page.locator("#to-signin").click()
        expect(page).to_have_url(re.compile(r"/signin/?$"))
        sign_in(page, portal.url, typed)
        expect(page).to_have_url(re.compile(r"/accounts/?$"))
        if first is not None:
            expect(page.locator(f"[data-account='{first.number}']")).to_be_visible()
        else:
            expect(page.locator("[data-account]")).to_have_count(0)

        # 4. Add an account.
        add_account(page, utility, added.number, added.payment, added.address)
        expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=TIMEOUT)
        shot("accounts")

        # 5. Its dashboard; a reading below the previous one is refused, the right one accepted.
        page.locator(f"[data-open='{added.number}']").click()
        expect(page).to_have_url(re.compile(r"/dashboard\?account=\d+$"))
        expect(page.locator("#dash-account-h")).to_contain_text(added.number)
        expect(page.locator("#dash-window")).to_have_attribute("data-open", "true")
        mid = added.meter_id
        box = page.locator(f"#rd-{mid}")
        result = page.locator(f"#result-{mid}")
        box.press_sequentially(str(max(0, added.last_value - 1)), delay=20)
        live = page.locator(f"#live-{mid} .gp-dash-live")
        expect(live).to_have_attribute("data-kind", "error")  # after a pause: below the last reading
        page.locator(f"#rd-submit-{mid}").click()
        expect(page.locator(f"#rd-submit-{mid}")).to_have_attribute("aria-busy", "false")
        # the refusal is said once, in the form under the input (no second box, no toast)
        expect(live).to_have_attribute("data-kind", "error")
        expect(live).to_contain_text(t("errors.reading_below_previous", lang, previous=added.last_value)[:20])
        expect(result).to_have_count(0)
        expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=TIMEOUT)
        shot("reading-refused")
        new_value = str(added.last_value + 3)
        box.fill(new_value)
        expect(live).to_have_attribute("data-kind", re.compile(r"^(ok|warning)$"))
        if live.get_attribute("data-kind") == "warning":  # a meter that usually stands still
            page.locator(f"#cf-{mid}").check()
        page.locator(f"#rd-submit-{mid}").click()
        expect(result).to_have_attribute("data-kind", "ok")
        expect(result).to_contain_text(format_quantity(added.last_value + 3, lang))
        # the history shows the reading as numbers are written in the page's language, with its unit
        expect(page.locator(f"[data-meter='{added.serial}'] tbody tr").first).to_contain_text(
            format_quantity(added.last_value + 3, lang))
        expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=TIMEOUT)
        shot("reading-accepted")

        # 6. Statistics: the monthly table and the charts.
        nav_to(page, "statistics")
        expect(page).to_have_url(re.compile(r"/statistics"))
        expect(page.locator("h1")).to_have_text(t("statistics.title", lang))
        expect(page.locator("#stats-table tbody tr")).to_have_count(12)
        see_charts(page)
        shot("statistics")

        # 7. A message to the utility, then "my messages" with its status.
        nav_to(page, "contacts")
        expect(page).to_have_url(re.compile(r"/contacts$"))
        subject = f"Meter seal {device}"
        page.locator("#msg-subject").fill(subject)
        page.locator("#msg-body").fill("The seal on my meter is broken; please send an inspector.")
        page.locator("#msg-send").click()
        expect(page.locator("#msg-notice")).to_contain_text(subject)
        page.locator("#msg-my-link").click()
        expect(page).to_have_url(re.compile(r"/messages$"))
        expect(page.locator("[data-message]")).to_have_count(1)
        expect(page.locator("[data-message]")).to_contain_text(subject)
        expect(page.locator("[data-status=new]")).to_have_text(t("messages.status.new", lang))
        expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=TIMEOUT)

        # 8. Another language: the page changes at once (the date too) and the choice is the customer's.
        sent_at = page.locator("[data-message] time").inner_text()
        switch_lang(page, other)
        expect(page.locator("h1")).to_have_text(t("messages.list.title", other))
        expect(page.locator("[data-status=new]")).to_have_text(t("messages.status.new", other))
        expect(page.locator("[data-message] time")).not_to_have_text(sent_at)
        shot("messages", other)

        # 9. Sign out: back to sign-in, the signed-in pages closed.
        nav_to(page, "sign_out")
        expect(page).to_have_url(re.compile(r"/signin/?\?why=signed_out$"))
        page.goto(portal.url + "/dashboard")
        expect(page).to_have_url(re.compile(r"/signin"))
        assert not errors, errors
    finally:
        context.close()

    # 10. On another browser (nothing stored there), the portal speaks the customer's language
    #     once they sign in.
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(portal.url + "/signin")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        sign_in(page, portal.url, typed)
        expect(page.locator("html")).to_have_attribute("lang", other)
        expect(page.locator("h1")).to_have_text(t("accounts.title", other))
        expect(page.locator(f"[data-account='{added.number}']")).to_be_visible()
    finally:
        context.close()
