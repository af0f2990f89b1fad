"""Issue 15 point 2 where a person notices it: the sign-in and registration states, called as two
browsers would call them — an attacker's and the holder's, each with its own device cookie and
address (what the gate reads from the connection: web/client.py) — on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import secrets

import pytest
from reflex.state import State
from sqlmodel import func, select

from gazportal.db import read_session
from gazportal.models import User
from gazportal.services import auth, i18n
from gazportal.settings import get_settings
from tests import conftest
from tests.conftest import drain
from tests.unit.test_auth_state import _form, _seed_account, handed_over, signed_in_user
from test_auth_kit import solve_captcha

PASSWORD = conftest.PASSWORD
LOGIN = "anna@example.kz"

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def app_db(app_db, monkeypatch):
    from gazportal import settings

    monkeypatch.setenv("GAZPORTAL_PUBLIC_URL", "https://portal.example")
    settings.get_settings.cache_clear()
    yield app_db


class Browser:
    """A browser: its device cookie and its address, as the guard hands them to every event."""

    def __init__(self, address: str) -> None:
        self.device = secrets.token_urlsafe(32)
        self.address = address

    async def tab(self, cls):
        import gazportal.state.gate  # noqa: F401  (every shared state exists before the tree)

        root = State()
        root.router_data = {"headers": {"cookie": f"gp_device={self.device}", "gazportal-client-address": self.address},
                            "pathname": "/"}
        return await root.get_state(cls)


def en(key, **params):
    return i18n.error_text(auth.SignInRefused(key, **params), "en")


async def _sign_in(browser, password, captcha=None):
    from gazportal.state.signin import SignInState

    s = await browser.tab(SignInState)
    await s.clear()
    form = {"login": LOGIN, "password": password}
    if captcha is not None:
        form["altcha"] = captcha
    return s, await drain(s.submit(form))


async def test_an_attackers_wrong_passwords_do_not_keep_the_holder_out(app_db):
    conftest.make_user(app_db, LOGIN, password=PASSWORD)
    home, attacker, phone = Browser("192.0.2.10"), Browser("198.51.100.66"), Browser("203.0.113.50")
    s, out = await _sign_in(home, PASSWORD)  # the holder's own browser: a known device from now on
    assert handed_over(out)

    for i in range(50):
        s, out = await _sign_in(attacker, f"guess-{i}-pass")
        assert handed_over(out) is None
    # the attacker is told to wait, with the way to recovery
    assert s.locked and not s.captcha_required
    before, _, after = i18n.t("errors.sign_in_locked", "en").partition("{wait}")
    assert re.fullmatch(re.escape(before) + r"(1 minute|\d\d? seconds)" + re.escape(after), s.error), s.error

    # the holder's own browser: in at once, no CAPTCHA
    s, out = await _sign_in(home, PASSWORD)
    assert s.error == "" and not s.captcha_required
    assert signed_in_user(app_db, out)[0].login == LOGIN

    # the holder's phone, never used here before: the page asks for the CAPTCHA (a message and
    # the widget's challenge), nothing was checked; with it solved the holder is in
    s, out = await _sign_in(phone, PASSWORD)
    assert handed_over(out) is None and s.captcha_required and not s.locked
    assert s.error == en("errors.sign_in_captcha") and s.challenge.startswith("{")
    form = {"login": LOGIN, "password": PASSWORD, "altcha": solve_captcha(get_settings())}
    out = await drain(s.submit(form))  # the same tab sends the form again with the widget's payload
    assert s.error == "" and signed_in_user(app_db, out)[0].login == LOGIN


async def test_a_wrong_password_after_the_captcha_keeps_the_widget_with_a_fresh_challenge(app_db):
    conftest.make_user(app_db, LOGIN, password=PASSWORD)
    limit = get_settings().utility.max_failed_logins
    for i in range(limit):
        await _sign_in(Browser(f"198.51.100.{i}"), "guess-pass-1")
    s, _ = await _sign_in(Browser("203.0.113.7"), PASSWORD)
    assert s.captcha_required
    first = s.challenge
    await drain(s.submit({"login": LOGIN, "password": "typo-typo-1", "altcha": solve_captcha(get_settings())}))
    assert s.error == en("errors.sign_in_failed") and s.captcha_required and s.challenge != first
    await drain(s.submit({"login": LOGIN, "password": PASSWORD, "altcha": "forged"}))
    assert s.error == en("errors.sign_in_captcha") and s.captcha_required


async def test_the_holder_registers_while_an_attacker_guesses_the_proof(app_db):
    from gazportal.state.register import RegisterState

    _seed_account(app_db)
    for i in range(60):
        r = await Browser(f"198.51.100.{i % 12}").tab(RegisterState)
        await r.load()
        await drain(r.submit(_form(r, login=f"x{i}@example.kz", last_payment=f"{i + 1}.00")))
        assert not r.done
    holder = Browser("203.0.113.9")
    r = await holder.tab(RegisterState)
    await r.load()
    assert not r.captcha_required and r.challenge == ""  # the default profile has no CAPTCHA
    await drain(r.submit(_form(r)))
    # asked for it: the widget appears with the message under it; nothing else is wrong
    assert not r.done and r.captcha_required and r.challenge.startswith("{")
    assert r.field_errors == {"captcha": i18n.t("errors.captcha_required", "en")}
    await drain(r.submit(_form(r, altcha=solve_captcha(get_settings()))))
    assert r.done and r.error == ""
    with read_session(app_db) as db:
        assert db.exec(select(func.count()).select_from(User).where(User.login == "dana@example.kz")).one() == 1
