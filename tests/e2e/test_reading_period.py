"""The month a reading counts for, in Chromium (issue 14.9): Kremenchukgaz counts a reading sent by
the 5th for the previous month, decided on the local day in Kyiv, whatever the browser's time zone.

The portal's clock is the real one, so the portal runs with a copy of the kremenchukgaz profile
whose window is the 1st to tomorrow (Kyiv) with ``previous_month_until`` that day: today's reading
counts for last month, as on the 1st-5th in production (from the 28th of a month, a window from the
28th to the 3rd that counts for the month it opens in). The browser runs in a time zone whose date
differs from Kyiv's right now (Pacific/Kiritimati, UTC+14, or America/Los_Angeles) and its own
clock (``Date``) is set three weeks ahead: neither changes the month the page shows and stores.

Run: python -m pytest -q tests/e2e/test_reading_period.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from gazportal.services import i18n, periods
from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_page, clipped_texts, new_page, sign_in, switch_lang, utility_with_window
from tests.e2e.test_readings import _customer

TIMEOUT = 15_000


def _window_for_today(today) -> dict[str, int]:
    """A window open today (Kyiv) and tomorrow, whose readings count for one month."""
    if today.day <= 27:  # the 1st..tomorrow count for the month before, like the 1st-5th
        return dict(from_day=1, to_day=today.day + 1, previous_month_until=today.day + 1)
    return dict(from_day=28, to_day=3, previous_month_until=3)  # spans the month's end


@pytest.fixture(scope="module")
def period_portal(portal_factory, tmp_path_factory):
    kyiv_today = datetime.now(UTC).astimezone(load_utility("kremenchukgaz").tz).date()
    path = utility_with_window("kremenchukgaz", tmp_path_factory.mktemp("profile-period"),
                               **_window_for_today(kyiv_today))
    return portal_factory("kremenchukgaz", extra_env={"GAZPORTAL_PROFILE": str(path)},
                          build="kremenchukgaz-period"), load_utility(str(path))


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_form_says_and_stores_the_month_the_reading_counts_for(period_portal, browser, axe_source,
                                                                   screenshots, device):
    from playwright.sync_api import expect

    from gazportal.db import make_engine, read_session
    from gazportal.models import Reading

    portal, utility = period_portal
    now = datetime.now(UTC)
    kyiv = now.astimezone(utility.tz)
    expected = periods.reading_period(now, utility)
    if kyiv.day <= 27:
        assert expected == periods.add_months(f"{kyiv:%Y-%m}", -1)  # last month, as on the 1st-5th
    # a browser whose calendar day is not Kyiv's now
    browser_tz = "Pacific/Kiritimati" if kyiv.hour >= 10 else "America/Los_Angeles"
    assert now.astimezone(ZoneInfo(browser_tz)).date() != kyiv.date()
    who = _customer(portal)
    mid = who["meter"]
    context = browser.new_context(**VIEWPORTS[device], timezone_id=browser_tz, locale="en-US")
    try:
        page, errors = new_page(context, TIMEOUT)
        page.clock.set_fixed_time(now + timedelta(days=21))  # the browser's own clock: another month
        sign_in(page, portal.url, who["login"])
        page.goto(portal.url + "/accounts")
        page.locator(f"[data-open='{who['number']}']").click()
        expect(page).to_have_url(re.compile(r"/dashboard\?account=\d+$"))
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == browser_tz
        for lang in utility.languages:
            month = i18n.format_period(expected, lang, in_sentence=True)
            switch_lang(page, lang)
            expect(page.locator(f"#rd-for-{mid}")).to_have_text(i18n.t("dashboard.reading_for", lang, period=month))
            expect(page.locator("#dash-window")).to_contain_text(month)
            expect(page.locator("#dash-window")).to_have_attribute("data-open", "true")
            cut = clipped_texts(page, "main")
            assert not cut, f"dashboard/{lang}/{device}: text cut off: {cut}"
            check_page(page, axe_source, screenshots, utility, "dashboard-period", lang, device)
        lang = utility.languages[-1]
        month = i18n.format_period(expected, lang, in_sentence=True)
        box = page.locator(f"#rd-{mid}")
        box.fill("1025")
        expect(page.locator(f"#live-{mid} .gp-dash-live")).to_have_attribute("data-kind", "ok")
        page.locator(f"#rd-submit-{mid}").click()
        result = page.locator(f"#result-{mid}")
        expect(result).to_have_attribute("data-kind", "ok")
        expect(result).to_contain_text(month)
        engine = make_engine(portal.db_url)
        try:
            with read_session(engine) as s:
                stored = s.exec(sa.select(Reading.period).where(
                    Reading.meter_id == int(mid), Reading.source == "customer")).all()
        finally:
            engine.dispose()
        assert [tuple(r) for r in stored] == [(expected,)]
        assert not errors, errors
    finally:
        context.close()
