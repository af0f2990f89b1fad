"""The staff console in Chromium (issue 16 points 1 and 7; issue 14 point 2): the demo operator
signs in on the same /signin page and lands on the inbox (with the count of messages past their
SLA), opens the demo customer's unanswered message, takes it into work, writes an internal note and
a reply; the demo customer signs in and finds the reply (not the note) under "My messages". A
customer who opens /staff is sent to their accounts. An admin made by ``cli staff add
--password-stdin`` reads the audit log and downloads it as CSV. Desktop and tablet (768 px)
screenshots of the staff pages in two languages; axe-core finds nothing serious.

Run: python -m pytest -q tests/e2e/test_staff.py -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from gazportal.services import i18n
from gazportal.settings import load_utility
from helpers import VIEWPORTS, check_page, new_page, sign_in, switch_lang

TIMEOUT = 20_000
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVICES = {
    "desktop": dict(viewport={"width": 1280, "height": 800}, device_scale_factor=1),
    "tablet": dict(viewport={"width": 768, "height": 1024}, device_scale_factor=1, has_touch=True),
}
REPLY = "Meter replacement is free for you: a fitter will call you this week."


def _demo(portal) -> tuple[str, str, str]:
    """``cli demo-customer`` on the portal's database, as ./run.sh runs it: (customer login,
    operator login, password) from what it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZPORTAL_")}
    env.update(GAZPORTAL_PROFILE=portal.utility_id, GAZPORTAL_DB_URL=portal.db_url,
               GAZPORTAL_OUTBOX=str(portal.outbox))
    out = subprocess.run([sys.executable, "-m", "gazportal.cli", "demo-customer"], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    customer = re.search(r"demo customer: sign in as (\S+) with the password (\S+)", out)
    operator = re.search(r"demo operator: sign in as (\S+) with the password (\S+)", out)
    assert customer and operator, out
    return customer.group(1), operator.group(1), operator.group(2)


def _message_counts(portal) -> tuple[int, int]:
    """(all customers' messages, the answered ones) in the portal's database now."""
    from sqlmodel import func, select

    from gazportal.db import make_engine, read_session
    from gazportal.models import CustomerMessage

    engine = make_engine(portal.db_url)
    try:
        with read_session(engine) as s:
            every = s.exec(select(func.count()).select_from(CustomerMessage)).one()
            answered = s.exec(select(func.count()).select_from(CustomerMessage)
                              .where(CustomerMessage.status == "answered")).one()
    finally:
        engine.dispose()
    return every, answered


def test_the_demo_operator_answers_and_the_customer_sees_it(portal, browser, axe_source, screenshots):
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    if portal.utility_id != "default":
        pytest.skip("one profile is enough for the staff console's walk")
    lang = utility.default_language
    other = next(lg for lg in utility.languages if lg != lang)
    customer, operator, password = _demo(portal)
    subject = {"en": "Replacing the gas meter"}.get(lang, "")

    for device, viewport in DEVICES.items():
        context = browser.new_context(**viewport)
        try:
            page, errors = new_page(context, TIMEOUT)
            sign_in(page, portal.url, operator, password)
            expect(page).to_have_url(re.compile(r"/staff$"), timeout=TIMEOUT)  # staff land on the inbox
            expect(page.locator("#staff-inbox")).to_be_visible(timeout=TIMEOUT)
            expect(page.locator("#sla-breached")).to_be_visible()
            for lg in (lang, other):
                switch_lang(page, lg)
                expect(page.locator("h1")).to_have_text(i18n.t("staff.inbox.title", lg))
                check_page(page, axe_source, screenshots, utility, "staff-inbox", lg, device)
            switch_lang(page, lang)
            if device == "desktop":
                # the filters: answered ones only, then all again
                # (the portal is shared by the session's tests: other tests' messages are there too)
                every, answered = _message_counts(portal)
                assert 1 <= answered < every
                page.locator("#staff-status").select_option("answered")
                expect(page.locator("#staff-inbox tbody tr")).to_have_count(answered)
                page.locator("#staff-status").select_option("")
                expect(page.locator("#staff-inbox tbody tr")).to_have_count(every)
                page.get_by_role("link", name=subject).click()
                expect(page).to_have_url(re.compile(r"/staff/message\?id=\d+"))
                expect(page.locator("#staff-subject")).to_have_text(subject)
                expect(page.locator("#staff-status")).to_have_text(i18n.t("messages.status.new", lang))
                page.locator("[data-move=in_progress]").click()
                expect(page.locator("#staff-status")).to_have_text(i18n.t("messages.status.in_progress", lang))
                page.locator("#staff-note-body").fill("Fitter team B has a slot on Thursday.")
                page.locator("#staff-note-form button[type=submit]").click()
                expect(page.locator("#staff-events [data-kind=note]")).to_have_count(1)
                page.locator("#staff-reply-body").fill(REPLY)
                page.locator("#staff-reply-form button[type=submit]").click()
                expect(page.locator("#staff-events [data-kind=reply]")).to_have_count(1)
                expect(page.locator("#staff-status")).to_have_text(i18n.t("messages.status.answered", lang))
                expect(page.locator("#staff-notice")).to_contain_text(i18n.t("staff.reply_saved", lang))
            else:
                page.get_by_role("link", name=subject).click()
                expect(page.locator("#staff-events [data-kind=reply]")).to_have_count(1)
            for lg in (lang, other):
                switch_lang(page, lg)
                check_page(page, axe_source, screenshots, utility, "staff-message", lg, device)
            switch_lang(page, lang)
            assert not errors, errors
        finally:
            context.close()

    # The customer: the reply under My messages, never the internal note; /staff is not theirs.
    for device in ("desktop", "phone"):
        context = browser.new_context(**VIEWPORTS[device])
        try:
            page, errors = new_page(context, TIMEOUT)
            sign_in(page, portal.url, customer, password)
            page.goto(portal.url + "/messages")
            item = page.locator("[data-message]", has_text=subject)
            expect(item.locator(".gp-msg-reply")).to_contain_text(REPLY, timeout=TIMEOUT)
            expect(item).not_to_contain_text("Fitter team B")
            expect(item.locator(".gp-badge")).to_have_attribute("data-status", "answered")
            for lg in (lang, other):
                switch_lang(page, lg)
                check_page(page, axe_source, screenshots, utility, "messages-with-reply", lg, device)
            switch_lang(page, lang)  # the switch is saved in the customer's profile: back for the next device
            page.goto(portal.url + "/staff")
            expect(page).to_have_url(re.compile(r"/accounts$"), timeout=TIMEOUT)
            assert not errors, errors
        finally:
            context.close()

    # An admin, made with the command line (the password on standard input), reads the audit log:
    # the operator's moves, newest first, and downloads it as CSV.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZPORTAL_")}
    env.update(GAZPORTAL_PROFILE=portal.utility_id, GAZPORTAL_DB_URL=portal.db_url)
    subprocess.run([sys.executable, "-m", "gazportal.cli", "staff", "add", "--role", "admin", "--login",
                    "admin@example.org", "--surname", "Admin", "--name", "Alma", "--password-stdin"],
                   cwd=ROOT, env=env, input=password + "\n", check=True, capture_output=True, text=True)
    for device, viewport in DEVICES.items():
        context = browser.new_context(**viewport, accept_downloads=True)
        try:
            page, errors = new_page(context, TIMEOUT)
            sign_in(page, portal.url, "admin@example.org", password)
            expect(page).to_have_url(re.compile(r"/staff$"), timeout=TIMEOUT)
            page.goto(portal.url + "/staff/audit")
            rows = page.locator("#audit-log tbody tr")
            expect(rows.first).to_contain_text("staff.add")  # the admin itself, the newest
            expect(page.locator("#audit-log")).to_contain_text("message.reply")
            expect(page.locator("#audit-log")).to_contain_text("message.note")
            for lg in (lang, other):
                switch_lang(page, lg)
                check_page(page, axe_source, screenshots, utility, "staff-audit", lg, device)
            if device == "desktop":
                with page.expect_download() as got:
                    page.locator("#audit-export").click()
                text = open(got.value.path(), encoding="utf-8").read()
                assert text.startswith("id,at_utc,actor,action") and "message.reply" in text
            assert not errors, errors
        finally:
            context.close()
