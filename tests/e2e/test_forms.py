"""Forms and navigation on a phone (issue 14 points 16, 18 and 20) in Chromium.

- 16: after a refused submit the focus is on the form's error summary, which is in view on a
  390x844 phone (the registration's refusal used to sit 1,300 px above the button); the summary is
  an alert named by its heading, with a link to each invalid field (its message as the link's
  name) that takes the focus to the field; each invalid field is ``aria-invalid`` and described by
  its message. Checked on the accessibility tree (roles and names, Playwright's ARIA snapshot),
  on registration, sign-in, adding an account, the password and the message form.
- 18: the account cards show each account's balance (a debt in red, in the dashboard's words); a
  foreign or odd ``/dashboard?account=`` shows the customer's own account and the address says so.
- 20: the account switchers (dashboard, statistics) show whole addresses on a phone (nothing clipped).

Run: python -m pytest -q tests/e2e/test_forms.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import PASSWORD, VIEWPORTS, check_page, clipped_texts, new_page, sign_in, switch_lang, t

TIMEOUT = 15_000
LONG_ADDRESS = ("Almaty, Medeu District, Microdistrict Samal-2, Zheltoksan Street, building 111, "
                "entrance 3, floor 12, flat 345")
_serial = itertools.count(1)


def _customer(portal) -> dict:
    """A confirmed customer with two fresh accounts of long addresses — one in debt, one with
    nothing charged — and a stranger's account, made in the portal's database."""
    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, Charge, User, UserAccountLink
    from gazportal.services import periods
    from gazportal.services.passwords import hash_password

    utility = load_utility(portal.utility_id)
    n = next(_serial)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    if utility.login_identifier == "phone":
        login, email = f"+38067{stamp}{n}"[:13], None
    else:
        login = email = f"forms{stamp}{n}@example.org"
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            size = len(utility.account_number_example)  # numbers the profile's pattern takes
            accs = [Account(number="9" + f"{stamp}{n:02d}{i}"[-(size - 1):], holder_name="Тестова А.",
                            address=f"{LONG_ADDRESS}{i}", kind="person") for i in range(3)]
            s.add_all(accs)
            s.flush()
            last_month = periods.add_months(periods.period_of(datetime.now(UTC), utility.tz), -1)
            s.add(Charge(account_id=accs[0].id, period=last_month, service=utility.services[0], volume=Decimal("10"),
                         amount=Decimal("1234.56")))
            if utility.login_identifier == "account":  # sign in by the account number
                login = accs[0].number
            user = User(login=login, email=email, phone=login if email is None else None,
                        password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                        email_verified=email is not None, phone_verified=email is None,
                        language=utility.default_language, created_at=datetime.now(UTC) - timedelta(days=1))
            s.add(user)
            s.flush()
            s.add_all([UserAccountLink(user_id=user.id, account_id=accs[0].id),
                       UserAccountLink(user_id=user.id, account_id=accs[1].id)])
            return dict(login=login, own=(accs[0].id, accs[0].number), second=(accs[1].id, accs[1].number),
                        foreign=accs[2].id)
    finally:
        engine.dispose()


def _refusal_in_view(page, summary_sel: str, lang: str):
    """The form's error summary after a refused submit: focused, in the window, an alert named by
    its heading. Returns its locator."""
    from playwright.sync_api import expect

    summary = page.locator(summary_sel)
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    alert = page.get_by_role("alert", name=t("forms.summary_title", lang))
    expect(alert).to_have_count(1)
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    return summary


def _fields_tied_to_links(page, summary, names: list[str], prefix: str) -> None:
    """Each named field is invalid and described by its message (its ``aria-describedby`` names
    the message's element); the summary links to it by "<the field's label>: <message>"."""
    from playwright.sync_api import expect

    for name in names:
        field = page.locator(f"#{prefix}-{name}")
        expect(field).to_have_attribute("aria-invalid", "true")
        described = field.get_attribute("aria-describedby").split()
        assert f"{prefix}-{name}-err" in described, described
        message = page.locator(f"#{prefix}-{name}-err").inner_text().strip()
        assert message
        label = page.locator(f"label[for={prefix}-{name}]").inner_text().strip()
        link = summary.get_by_role("link", name=f"{label}: {message}", exact=True)
        expect(link).to_have_count(1)
        assert link.get_attribute("href").endswith(f"#{prefix}-{name}")
    snap = summary.aria_snapshot()
    assert "heading" in snap and snap.count('link "') >= len(names), snap


@pytest.mark.parametrize("device", ["phone"])
def test_a_refused_registration_puts_its_errors_in_view(portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        page.goto(portal.url + "/register")
        expect(page.locator("#reg-submit")).to_be_enabled()
        page.locator("#reg-login").fill("not-an-address")
        page.locator("#reg-submit").click()
        summary = _refusal_in_view(page, "#reg-error", lang)
        # what the phone shows right after the refusal (the window, not the whole page)
        page.screenshot(path=screenshots / f"{utility.id}-register-refused-window-{lang}-{device}.png")
        # the button is far below: the page moved to the summary
        assert page.evaluate("window.scrollY") < page.locator("#reg-submit").evaluate(
            "e => e.getBoundingClientRect().top + window.scrollY") - 844
        _fields_tied_to_links(page, summary, ["login", "password", "surname", "name"], "reg")
        # the same refusal again: the focus comes back to the summary
        summary.get_by_role("link", name=re.compile("^" + re.escape(t("auth.field.surname", lang) + ": "))).click()
        expect(page.locator("#reg-surname")).to_be_focused()
        page.locator("#reg-surname").press("Enter")
        _refusal_in_view(page, "#reg-error", lang)
        check_page(page, axe_source, screenshots, utility, "register-refused", lang, device)
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_signed_in_forms_balances_and_the_account_in_the_address(portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    from sqlmodel import select

    from gazportal.db import make_engine, read_session
    from gazportal.models import User
    from gazportal.services import dashboard

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    who = _customer(portal)
    own_id, own_number = who["own"]
    second_id, second_number = who["second"]
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        # a refused sign-in: the summary takes the focus
        page.goto(portal.url + "/signin")
        page.locator("#signin-login").fill(who["login"])
        page.locator("#signin-password").fill("not-the-password-1")
        page.locator("#signin-submit").click()
        _refusal_in_view(page, "#signin-error", lang)
        sign_in(page, portal.url, who["login"])

        # 18: the cards show the balance, a debt in red in the dashboard's words
        page.goto(portal.url + "/accounts")
        engine = make_engine(portal.db_url)
        try:
            with read_session(engine) as s:
                user_id = s.exec(select(User.id).where(User.login == who["login"])).one()
                balances = dashboard.balances_today(s, utility, user_id, now=datetime.now(UTC))
        finally:
            engine.dispose()
        assert balances[own_id] < 0 and balances[second_id] == 0
        debt = t("dashboard.balance.debt", lang,
                 amount=i18n.format_money(-balances[own_id], utility.currency.code, lang))
        own_balance = page.locator(f"[data-balance='{own_number}']")
        expect(own_balance).to_have_text(debt)
        expect(own_balance).to_have_attribute("data-debt", "true")
        expect(own_balance).to_have_class(re.compile(r"gp-dash-debt"))
        expect(page.locator(f"[data-balance='{second_number}']")).to_have_text(t("dashboard.balance.zero", lang))
        for lang_ in utility.languages:  # said again in each language
            switch_lang(page, lang_)
            expect(own_balance).to_have_text(t("dashboard.balance.debt", lang_, amount=i18n.format_money(
                -balances[own_id], utility.currency.code, lang_)))
            check_page(page, axe_source, screenshots, utility, "accounts-balances", lang_, device)
        switch_lang(page, lang)

        # 16: a refused addition — the summary of that form takes the focus
        if "payment_proof" in utility.add_account_by:
            if len(utility.add_account_by) > 1:
                page.locator("[data-mode=payment_proof]").click()
            page.locator("#add-number").fill("12")
            page.locator("#add-last_payment").fill("abc")
            page.locator("#add-by-payment button[type=submit]").click()
            summary = _refusal_in_view(page, "[data-summary-for=add-by-payment]", lang)
            page.screenshot(path=screenshots / f"{utility.id}-add-refused-window-{lang}-{device}.png")
            _fields_tied_to_links(page, summary, ["number", "last_payment"], "add")

        # 18: a foreign id, a non-number: their own account, and the address says which
        for odd in (str(who["foreign"]), "abc"):
            page.goto(f"{portal.url}/dashboard?account={odd}")
            expect(page).to_have_url(re.compile(rf"/dashboard\?account={own_id}$"))
            expect(page.locator("#dash-account-h")).to_contain_text(own_number)
        page.reload()
        expect(page.locator("#dash-account-h")).to_contain_text(own_number)

        # 20: the switcher shows whole addresses, nothing clipped; choosing one follows in the address
        switch = page.locator("#dashboard-account")
        expect(switch).to_be_visible()
        for number, i in ((own_number, 0), (second_number, 1)):
            expect(switch.locator(f"[data-account='{number}']")).to_contain_text(f"{LONG_ADDRESS}{i}")
        for lang_ in utility.languages:
            switch_lang(page, lang_)
            assert clipped_texts(page, "#dashboard-account") == [], lang_
            check_page(page, axe_source, screenshots, utility, "dashboard-switcher", lang_, device)
        switch_lang(page, lang)
        expect(page.get_by_role("radio", name=re.compile(re.escape(second_number)))).to_have_count(1)
        switch.locator(f"[data-account='{second_number}']").click()
        expect(page).to_have_url(re.compile(rf"/dashboard\?account={second_id}$"))
        expect(page.locator("#dash-account-h")).to_contain_text(second_number)
        check_page(page, axe_source, screenshots, utility, "dashboard-switcher", lang, device)

        # 20: the statistics' account choice likewise (it cut each address at 120 characters)
        page.goto(portal.url + "/statistics")
        choice = page.locator("#stats-account")
        for number, i in ((own_number, 0), (second_number, 1)):
            expect(choice.locator(f"[data-account='{number}']")).to_contain_text(f"{LONG_ADDRESS}{i}")
        assert clipped_texts(page, "#stats-account") == []
        choice.locator(f"[data-account='{second_number}']").click()
        expect(choice.get_by_role("radio", name=re.compile(re.escape(second_number)))).to_be_checked()

        # 16: the password form
        page.goto(portal.url + "/password")
        page.locator("#pw-current").fill("not-my-password-1")
        page.locator("#pw-password").fill("short")
        page.locator("#pw-password2").fill("other")
        page.locator("#password-form button[type=submit]").click()
        summary = _refusal_in_view(page, "[data-summary-for=password-form]", lang)
        check_page(page, axe_source, screenshots, utility, "password-refused", lang, device)

        # 16: the message form (a refusal is said once, in the form: no toast)
        page.goto(portal.url + "/contacts")
        page.locator("#msg-subject").fill("ab")
        page.locator("#msg-send").click()
        summary = _refusal_in_view(page, "#msg-error", lang)
        _fields_tied_to_links(page, summary, ["subject"], "msg")
        expect(page.locator("[data-sonner-toast]")).to_have_count(0)
        assert not errors, errors
    finally:
        context.close()


def test_the_desktop_menu_is_one_row_in_every_language(portal, browser):
    """Seen by the new customer: in Kazakh the desktop menu took two rows. Every entry of the menu
    of a signed-in customer stands in one row on a 1280 px desktop, in every language of the profile
    (the control: the entries are there and visible)."""
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    who = _customer(portal)
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, who["login"])
        page.goto(portal.url + "/dashboard")
        entries = page.locator(".gp-nav [data-nav]:visible")
        expect(entries.first).to_be_visible()
        for lang in utility.languages:
            switch_lang(page, lang)
            tops = entries.evaluate_all("els => els.map(e => Math.round(e.getBoundingClientRect().top))")
            assert len(tops) >= 8 and len(set(tops)) == 1, (lang, tops)
        assert not errors, errors
    finally:
        context.close()
