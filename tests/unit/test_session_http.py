"""The session cookie over HTTP (gazportal/session_http.py) and identity from the request: the
cookie is HttpOnly and set by an HTTP answer to a one-time hand-over code; a tab's state holds no
one's data unless the event's own connection carries that person's cookie."""
from __future__ import annotations

import warnings

import pytest
from typing import ClassVar

import reflex as rx
from reflex.state import State
from reflex_base.event import Event

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what Reflex brings
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from gazportal.models._base import utcnow
from gazportal.services import auth
from gazportal.services.auth import handoff as session_handoff
from gazportal.session_http import COOKIE, session_routes, token_from_cookie_header
from gazportal.state.contract import CUSTOMER, PUBLIC, Ctx, handler
from gazportal.state.gate import EventGate
from gazportal.state.session import SessionState, personal_states
from tests.conftest import cookie_for
from tests.conftest import make_user

PASSWORD = "Sturdy-Lantern-42"
ORIGIN = "http://localhost:3000"


class DiaryState(rx.State):
    """A page state with a customer's data."""

    PERSONAL: ClassVar[bool] = True
    secret: str = ""
    _backend_secret: str = ""

    @rx.event
    @handler(CUSTOMER)
    def fill(self, ctx: Ctx):
        self.secret = f"balance of {ctx.user.login}"
        self._backend_secret = "meter 123"

    @rx.event
    @handler(PUBLIC)
    def look(self, ctx: Ctx):
        return None


def _user(engine, login: str) -> None:
    make_user(engine, login, password=PASSWORD)


def _token(engine, login: str, remember: bool = False) -> str:
    from gazportal.settings import get_settings

    return auth.sign_in(engine, get_settings().utility, login, PASSWORD, remember=remember, now=utcnow()).token


async def _app(scope, receive, send):  # what the portal would answer for anything else
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page"})


def _client() -> TestClient:
    return TestClient(session_routes(_app), base_url=ORIGIN)


# --- the cookie ------------------------------------------------------------------------------------


def test_the_cookie_is_read_from_the_header_only_when_it_is_ours():
    t = "A" * 43
    assert token_from_cookie_header(f"{COOKIE}={t}") == t
    assert token_from_cookie_header(f"theme=dark; {COOKIE}={t}; x=1") == t
    assert token_from_cookie_header(f'bad"cookie=1; {COOKIE}={t}') == t  # another site's broken cookie
    for junk in ("", None, 5, f"{COOKIE}=short", f"other={t}", f"{COOKIE}=' OR 1=1", "x" * 10_000):
        assert token_from_cookie_header(junk) is None


def test_a_hand_over_code_sets_an_httponly_cookie_once(app_db, fast_hashing):
    _user(app_db, "anna@example.kz")
    code = session_handoff.issue(app_db, _token(app_db, "anna@example.kz"), now=utcnow())
    with _client() as c:
        r = c.post("/_gp/session", json={"code": code}, headers={"Origin": ORIGIN})
        assert r.status_code == 204
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Path=/" in cookie and "Max-Age" not in cookie  # no "remember me": a browser-session cookie
        token = cookie.split(";")[0].split("=", 1)[1]
        assert auth.resolve_session(app_db, token, now=utcnow()).login == "anna@example.kz"
        again = c.post("/_gp/session", json={"code": code}, headers={"Origin": ORIGIN})
        assert again.status_code == 403 and "set-cookie" not in again.headers


def test_remember_me_gets_a_max_age(app_db, fast_hashing):
    _user(app_db, "anna@example.kz")
    code = session_handoff.issue(app_db, _token(app_db, "anna@example.kz", remember=True), now=utcnow())
    with _client() as c:
        r = c.post("/_gp/session", json={"code": code}, headers={"Origin": ORIGIN})
    assert r.status_code == 204 and "Max-Age=" in r.headers["set-cookie"]


def test_the_session_endpoints_refuse_other_origins_methods_and_junk(app_db, fast_hashing):
    _user(app_db, "anna@example.kz")
    code = session_handoff.issue(app_db, _token(app_db, "anna@example.kz"), now=utcnow())
    with _client() as c:
        assert c.post("/_gp/session", json={"code": code}, headers={"Origin": "https://evil.example"}).status_code == 403
        assert c.post("/_gp/session", json={"code": code}).status_code == 403  # no Origin
        assert c.get("/_gp/session").status_code == 405
        for body in (b"", b"[]", b'{"code": 5}', b"x" * 5000, b'{"code": "' + b"A" * 43 + b'"}'):
            r = c.post("/_gp/session", content=body, headers={"Origin": ORIGIN, "Content-Type": "application/json"})
            assert r.status_code in (400, 403) and "set-cookie" not in r.headers
        # the honest code still works after all that
        assert c.post("/_gp/session", json={"code": code}, headers={"Origin": ORIGIN}).status_code == 204
        assert c.get("/anything").text == "page"


def test_sign_out_revokes_and_clears_the_cookie(app_db, fast_hashing):
    _user(app_db, "anna@example.kz")
    token = _token(app_db, "anna@example.kz")
    with _client() as c:
        r = c.post("/_gp/signout", headers={"Origin": ORIGIN, "Cookie": f"{COOKIE}={token}"})
    assert r.status_code == 204 and "Max-Age=0" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    assert auth.resolve_session(app_db, token, now=utcnow()) is None


