"""/statistics and /statement in Chromium for each profile: sign in, see the monthly table and the
three charts, change the period (and get a refusal for a reversed one), open the account state,
send it to the e-mail and find it in the portal's outbox. Screenshots of both pages in every
language of the profile on a desktop and a phone, axe-core clean, no sideways scroll.

Run: python -m pytest -q tests/e2e/test_statistics.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import email
import email.policy
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.services import charts, i18n
from gazportal.services.periods import add_months
from gazportal.settings import load_utility
from gazportal.components.theme import CHART_GRID_CONTRAST
from helpers import (
    PASSWORD, VIEWPORTS, chart_contrast, check_page, clipped_texts, nav_to, new_page, see_charts, switch_lang,
)

TIMEOUT = 15_000

_serial = itertools.count(1)


def _customer(portal) -> tuple[str, str, str]:
    """A confirmed customer with a confirmed e-mail and one demo account that has charges; the login
    is the profile's identifier (e-mail, phone or the account number)."""
    from sqlmodel import select

    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, Charge, User, UserAccountLink
    from gazportal.services.passwords import hash_password

    utility = load_utility(portal.utility_id)
    n = next(_serial)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    mail = f"stats{stamp}{n}@example.org"
    login = f"+38067{stamp}{n}"[:13] if utility.login_identifier == "phone" else mail
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            logins = set(s.exec(select(User.login)).all())  # an account number can be a login too
            charged = set(s.exec(select(Charge.account_id)).all())
            acc = next(a for a in s.exec(select(Account).where(Account.kind == "person").order_by(Account.id.desc()))
                       .all() if a.id not in taken and a.number not in logins and a.id in charged)
            if utility.login_identifier == "account":  # e.g. Shygysenergotrade: sign in by account number
                login = acc.number
            user = User(login=login, email=mail, phone=login if login.startswith("+") else None,
                        password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                        email_verified=True, phone_verified=login.startswith("+"), language=utility.default_language,
                        created_at=datetime.now(UTC) - timedelta(days=1))
            s.add(user)
            s.flush()
            s.add(UserAccountLink(user_id=user.id, account_id=acc.id))
            return login, mail, acc.number
    finally:
        engine.dispose()


# Nothing is let off: the monthly table too must fit (on a phone its rows are stacked).
WIDE_JS = """() => { const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 8)
  .map(e => e.tagName + '.' + (e.className && e.className.baseVal === undefined ? e.className : '') + ' ' +
       Math.round(e.getBoundingClientRect().right)); }"""


def _check(page, axe_source, screenshots, utility, name, lang, device):
    # issue 14 point 13: on a 390 px phone "Paid", "Balance" and the caption were cut mid-word
    # inside the table's scroll box, and no check saw it
    cut = clipped_texts(page, "main")
    assert not cut, f"{name}/{lang}/{device}: text cut off: {cut}"
    wide = page.evaluate(WIDE_JS)
    assert not wide, f"{name}/{lang}/{device}: wider than the window: {wide}"
    check_page(page, axe_source, screenshots, utility, name, lang, device)


def _dark_mode(page, on: bool) -> None:
    """The header's colour-mode switch, pressed as a person does, until <html> has the mode."""
    from playwright.sync_api import expect

    mode = re.compile(r"\bdark\b")
    html = page.locator("html")
    if (html.get_attribute("class") or "").split().count("dark") == int(on):
        return
    page.locator("[data-testid=color-mode]:visible").first.click()
    if on:
        expect(html).to_have_class(mode)
    else:
        expect(html).not_to_have_class(mode)


def _charts_read(page, where: str) -> None:
    """Issue 14 point 14: each chart's labels >= 4.5:1 on its panel, its grid lines subdued, from
    the colours Chromium paints."""
    see_charts(page)
    for name in ("monthly", "comparison", "yearly"):
        text, grid = chart_contrast(page, name)
        assert text >= 4.5, f"{where}: {name} chart labels {text:.2f}:1"
        assert grid <= CHART_GRID_CONTRAST[1], f"{where}: {name} chart grid lines {grid:.2f}:1 (too bright)"


