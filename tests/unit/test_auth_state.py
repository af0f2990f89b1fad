"""The sign-in, registration, confirmation, recovery and session states, called directly as a
browser (or an attacker speaking Reflex's protocol) would call them, on a real SQLite database
with the real auth service behind them."""
from __future__ import annotations

import dataclasses
import math
import re
import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from reflex.istate.data import ReflexURL, RouterData
from reflex.state import State
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import AuthSession, User
from gazportal.models._base import utcnow
from gazportal.services import auth, i18n, notify
from tests.conftest import cookie_for
from tests import conftest
from tests.conftest import drain

PASSWORD = "Sturdy-Lantern-42"
LOGIN = "anna@example.kz"

JUNK = [None, 5, math.nan, "x", [["login", LOGIN]], {"login": 5, "password": PASSWORD},
        {"login": LOGIN, "password": "p" * 5000}, {"login": ["a"], "password": PASSWORD},
        {"login": {"$ne": ""}, "password": {"$ne": ""}}, {"login": LOGIN, "password": math.nan},
        {"login": "a" * 100_000, "password": PASSWORD}]


pytestmark = pytest.mark.usefixtures("fast_hashing")  # cheap argon2 (tests/conftest.py)


@pytest.fixture
def app_db(app_db, monkeypatch):
    """The shared app database (tests/conftest.py), with a public https address for the links."""
    from gazportal import settings

    monkeypatch.setenv("GAZPORTAL_PUBLIC_URL", "https://portal.example")
    settings.get_settings.cache_clear()
    yield app_db




def make_user(engine, login=LOGIN, *, active=True) -> int:
    return conftest.make_user(engine, login, is_active=active, email_verified=active)


async def states(*classes, token: str = "", url: str = ""):
    import gazportal.state.gate  # noqa: F401  (every shared state exists before the tree)

    root = State()
    root.router_data = cookie_for(token)
    if url:
        root.router = dataclasses.replace(RouterData(), url=ReflexURL(url))
        root.router_data = {**root.router_data, **cookie_for(token)}
    return [await root.get_state(c) for c in classes]


def _scripts(events) -> list[str]:
    from reflex_base.event import Event

    return [str(e.payload.get("javascript_code", "")) for ev in events for e in Event.from_event_type(ev)]


def handed_over(events) -> str | None:
    """The hand-over code a sign-in's answer posts to /_gp/session, or None."""
    for js in _scripts(events):
        m = re.search(r'code\\": \\"([A-Za-z0-9_-]{20,})', js)
        if m:
            return m.group(1)
    return None


def opened(events) -> list[str]:
    """Where a sign-in's answer sends the browser once the cookie is set."""
    out = []
    for js in _scripts(events):
        out += re.findall(r'if \(r\.ok\) window\.location\.replace\("([^"]+)"\)', js)
    return out


def signed_in_user(engine, events):
    """The user whose session the answer handed over (claimed as the browser would)."""
    from gazportal.services.auth import handoff as session_handoff

    code = handed_over(events)
    assert code is not None
    claimed = session_handoff.claim(engine, code, now=utcnow())
    return auth.resolve_session(engine, claimed.token, now=utcnow()), claimed


def redirects(events) -> list[str]:
    from reflex_base.event import Event

    paths = []
    for ev in events:
        for e in Event.from_event_type(ev):
            if e.name == "_redirect":
                paths.append(e.payload["path"])
    return paths


def sessions(engine) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(AuthSession).where(AuthSession.revoked_at.is_(None))).one()


def en(key, **kw):
    return i18n.t(key, "en", **kw)


# --- sign-in ----------------------------------------------------------------------------------


async def test_sign_in_hands_the_session_to_the_cookie_and_goes_to_the_accounts(app_db):
    from gazportal.state.signin import SignInState

    uid = make_user(app_db)
    (s,) = await states(SignInState)
    out = await drain(s.submit({"login": "Anna@Example.KZ", "password": PASSWORD}))
    assert opened(out) == ["/accounts"]
    assert s.error == "" and s.field_errors == {} and not s.busy
    user, claimed = signed_in_user(app_db, out)
    assert user.user_id == uid and len(claimed.token) >= 43 and claimed.remember is False
    assert claimed.token not in str(out)  # the session token itself never travels on the websocket
    with read_session(app_db) as db:  # stored hashed, never in clear
        assert db.exec(select(AuthSession).where(AuthSession.token_hash == claimed.token)).first() is None