# --- identity from the request ------------------------------------------------------------------


async def _event(root: State, handler_name: str, token: str | None):
    ev = Event(name=f"{DiaryState.get_full_name()}.{handler_name}", payload={}, router_data=cookie_for(token))
    root.router_data = cookie_for(token)
    update = await EventGate().preprocess(app=None, state=root, event=ev)
    if update is None:
        await getattr(await root.get_state(DiaryState), handler_name)()
    return update


def test_personal_states_are_found():
    assert DiaryState in personal_states()


async def test_a_tab_without_the_cookie_sees_nobodys_data(app_db, fast_hashing):
    """The client token alone (a reconnect with ?token=T and no cookie, or after a sign-out) gets
    an empty state: the personal states are wiped before the event (a hydrate too) runs."""
    _user(app_db, "anna@example.kz")
    token = _token(app_db, "anna@example.kz")
    root = State()
    assert await _event(root, "fill", token) is None
    diary = await root.get_state(DiaryState)
    assert diary.secret == "balance of anna@example.kz" and diary._backend_secret
    assert (await root.get_state(SessionState)).signed_in

    await _event(root, "look", None)  # the same tab's state, an event without the cookie
    assert diary.secret == "" and diary._backend_secret == ""
    assert not (await root.get_state(SessionState)).signed_in

    update = await _event(root, "fill", None)  # and it cannot fill it again
    assert update is not None and diary.secret == ""


async def test_another_users_cookie_on_the_same_tab_sees_only_their_own_data(app_db, fast_hashing):
    _user(app_db, "anna@example.kz")
    _user(app_db, "boris@example.kz")
    root = State()
    await _event(root, "fill", _token(app_db, "anna@example.kz"))
    await _event(root, "look", _token(app_db, "boris@example.kz"))
    assert (await root.get_state(DiaryState)).secret == ""
    await _event(root, "fill", _token(app_db, "boris@example.kz"))
    assert (await root.get_state(DiaryState)).secret == "balance of boris@example.kz"


async def test_sign_out_wipes_the_tab(app_db, fast_hashing):
    _user(app_db, "anna@example.kz")
    token = _token(app_db, "anna@example.kz")
    root = State()
    await _event(root, "fill", token)
    session = await root.get_state(SessionState)
    out = await session.sign_out()
    assert "/_gp/signout" in str(out)
    assert (await root.get_state(DiaryState)).secret == "" and not session.signed_in
    assert auth.resolve_session(app_db, token, now=utcnow()) is None


async def test_an_upload_goes_on_only_with_the_tabs_own_users_cookie(app_db, fast_hashing):
    """/_upload: the request's cookie must name the user the tab (its client token) belongs to; the
    tab's token with no cookie, or with another user's cookie, is refused before the body is read."""
    import uuid

    from reflex.istate.manager.token import BaseStateToken

    from gazportal.gazportal import app
    from gazportal.web import guard

    _user(app_db, "anna@example.kz")
    _user(app_db, "boris@example.kz")
    anna, boris = _token(app_db, "anna@example.kz"), _token(app_db, "boris@example.kz")
    tab = str(uuid.uuid4())
    async with app.state_manager.modify_state(BaseStateToken(ident=tab, cls=State)) as root:
        await _event(root, "fill", anna)  # the tab's websocket, signed in as Anna
    assert await guard._upload_allowed(f"{COOKIE}={anna}", tab) is True
    assert await guard._upload_allowed(f"{COOKIE}={boris}", tab) is False
    assert await guard._upload_allowed("", tab) is False
    assert await guard._upload_allowed(f"{COOKIE}={anna}", str(uuid.uuid4())) is False  # another tab
    assert await guard._upload_allowed(f"{COOKIE}={anna}", "") is False


def test_every_page_state_with_a_customers_data_is_wiped_with_the_user():
    import gazportal.gazportal  # noqa: F401
    from gazportal.state.accounts import AccountsState
    from gazportal.state.dashboard import DashboardState
    from gazportal.state.messages import MessagesState
    from gazportal.state.statistics import StatementState, StatisticsState
    from gazportal.state.user_profile import ProfileState

    assert {AccountsState, DashboardState, MessagesState, StatisticsState, StatementState,
            ProfileState} <= set(personal_states())


def test_submission_ids_are_used_once_across_tabs_and_old_ones_go(app_db):
    from datetime import timedelta

    import sqlalchemy as sa

    from gazportal.services import submissions

    now = utcnow()
    assert submissions.use(app_db, "A" * 22, now=now) is True
    assert submissions.use(app_db, "A" * 22, now=now) is False
    assert submissions.use(app_db, "B" * 22, now=now + submissions.KEEP + timedelta(seconds=1)) is True
    with app_db.connect() as c:  # the day-old id went on the way
        assert c.execute(sa.text("SELECT id FROM used_submission")).scalars().all() == ["B" * 22]
    for bad in ("", "x" * 65):
        with pytest.raises(ValueError):
            submissions.use(app_db, bad, now=now)
