"""Single sign-on in the web layer (gazportal/state/oidc.py): the button's handler and the callback
page's on_load called directly, as the browser would call them, against the local OpenID Connect
provider (tests/oidc_provider.py, real HTTP) and a real SQLite database behind the real services."""
from __future__ import annotations

import re

import dataclasses
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from reflex.istate.data import ReflexURL, RouterData
from reflex.state import State
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import AuthSession, User
from gazportal.services import auth, i18n, notify, oidc
from tests.oidc_provider import IdpUser, Provider
from tests.conftest import drain

PUBLIC_URL = "https://portal.example"
CALLBACK = PUBLIC_URL + "/auth/oidc/callback"
EMAIL = "anna@example.kz"


@pytest.fixture(scope="module")
def provider_module():
    p = Provider(redirect_uri=CALLBACK).start()
    yield p
    p.stop()


@pytest.fixture
def provider(provider_module):
    p = provider_module
    p.user = IdpUser(email=EMAIL)
    p.id_token_hook = None
    p.token_requests.clear()
    oidc.clear_cache()
    yield p
    oidc.clear_cache()


def _point_app(monkeypatch, tmp_path, engine, issuer: str | None, client_id="gazportal",
               secret="s3cret:with/odd&chars"):
    from gazportal import db, settings

    monkeypatch.setenv("GAZPORTAL_DB_URL", str(engine.url))
    monkeypatch.setenv("GAZPORTAL_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("GAZPORTAL_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.delenv("GAZPORTAL_SMTP_HOST", raising=False)
    monkeypatch.delenv("GAZPORTAL_PROFILE", raising=False)
    for name, value in (("ISSUER", issuer), ("CLIENT_ID", client_id), ("CLIENT_SECRET", secret)):
        if value is None:
            monkeypatch.delenv(f"GAZPORTAL_OIDC_{name}", raising=False)
        else:
            monkeypatch.setenv(f"GAZPORTAL_OIDC_{name}", value)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def app_db(sqlite_engine, monkeypatch, tmp_path, provider):
    """The app (settings, get_engine) on the test database, SSO pointed at the local provider."""
    from gazportal import db, settings

    _point_app(monkeypatch, tmp_path, sqlite_engine, provider.issuer, provider.client_id, provider.client_secret)
    yield sqlite_engine
    notify.wait_idle()
    monkeypatch.undo()
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()


def make_user(engine, email=EMAIL, *, verified=True) -> int:
    with write_session(engine) as s:
        u = User(login=email, email=email, password_hash="x", surname="Иванова", name="Анна", kind="person",
                 is_active=True, email_verified=verified, language="en")
        s.add(u)
        s.flush()
        return u.id


async def tab(url: str = ""):
    """A browser tab: a fresh root state (Reflex keeps one per client token), on ``url``."""
    from gazportal.state.oidc import OidcState
    from gazportal.state.session import SessionState

    import gazportal.state.gate  # noqa: F401

    root = State()
    if url:
        root.router = dataclasses.replace(RouterData(), url=ReflexURL(url))
    return root, await root.get_state(OidcState), await root.get_state(SessionState)


def goto(root, url: str) -> None:
    root.router = dataclasses.replace(RouterData(), url=ReflexURL(url))


def redirects(events) -> list[str]:
    """Where the answer sends the browser: a redirect, or the page a signed-in answer opens once
    the session cookie is set (state/session.py, start_script)."""
    from reflex_base.event import Event

    paths = []
    for ev in events:
        for e in Event.from_event_type(ev):
            if e.name == "_redirect":
                paths.append(e.payload["path"])
            js = str(e.payload.get("javascript_code", ""))
            paths += re.findall(r'if \(r\.ok\) window\.location\.replace\("([^"]+)"\)', js)
    return paths


_CLAIMED: dict[str, str] = {}


def signed(events) -> str:
    """The session token the answer handed to the browser's cookie ("" when none), claimed as the
    browser's POST to /_gp/session would claim it."""
    from reflex_base.event import Event

    from gazportal.db import get_engine
    from gazportal.services.auth import handoff as session_handoff

    for ev in events:
        for e in Event.from_event_type(ev):
            m = re.search(r'code\\": \\"([A-Za-z0-9_-]{20,})', str(e.payload.get("javascript_code", "")))
            if m:
                code = m.group(1)
                if code not in _CLAIMED:
                    _CLAIMED[code] = session_handoff.claim(get_engine(), code).token
                return _CLAIMED[code]
    return ""


def provider_redirect(url: str) -> str:
    """The browser at the provider: it approves and redirects back to the callback."""
    r = httpx.get(url, follow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith(CALLBACK + "?")
    return r.headers["location"]


def sessions(engine) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(AuthSession).where(AuthSession.revoked_at.is_(None))).one()


def en(key, **kw):
    return i18n.t(key, "en", **kw)


async def begin(o) -> str:
    """Press the SSO button; return the provider URL the browser is sent to."""
    out = await drain(o.start())
    (url,) = redirects(out)
    assert o.error == "" and not o.busy
    return url


# --- the whole flow -----------------------------------------------------------------------------


async def test_button_then_callback_signs_in_and_goes_to_the_accounts(app_db, provider):
    from gazportal.state.oidc import OidcState

    uid = make_user(app_db)
    root, o, sess = await tab(PUBLIC_URL + "/signin")
    url = await begin(o)
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(provider.issuer + "/authorize?") and q["redirect_uri"] == CALLBACK
    assert q["state"] == o._pending_state and q["nonce"] == o._pending_nonce
    assert o._pending_verifier and o._pending_verifier not in url
    # The pending values are backend-only: never in what is sent to the browser.
    assert not any(name.startswith("_pending") for name in OidcState.vars)
    sent = str(root.dict())
    assert o._pending_state not in sent and o._pending_verifier not in sent and o._pending_nonce not in sent

    callback = provider_redirect(url)
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == ["/accounts"], o.error
    assert o.error == "" and not o.failed and not o.working
    # The session started exactly as the password sign-in starts it: browser-session cookie only.
    token = signed(out)
    assert token and token not in str(root.dict())
    who = auth.resolve_session(app_db, token, now=datetime.now().astimezone())
    assert who is not None and who.user_id == uid and not who.remember
    with read_session(app_db) as s:
        assert s.get(User, uid).oidc_subject == f"{provider.issuer}|user-1"
    # Single use: nothing pending any more.
    assert o._pending_state == o._pending_nonce == o._pending_verifier == o._pending_at == ""
    assert len(provider.token_requests) == 1


async def test_replayed_callback_is_refused(app_db, provider):
    make_user(app_db)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    goto(root, callback)
    first = await drain(o.callback())
    assert redirects(first) == ["/accounts"] and signed(first)
    # The same URL again (back button, a copied link): nothing is pending, so it is refused before
    # the code reaches the provider.
    out = await drain(o.callback())
    assert redirects(out) == [] and o.failed and o.error == en("errors.oidc_failed")
    assert signed(out) == "" and sessions(app_db) == 1 and len(provider.token_requests) == 1

    # In another tab (another client token) it is refused too.
    root2, o2, sess2 = await tab(callback)
    out = await drain(o2.callback())
    assert redirects(out) == [] and o2.error == en("errors.oidc_failed") and signed(out) == ""
    assert sessions(app_db) == 1


async def test_state_mismatch_is_refused_and_spends_the_pending_request(app_db, provider):
    make_user(app_db)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    q = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    forged = CALLBACK + "?" + urlencode({"code": q["code"], "state": q["state"][:-2] + "xx"})
    goto(root, forged)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.failed and o.error == en("errors.oidc_failed")
    assert signed(out) == "" and sessions(app_db) == 0
    assert provider.token_requests == []  # the code never left the portal
    # The honest callback afterwards finds nothing pending: one attempt per button press.
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.error == en("errors.oidc_failed") and sessions(app_db) == 0


async def test_values_other_than_code_and_state_are_not_taken_from_the_browser(app_db, provider):
    uid = make_user(app_db)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    verifier = o._pending_verifier
    # An attacker adds their own nonce and PKCE verifier to the query: ignored.
    goto(root, callback + "&" + urlencode({"nonce": "evil", "code_verifier": "e" * 60, "redirect_uri": "https://evil"}))
    out = await drain(o.callback())
    assert redirects(out) == ["/accounts"] and signed(out)
    (req,) = provider.token_requests
    assert req["form"]["code_verifier"] == verifier and req["form"]["redirect_uri"] == CALLBACK
    assert auth.resolve_session(app_db, signed(out), now=datetime.now().astimezone()).user_id == uid


async def test_cancelled_at_the_provider(app_db, provider):
    make_user(app_db)
    root, o, sess = await tab()
    await begin(o)
    goto(root, CALLBACK + "?" + urlencode({"error": "access_denied", "state": o._pending_state}))
    out = await drain(o.callback())
    assert redirects(out) == [] and o.failed and o.error == en("errors.oidc_cancelled")
    assert signed(out) == "" and sessions(app_db) == 0 and provider.token_requests == []
    assert o._pending_state == ""


async def test_expired_pending_request_is_refused(app_db, provider):
    make_user(app_db)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    created = datetime.fromisoformat(o._pending_at)
    o._pending_at = (created - timedelta(minutes=10, seconds=5)).isoformat()  # pressed 10 min ago
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.failed and o.error == en("errors.oidc_failed")
    assert signed(out) == "" and sessions(app_db) == 0 and provider.token_requests == []


async def test_pending_request_just_within_ten_minutes_still_works(app_db, provider):
    make_user(app_db)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    created = datetime.fromisoformat(o._pending_at)
    o._pending_at = (created - timedelta(minutes=9, seconds=30)).isoformat()
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == ["/accounts"] and signed(out)


@pytest.mark.parametrize("pending_at", ["", "not a time", "2030-01-01T00:00:00", "2999-01-01T00:00:00+00:00"])
async def test_broken_or_future_pending_time_is_refused(app_db, provider, pending_at):
    make_user(app_db)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    o._pending_at = pending_at
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.error == en("errors.oidc_failed") and signed(out) == ""


async def test_callback_without_a_button_press_is_refused(app_db, provider):
    """Login CSRF: an attacker's own code and state, opened in the victim's browser."""
    make_user(app_db)
    attacker_root, attacker, _ = await tab()
    callback = provider_redirect(await begin(attacker))  # the attacker's sign-in, not completed
    root, o, sess = await tab(callback)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.error == en("errors.oidc_failed") and signed(out) == ""
    assert provider.token_requests == []


@pytest.mark.parametrize("query", ["", "?state=&code=", "?code=abc", "?state=" + "s" * 5000 + "&code=c"])
async def test_garbage_callbacks_are_refused(app_db, provider, query):
    make_user(app_db)
    root, o, sess = await tab()
    await begin(o)
    goto(root, CALLBACK + query)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.error == en("errors.oidc_failed") and signed(out) == ""
    assert provider.token_requests == [] and o._pending_state == ""


async def test_unknown_identity_is_told_to_register_first(app_db, provider):
    make_user(app_db, email="someone-else@example.kz")
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.failed and o.error == en("errors.oidc_register_first")
    assert signed(out) == "" and sessions(app_db) == 0


async def test_bad_id_token_is_refused(app_db, provider):
    make_user(app_db)
    provider.id_token_hook = lambda header, claims: (header, {**claims, "aud": "another-client"}, provider.rsa)
    root, o, sess = await tab()
    callback = provider_redirect(await begin(o))
    goto(root, callback)
    out = await drain(o.callback())
    assert redirects(out) == [] and o.error == en("errors.oidc_failed") and signed(out) == ""
    assert sessions(app_db) == 0


async def test_message_in_the_chosen_language(app_db, provider):
    from gazportal.state.i18n import I18nState

    root, o, sess = await tab(CALLBACK + "?code=x&state=y")
    (await root.get_state(I18nState)).lang_pref = "ru"
    await drain(o.callback())
    assert o.error == i18n.t("errors.oidc_failed", "ru") != en("errors.oidc_failed")


async def test_reset_messages_on_the_sign_in_page(app_db, provider):
    root, o, sess = await tab(CALLBACK)
    await drain(o.callback())
    assert o.failed and o.error
    await drain(o.reset_messages())
    assert not o.failed and o.error == "" and not o.busy and not o.working


# --- the button when single sign-on is off or the provider is down ------------------------------


async def test_button_without_configuration_says_so(sqlite_engine, monkeypatch, tmp_path):
    from gazportal import db, settings

    _point_app(monkeypatch, tmp_path, sqlite_engine, None)
    try:
        root, o, sess = await tab()
        out = await drain(o.start())
        assert redirects(out) == [] and o.error == en("errors.oidc_not_configured") and o._pending_state == ""
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()
        db.get_engine.cache_clear()


async def test_provider_down(sqlite_engine, monkeypatch, tmp_path):
    import socket

    from gazportal import db, settings

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _point_app(monkeypatch, tmp_path, sqlite_engine, f"http://127.0.0.1:{port}")
    oidc.clear_cache()
    try:
        root, o, sess = await tab()
        out = await drain(o.start())
        assert redirects(out) == [] and o.error == en("errors.oidc_unavailable") and not o.busy
        assert o._pending_state == ""
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()
        db.get_engine.cache_clear()


def test_enabled_only_with_issuer_id_and_secret():
    from gazportal.settings import get_settings
    from gazportal.state.oidc import oidc_enabled

    s = get_settings()
    full = dataclasses.replace(s, oidc=dataclasses.replace(s.oidc, issuer="https://id.example", client_id="c",
                                                           client_secret="x"))
    assert oidc_enabled(full)
    for missing in ("issuer", "client_id", "client_secret"):
        assert not oidc_enabled(dataclasses.replace(full, oidc=dataclasses.replace(full.oidc, **{missing: None})))


def test_sign_in_page_shows_the_button_only_when_configured(monkeypatch, tmp_path, sqlite_engine):
    from gazportal import db, settings
    from gazportal.pages.signin import signin

    try:
        _point_app(monkeypatch, tmp_path, sqlite_engine, "https://id.example")
        assert "oidc-start" in str(signin())
        _point_app(monkeypatch, tmp_path, sqlite_engine, "https://id.example", secret=None)
        assert "oidc-start" not in str(signin())
        _point_app(monkeypatch, tmp_path, sqlite_engine, None)
        assert "oidc-start" not in str(signin())
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()
        db.get_engine.cache_clear()


def test_gate_lets_only_the_three_handlers_through():
    from gazportal.state import gate
    from gazportal.state.oidc import OidcState

    name = OidcState.get_full_name()
    for handler in ("start", "callback", "reset_messages"):
        assert gate.access_of(f"{name}.{handler}") == gate.PUBLIC
    for handler in ("_take", "_keep", "setvar", "set_error", "_fail"):
        assert gate.access_of(f"{name}.{handler}") is None