NEXT_CASES = [
    ("/statistics?account=3&year=2025", "/statistics?account=3&year=2025"), ("/dashboard", "/dashboard"),
    ("//evil.example", "/accounts"), ("/\\evil.example", "/accounts"), ("https://evil.example/x", "/accounts"),
    ("javascript:alert(1)", "/accounts"), ("/%2F%2Fevil.example", "/accounts"), ("/signin", "/accounts"),
    ("/dashboard?x=<b>", "/accounts"), ("/" + "a" * 300, "/accounts"),
]


@pytest.mark.parametrize("wanted,lands", NEXT_CASES)
async def test_sign_in_leads_back_where_the_customer_was_going_on_this_site_only(app_db, wanted, lands):
    """Issue 14 point 18: a deep link kept through the sign-in; anything that could leave the site
    (or loop back to a guest page) lands on the accounts instead."""
    from urllib.parse import urlencode

    from gazportal.state.signin import SignInState

    make_user(app_db)
    (s,) = await states(SignInState, url="https://portal.example/signin?" + urlencode({"next": wanted}))
    out = await drain(s.submit({"login": "Anna@Example.KZ", "password": PASSWORD}))
    assert opened(out) == [lands]


async def test_a_signed_in_page_sends_a_visitor_to_sign_in_with_the_way_back(app_db):
    from gazportal.state.session import SessionState

    (s,) = await states(SessionState, url="https://portal.example/statistics?account=7")
    assert redirects([await s.require_user()]) == ["/signin?next=%2Fstatistics%3Faccount%3D7"]
    (s,) = await states(SessionState, url="https://portal.example/accounts")
    assert redirects([await s.require_user()]) == ["/signin?next=%2Faccounts"]


async def test_a_hand_over_code_is_single_use_and_short_lived(app_db):
    from gazportal.services.auth import handoff as session_handoff
    from gazportal.state.signin import SignInState

    make_user(app_db)
    (s,) = await states(SignInState)
    out = await drain(s.submit({"login": LOGIN, "password": PASSWORD}))
    code = handed_over(out)
    late = utcnow() + session_handoff.HANDOFF_TTL + timedelta(seconds=1)
    with pytest.raises(session_handoff.HandoffRefused):
        session_handoff.claim(app_db, code, now=late)
    first = session_handoff.claim(app_db, code, now=utcnow())
    with pytest.raises(session_handoff.HandoffRefused):
        session_handoff.claim(app_db, code, now=utcnow())
    for junk in (None, 5, "", "x" * 43, code + "x"):
        with pytest.raises(session_handoff.HandoffRefused):
            session_handoff.claim(app_db, junk, now=utcnow())
    assert auth.resolve_session(app_db, first.token, now=utcnow()) is not None


async def test_remember_me_makes_a_long_lived_session(app_db):
    from gazportal.state.signin import SignInState

    make_user(app_db)
    (s,) = await states(SignInState)
    out = await drain(s.submit({"login": LOGIN, "password": PASSWORD, "remember": "on"}))
    user, claimed = signed_in_user(app_db, out)
    assert user.remember is True and claimed.remember is True


async def test_wrong_password_and_unknown_login_get_the_same_answer(app_db):
    from gazportal.state.signin import SignInState

    make_user(app_db)
    answers = []
    for login in (LOGIN, "nobody@example.kz"):
        (s,) = await states(SignInState)
        out = await drain(s.submit({"login": login, "password": "wrong-password-1"}))
        assert opened(out) == [] and handed_over(out) is None
        answers.append((s.error, s.locked, s.field_errors))
    assert answers[0] == answers[1] == (en("errors.sign_in_failed"), False, {})
    assert sessions(app_db) == 0


