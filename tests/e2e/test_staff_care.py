"""Disputes, staff corrections and "view as customer" in Chromium (issue 16 points 5 and 6): a
customer disputes the last reading of their meter from the dashboard → a supervisor sees it in the
review queue's disputed tab and corrects it (a new reading linked to the old one) → the customer
is mailed and sees the old reading struck through and the correction; an operator opens the
customer's account read-only with a reason (audited) and sees their dashboard without forms; the
customer cannot open /staff/view. Desktop and phone (390×844) screenshots of the new pages in two
languages; axe-core finds nothing serious.

Run: python -m pytest -q tests/e2e/test_staff_care.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

from datetime import UTC, datetime

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_page, new_message, new_page, outbox_files, sign_in, switch_lang
from tests.e2e.test_readings import _customer

TIMEOUT = 20_000
STAFF_PW = "Quiet-Harbour-Lamp-71"
WHY = "The meter shows 1 015: I misread the last digit."
FIX = "Agreed with the customer's photo of the meter."
LOOK = "Customer on the phone about the disputed reading."


def _staff(portal, role: str) -> str:
    from gazportal.db import make_engine
    from gazportal.services import staff

    login = f"care-{role}-{datetime.now(UTC):%H%M%S%f}@example.org"
    engine = make_engine(portal.db_url)
    try:
        staff.add_staff(engine, load_utility(portal.utility_id), login=login, password=STAFF_PW, role=role,
                        surname="Care", name=role.title(), now=datetime.now(UTC))
    finally:
        engine.dispose()
    return login


def _audited_views(portal, number: str) -> list[str]:
    import sqlalchemy as sa

    from gazportal.db import make_engine

    engine = make_engine(portal.db_url)
    try:
        with engine.connect() as c:
            return list(c.execute(sa.text(
                "SELECT a.reason FROM audit_log a JOIN account ac ON a.object_id = CAST(ac.id AS VARCHAR(40)) "
                "WHERE a.action = 'account.view' AND ac.number = :n"), {"n": number}).scalars())
    finally:
        engine.dispose()


def test_dispute_correction_and_view_as_customer(whole_month_portal, browser, axe_source, screenshots):
    from playwright.sync_api import expect

    portal = whole_month_portal("default")
    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    other = next(lg for lg in utility.languages if lg != lang)
    who = _customer(portal)  # readings 1 000, 1 010, 1 020
    mid = who["meter"]
    supervisor, operator = _staff(portal, "supervisor"), _staff(portal, "operator")

    # 1. The customer disputes the last reading (phone, then the form seen on desktop too).
    context = browser.new_context(**VIEWPORTS["phone"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, who["login"])
        page.goto(portal.url + "/dashboard")
        form = page.locator(f"#dispute-form-{mid}")
        page.locator(f"[data-meter={who['serial']}] .gp-dash-dispute summary").click()
        expect(form).to_be_visible(timeout=TIMEOUT)
        form.locator("button[type=submit]").click()  # nothing chosen: said under the form
        expect(page.locator(f"#dp-said-{mid}")).to_have_attribute("data-kind", "error", timeout=TIMEOUT)
        page.locator(f"#dp-reading-{mid}").select_option(index=1)  # the newest reading that counts
        page.locator(f"#dp-reason-{mid}").fill(WHY)
        check_page(page, axe_source, screenshots, utility, "dashboard-dispute", lang, "phone")
        form.locator("button[type=submit]").click()
        expect(page.locator(f"#dp-said-{mid}")).to_have_attribute("data-kind", "ok", timeout=TIMEOUT)
        expect(page.locator(f"#review-{mid}")).to_have_attribute("data-review", "open")
        assert not errors, errors
    finally:
        context.close()

    # 2. A supervisor corrects it from the disputed tab (desktop, two languages; phone).
    seen = outbox_files(portal)
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, supervisor, STAFF_PW)
        page.goto(portal.url + "/staff/readings?tab=disputed")
        row = page.locator("#dispute-list tbody tr[data-row]", has_text=who["serial"])
        expect(row).to_have_count(1, timeout=TIMEOUT)
        expect(row).to_contain_text(WHY)
        row.locator("button[data-dispute]").click()
        for lg in (lang, other):
            switch_lang(page, lg)
            expect(page.locator("[data-tab=disputed]")).to_contain_text(i18n.t("staff.readings.tab.disputed", lg))
            check_page(page, axe_source, screenshots, utility, "staff-readings-disputed", lg, "desktop")
        switch_lang(page, lang)
        page.locator("#dsp-decision-correct").check()
        page.locator("#dsp-value").fill("1015")
        page.locator("#dsp-reason").fill(FIX)
        page.locator("#resolve-form button[type=submit]").click()
        expect(page.locator("#review-notice")).to_have_text(i18n.t("staff.readings.disputes.corrected", lang),
                                                            timeout=TIMEOUT)
        expect(page.locator("#dispute-list tbody tr[data-row]", has_text=who["serial"])).to_have_count(0)
        assert not errors, errors
    finally:
        context.close()
    mail = new_message(portal, who["login"], seen)
    assert FIX in mail
    context = browser.new_context(**VIEWPORTS["phone"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, supervisor, STAFF_PW)
        page.goto(portal.url + "/staff/readings?tab=disputed")
        expect(page.locator("[data-tab=disputed]")).to_have_attribute("aria-pressed", "true", timeout=TIMEOUT)
        page.locator("#correct-box summary").click()
        expect(page.locator("#correct-form")).to_be_visible()
        check_page(page, axe_source, screenshots, utility, "staff-readings-correct", lang, "phone")
        assert not errors, errors
    finally:
        context.close()

    # 3. An operator opens the account read-only with a reason (desktop and phone, two languages).
    for device in ("desktop", "phone"):
        context = browser.new_context(**VIEWPORTS[device])
        try:
            page, errors = new_page(context, TIMEOUT)
            sign_in(page, portal.url, operator, STAFF_PW)
            page.goto(portal.url + f"/staff/view?account={who['number']}")
            expect(page.locator("#va-account")).to_have_value(who["number"], timeout=TIMEOUT)
            if device == "desktop":
                check_page(page, axe_source, screenshots, utility, "staff-view-form", lang, device)
                page.locator("#view-form button[type=submit]").click()  # no reason: refused, nothing shown
                expect(page.locator("#va-reason")).to_have_attribute("aria-invalid", "true", timeout=TIMEOUT)
            page.locator("#va-reason").fill(LOOK)
            page.locator("#view-form button[type=submit]").click()
            expect(page.locator("#view-banner")).to_contain_text(who["number"], timeout=TIMEOUT)
            card = page.locator(f"#view-dashboard [data-meter={who['serial']}]")
            expect(card).to_contain_text(i18n.t("dashboard.source.correction", lang))
            assert page.locator("#view-dashboard form").count() == 0  # no form: nothing to send as them
            assert page.locator("#view-dashboard input").count() == 0
            for lg in (lang, other):
                switch_lang(page, lg)
                expect(card).to_contain_text(i18n.t("dashboard.source.correction", lg), timeout=TIMEOUT)
                check_page(page, axe_source, screenshots, utility, "staff-view", lg, device)
            switch_lang(page, lang)
            assert not errors, errors
        finally:
            context.close()
    assert _audited_views(portal, who["number"]) == [LOOK, LOOK]

    # 4. The customer sees the correction; /staff/view is not theirs.
    context = browser.new_context(**VIEWPORTS["desktop"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, who["login"])
        page.goto(portal.url + "/dashboard")
        note = page.locator(f"#review-{mid}")
        expect(note).to_have_attribute("data-review", "corrected", timeout=TIMEOUT)
        expect(note).to_contain_text(FIX)
        history = page.locator(f"[data-meter={who['serial']}] .gp-dash-table")
        expect(history.locator("tr[data-replaced=true]")).to_have_count(1)
        expect(history).to_contain_text(i18n.t("dashboard.source.correction", lang))
        check_page(page, axe_source, screenshots, utility, "dashboard-corrected", lang, "desktop")
        page.goto(portal.url + f"/staff/view?account={who['number']}")
        page.wait_for_url(lambda u: "/staff" not in u, timeout=TIMEOUT)
        expect(page.locator("#view-form")).to_have_count(0)
        assert not errors, errors
    finally:
        context.close()
    assert _audited_views(portal, who["number"]) == [LOOK, LOOK]  # the customer's visit logged nothing
