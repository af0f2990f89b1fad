"""The language is the user's: applied on sign-in from the saved profile, saved on a switch while
signed in; the browser's garbage changes nothing. States called directly on a real SQLite DB."""
from __future__ import annotations

import math

import pytest
from reflex.state import State

from gazportal.db import read_session, write_session
from gazportal.models import User
from tests.conftest import cookie_for
from gazportal.services import auth
from tests.conftest import make_user
from tests.conftest import drain

PASSWORD = "Sturdy-Lantern-42"
LOGIN = "olena@example.kz"
GARBAGE = [None, 5, 1.5, math.nan, "", "RU", "ru ", "de", "zz", ["ru"], {"lang": "ru"}, "r" * 10_000]


pytestmark = pytest.mark.usefixtures("fast_hashing")  # cheap argon2 (tests/conftest.py)


def _utility():
    from gazportal.settings import get_settings

    return get_settings().utility


def _user(engine, login=LOGIN, language="ru") -> int:
    return make_user(engine, login, password=PASSWORD, surname="Коваль", name="Олена", language=language)


def _saved(engine, uid: int) -> str:
    with read_session(engine) as s:
        return s.get(User, uid).language


async def _states(token: str = ""):
    from gazportal.state.i18n import I18nState
    from gazportal.state.session import SessionState
    from gazportal.state.signin import SignInState

    import gazportal.state.gate  # noqa: F401

    root = State()
    root.router_data = cookie_for(token)
    sess = await root.get_state(SessionState)
    return await root.get_state(SignInState), sess, await root.get_state(I18nState)


def _token(engine, login=LOGIN) -> str:
    from gazportal.models._base import utcnow

    return auth.sign_in(engine, _utility(), login, PASSWORD, remember=False, now=utcnow()).token


def test_the_default_profile_has_the_languages_these_tests_use(app_db):
    assert {"ru", "en"} <= set(_utility().languages) and _utility().default_language != "ru"


async def test_sign_in_switches_to_the_users_saved_language(app_db):
    _user(app_db, language="ru")
    signin, sess, i18n = await _states()
    i18n.lang_pref = "en"  # what the browser had before
    out = await drain(signin.submit({"login": LOGIN, "password": PASSWORD}))
    assert "/accounts" in repr(out) and "/_gp/session" in repr(out)
    assert i18n.lang_pref == "ru" and i18n.lang == "ru"


async def test_a_failed_sign_in_leaves_the_language_alone(app_db):
    _user(app_db, language="ru")
    signin, sess, i18n = await _states()
    i18n.lang_pref = "en"
    out = await drain(signin.submit({"login": LOGIN, "password": "wrong-password-1"}))
    assert "/_gp/session" not in repr(out) and i18n.lang_pref == "en"


async def test_a_saved_language_the_profile_no_longer_has_is_not_adopted(app_db):
    uid = _user(app_db, language="ru")
    with write_session(app_db) as s:  # e.g. a language dropped from the profile later
        s.get(User, uid).language = "uk" if "uk" not in _utility().languages else "zz"
    signin, sess, i18n = await _states()
    i18n.lang_pref = "en"
    out = await drain(signin.submit({"login": LOGIN, "password": PASSWORD}))
    assert "/_gp/session" in repr(out) and i18n.lang_pref == "en"


async def test_switching_while_signed_in_saves_the_language(app_db):
    uid = _user(app_db, language="ru")
    _, _, i18n = await _states(_token(app_db))
    events = await i18n.set_language("en")
    assert i18n.lang_pref == "en" and "remember_language" in repr(events)
    await i18n.remember_language("en")  # the chained event, as the browser sends it back
    assert _saved(app_db, uid) == "en"
    await i18n.remember_language("ru")
    assert _saved(app_db, uid) == "ru"


async def test_a_guest_switch_saves_nothing(app_db):
    uid = _user(app_db, language="ru")
    for token in ("", "not-a-token", "A" * 43):
        _, _, i18n = await _states(token)
        assert await i18n.set_language("en") is not None and i18n.lang_pref == "en"
        await i18n.remember_language("en")
    assert _saved(app_db, uid) == "ru"


async def test_a_revoked_session_saves_nothing(app_db):
    from gazportal.models._base import utcnow

    uid = _user(app_db, language="ru")
    token = _token(app_db)
    auth.sign_out(app_db, token, now=utcnow())
    _, _, i18n = await _states(token)
    await i18n.remember_language("en")
    assert _saved(app_db, uid) == "ru"


@pytest.mark.parametrize("bad", GARBAGE)
async def test_garbage_is_refused(app_db, bad):
    uid = _user(app_db, language="ru")
    _, _, i18n = await _states(_token(app_db))
    i18n.lang_pref = "ru"
    assert await i18n.set_language(bad) is None
    await i18n.remember_language(bad)
    assert i18n.lang_pref == "ru" and _saved(app_db, uid) == "ru"


async def test_the_handlers_are_declared_in_the_gate():
    from gazportal.state.gate import PUBLIC, access_of
    from gazportal.state.i18n import I18nState

    for handler in ("set_language", "remember_language"):
        assert access_of(f"{I18nState.get_full_name()}.{handler}") == PUBLIC
    assert access_of(f"{I18nState.get_full_name()}._adopt") is None
