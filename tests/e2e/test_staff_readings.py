"""The readings review of the staff console in Chromium (issue 16 point 6, issue 14 point 5): a
customer's implausible reading goes to staff review (the dashboard says so) → an operator opens
/staff/readings, rejects it with a reason → the customer sees the reason next to the meter on the
dashboard and got it by e-mail; the customer sends another implausible reading, the operator (on a
tablet) accepts it → it is the meter's last reading; the operator books a late reading for the
closed previous month. Desktop and tablet (768 px) screenshots of the
queue, phone and desktop ones of the customer's dashboard, in two languages; axe-core finds nothing
serious.

Run: python -m pytest -q tests/e2e/test_staff_readings.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_page, new_message, new_page, outbox_files, sign_in, switch_lang
from tests.e2e.test_readings import _customer

TIMEOUT = 20_000
STAFF_PW = "Quiet-Harbour-Lamp-71"
REASON = "The meter photo shows 1 031, not 999 999: please send it again."
DEVICES = {
    "desktop": dict(viewport={"width": 1280, "height": 800}, device_scale_factor=1),
    "tablet": dict(viewport={"width": 768, "height": 1024}, device_scale_factor=1, has_touch=True),
}


def _operator(portal) -> str:
    from gazportal.db import make_engine
    from gazportal.services import staff

    engine = make_engine(portal.db_url)
    try:
        staff.add_staff(engine, load_utility(portal.utility_id), login="reviewer@example.org", password=STAFF_PW,
                        role="operator", surname="Reviewer", name="Roza", now=datetime.now(UTC))
    finally:
        engine.dispose()
    return "reviewer@example.org"


def _send(page, portal, who: dict, value: str, *, open_page: bool = True) -> None:
    """Send ``value`` from the dashboard. ``open_page``: open it first, on a first visit of the
    tab (its state is new, so the open window shows only once the page's load has run — a load
    after the box was filled would give a fresh, empty form); else the page is loaded already."""
    from playwright.sync_api import expect

    if open_page:
        page.goto(portal.url + "/dashboard")
        expect(page.locator("#dash-window")).to_have_attribute("data-open", "true", timeout=TIMEOUT)
    box = page.locator(f"#rd-{who['meter']}")
    expect(box).to_be_editable(timeout=TIMEOUT)
    box.fill(value)
    # the live check has seen it: above the plausibility limit, it goes to staff (no tick to give)
    expect(page.locator(f"#live-{who['meter']} .gp-dash-live")).to_have_attribute("data-kind", "warning",
                                                                                   timeout=TIMEOUT)
    page.locator(f"#rd-submit-{who['meter']}").click()
    result = page.locator(f"#result-{who['meter']}")
    expect(result).to_be_visible(timeout=TIMEOUT)
    assert result.get_attribute("data-kind") == "review", result.inner_text()


def _decide(page, portal, decision: str, reason: str) -> None:
    from playwright.sync_api import expect

    page.goto(portal.url + "/staff/readings")
    rows = page.locator("#review-queue tbody tr[data-row]")
    expect(rows).to_have_count(1, timeout=TIMEOUT)
    rows.first.locator("button[data-review]").click()
    page.locator(f"#rv-decision-{decision}").check()
    if reason:
        page.locator("#rv-reason").fill(reason)
    page.locator("#review-form button[type=submit]").click()
    expect(page.locator("#review-notice")).to_be_visible(timeout=TIMEOUT)


def test_a_held_reading_rejected_with_a_reason_then_one_accepted(whole_month_portal, browser, axe_source,
                                                                  screenshots):
    from playwright.sync_api import expect

    portal = whole_month_portal("default")
    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    other = next(lg for lg in utility.languages if lg != lang)
    who = _customer(portal)
    operator = _operator(portal)

    # 1. The customer's implausible reading is held, not billed.
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, who["login"])
        _send(page, portal, who, "999999")
        assert not errors, errors
    finally:
        context.close()

    # 2. The operator rejects it with a reason (desktop); the queue in two languages.
    seen = outbox_files(portal)
    context = browser.new_context(**DEVICES["desktop"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, operator, STAFF_PW)
        page.goto(portal.url + "/staff/readings")
        expect(page.locator("[data-tab=held] .gp-count")).to_have_text("1", timeout=TIMEOUT)
        expect(page.locator("#review-queue")).to_contain_text(who["serial"])
        page.locator("button[data-review]").first.click()
        for lg in (lang, other):
            switch_lang(page, lg)
            expect(page.locator("h1")).to_have_text(i18n.t("staff.readings.title", lg))
            check_page(page, axe_source, screenshots, utility, "staff-readings-held", lg, "desktop")
        switch_lang(page, lang)
        page.locator("#review-form button[type=submit]").click()  # nothing chosen: said on the form
        expect(page.locator("#rv-decision-accept")).to_have_attribute("aria-invalid", "true", timeout=TIMEOUT)
        page.locator("#rv-decision-reject").check()
        page.locator("#rv-reason").fill(REASON)
        page.locator("#review-form button[type=submit]").click()
        expect(page.locator("#review-notice")).to_have_text(i18n.t("staff.readings.rejected", lang), timeout=TIMEOUT)
        expect(page.locator("[data-tab=rejected] .gp-count")).to_have_text("1")
        page.locator("[data-tab=rejected]").click()
        expect(page.locator("#review-queue")).to_contain_text(REASON)
        check_page(page, axe_source, screenshots, utility, "staff-readings-rejected", lang, "desktop")
        assert not errors, errors
    finally:
        context.close()
    mail = new_message(portal, who["login"], seen)
    assert REASON in mail

    # 3. The customer sees the decision and the reason next to the meter (phone and desktop).
    for device in ("phone", "desktop"):
        context = browser.new_context(**VIEWPORTS[device])
        try:
            page, errors = new_page(context, TIMEOUT)
            sign_in(page, portal.url, who["login"])
            page.goto(portal.url + "/dashboard")
            note = page.locator(f"#review-{who['meter']}")
            expect(note).to_have_attribute("data-review", "rejected", timeout=TIMEOUT)
            expect(note).to_contain_text(REASON)
            for lg in (lang, other):
                switch_lang(page, lg)
                expect(note).to_contain_text(i18n.t("review.notice.reason", lg))
                check_page(page, axe_source, screenshots, utility, "dashboard-review-rejected", lg, device)
            switch_lang(page, lang)
            expect(note).to_contain_text(i18n.t("review.notice.reason", lang))
            if device == "desktop":  # another implausible one, on the loaded page: held again
                _send(page, portal, who, "888888", open_page=False)
            assert not errors, errors
        finally:
            context.close()

    # 4. The operator accepts it on a tablet: it becomes the meter's last reading.
    context = browser.new_context(**DEVICES["tablet"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, operator, STAFF_PW)
        _decide(page, portal, "accept", "")
        expect(page.locator("#review-notice")).to_have_text(i18n.t("staff.readings.accepted", lang))
        page.locator("[data-tab=accepted]").click()
        expect(page.locator("#review-queue tbody tr[data-row]")).to_have_count(1)
        check_page(page, axe_source, screenshots, utility, "staff-readings-accepted", lang, "tablet")
        page.locator("[data-tab=rollovers]").click()  # flagged for a look: none of the demo's dials turned
        expect(page.locator("[data-tab=rollovers]")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#review-queue")).to_have_count(0)
        switch_lang(page, other)
        check_page(page, axe_source, screenshots, utility, "staff-readings-rollovers", other, "tablet")
        switch_lang(page, lang)
        # a late reading for the closed previous month (phoned in): its last day, between the
        # meter's readings (1 020 is never below the one before nor above the one after)
        last_day = datetime.now(utility.tz).date().replace(day=1) - timedelta(days=1)
        page.locator("[data-tab=late]").click()
        page.locator("#late-account").fill(who["number"])
        page.locator("#late-serial").fill(who["serial"])
        page.locator("#late-day").fill(last_day.isoformat())
        page.locator("#late-value").fill("1020")
        page.locator("#late-reason").fill("Phoned in after the window closed.")
        page.locator("#late-form button[type=submit]").click()
        expect(page.locator("#review-notice")).to_have_text(i18n.t("staff.readings.late.saved", lang),
                                                            timeout=TIMEOUT)
        expect(page.locator("#late-list tbody tr")).to_have_count(1)
        check_page(page, axe_source, screenshots, utility, "staff-readings-late", lang, "tablet")
        assert not errors, errors
    finally:
        context.close()
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, who["login"])
        page.goto(portal.url + "/dashboard")
        expect(page.locator(f"#review-{who['meter']}")).to_have_attribute("data-review", "accepted", timeout=TIMEOUT)
        expect(page.locator(f"[data-meter={who['serial']}]")).to_contain_text(re.compile(r"888[\s,.\u00a0\u202f]?888"))
        assert not errors, errors
    finally:
        context.close()
