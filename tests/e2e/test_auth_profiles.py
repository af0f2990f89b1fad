"""The other profiles' sign-up paths in Chromium, walked as a new customer would.

* shygysenergotrade: login by account number (with the exact last payment of a demo account as
  proof), e-mail confirmation link, the ALTCHA proof-of-work widget solved in the browser and
  accepted by the server (unsolved, forged and replayed payloads refused), the 6+ upper/lower/
  digit/symbol password policy, the wait after 3 wrong passwords pointing to recovery, recovery
  by e-mail link while this browser waits.
* kremenchukgaz: login by mobile phone, the 6-digit SMS code read from the outbox, sign-in,
  recovery by SMS code.

Each page state is screenshotted (desktop + phone, the profile's default language and one
other) to tests/e2e/screenshots/<profile>-<page>-<lang>-<device>.png and checked with axe-core.

Run: GAZPORTAL_E2E_PROFILES=shygysenergotrade,kremenchukgaz python -m pytest -q \
         tests/e2e/test_auth_profiles.py -p no:asyncio
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import random
import re
import uuid
from pathlib import Path

import pytest
from helpers import (
    VIEWPORTS, check_and_shoot, link_token, nav_to, new_message, new_page, outbox_files, sms_code, solve_captcha, t,
    wait_text,
)
from test_auth_flow import _delta_has, _free_account, _send, _socket

from gazportal.settings import load_utility

TIMEOUT = 20_000
# The seeds' policies: Shygysenergotrade 6+ with upper, lower, digit and symbol.
PASSWORD = "Kókterek-7"
NEW_PASSWORD = "Ertis#2026"
WEAK = "kokterek7"  # no upper case, no symbol
OTHER_LANG = {"shygysenergotrade": "ru", "kremenchukgaz": "en"}
CASES = [(device, which) for which in ("default", "other") for device in VIEWPORTS]


def _lang(utility, which: str) -> str:
    return utility.default_language if which == "default" else OTHER_LANG[utility.id]


def _context(browser, device: str, lang: str):
    """A fresh browser whose stored language preference is ``lang`` (what the switch keeps)."""
    context = browser.new_context(**VIEWPORTS[device])
    context.add_init_script(f"try {{ localStorage.setItem('gazportal_lang', {json.dumps(lang)}) }} catch (e) {{}}")
    return context


def _shot(page, axe_source, screenshots: Path, utility_id: str, name: str, lang: str, device: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", lang)
    check_and_shoot(page, axe_source, screenshots / f"{utility_id}-{name}-{lang}-{device}.png")


def _user(portal, login: str):
    from sqlmodel import select

    from gazportal.db import make_engine, read_session
    from gazportal.models import User

    engine = make_engine(portal.db_url)
    try:
        with read_session(engine) as s:
            return s.exec(select(User).where(User.login == login)).first()
    finally:
        engine.dispose()


def _need(portal, utility_id: str):
    if portal.utility_id != utility_id:
        pytest.skip(f"a {utility_id} path")
    return load_utility(utility_id)


# --- Shygysenergotrade: account number, ALTCHA, e-mail link, lock, recovery -------------------


@pytest.mark.parametrize("device,which", CASES)
def test_shygysenergotrade_sign_up_lock_and_recovery(portal, browser, axe_source, screenshots, device, which):
    from playwright.sync_api import expect

    utility = _need(portal, "shygysenergotrade")
    lang = _lang(utility, which)
    assert utility.captcha and utility.login_identifier == "account" and utility.max_failed_logins == 3
    number, payment = _free_account(portal)
    email = f"se{uuid.uuid4().hex[:8]}@example.org"
    shot = lambda name: _shot(page, axe_source, screenshots, utility.id, name, lang, device)  # noqa: E731
    context = _context(browser, device, lang)
    try:
        page, errors = new_page(context, TIMEOUT)
        for route, name, title in [("/signin", "signin", "auth.signin.title"),
                                   ("/recover", "recover", "auth.recover.title"),
                                   ("/confirm", "confirm", "auth.confirm.title"),
                                   ("/register", "register", "auth.register.title")]:
            page.goto(portal.url + route)
            expect(page.locator("h1")).to_have_text(t(title, lang))
            shot(name)
        # The login field is the account number; no separate account field on this profile.
        expect(page.locator("label[for=reg-login]")).to_contain_text(t("auth.field.login_account", lang))
        assert page.locator("#reg-account_number").count() == 0

        # 1. A weak password and the CAPTCHA not solved: both refused with clear messages, the
        #    right fields keep what was typed.
        page.locator("#reg-login").fill(number)
        page.locator("#reg-password").fill(WEAK)
        page.locator("#reg-password2").fill(WEAK)
        page.locator("#reg-surname").fill("Сейткали")
        page.locator("#reg-name").fill("Айгерим")
        page.locator("#reg-email").fill(email)
        page.locator("#reg-phone").fill("+7 701 234 5678")
        page.locator("#reg-last_payment").fill(payment)
        page.locator("#reg-submit").click()
        expect(page.locator("#reg-error")).to_contain_text(t("forms.summary_title", lang))  # the error summary
        expect(page.locator("#reg-captcha-err")).to_have_text(t("errors.captcha_failed", lang))
        expect(page.locator("#reg-password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#reg-password-err")).not_to_be_empty()
        for fid, value in [("reg-login", number), ("reg-surname", "Сейткали"), ("reg-email", email),
                           ("reg-last_payment", payment)]:
            expect(page.locator(f"#{fid}")).to_have_value(value)
            expect(page.locator(f"#{fid}")).to_have_attribute("aria-invalid", "false")
        assert _user(portal, number) is None
        shot("register-errors")

        # 2. A password that meets the policy and the CAPTCHA solved in the browser: accepted.
        page.locator("#reg-password").fill(PASSWORD)
        page.locator("#reg-password2").fill(PASSWORD)
        payload = solve_captcha(page)
        expect(page.locator("#reg-captcha-err")).to_be_hidden()  # the refusal's message went with it
        shot("register-captcha")
        seen = outbox_files(portal)
        page.locator("#reg-submit").click()
        expect(page.locator("#reg-done")).to_have_text(t("auth.register.done_email", lang))
        shot("register-done")
        user = _user(portal, number)
        assert user is not None and not user.is_active and user.email == email
        assert _replayed_captcha_refused(portal, payload, lang)

        # 3. The link from the e-mail confirms the account.
        token = link_token(new_message(portal, email, seen), portal, "/confirm")
        page.goto(f"{portal.url}/confirm?token={token}")
        expect(page.locator("#confirm-done")).to_have_text(t("auth.confirm.done", lang))
        shot("confirm-done")

        # 4. Three wrong passwords (the seed's "more than 3" lock): this browser waits (1 minute,
        #    doubling); the message says how long and points to recovery, and even the right
        #    password is refused from here until then (other browsers are not: test_abuse_limits).
        page.goto(portal.url + "/signin")
        expect(page.locator("h1")).to_have_text(t("auth.signin.title", lang))
        for i in range(3):
            page.locator("#signin-login").fill(number)
            page.locator("#signin-password").fill(f"Wrong-pass{i}!")
            page.locator("#signin-submit").click()
            message = page.locator("#signin-error .gp-summary-text").first
            if i < 2:
                expect(message).to_have_text(t("errors.sign_in_failed", lang))
            else:
                expect(message).to_have_text(wait_text("errors.sign_in_locked", lang))
        recover_link = page.locator("#signin-error a[href='/recover']")
        expect(recover_link).to_have_text(t("auth.signin.locked_recover", lang))
        shot("signin-locked")
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page.locator("#signin-error .gp-summary-text").first).to_have_text(wait_text("errors.sign_in_locked", lang))
        expect(page).to_have_url(re.compile(r"/signin/?$"))

        # 5. Recovery by e-mail link works on the locked account.
        recover_link.click()
        expect(page).to_have_url(re.compile(r"/recover/?$"))
        seen = outbox_files(portal)
        page.locator("#rec-login").fill(number)
        page.locator("#recover-submit").click()
        expect(page.locator("#recover-notice")).to_have_text(t("auth.recover.sent_email", lang))
        shot("recover-sent")
        token = link_token(new_message(portal, email, seen), portal, "/reset")
        page.goto(f"{portal.url}/reset?token={token}")
        expect(page.locator("#rl-password")).to_be_visible()
        page.locator("#rl-password").fill(WEAK)
        page.locator("#rl-password2").fill(WEAK)
        page.locator("#reset-submit").click()
        expect(page.locator("#rl-password")).to_have_attribute("aria-invalid", "true")
        shot("recover-link-errors")
        page.locator("#rl-password").fill(NEW_PASSWORD)
        page.locator("#rl-password2").fill(NEW_PASSWORD)
        page.locator("#reset-submit").click()
        expect(page.locator("#recover-done")).to_have_text(t("auth.recover.done", lang))
        shot("recover-done")

        # 6. The lock is gone: sign in with the new password.
        page.locator("#to-signin").click()
        expect(page).to_have_url(re.compile(r"/signin/?$"))
        page.locator("#signin-login").fill(number)
        page.locator("#signin-password").fill(NEW_PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts/?$"))
        expect(page.get_by_text(number).first).to_be_visible()
        assert not errors, errors
    finally:
        context.close()


def _register_over_socket(portal, *forms: dict) -> list[list[dict]]:
    """RegisterState.submit called directly through the server's socket, as a script would:
    one form after another on one connection; for each, the replies until it was answered (a
    form-level error or "registered")."""
    from gazportal.state.register import RegisterState

    handler = f"{RegisterState.get_full_name()}.submit"

    def answered(got: list[dict]) -> bool:
        return any(v for v in _delta_has(got, "error")) or any(v is True for v in _delta_has(got, "done"))

    async def go():
        sio, replies = await _socket(portal.url)
        out = []
        try:
            for form in forms:
                # A create form carries its submission id (state/contract.py): a fresh one each.
                form = {"submission": uuid.uuid4().hex, **form}
                out.append(await _send(sio, replies, handler, {"form_data": form}, until=answered))
        finally:
            await sio.disconnect()
        return out

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(go())).result(timeout=120)


def _captcha_error(replies) -> str | None:
    found = [v for v in _delta_has(replies, "field_errors") if isinstance(v, dict) and "captcha" in v]
    return found[-1]["captcha"] if found else None


def _replayed_captcha_refused(portal, payload: str, lang: str) -> bool:
    """The payload the browser just used, sent again: single use, so refused."""
    (replies,) = _register_over_socket(portal, {"login": "40000000", "password": PASSWORD, "password2": PASSWORD,
                                                "altcha": payload})
    msg = _captcha_error(replies)
    assert msg == t("errors.captcha_failed", load_utility(portal.utility_id).default_language), replies
    return True


def _solved(challenge: dict, **override) -> str:
    """A payload for ``challenge`` solved here in Python, as the widget would send it."""
    import altcha

    solution = altcha.solve_challenge_v1(challenge["challenge"], challenge["salt"], max_number=challenge["maxnumber"])
    data = {"algorithm": challenge["algorithm"], "challenge": challenge["challenge"], "number": solution.number,
            "salt": challenge["salt"], "signature": challenge["signature"], **override}
    return base64.b64encode(json.dumps(data).encode()).decode()


def test_shygysenergotrade_forged_captcha_is_refused_by_the_server(portal):
    """A complete, correct registration whose CAPTCHA payload did not come from solving this
    server's live challenge (another key, expired, wrong number, garbage, none, not a string),
    sent straight to RegisterState.submit, is refused with the CAPTCHA message; nobody is
    registered."""
    from datetime import UTC, datetime, timedelta

    import altcha

    from gazportal.services import captcha

    utility = _need(portal, "shygysenergotrade")
    lang = utility.default_language  # the socket client has no stored language
    number, payment = _free_account(portal)
    foreign = altcha.create_challenge_v1(max_number=2000, hmac_key="not the server's key",
                                         expires=datetime.now(UTC) + timedelta(minutes=5)).to_dict()
    foreign["maxnumber"] = 2000
    # Signed with the server's own key (the test shares var/secret_key) but an hour old.
    expired = captcha.new_challenge(now=datetime.now(UTC) - timedelta(hours=1), max_number=2000)
    live = captcha.new_challenge(max_number=2000)
    forged = {
        "foreign key": _solved(foreign),
        "expired": _solved(expired),
        "wrong number": _solved(live, number=_solved_number(live) + 1),
        "forged signature": _solved(live, signature="0" * 64),
        "fields missing": base64.b64encode(b'{"algorithm":"SHA-256"}').decode(),
        "not base64": "not-base64-at-all!",
        "empty": "",
    }
    base = {"login": number, "password": PASSWORD, "password2": PASSWORD, "surname": "Сейткали", "name": "Айгерим",
            "email": f"forge{uuid.uuid4().hex[:6]}@example.org", "phone": "+7 701 234 5678", "kind": "person",
            "last_payment": payment}
    forms = [{**base, "altcha": payload} for payload in forged.values()]
    forms.append(base)  # no payload at all
    answers = _register_over_socket(portal, *forms)
    for what, replies in zip([*forged, "missing"], answers):
        assert _captcha_error(replies) == t("errors.captcha_failed", lang), (what, replies)
    (replies,) = _register_over_socket(portal, {**base, "altcha": 12345})  # not even a string
    assert t("errors.form_invalid", lang) in _delta_has(replies, "error"), replies
    assert _user(portal, number) is None, "registered without solving the CAPTCHA"
    # The control: the same form with this server's live challenge solved is accepted.
    (replies,) = _register_over_socket(portal, {**base, "altcha": _solved(live)})
    assert _captcha_error(replies) is None and True in _delta_has(replies, "done"), replies
    assert _user(portal, number) is not None


def _solved_number(challenge: dict) -> int:
    import altcha

    return altcha.solve_challenge_v1(challenge["challenge"], challenge["salt"], max_number=challenge["maxnumber"]).number


# --- Kremenchukgaz: phone login, SMS code, sign-in, recovery by SMS code ----------------------


def _ua_mobile() -> tuple[str, str]:
    """A random Kyivstar number: as a customer types it, and in E.164."""
    digits = f"{random.randint(0, 9_999_999):07d}"
    return f"067 {digits[:3]} {digits[3:5]} {digits[5:]}", f"+38067{digits}"


@pytest.mark.parametrize("device,which", CASES)
def test_kremenchukgaz_phone_sms_code_sign_in_and_recovery(portal, browser, axe_source, screenshots, device, which):
    from playwright.sync_api import expect

    utility = _need(portal, "kremenchukgaz")
    lang = _lang(utility, which)
    assert utility.login_identifier == "phone" and utility.confirmation == "sms_code"
    typed, e164 = _ua_mobile()
    shot = lambda name: _shot(page, axe_source, screenshots, utility.id, name, lang, device)  # noqa: E731
    context = _context(browser, device, lang)
    try:
        page, errors = new_page(context, TIMEOUT)
        for route, name, title in [("/signin", "signin", "auth.signin.title"),
                                   ("/recover", "recover", "auth.recover.title"),
                                   ("/register", "register", "auth.register.title")]:
            page.goto(portal.url + route)
            expect(page.locator("h1")).to_have_text(t(title, lang))
            shot(name)
        expect(page.locator("label[for=reg-login]")).to_contain_text(t("auth.field.login_phone", lang))
        assert page.locator("altcha-widget").count() == 0  # no CAPTCHA on this profile

        # 1. Registration: a number that cannot be a phone is refused, the rest stays.
        page.locator("#reg-login").fill("067 12")
        page.locator("#reg-password").fill(PASSWORD)
        page.locator("#reg-password2").fill(PASSWORD)
        page.locator("#reg-surname").fill("Коваленко")
        page.locator("#reg-name").fill("Оксана")
        page.locator("#reg-submit").click()
        expect(page.locator("#reg-error")).to_contain_text(t("forms.summary_title", lang))  # the error summary
        expect(page.locator("#reg-login")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#reg-surname")).to_have_value("Коваленко")
        shot("register-errors")

        seen = outbox_files(portal)
        page.locator("#reg-login").fill(typed)
        page.locator("#reg-submit").click()
        expect(page).to_have_url(re.compile(r"/confirm/?$"))
        expect(page.locator("h1")).to_have_text(t("auth.confirm.title", lang))
        shot("confirm")

        # 2. The SMS code: a wrong one is refused, the right one confirms.
        code = sms_code(new_message(portal, e164, seen))
        expect(page.locator("#code-login")).to_have_value(typed)  # carried over from the registration
        page.locator("#code-code").fill("000000" if code != "000000" else "111111")
        page.locator("#code-submit").click()
        expect(page.locator("#confirm-error")).not_to_be_empty()
        shot("confirm-errors")
        page.locator("#code-code").fill(code)
        page.locator("#code-submit").click()
        expect(page.locator("#confirm-done")).to_have_text(t("auth.confirm.done", lang))
        shot("confirm-done")
        user = _user(portal, e164)
        assert user is not None and user.is_active and user.phone_verified

        # 3. Sign in with the phone number as typed.
        page.locator("#to-signin").click()
        expect(page).to_have_url(re.compile(r"/signin/?$"))
        page.locator("#signin-login").fill(typed)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts/?$"))
        nav_to(page, "sign_out")
        expect(page).to_have_url(re.compile(r"/signin/?\?why=signed_out$"))

        # 4. Recovery by SMS code.
        page.goto(portal.url + "/recover")
        expect(page.locator("h1")).to_have_text(t("auth.recover.title", lang))
        seen = outbox_files(portal)
        page.locator("#rec-login").fill(typed)
        page.locator("#recover-submit").click()
        expect(page.locator("#recover-notice")).to_have_text(t("auth.recover.sent_sms", lang))
        expect(page.locator("#rc-code")).to_be_visible()
        shot("recover-code")
        code = sms_code(new_message(portal, e164, seen))
        page.locator("#rc-login").fill(typed)
        page.locator("#rc-code").fill(code)
        page.locator("#rc-password").fill(NEW_PASSWORD)
        page.locator("#rc-password2").fill(NEW_PASSWORD)
        page.locator("#reset-submit").click()
        expect(page.locator("#recover-done")).to_have_text(t("auth.recover.done", lang))
        shot("recover-done")

        page.locator("#to-signin").click()
        page.locator("#signin-login").fill(e164)
        page.locator("#signin-password").fill(PASSWORD)  # the old one no longer works
        page.locator("#signin-submit").click()
        expect(page.locator("#signin-error")).to_contain_text(t("errors.sign_in_failed", lang))
        page.locator("#signin-password").fill(NEW_PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts/?$"))
        assert not errors, errors
    finally:
        context.close()
