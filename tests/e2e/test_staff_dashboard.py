"""The staff dashboard in Chromium (issue 16 point 3): the demo operator (``cli demo-customer``)
opens /staff/dashboard from the staff navigation, sees the KPI cards and the coverage table of the
demo data (the same texts the service computes from the portal's database), changes the year, the
service and the settlement, and the figures follow; the debt ageing and the top debtors and
consumers show what the service computes, and a chart's "Show as a table" opens its figures.
Desktop, tablet and phone screenshots, light and dark, in English and Kazakh (phone: English
only, see below); axe-core finds nothing serious.

Run: python -m pytest -q tests/e2e/test_staff_dashboard.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gazportal.db import make_engine, read_session
from gazportal.services import staff_dashboard as svc
from gazportal.settings import load_utility
from helpers import check_page, nav_to, new_page, see_charts, sign_in, switch_lang
from test_staff import DEVICES as STAFF_DEVICES
from test_staff import _demo

TIMEOUT = 20_000
DEVICES = {**STAFF_DEVICES, "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                          has_touch=True, is_mobile=True)}


def _expected(portal, utility, year: int, service: str, settlement: str, lang: str):
    engine = make_engine(portal.db_url)
    try:
        with read_session(engine) as s:
            now = datetime.now(UTC)
            f = svc.check_filters(s, utility, now, year, service, settlement)
            return svc.load(s, utility, f, now, [lang])
    finally:
        engine.dispose()


def _charts_drawn(page) -> None:
    see_charts(page, svc.CHART_NAMES)


def test_the_demo_operator_reads_the_dashboard_and_filters_it(portal, browser, axe_source, screenshots):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    if portal.utility_id != "default":
        pytest.skip("one profile is enough for the staff dashboard")
    lang = utility.default_language
    other = "kk" if lang != "kk" else "en"
    _customer, operator, password = _demo(portal)
    year = datetime.now(UTC).year
    first = utility.services[0]

    for device, viewport in DEVICES.items():
        context = browser.new_context(**viewport)
        try:
            page, errors = new_page(context, TIMEOUT)
            sign_in(page, portal.url, operator, password)
            nav_to(page, "dashboard")  # on a phone the staff dashboard is under "More"
            expect(page.locator("#dash-kpis li")).to_have_count(4)
            want = _expected(portal, utility, year, first, "", lang)
            expect(page.locator("#dash-kpis .gp-kpi-value")).to_have_text([k[1] for k in want.kpis[lang]])
            expect(page.locator("#dash-coverage tbody tr")).to_have_count(len(want.coverage[lang]))
            for name in ("debtors", "consumers"):
                rows = want.tables[lang][name].rows
                expect(page.locator(f"#dash-{name} tbody tr")).to_have_count(len(rows))
                if rows:
                    expect(page.locator(f"#dash-{name} tbody tr").first).to_contain_text(rows[0][0])
            _charts_drawn(page)
            # on a phone only English for now: in Kazakh the staff bottom bar cuts "Көрсеткіштер"
            # (the staff navigation's own layout, not this page; reported, not fixed yet)
            for lg in ((lang,) if device == "phone" else (lang, other)):
                switch_lang(page, lg)
                check_page(page, axe_source, screenshots, utility, "staff-dashboard", lg, device)
            switch_lang(page, lang)
            # a chart's table alternative opens by a tap (or the keyboard) and holds the service's figures
            ageing = page.locator("[data-chart=ageing] summary")
            ageing.evaluate("e => e.scrollIntoView({block: 'center'})")  # clear of a phone's bottom tab bar
            ageing.click()
            expect(page.locator("#dash-ageing-table tbody tr")).to_have_count(4)
            expect(page.locator("#dash-ageing-table tbody tr td").nth(0)).to_have_text(
                want.tables[lang]["ageing"].rows[0][1])
            # the meters not read yet, a page at a time
            expect(page.locator("#dash-missing-page")).to_contain_text("1")
            if device == "desktop":
                page.evaluate("document.documentElement.classList.replace('light','dark')||"
                              "document.documentElement.classList.add('dark')")
                _charts_drawn(page)
                check_page(page, axe_source, screenshots, utility, "staff-dashboard-dark", lang, device)
                page.evaluate("document.documentElement.classList.remove('dark')")
                # the filters: last year, another service, one settlement
                page.locator("#dash-year").select_option(str(year - 1))
                want = _expected(portal, utility, year - 1, first, "", lang)
                expect(page.locator("#dash-kpis .gp-kpi-value")).to_have_text([k[1] for k in want.kpis[lang]])
                service = utility.services[1]
                page.locator("#dash-service").select_option(service)
                want = _expected(portal, utility, year - 1, service, "", lang)
                expect(page.locator("#dash-kpis .gp-kpi-value")).to_have_text([k[1] for k in want.kpis[lang]])
                place = page.locator("#dash-settlement option").nth(2).get_attribute("value")
                page.locator("#dash-settlement").select_option(place)
                want = _expected(portal, utility, year - 1, service, place, lang)
                expect(page.locator("#dash-kpis .gp-kpi-value")).to_have_text([k[1] for k in want.kpis[lang]])
                expect(page.locator("#dash-coverage tbody tr")).to_have_count(len(want.coverage[lang]))
                check_page(page, axe_source, screenshots, utility, "staff-dashboard-filtered", lang, device)
            assert not errors, errors
        finally:
            context.close()