def _drop_email(portal, mail: str) -> None:
    from sqlmodel import select

    from gazportal.db import make_engine, write_session
    from gazportal.models import User

    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            user = s.exec(select(User).where(User.email == mail)).one()
            user.email, user.email_verified = None, False
            s.add(user)
    finally:
        engine.dispose()


def _mails_to(portal, to: str) -> list:
    if portal.outbox is None or not portal.outbox.is_dir():
        return []
    out = []
    for p in sorted(portal.outbox.glob("*.eml")):
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        if str(msg["To"]) == to:
            out.append(msg)
    return out


@pytest.mark.parametrize("device", VIEWPORTS)
def test_statistics_and_statement(portal, browser, axe_source, screenshots, device):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    t = lambda key, lg=lang, **kw: i18n.t(key, lg, **kw)  # noqa: E731
    login, mail, number = _customer(portal)
    first, last = charts.default_range(utility, datetime.now(UTC))
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        page.goto(portal.url + "/signin")
        page.locator("#signin-login").fill(login)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).not_to_have_url(re.compile(r"/signin"), timeout=TIMEOUT)

        # --- the dashboard: last month's volume a line per service, each with its unit (issue 14
        # point 11: gas m³, water m³ and kWh were added into one number without a unit)
        nav_to(page, "dashboard")
        lines = page.locator("#dash-volumes li")
        expect(lines.first).to_be_visible()
        service = lines.first.get_attribute("data-service")
        for lg in utility.languages:
            switch_lang(page, lg)
            expect(lines.first).to_contain_text(t(f"services.{service}", lg))
            units = (t("units.m3", lg), t("units.kWh", lg))
            texts = lines.all_inner_texts()
            assert texts and all(any(x.endswith("\u00a0" + u) for u in units) for x in texts), texts
            _check(page, axe_source, screenshots, utility, "dashboard-volumes", lg, device)
        switch_lang(page, lang)

        # --- statistics: the last twelve complete months by default
        nav_to(page, "statistics")
        expect(page).to_have_url(re.compile(r"/statistics$"))
        expect(page.locator("h1")).to_have_text(t("statistics.title"))
        rows = page.locator("#stats-table tbody tr")
        expect(rows).to_have_count(12, timeout=TIMEOUT)
        expect(rows.last).to_have_attribute("data-period", last)
        expect(page.locator("#stats-account")).to_contain_text(number)
        # The charts are drawn when scrolled to, not before: the first view is the table.
        page.wait_for_load_state("networkidle")  # whatever the page loads by itself is in
        expect(page.locator(".js-plotly-plot")).to_have_count(0)
        see_charts(page)
        for name in ("monthly", "comparison", "yearly"):
            expect(page.locator(f"[data-chart={name}] figcaption")).not_to_be_empty()
        expect(page.locator("[data-chart=comparison] .legendtext").first).to_be_visible()

        if device == "desktop":  # page weight, cold: every byte of /statistics with its charts
            cdp = context.new_cdp_session(page)
            sizes: list[int] = []
            cdp.on("Network.loadingFinished", lambda e: sizes.append(int(e.get("encodedDataLength", 0))))
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.setBypassServiceWorker", {"bypass": True})
            page.goto(portal.url + "/statistics")
            expect(page.locator("#stats-table tbody tr")).to_have_count(12)
            see_charts(page)
            page.wait_for_load_state("networkidle")
            weight = sum(sizes)
            print(f"\n[e2e] {utility.id} /statistics: {weight / 1024:.0f} KiB transferred (cold)")
            assert weight < 1_500_000, weight  # the light plotly build, not the full one (1.38 MB gzip alone)
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
            cdp.send("Network.setBypassServiceWorker", {"bypass": False})

        # another period: six months
        six = add_months(last, -5)
        page.locator("#stats-first").fill(six)
        page.locator("#stats-apply").click()
        expect(rows).to_have_count(6)
        expect(rows.first).to_have_attribute("data-period", six)
        expect(page.locator("#stats-shown")).to_have_text(
            t("statistics.shown", first=i18n.format_period(six, lang), last=i18n.format_period(last, lang)))
        # a reversed range is refused with a message; the table of the months before goes (it is
        # not the answer to the months now in the form), and the page says why nothing is shown
        page.locator("#stats-first").fill(last)
        page.locator("#stats-last").fill(six)
        page.locator("#stats-apply").click()
        expect(page.locator("#stats-last-err")).to_contain_text(t("errors.period_range_reversed", first=last, last=six))
        expect(page.locator("#stats-last")).to_have_attribute("aria-invalid", "true")
        expect(rows).to_have_count(0)
        expect(page.locator("#stats-not-shown")).to_have_text(t("statistics.not_shown"))
        page.locator("#stats-first").fill(six)
        page.locator("#stats-last").fill(last)
        page.locator("#stats-apply").click()
        expect(page.locator("#stats-last")).to_have_attribute("aria-invalid", "false")

        for lg in utility.languages:
            switch_lang(page, lg)
            expect(page.locator("h1")).to_have_text(t("statistics.title", lg))
            expect(rows.first.locator("th")).to_have_text(i18n.format_period(six, lg))
            see_charts(page)
            # The charts are redrawn with the language's month names: wait until they are.
            labels = [charts.month_label(add_months(six, i), lg) for i in range(6)]
            page.wait_for_function(
                """labels => { const ticks = [...document.querySelectorAll('[data-chart=monthly] .xtick text')];
                    return ticks.length > 0 && ticks.every(e => labels.includes(e.textContent)); }""", arg=labels)
            _check(page, axe_source, screenshots, utility, "statistics", lg, device)
        switch_lang(page, lang)
        _charts_read(page, f"light/{device}")
        _dark_mode(page, True)
        _charts_read(page, f"dark/{device}")
        _check(page, axe_source, screenshots, utility, "statistics-dark", lang, device)
        _dark_mode(page, False)

        # --- the account state for a month, sent by e-mail
        nav_to(page, "statement")
        expect(page).to_have_url(re.compile(r"/statement$"))
        expect(page.locator("h1")).to_have_text(t("statement.title"))
        # issue 14 point 15: it opens on the last billed month, not the current, empty one
        expect(page.locator("#statement-period")).to_have_value(last)
        expect(page.locator("#statement-title")).to_have_text(i18n.format_period(last, lang))
        page.locator("#statement-period").select_option(last)
        expect(page.locator("#statement-title")).to_have_text(i18n.format_period(last, lang))
        expect(page.locator("#statement-debt")).to_be_visible()
        for lg in utility.languages:
            switch_lang(page, lg)
            expect(page.locator("h1")).to_have_text(t("statement.title", lg))
            _check(page, axe_source, screenshots, utility, "statement", lg, device)
        switch_lang(page, lang)
        before = len(_mails_to(portal, mail))
        page.locator("#statement-send").click()
        expect(page.locator("#statement-notice")).to_have_text(t("statement.sent", email=mail))
        sent = _mails_to(portal, mail)
        assert len(sent) == before + 1
        msg = sent[-1]
        assert number in msg["Subject"] and i18n.format_period(last, lang) in msg["Subject"]
        closing = page.locator("#statement-closing").inner_text()
        assert closing.strip() in msg.get_body(preferencelist=("plain",)).get_content()

        # without an e-mail: a prompt with a link to the profile instead of the button
        _drop_email(portal, mail)
        page.reload()
        expect(page.locator("#statement-no-email")).to_contain_text(t("statement.no_email"))
        expect(page.locator("#statement-send")).to_have_count(0)
        page.locator("#statement-to-profile").click()
        expect(page).to_have_url(re.compile(r"/profile$"))
        assert not errors, errors
    finally:
        context.close()