async def test_each_refusal_raises_the_count_the_error_summary_follows(app_db):
    """Issue 14 point 16: every refused submit of an auth form — the same refusal again too —
    raises ``refusals`` (the page's error summary takes the focus when it changes); a sign-in
    that goes through does not."""
    from gazportal.state.register import RegisterState
    from gazportal.state.signin import SignInState

    make_user(app_db)
    (s,) = await states(SignInState)
    before = s.refusals
    for n in (1, 2):
        await drain(s.submit({"login": LOGIN, "password": "wrong-password-1"}))
        assert s.refusals == before + n and s.error == en("errors.sign_in_failed")
    await drain(s.submit({"login": LOGIN, "password": PASSWORD}))
    assert s.refusals == before + 2 and s.error == ""
    (r,) = await states(RegisterState)
    before = r.refusals
    await drain(r.submit(_form(r, password2="something-else-1")))
    assert r.refusals == before + 1 and "password2" in r.field_errors


async def test_lock_points_to_recovery(app_db):
    from gazportal.settings import get_settings
    from gazportal.state.signin import SignInState

    make_user(app_db)
    limit = get_settings().utility.max_failed_logins
    for _ in range(limit):
        (s,) = await states(SignInState)
        await drain(s.submit({"login": LOGIN, "password": "wrong-password-1"}))
    (s,) = await states(SignInState)
    await drain(s.submit({"login": LOGIN, "password": PASSWORD}))  # even the right one, from this source
    assert s.locked is True
    assert s.error == i18n.error_text(auth.SignInRefused("errors.sign_in_locked", wait=timedelta(minutes=1)), "en")
    assert "1 minute" in s.error
    assert sessions(app_db) == 0


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
async def test_sign_in_with_junk_fails_cleanly(app_db, junk):
    from gazportal.state.signin import SignInState

    make_user(app_db)
    (s,) = await states(SignInState)
    out = await drain(s.submit(junk))
    assert opened(out) == [] and handed_over(out) is None
    assert s.error in (en("errors.form_invalid"), en("errors.sign_in_failed"))
    assert sessions(app_db) == 0


async def test_extra_fields_refuse_the_form_and_cannot_pick_the_user(app_db):
    from gazportal.state.signin import SignInState

    make_user(app_db)
    other = make_user(app_db, "boris@example.kz")
    (s,) = await states(SignInState)
    out = await drain(s.submit({"login": LOGIN, "password": PASSWORD, "user_id": other, "token": "x" * 43}))
    assert handed_over(out) is None and s.error == en("errors.form_invalid") and sessions(app_db) == 0


# --- the session ------------------------------------------------------------------------------


async def test_the_user_comes_from_the_connection_cookie_and_sign_out_revokes(app_db):
    from gazportal.state.contract import resolve_user
    from gazportal.state.session import SessionState

    make_user(app_db)
    signed = auth.sign_in(app_db, _utility(), LOGIN, PASSWORD, remember=False, now=utcnow())
    (sess,) = await states(SessionState, token=signed.token)
    assert (await resolve_user(sess)).login == LOGIN
    out = await drain(sess.sign_out())
    assert "/_gp/signout" in str(out) and "/signin" in str(out)  # the HTTP answer clears the cookie
    assert not sess.signed_in
    assert auth.resolve_session(app_db, signed.token, now=utcnow()) is None
    (again,) = await states(SessionState, token=signed.token)  # a copied cookie is worth nothing now
    assert await resolve_user(again) is None


def _utility():
    from gazportal.settings import get_settings

    return get_settings().utility


@pytest.mark.parametrize("token", ["", "short", "a" * 43, secrets.token_urlsafe(32), None, 5, {"a": 1}, ["x"],
                                   "../../etc/passwd", "' OR 1=1 --"])
async def test_forged_cookies_are_not_a_user(app_db, token):
    from gazportal.state.contract import resolve_user
    from gazportal.state.session import SessionState, user_for

    make_user(app_db)
    (sess,) = await states(SessionState)
    assert await user_for({"headers": {"cookie": f"gp_session={token}"}}) is None
    assert await user_for({"headers": {"cookie": token}}) is None
    assert await resolve_user(sess) is None


