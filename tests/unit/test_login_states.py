"""Issue 15 points 3-7 and issue 14 point 19 through the page states, as a browser (or an attacker
speaking Reflex's protocol) calls them, on SQLite and PostgreSQL (``APP_DB_ON_BOTH_BACKENDS``):
registration of a taken, pending or look-alike login, "send again", the profile's e-mail change
with the current password, its undo page, and wrong current passwords on /password."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from gazportal.db import read_session
from gazportal.models import User
from gazportal.models._base import utcnow
from gazportal.services import auth, notify
from test_auth_state import PASSWORD, _form, _link, _seed_account, _utility, en, make_user, states
from tests.conftest import drain

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def app_db(app_db, monkeypatch):
    """The shared app database (tests/conftest.py), with a public https address for the links."""
    from gazportal import settings

    monkeypatch.setenv("GAZPORTAL_PUBLIC_URL", "https://portal.example")
    settings.get_settings.cache_clear()
    yield app_db

OTHER_PW = "Someone-Elses-99"


def _mails(to=None):
    from gazportal.settings import get_settings

    notify.wait_idle()
    return notify.read_outbox(kind="mail", to=to, settings=get_settings())


def _users(engine) -> list[str]:
    with read_session(engine) as s:
        return list(s.exec(select(User.login).order_by(User.id)).all())


async def _register(**changes):
    from gazportal.state.register import RegisterState

    (r,) = await states(RegisterState)
    await r.load()
    await drain(r.submit(_form(r, **changes)))
    return r


async def _confirm(token):
    from gazportal.state.confirm import ConfirmState

    (c,) = await states(ConfirmState, url=f"https://portal.example/confirm?token={token}")
    await c.load()
    return c


async def test_the_page_registers_the_victims_attempt_not_the_first_one(app_db):
    _seed_account(app_db)
    first = await _register(password=OTHER_PW, password2=OTHER_PW, name="Mallory")
    second = await _register()
    assert first.done and second.done and first.notice == second.notice == en("auth.register.done_email")
    early, late = [_link(m.text, "/confirm") for m in _mails("dana@example.kz")]
    refused = await _confirm(early)
    assert not refused.confirmed and refused.error == en("errors.link_invalid") and not refused.needs_password
    page = await _confirm(late)  # registered twice: the page asks for the attempt's password
    assert not page.confirmed and page.needs_password and page.error == en("errors.confirm_needs_password")
    await page.submit_link_password({"password": OTHER_PW})
    assert not page.confirmed and page.error == en("errors.confirm_password_mismatch")
    await page.submit_link_password({"password": PASSWORD})
    assert page.confirmed and not page.needs_password
    assert auth.sign_in(app_db, _utility(), "dana@example.kz", PASSWORD, now=utcnow())
    with pytest.raises(auth.SignInRefused):
        auth.sign_in(app_db, _utility(), "dana@example.kz", OTHER_PW, now=utcnow())


async def test_a_look_alike_login_gets_the_answer_of_a_taken_one(app_db):
    make_user(app_db, "dana@example.kz")
    _seed_account(app_db)
    taken = await _register()
    for look_alike in ("dаna@example.kz", "ｄana@example.kz"):  # Cyrillic а; full-width d
        other = await _register(login=look_alike)
        assert (other.done, other.notice, other.error, other.field_errors) == \
            (taken.done, taken.notice, taken.error, taken.field_errors)
    assert _users(app_db) == ["dana@example.kz"]
    assert {m.to for m in _mails()} == {"dana@example.kz"}


async def test_send_again_answers_alike_for_every_login(app_db):
    from gazportal.state.confirm import ConfirmState

    make_user(app_db, "done@example.kz")
    make_user(app_db, "pending@example.kz", active=False)
    answers = []
    for login in ("pending@example.kz", "nobody@example.kz", "done@example.kz"):
        (c,) = await states(ConfirmState)
        await c.resend({"login": login})
        answers.append((c.notice, c.error, c.field_errors))
    assert answers[0] == answers[1] == answers[2] == (en("auth.confirm.resent_email"), "", {})
    assert [m.to for m in _mails()] == ["pending@example.kz"]


async def test_the_profile_asks_the_password_for_a_new_email_and_the_undo_page_secures_the_account(app_db):
    from gazportal.state.recover import RecoverState
    from gazportal.state.user_profile import ConfirmEmailState, EmailUndoState, ProfileState

    uid = make_user(app_db, "anna@example.kz")
    mine = auth.sign_in(app_db, _utility(), "anna@example.kz", PASSWORD, now=utcnow()).token
    other = auth.sign_in(app_db, _utility(), "anna@example.kz", PASSWORD, now=utcnow()).token
    (p,) = await states(ProfileState, token=mine)
    await p.load()
    form = {"surname": "Иванова", "name": "Анна", "phone": "", "email": "anna.new@example.kz", "birth_date": "",
            "gender": "", "language": "en"}
    key = p.form_key
    await p.save(form)
    assert p.errors == {"current": en("errors.current_password_for_contact")} and p.pending_email == ""
    assert p.form_key == key  # what was typed stays
    await p.save(form | {"current": "not my password"})
    assert p.errors == {"current": en("errors.current_password_wrong")} and _mails() == []
    await p.save(form | {"current": PASSWORD})
    assert p.errors == {} and p.pending_email == "anna.new@example.kz"
    assert p.notice == en("my_profile.email_link_sent", email="anna.new@example.kz")
    (to_new,) = _mails("anna.new@example.kz")
    (notice,) = _mails("anna@example.kz")
    (c,) = await states(ConfirmEmailState, url=f"https://portal.example/confirm-email?token="
                                               f"{_link(to_new.text, '/confirm-email')}")
    await c.confirm()
    assert c.status == "ok"
    soon = utcnow() + timedelta(seconds=1)
    assert auth.resolve_session(app_db, mine, now=soon) is not None  # the session that asked stays
    assert auth.resolve_session(app_db, other, now=soon) is None
    changed = _mails("anna@example.kz")[-1]
    assert changed.subject != notice.subject
    (u,) = await states(EmailUndoState, url=f"https://portal.example/email-undo?token="
                                            f"{_link(changed.text, '/email-undo')}")
    await u.undo()
    assert (u.status, u.email) == ("restored", "anna@example.kz") and u.reset_link.startswith("/reset?token=")
    assert auth.resolve_session(app_db, mine, now=soon) is None
    with read_session(app_db) as s:
        assert s.get(User, uid).login == "anna@example.kz"
    (r,) = await states(RecoverState, url="https://portal.example" + u.reset_link)
    await r.load()
    assert r.stage == "link" and r.error == ""
    (again,) = await states(EmailUndoState, url=f"https://portal.example/email-undo?token="
                                                f"{_link(changed.text, '/email-undo')}")
    await again.undo()
    assert again.status == "failed" and again.reset_link == ""


@pytest.mark.parametrize("token", ["", "short", "x" * 300, "a" * 43, "<script>"])
async def test_the_undo_page_refuses_a_bad_link(app_db, token):
    from gazportal.state.user_profile import EmailUndoState

    (u,) = await states(EmailUndoState, url=f"https://portal.example/email-undo?token={token}")
    await u.undo()
    assert u.status == "failed" and u.reset_link == "" and u.email == ""


async def test_wrong_current_passwords_on_the_password_page_make_it_wait_not_the_holder(app_db):
    from gazportal.state.change_password import PasswordState
    from gazportal.state.signin import SignInState

    make_user(app_db, "anna@example.kz")
    token = auth.sign_in(app_db, _utility(), "anna@example.kz", PASSWORD, now=utcnow()).token
    (pw,) = await states(PasswordState, token=token)
    new = "Quiet-Harbour-77"
    for i in range(_utility().max_failed_logins):
        await pw.change({"submission": pw.submission, "current": f"guess-{i}", "password": new, "password2": new})
    assert pw.errors["current"] == en("errors.current_password_locked", minutes=1)  # this browser waits
    (s,) = await states(SignInState)
    await drain(s.submit({"login": "anna@example.kz", "password": PASSWORD}))
    assert s.error == ""  # the holder signing in elsewhere is not kept out
    with read_session(app_db) as db:
        assert db.exec(select(func.count()).select_from(User)).one() == 1
