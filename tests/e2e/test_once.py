"""Every submit counts once, in Chromium: the reading form and the message form submitted twice at
once (two submit events in the same tick, as a double tap or a repeated Enter sends them, before
the first answer is back) store one row each.

After the first answer, the test makes one more change the page answers (a live check, a counter):
a client's events are processed one after another, so when that answer shows, the repeated
submit has been processed too, and the rows are counted then — no fixed wait.
"""
from __future__ import annotations

import re

import pytest

from helpers import VIEWPORTS, new_page, reading_utilities, sign_in
from tests.e2e.conftest import UTILITIES
from tests.e2e.test_readings import _customer

TIMEOUT = 20_000
TWICE = "(sel) => { const f = document.querySelector(sel); f.requestSubmit(); f.requestSubmit(); }"


@pytest.fixture(params=reading_utilities(UTILITIES)[:1])
def once_portal(request, whole_month_portal):
    return whole_month_portal(request.param)


def _count(portal, sql: str, **params) -> int:
    import sqlalchemy as sa

    from gazportal.db import make_engine

    engine = make_engine(portal.db_url)
    try:
        with engine.connect() as c:
            return c.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_a_double_submit_stores_one_reading_and_one_message(once_portal, browser):
    from playwright.sync_api import expect

    portal = once_portal
    who = _customer(portal)
    mid = who["meter"]
    context = browser.new_context(**VIEWPORTS["phone"])
    try:
        page, errors = new_page(context, TIMEOUT)
        sign_in(page, portal.url, who["login"])
        page.goto(portal.url + "/accounts")
        page.locator(f"[data-open='{who['number']}']").click()
        expect(page).to_have_url(re.compile(r"/dashboard\?account=\d+$"))

        # The reading: typed, checked, then submitted twice at once.
        box = page.locator(f"#rd-{mid}")
        box.fill("1031")
        expect(page.locator(f"#live-{mid} .gp-dash-live")).to_have_attribute("data-kind", "ok")
        page.evaluate(TWICE, f"form:has(#rd-{mid})")
        expect(page.locator(f"#result-{mid}")).to_have_attribute("data-kind", "ok")
        box = page.locator(f"#rd-{mid}")
        box.fill("12a")  # one more answer from the server: the repeated submit is behind us
        expect(page.locator(f"#live-{mid} .gp-dash-live")).to_have_attribute("data-kind", "error")
        stored = _count(portal, "SELECT count(*) FROM reading WHERE meter_id = :m AND source = 'customer'",
                        m=int(mid))
        assert stored == 1
        from gazportal.services.i18n import format_quantity
        from gazportal.settings import load_utility

        lang = load_utility(portal.utility_id).default_language
        expect(page.locator(f"#result-{mid}")).to_contain_text(format_quantity(1031, lang))  # grouped, with its unit

        # The message: filled, then sent twice at once.
        page.goto(portal.url + "/contacts")
        expect(page.locator("#msg-form")).to_be_visible()
        subject = "Twice at once"
        page.locator("#msg-subject").fill(subject)
        page.locator("#msg-body").fill("The same message, submitted twice in one tick.")
        page.evaluate(TWICE, "#msg-form")
        expect(page.locator("#msg-notice")).to_contain_text(subject)
        page.locator("#msg-body").fill("abc")  # the counter is the server's next answer
        expect(page.locator("#msg-body-count")).to_have_text(re.compile(r"^3 "))
        sent = _count(portal, "SELECT count(*) FROM customer_message WHERE subject = :s", s=subject)
        assert sent == 1
        assert not errors, errors
    finally:
        context.close()