async def test_idle_and_absolute_timeouts_end_the_session(app_db):
    from gazportal.settings import get_settings
    from gazportal.state.session import user_for

    make_user(app_db)
    st = get_settings()
    idle = auth.sign_in(app_db, st.utility, LOGIN, PASSWORD, remember=False,
                        now=utcnow() - timedelta(minutes=st.session_idle_minutes + 1))
    old = auth.sign_in(app_db, st.utility, LOGIN, PASSWORD, remember=True,
                       now=utcnow() - timedelta(days=st.session_remember_days, minutes=1))
    fresh = auth.sign_in(app_db, st.utility, LOGIN, PASSWORD, remember=False, now=utcnow())
    for token in (idle.token, old.token):
        assert await user_for(cookie_for(token)) is None
    assert (await user_for(cookie_for(fresh.token))).login == LOGIN


async def test_guest_pages_send_a_signed_in_user_on(app_db):
    from gazportal.state.session import SessionState

    make_user(app_db)
    signed = auth.sign_in(app_db, _utility(), LOGIN, PASSWORD, remember=False, now=utcnow())
    (sess,) = await states(SessionState, token=signed.token)
    assert redirects(await drain(sess.load_guest())) == ["/accounts"]
    auth.sign_out(app_db, signed.token, now=utcnow())
    (sess,) = await states(SessionState, token=signed.token)
    assert redirects(await drain(sess.load_guest())) == []
    assert redirects(await drain(sess.require_user())) == ["/signin?why=signed_out"]


# --- registration, confirmation, recovery -------------------------------------------------------


def _seed_account(engine, number="100200300", amount="4520.50") -> None:
    from gazportal.models.accounts import Account
    from gazportal.models.billing import Payment

    with write_session(engine) as s:
        acc = Account(number=number, holder_name="Иванова А.", kind="person", address="Алматы, Абая 1")
        s.add(acc)
        s.flush()
        s.add(Payment(account_id=acc.id, paid_at=utcnow() - timedelta(days=20), amount=Decimal(amount),
                      receipt_no="R" + secrets.token_hex(5), channel="bank"))


def _form(state=None, **changes) -> dict:
    """The registration form as the page sends it (with the state's submission id)."""
    f = {"submission": state.submission if state is not None else "", "login": "Dana@Example.kz",
         "password": PASSWORD, "password2": PASSWORD, "surname": "Ахметова",
         "name": "Дана", "phone": "+7 701 234 5678", "kind": "person", "bin": "", "account_number": "100200300",
         "last_payment": "4520.50", "agreement": "on"}
    f.update(changes)
    return f


def _link(text: str, path: str) -> str:
    m = re.search(re.escape("https://portal.example" + path) + r"\?token=([A-Za-z0-9_\-]+)", text)
    assert m, text
    return m.group(1)


async def test_register_confirm_by_link_then_sign_in(app_db):
    from gazportal.settings import get_settings
    from gazportal.state.confirm import ConfirmState
    from gazportal.state.register import RegisterState
    from gazportal.state.signin import SignInState

    _seed_account(app_db)
    (r,) = await states(RegisterState)
    await r.load()
    await drain(r.submit(_form(r)))
    assert r.done and r.error == "" and r.field_errors == {}
    assert r.notice == en("auth.register.done_email")
    notify.wait_idle()
    mails = notify.read_outbox(kind="mail", settings=get_settings())
    token = _link(mails[-1].text, "/confirm")

    (s,) = await states(SignInState)
    await drain(s.submit({"login": "dana@example.kz", "password": PASSWORD}))
    assert s.not_confirmed and s.error == en("errors.sign_in_not_confirmed")

    (c,) = await states(ConfirmState, url=f"https://portal.example/confirm?token={token}")
    await c.load()
    assert c.confirmed and c.notice == en("auth.confirm.done")
    (c2,) = await states(ConfirmState, url=f"https://portal.example/confirm?token={token}")
    await c2.load()  # a used link is refused
    assert not c2.confirmed and c2.error

    (s,) = await states(SignInState)
    out = await drain(s.submit({"login": "dana@example.kz", "password": PASSWORD}))
    assert opened(out) == ["/accounts"]
    assert signed_in_user(app_db, out)[0].login == "dana@example.kz"


