"""The account dashboard and reading entry in Chromium, for each profile: sign in, open the dashboard
from the account card, type an invalid then a valid reading (the live messages), send one the server
refuses and one it accepts, see the success; screenshots of the dashboard in each of the profile's
languages on a desktop and a phone; axe-core finds nothing serious or critical.

The reading window would make this depend on today's date, so the portal runs with a copy of the
profile (a TOML path in GAZPORTAL_PROFILE: conftest.whole_month_portal) whose window is the whole month; the
production profiles are untouched.

Run: python -m pytest -q tests/e2e/test_readings.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import PASSWORD, VIEWPORTS, check_page, clipped_texts, new_page, reading_utilities, switch_lang
from tests.e2e.conftest import UTILITIES

TIMEOUT = 15_000

_serial = itertools.count(1)


# Profiles whose customers sign in with an e-mail or a phone and a password (no CAPTCHA): the
# account-number + ALTCHA sign-in is walked in test_auth_profiles.py.
READING_PROFILES = reading_utilities(UTILITIES)


@pytest.fixture(params=READING_PROFILES)
def readings_portal(request, whole_month_portal):
    return whole_month_portal(request.param)


def _customer(portal) -> dict:
    """A confirmed customer with an account of their own whose meter has a history."""
    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, Meter, Reading, User, UserAccountLink
    from gazportal.services.passwords import hash_password

    utility = load_utility(portal.utility_id)
    n = next(_serial)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    if utility.login_identifier == "phone":
        login, email = f"+38067{stamp}{n}"[:13], None
    else:
        login = email = f"rd{stamp}{n}@example.org"
    service = utility.services[0]
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            number = f"9{stamp}{n:03d}"[:10]
            acc = Account(number=number, holder_name="Тестова А.", address="Test St 1, flat 2")
            s.add(acc)
            s.flush()
            meter = Meter(account_id=acc.id, service=service, serial=f"E2E-{n}", unit="kWh" if service == "electricity" else "m3",
                          digits=6, installed_on=date(2020, 1, 1))
            s.add(meter)
            s.flush()
            today = datetime.now(UTC)
            for i, value in enumerate((1000, 1010, 1020)):
                when = today - timedelta(days=70 - 30 * i)
                s.add(Reading(meter_id=meter.id, value=value, taken_at=when,
                              period=f"{when.astimezone(utility.tz):%Y-%m}", source="inspector"))
            user = User(login=login, email=email, phone=login if email is None else None,
                        password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                        email_verified=email is not None, phone_verified=email is None,
                        language=utility.default_language, created_at=today - timedelta(days=1))
            s.add(user)
            s.flush()
            s.add(UserAccountLink(user_id=user.id, account_id=acc.id))
            return dict(login=login, number=number, meter=str(meter.id), serial=meter.serial)
    finally:
        engine.dispose()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_dashboard_and_reading_entry(readings_portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    portal = readings_portal
    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    who = _customer(portal)
    mid = who["meter"]
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)

        page.goto(portal.url + "/dashboard")
        expect(page).to_have_url(re.compile(r"/signin"))
        page.locator("#signin-login").fill(who["login"])
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/(accounts|dashboard)$"))
        page.goto(portal.url + "/accounts")

        # From the account card to its dashboard.
        page.locator(f"[data-open='{who['number']}']").click()
        expect(page).to_have_url(re.compile(r"/dashboard\?account=\d+$"))
        expect(page.locator("h1")).to_have_text(i18n.t("dashboard.title", lang))
        expect(page.locator("#dash-account-h")).to_contain_text(who["number"])
        expect(page.locator(f"[data-meter='{who['serial']}']")).to_be_visible()
        expect(page.locator("#dash-window")).to_have_attribute("data-open", "true")

        # Typed: checked while typing.
        box = page.locator(f"#rd-{mid}")
        live = page.locator(f"#live-{mid} .gp-dash-live")
        box.press_sequentially("12a", delay=30)
        expect(live).to_have_attribute("data-kind", "error")
        expect(live).to_contain_text(i18n.t("errors.reading_not_digits", lang, digits=6))
        expect(box).to_have_attribute("aria-invalid", "true")
        box.fill("")
        box.press_sequentially("1000", delay=30)  # below the last reading (1020)
        expect(live).to_have_attribute("data-kind", "error")
        box.fill("1025")
        expect(live).to_have_attribute("data-kind", "ok")
        unit = i18n.t("units.kWh" if utility.services[0] == "electricity" else "units.m3", lang)
        expect(live).to_contain_text(f"5\u00a0{unit}")
        expect(box).to_have_attribute("aria-invalid", "false")
        check_page(page, axe_source, screenshots, utility, "dashboard-typing", lang, device)

        # A refused one, then the accepted one. Each step waits for what the page shows, so no
        # event of the page overtakes the test: typing is checked 300 ms after the last key (a late
        # check removes a refusal's message), and a submit reloads the dashboard.
        result = page.locator(f"#result-{mid}")
        box.fill("999")
        expect(live).to_have_attribute("data-kind", "error")  # 999 has been checked (1025 was ok)
        page.locator(f"#rd-submit-{mid}").click()
        expect(result).to_have_attribute("data-kind", "error")
        expect(page.locator(f"#rd-submit-{mid}")).to_have_attribute("aria-busy", "false")  # the submit is over
        box.fill("1025")
        expect(live).to_have_attribute("data-kind", "ok")  # checked: and typing took the refusal away
        expect(result).to_have_count(0)
        page.locator(f"#rd-submit-{mid}").click()
        expect(result).to_have_attribute("data-kind", "ok")
        expect(page.locator("[data-sonner-toast]").last).to_be_visible()
        meter_unit = "kWh" if utility.services[0] == "electricity" else "m3"
        expect(result).to_contain_text(i18n.format_units(1025, meter_unit, lang))
        expect(page.locator(f"#rd-{mid}")).to_have_value("")  # a fresh form for a correction
        history = page.locator(f"[data-meter='{who['serial']}'] tbody tr").first
        expect(history).to_contain_text(i18n.format_units(1025, meter_unit, lang))  # the one formatter

        # The toasts said the same as the inline messages; axe looks at the page once they are
        # gone (sonner dims a toast stacked behind another while they are shown).
        expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
        said = page.locator("#dash-window").inner_text()  # made on the server, in the page's language
        for lang_ in utility.languages:
            switch_lang(page, lang_)
            expect(page.locator("h1")).to_have_text(i18n.t("dashboard.title", lang_))
            if lang_ != lang:  # said again in the new language, without a reload
                expect(page.locator("#dash-window")).not_to_have_text(said)
            else:
                expect(page.locator("#dash-window")).to_have_text(said)
            cut = clipped_texts(page, "main")
            assert not cut, f"dashboard/{lang_}/{device}: text cut off: {cut}"
            check_page(page, axe_source, screenshots, utility, "dashboard", lang_, device)
        switch_lang(page, lang)
        assert not errors, errors
    finally:
        context.close()
