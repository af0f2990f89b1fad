"""Sign-up, confirmation, sign-in and sign-out in Chromium, and the event gate attacked through the
real server's socket (Reflex's protocol spoken with python-socketio).

Run: python -m pytest -q tests/e2e -p no:asyncio   (see conftest.py)
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gazportal.settings import load_utility
from helpers import PASSWORD, VIEWPORTS, check_and_shoot, link_token, nav_to, new_message, new_page, outbox_files, t

TIMEOUT = 20_000
SOCKET_CEILING = 30.0  # s: how long an awaited socket reply may take on a loaded machine


def _check(page, axe_source, screenshots, utility_id, name, device):
    check_and_shoot(page, axe_source, screenshots / f"{utility_id}-{name}-{device}.png")


def _free_account(portal):
    """A demo account (person) nobody has linked, with its latest payment as a customer types it."""
    from sqlmodel import select

    from gazportal.db import make_engine, read_session
    from gazportal.models import Account, Payment, User, UserAccountLink

    engine = make_engine(portal.db_url)
    try:
        with read_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            logins = set(s.exec(select(User.login)).all())  # an account number can be a login too
            for acc in s.exec(select(Account).where(Account.kind == "person").order_by(Account.id.desc())).all():
                if acc.id in taken or acc.number in logins:
                    continue
                pay = s.exec(select(Payment).where(Payment.account_id == acc.id)
                             .order_by(Payment.paid_at.desc(), Payment.id.desc())).first()
                if pay is not None:
                    return acc.number, f"{pay.amount:.2f}"
    finally:
        engine.dispose()
    pytest.fail("no free demo account with a payment")


def _wait_outbox(portal, to: str, since: float, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if portal.outbox and portal.outbox.is_dir():
            for path in sorted(portal.outbox.iterdir()):
                if path.stat().st_mtime >= since - 1:
                    raw = path.read_text(errors="replace")
                    if to.lower() in raw.lower():
                        return raw
        time.sleep(0.3)
    pytest.fail(f"nothing for {to} arrived in {portal.outbox}")


def _link(raw: str, portal, path: str) -> str:
    import quopri

    text = quopri.decodestring(raw.encode()).decode(errors="replace")
    m = re.search(re.escape(portal.url + path) + r"\?token=([A-Za-z0-9_\-]+)", text)
    assert m, text[-2000:]
    return m.group(1)


@pytest.mark.parametrize("device", VIEWPORTS)
def test_auth_pages_look_right_and_pass_axe(portal, browser, axe_source, screenshots, device):
    """Every page of the auth layer, in the default language; wrong registration fields marked red."""
    from playwright.sync_api import expect

    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page, errors = new_page(context, TIMEOUT)
        for route, name, title in [
            ("/signin", "signin", "auth.signin.title"),
            ("/register", "register", "auth.register.title"),
            ("/confirm", "confirm", "auth.confirm.title"),
            ("/recover", "recover", "auth.recover.title"),
            ("/agreement", "agreement", "auth.agreement.title"),
        ]:
            page.goto(portal.url + route)
            expect(page.locator("h1")).to_have_text(t(title, lang))
            _check(page, axe_source, screenshots, utility.id, name, device)

        # Registration with wrong fields: the form says so, the wrong ones are red, the rest stay.
        page.goto(portal.url + "/register")
        page.locator("#reg-surname").fill("Ахметова")
        page.locator("#reg-name").fill("Дана")
        page.locator("#reg-password").fill(PASSWORD)
        page.locator("#reg-password2").fill(PASSWORD + "x")
        page.locator("#reg-submit").click()
        expect(page.locator("#reg-error")).to_contain_text(t("forms.summary_title", lang))  # the error summary
        expect(page.locator("#reg-password2")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#reg-password2-err")).to_have_text(t("errors.password_mismatch", lang))
        expect(page.locator("#reg-surname")).to_have_attribute("aria-invalid", "false")
        expect(page.locator("#reg-surname")).to_have_value("Ахметова")
        _check(page, axe_source, screenshots, utility.id, "register-errors", device)

        # Sign-in refused: a clear message.
        page.goto(portal.url + "/signin")
        page.locator("#signin-login").fill("nobody@example.org" if utility.login_identifier == "email"
                                            else utility.account_number_example if utility.login_identifier == "account"
                                            else "+380501112233")
        page.locator("#signin-password").fill("wrong-password-1")
        page.locator("#signin-submit").click()
        expect(page.locator("#signin-error")).to_contain_text(t("errors.sign_in_failed", lang))
        _check(page, axe_source, screenshots, utility.id, "signin-refused", device)
        assert not errors, errors
    finally:
        context.close()


def test_sign_up_confirm_sign_in_sign_out(portal, browser, axe_source, screenshots):
    """The default profile's whole path in Chromium: register with the account proof, open the
    e-mailed link, sign in, sign out (and the session is then dead on the server)."""
    from playwright.sync_api import expect

    if portal.utility_id != "default":
        pytest.skip("the full path is checked on the default profile")
    utility = load_utility(portal.utility_id)
    lang = utility.default_language
    number, payment = _free_account(portal)
    email = f"flow{uuid.uuid4().hex[:8]}@example.org"
    context = browser.new_context(**VIEWPORTS["phone"])
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(portal.url + "/register")
        expect(page.locator("h1")).to_have_text(t("auth.register.title", lang))
        since = time.time()
        page.locator("#reg-login").fill(email)
        page.locator("#reg-password").fill(PASSWORD)
        page.locator("#reg-password2").fill(PASSWORD)
        page.locator("#reg-surname").fill("Ахметова")
        page.locator("#reg-name").fill("Дана")
        page.locator("#reg-phone").fill("+7 701 234 5678")
        page.locator("#reg-account_number").fill(number)
        page.locator("#reg-last_payment").fill(payment)
        page.locator("#reg-agreement").check()
        page.locator("#reg-submit").click()
        expect(page.locator("#reg-done")).to_have_text(t("auth.register.done_email", lang))
        _check(page, axe_source, screenshots, utility.id, "register-done", "phone")

        token = _link(_wait_outbox(portal, email, since), portal, "/confirm")
        page.goto(f"{portal.url}/confirm?token={token}")
        expect(page.locator("#confirm-done")).to_have_text(t("auth.confirm.done", lang))
        _check(page, axe_source, screenshots, utility.id, "confirm-done", "phone")

        page.locator("#to-signin").click()
        expect(page).to_have_url(re.compile(r"/signin$"))
        page.locator("#signin-login").fill(email)
        page.locator("#signin-password").fill(PASSWORD)
        page.locator("#signin-submit").click()
        expect(page).to_have_url(re.compile(r"/accounts$"))
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["gp_session"]["sameSite"] == "Strict" and len(cookies["gp_session"]["value"]) >= 43
        assert cookies["gp_session"]["httpOnly"] is True  # set by the server; no script can read it
        assert page.evaluate("document.cookie").find("gp_session") == -1
        session_token = cookies["gp_session"]["value"]

        # Sign out (the signed-in pages' navigation calls SessionState.sign_out).
        nav_to(page, "sign_out")
        expect(page).to_have_url(re.compile(r"/signin\?why=signed_out$"))
        expect(page.locator("#signin-ended")).to_have_text(t("auth.ended.signed_out", lang))  # says why
        from gazportal.db import make_engine
        from gazportal.services import auth

        engine = make_engine(portal.db_url)
        try:
            assert auth.resolve_session(engine, session_token, now=datetime.now(UTC)) is None
        finally:
            engine.dispose()
        page.goto(portal.url + "/accounts")  # back to a signed-in page: not any more
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Faccounts$"))
    finally:
        context.close()


def _register_in(page, portal, email: str, password: str, number: str, payment: str, lang: str) -> None:
    from playwright.sync_api import expect

    page.goto(portal.url + "/register")
    expect(page.locator("h1")).to_have_text(t("auth.register.title", lang))
    for fid, value in [("reg-login", email), ("reg-password", password), ("reg-password2", password),
                       ("reg-surname", "Ахметова"), ("reg-name", "Дана"), ("reg-phone", "+7 701 234 5678"),
                       ("reg-account_number", number), ("reg-last_payment", payment)]:
        page.locator(f"#{fid}").fill(value)
    page.locator("#reg-agreement").check()
    page.locator("#reg-submit").click()
    expect(page.locator("#reg-done")).to_have_text(t("auth.register.done_email", lang))


def test_a_twice_registered_address_confirms_only_with_its_password(portal, browser, axe_source, screenshots):
    """Issue 15 point 3, the other order: the owner registers, then someone registers the owner's
    address again with a password of their own. The newest link in the owner's mailbox belongs to
    that second attempt; opened, the page asks for the password chosen at registration — the
    owner's does not fit it, so the stranger's password is never activated."""
    from playwright.sync_api import expect

    if portal.utility_id != "default":
        pytest.skip("checked on the default profile")
    lang = load_utility(portal.utility_id).default_language
    number, payment = _free_account(portal)
    email = f"twice{uuid.uuid4().hex[:8]}@example.org"
    stranger_pw = "Someone-Elses-Lantern-7"
    context = browser.new_context(**VIEWPORTS["phone"])
    try:
        page, errors = new_page(context, TIMEOUT)
        seen = outbox_files(portal)
        _register_in(page, portal, email, PASSWORD, number, payment, lang)  # the owner
        new_message(portal, email, seen)  # the owner's link has arrived
        seen = outbox_files(portal)
        stranger = browser.new_context(**VIEWPORTS["desktop"])  # the stranger's own browser, after
        try:
            _register_in(stranger.new_page(), portal, email, stranger_pw, number, payment, lang)
        finally:
            stranger.close()
        token = link_token(new_message(portal, email, seen), portal, "/confirm")
        page.goto(f"{portal.url}/confirm?token={token}")
        expect(page.locator("#confirm-error")).to_have_text(t("errors.confirm_needs_password", lang))
        _check(page, axe_source, screenshots, portal.utility_id, "confirm-password", "phone")
        page.locator("#confirm-password").fill(PASSWORD)
        page.locator("#confirm-password-submit").click()
        expect(page.locator("#confirm-error")).to_have_text(t("errors.confirm_password_mismatch", lang))
        expect(page.locator("#confirm-done")).to_have_count(0)
        page.locator("#confirm-password").fill(stranger_pw)  # positive control: the attempt's own password
        page.locator("#confirm-password-submit").click()
        expect(page.locator("#confirm-done")).to_have_text(t("auth.confirm.done", lang))
        assert not errors, errors
    finally:
        context.close()


# --- the gate through the real server's socket ---------------------------------------------------


async def _until(replies: list, start: int, done, ceiling: float) -> list[dict]:
    """The replies from ``start`` on, once ``done(replies)`` holds (or after ``ceiling`` seconds:
    the caller's assert then says what did not come)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ceiling
    while not done(replies[start:]) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return replies[start:]


async def _socket(url: str, cookie: str = ""):
    import socketio

    replies: list[dict] = []
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("event", lambda data: replies.append(data), namespace="/_event")
    boot = {"name": "reflex___state____state.hydrate_and_load", "payload": {},
            "router_data": {"pathname": "/accounts", "query": {}, "asPath": "/accounts"}}
    # The session is the HttpOnly cookie of the handshake, as a browser sends it.
    headers = {"Origin": url, **({"Cookie": cookie} if cookie else {})}
    await sio.connect(f"{url}?token={uuid.uuid4()}", socketio_path="/_event", namespaces=["/_event"],
                      transports=["websocket"], auth={"event": boot}, headers=headers)
    # The hydrate's state, then the page's on_load handlers (run by the server after it) and the
    # hydrated flag: a load's delta arriving after the first event would pass for that event's.
    await _until(replies, 0, lambda got: True in _delta_has(got, "is_hydrated"), SOCKET_CEILING)
    assert True in _delta_has(replies, "is_hydrated"), replies
    return sio, replies


async def _send(sio, replies, name: str, payload: dict, until=None) -> list[dict]:
    """Emit one event. With ``until`` (a test on the replies since the emit), wait until it holds;
    without, return at once: an event whose answer is silence is followed by one that must be
    answered, and since Reflex runs one client's events in order, once that answer is in, whatever
    the silent one did has come back too."""
    start = len(replies)
    await sio.emit("event", {"name": name, "payload": payload, "router_data": {"pathname": "/accounts"}},
                   namespace="/_event")
    if until is None:
        return []
    return await _until(replies, start, until, SOCKET_CEILING)


def _redirects(replies) -> list[str]:
    """The paths the replies send the browser to, without their query (/signin?next=... is /signin)."""
    return [str(e.get("payload", {}).get("path")).split("?")[0]
            for r in replies for e in r.get("events", []) if e.get("name") == "_redirect"]


def _delta_vars(replies) -> set[str]:
    return {k for r in replies for values in (r.get("delta") or {}).values() for k in values}


def _delta_has(replies, var: str) -> list:
    found = []
    for r in replies:
        for values in (r.get("delta") or {}).values():
            for k, v in values.items():
                if k.startswith(var):
                    found.append(v)
    return found


def test_gate_refuses_through_the_real_socket(portal):
    """Without a session a user-only event is dropped (and the client sent to /signin); a signed-in
    user asking for another customer's account gets nothing; setvar and unknown handlers do nothing."""
    from sqlmodel import select

    from gazportal.db import make_engine, read_session, write_session
    from gazportal.models import Account, User, UserAccountLink
    from gazportal.services import i18n
    from gazportal.services.passwords import hash_password
    from gazportal.state.accounts import AccountsState
    from gazportal.state.session import SessionState
    from tests.e2e.socket_client import sign_in as socket_sign_in

    utility = load_utility(portal.utility_id)
    engine = make_engine(portal.db_url)
    stamp = uuid.uuid4().hex[:6]
    logins = []
    try:
        with write_session(engine) as s:
            taken = {link.account_id for link in s.exec(select(UserAccountLink)).all()}
            used = set(s.exec(select(User.login)).all())  # an account number can be a login too
            free = [a for a in s.exec(select(Account).order_by(Account.id)).all()
                    if a.id not in taken and a.number not in used]
            for i in range(2):
                login = (f"gate{stamp}{i}@example.org" if utility.login_identifier == "email"
                         else free[i].number if utility.login_identifier == "account"
                         else f"+38050{stamp[:3].encode().hex()[:6]}{i}"[:13])
                u = User(login=login, email=login if "@" in login else None, phone=login if login.startswith("+") else None,
                         password_hash=hash_password(PASSWORD), surname="Тест", name="Гейт", is_active=True,
                         email_verified="@" in login, phone_verified="@" not in login,
                         language=utility.default_language, created_at=datetime.now(UTC) - timedelta(days=1))
                s.add(u)
                s.flush()
                s.add(UserAccountLink(user_id=u.id, account_id=free[i].id))
                logins.append(login)
            own_account, victim_account = free[0].id, free[1].id
    finally:
        engine.dispose()

    accounts = AccountsState.get_full_name()
    not_found = {i18n.t("errors.account_not_found", lang) for lang in utility.languages}

    async def attack():
        # 1. No session at all.
        sio, replies = await _socket(portal.url)
        try:
            redirected = lambda got: "/signin" in _redirects(got)  # noqa: E731
            got = await _send(sio, replies, f"{accounts}.ask_unlink", {"account_id": victim_account},
                              until=redirected)
            assert redirected(got), got
            assert not [v for v in _delta_has(got, "unlink_id") if v]
            refusal_vars = _delta_vars(got)  # what a refused event may say back
            mark = len(replies)
            await _send(sio, replies, f"{SessionState.get_full_name()}.setvar",
                        {"var_name": "signed_in", "value": True})
            await _send(sio, replies, f"{accounts}.no_such_handler", {})
            # The control: the socket is alive and the server answers (a dead socket would also
            # have "changed nothing"); its answer comes after anything the two events above did.
            got = await _send(sio, replies, f"{accounts}.ask_unlink", {"account_id": victim_account},
                              until=redirected)
            assert redirected(got), got
            quiet = replies[mark:]
            assert not _delta_has(quiet, "signed_in"), quiet
            assert _delta_vars(quiet) <= refusal_vars, quiet
        finally:
            await sio.disconnect()

        # 2. Signed in as the first customer (the sign-in form's handler, then the hand-over of the
        #    session to the HttpOnly cookie, as the page does) ...
        cookie = await socket_sign_in(portal.url, logins[0], PASSWORD)
        sio, replies = await _socket(portal.url, cookie)
        try:
            # Positive control: the same request for one's own account does open the confirmation
            # on this socket, so the refusal below is a refusal and not a silence.
            opened = lambda got: str(own_account) in _delta_has(got, "unlink_id")  # noqa: E731
            got = await _send(sio, replies, f"{accounts}.ask_unlink", {"account_id": own_account}, until=opened)
            assert _delta_has(got, "unlink_id") == [str(own_account)], got
            got = await _send(sio, replies, f"{accounts}.cancel_unlink", {},
                              until=lambda got: "" in _delta_has(got, "unlink_id"))
            assert _delta_has(got, "unlink_id") == [""], got
            # ... asking for the second customer's account: refused like a missing one, and the
            # refusal is seen (the "not found" message comes back).
            mark = len(replies)
            got = await _send(sio, replies, f"{accounts}.ask_unlink", {"account_id": victim_account},
                              until=lambda got: set(_delta_has(got, "error")) & not_found)
            assert set(_delta_has(got, "error")) & not_found, got
            await _send(sio, replies, f"{accounts}.confirm_unlink", {})
            for odd in (str(victim_account), [victim_account], {"id": victim_account}, float("nan"), 10**30, None):
                await _send(sio, replies, f"{accounts}.ask_unlink", {"account_id": odd})
            await _send(sio, replies, f"{accounts}.confirm_unlink", {})
            # Positive control for all of the above and for the database check below: unlinking
            # one's own account through this very socket opens the confirmation and removes the link.
            got = await _send(sio, replies, f"{accounts}.ask_unlink", {"account_id": own_account}, until=opened)
            assert opened(got), got
            assert set(_delta_has(replies[mark:], "unlink_id")) <= {"", str(own_account)}, replies[mark:]
            got = await _send(sio, replies, f"{accounts}.confirm_unlink", {},
                              until=lambda got: [v for v in _delta_has(got, "notice") if v])
            assert [v for v in _delta_has(got, "notice") if v], got
        finally:
            await sio.disconnect()

    # Playwright's sync API keeps an event loop in this thread: the client runs in its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(attack())).result(timeout=120)
    engine = make_engine(portal.db_url)
    try:
        with read_session(engine) as s:
            links = s.exec(select(UserAccountLink).where(UserAccountLink.account_id == victim_account)).all()
            assert len(links) == 1, "the second customer's account was touched"
            own = s.exec(select(UserAccountLink).where(UserAccountLink.account_id == own_account)).all()
            assert own == [], "unlinking one's own account through the socket did not work (the control)"
    finally:
        engine.dispose()