async def test_register_marks_the_wrong_fields_only(app_db):
    from gazportal.state.register import RegisterState

    _seed_account(app_db)
    (r,) = await states(RegisterState)
    await drain(r.submit(_form(r, password2="something-else-1", last_payment="4520.51", phone="12", agreement="")))
    assert not r.done
    assert r.error == en("errors.form_invalid")
    assert set(r.field_errors) == {"password2", "phone", "agreement"}
    assert r.field_errors["password2"] == en("errors.password_mismatch")
    assert "login" not in r.field_errors and "surname" not in r.field_errors
    with read_session(app_db) as db:
        assert db.exec(select(func.count()).select_from(User)).one() == 0


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
async def test_register_with_junk_fails_cleanly(app_db, junk):
    from gazportal.state.register import RegisterState

    (r,) = await states(RegisterState)
    await drain(r.submit(junk))
    assert not r.done and r.error
    with read_session(app_db) as db:
        assert db.exec(select(func.count()).select_from(User)).one() == 0


async def test_set_kind_takes_only_known_values(app_db):
    from gazportal.state.register import RegisterState

    (r,) = await states(RegisterState)
    for junk in (None, 1, "admin", ["legal"], {"k": "legal"}, math.nan):
        await r.set_kind(junk)
        assert r.kind == "person"
    await r.set_kind("legal")
    assert r.kind == "legal"


async def test_recovery_answers_alike_and_resets_by_link(app_db):
    from gazportal.settings import get_settings
    from gazportal.state.recover import RecoverState

    uid = make_user(app_db)
    signed = auth.sign_in(app_db, _utility(), LOGIN, PASSWORD, remember=False, now=utcnow())
    notices = []
    for login in ("nobody@example.kz", LOGIN):
        (r,) = await states(RecoverState)
        await drain(r.request({"login": login}))
        notices.append((r.notice, r.stage, r.error))
    assert notices[0] == notices[1] == (en("auth.recover.sent_email"), "sent", "")
    notify.wait_idle()
    mails = notify.read_outbox(kind="mail", to=LOGIN, settings=get_settings())
    token = _link(mails[-1].text, "/reset")

    (r,) = await states(RecoverState, url=f"https://portal.example/reset?token={token}")
    await r.load()
    assert r.stage == "link" and r.error == ""
    await r.reset_with_link({"password": "short", "password2": "short"})
    assert "password" in r.field_errors and not r.done
    new = "Quiet-Harbour-77"
    await r.reset_with_link({"password": new, "password2": new})
    assert r.done and r.notice == en("auth.recover.done")
    assert auth.resolve_session(app_db, signed.token, now=utcnow()) is None  # all sessions ended
    assert auth.sign_in(app_db, _utility(), LOGIN, new, remember=False, now=utcnow()).user_id == uid

    (r2,) = await states(RecoverState, url=f"https://portal.example/reset?token={token}")
    await r2.load()
    await r2.reset_with_link({"password": "Another-Pass-99", "password2": "Another-Pass-99"})
    assert not r2.done and r2.error  # single use


async def test_recover_link_handlers_without_a_token_do_nothing(app_db):
    from gazportal.state.recover import RecoverState

    (r,) = await states(RecoverState, url="https://portal.example/reset?token=%3Cscript%3E")
    await r.load()
    assert r.stage == "request" and r.error == en("errors.link_invalid")
    await r.reset_with_link({"password": "Quiet-Harbour-77", "password2": "Quiet-Harbour-77"})
    assert not r.done and r.error == en("errors.link_invalid")


async def test_a_repeated_registration_submit_registers_once(app_db):
    """A double click on "create account": the second event carries the used submission id."""
    from gazportal.state.register import RegisterState

    _seed_account(app_db)
    (r,) = await states(RegisterState)
    await r.load()
    form = _form(r)
    await drain(r.submit(dict(form)))
    assert r.done and r.error == ""
    r.done, r.notice = False, ""
    await drain(r.submit(dict(form)))  # the same form again: nothing runs, nothing changes
    assert not r.done and r.notice == "" and r.error == ""
    with read_session(app_db) as db:
        assert db.exec(select(func.count()).select_from(User).where(User.login == "dana@example.kz")).one() == 1
    no_id = _form(None)
    del no_id["submission"]
    await drain(r.submit(no_id))  # no submission id at all: refused as not from the page
    assert not r.done


# --- issue 14 point 19: a session that ends says why ---------------------------------------------


async def test_a_page_whose_session_ended_says_why_on_the_sign_in_page(app_db):
    from datetime import timedelta

    from gazportal.settings import get_settings
    from gazportal.state.session import SessionState
    from gazportal.state.signin import SignInState

    uid = make_user(app_db)
    now = utcnow()

    def signed():
        return auth.sign_in(app_db, _utility(), LOGIN, PASSWORD, remember=False, now=now).token

    async def why(token):
        (s,) = await states(SessionState, token=token, url="https://portal.example/statistics")
        (path,) = redirects([await s.require_user()])
        return path

    assert auth.session_end(app_db, "x" * 43) is None  # no such session: nothing to say
    live = signed()
    assert auth.session_end(app_db, live, now=now) is None
    auth.sign_out(app_db, live, now=now)
    assert auth.session_end(app_db, live, now=now) == "signed_out"
    assert await why(live) == "/signin?next=%2Fstatistics&why=signed_out"
    other, mine = signed(), signed()
    me = auth.resolve_session(app_db, mine, now=now)
    auth.change_password(app_db, _utility(), uid, PASSWORD, "Brand-New-Lantern-7", "Brand-New-Lantern-7", now=now,
                         keep_session_id=me.session_id)
    assert auth.session_end(app_db, other, now=now) == "password_changed"
    assert auth.session_end(app_db, mine, now=now) is None  # the session that changed it goes on
    idle = get_settings().session_idle_minutes
    assert auth.session_end(app_db, mine, now=now + timedelta(minutes=idle + 1)) == "timed_out"
    # the sign-in page says it, in the page's language; an unknown reason says nothing
    for reason in auth.END_REASONS:
        (page,) = await states(SignInState, url=f"https://portal.example/signin?why={reason}")
        await page.clear()
        assert page.ended == en(f"auth.ended.{reason}")
    (page,) = await states(SignInState, url="https://portal.example/signin?why=<script>")
    await page.clear()
    assert page.ended == ""


async def test_a_link_refused_because_the_login_was_taken_offers_sign_in_not_send_again(app_db):
    """Two registrations of logins a person cannot tell apart (Cyrillic а); the other one is
    confirmed first. The owner's link then says why (errors.login_taken) and the page stops
    offering to send the link again (``taken``): a new link could only be refused the same way."""
    from gazportal.settings import get_settings
    from gazportal.state.confirm import ConfirmState
    from gazportal.state.register import RegisterState

    _seed_account(app_db)
    _seed_account(app_db, number="100200301", amount="310.00")
    (r,) = await states(RegisterState)
    await r.load()
    await drain(r.submit(_form(r)))
    (r2,) = await states(RegisterState)
    await r2.load()
    await drain(r2.submit(_form(r2, login="Dana@Exаmple.kz", account_number="100200301", last_payment="310")))
    assert r.done and r2.done
    notify.wait_idle()
    mails = notify.read_outbox(kind="mail", settings=get_settings())
    owners = _link(next(m.text for m in mails if m.to == "dana@example.kz"), "/confirm")
    looks = _link(next(m.text for m in mails if m.to != "dana@example.kz"), "/confirm")

    (c,) = await states(ConfirmState, url=f"https://portal.example/confirm?token={looks}")
    await c.load()
    assert c.confirmed and not c.taken  # control: a plain confirmation is not "taken"
    (c,) = await states(ConfirmState, url=f"https://portal.example/confirm?token={owners}")
    await c.load()
    assert not c.confirmed and c.taken and c.error == en("errors.login_taken")
    c.taken = True
    c.router = dataclasses.replace(c.router, url=ReflexURL("https://portal.example/confirm"))
    await c.load()  # the page opened anew, without a link: the old answer is gone
    assert not c.taken and c.error == ""
