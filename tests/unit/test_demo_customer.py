"""Issue 14 point 2: a demo anyone can open. The demo customer (two accounts, a debt, every service
the profile has between them), made once per database for every shipped profile; the start page's
"try the demo" signs in as them in demo mode only."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from gazportal.db import read_session
from gazportal.demo import generate_demo
from gazportal.models import Meter, User, UserAccountLink
from gazportal.services import auth, passwords
from gazportal.services.auth.demo import DEMO_PASSWORD, NoDemoAccounts, demo_login, ensure_demo_customer
from gazportal.services.billing import debt_at
from gazportal.settings import UtilityError, available_utilities, get_settings, load_utility
from tests.conftest import drain, state_of

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("utility_id", available_utilities())
def test_the_demo_customer_of_every_profile(sqlite_engine, utility_id):
    engine, utility = sqlite_engine, load_utility(utility_id)
    with pytest.raises(NoDemoAccounts):  # no demo data yet: said, nothing made
        ensure_demo_customer(engine, utility, now=NOW)
    assert demo_login(engine) is None
    generate_demo(engine, utility, accounts=30, months=6, seed=3, last_period="2026-10", batch_size=30)
    first = ensure_demo_customer(engine, utility, now=NOW)
    assert ensure_demo_customer(engine, utility, now=NOW) == first  # once per database
    assert len(first.accounts) == 2 and demo_login(engine) == first.login
    passwords.check_password_policy(utility, DEMO_PASSWORD)  # the profile's own rules accept it
    signed = auth.sign_in(engine, utility, first.login, DEMO_PASSWORD, now=NOW)
    assert signed.token
    with read_session(engine) as s:
        user = s.exec(select(User).where(User.login == first.login)).one()
        assert user.is_active and user.kind == "person"
        ids = s.exec(select(UserAccountLink.account_id).where(UserAccountLink.user_id == user.id)).all()
        services = set(s.exec(select(Meter.service).where(Meter.account_id.in_(ids))).all())
        assert services == set(utility.services)
        assert max(debt_at(s, i, NOW.date(), utility.tz) for i in ids) > 0  # a debt to see


def test_demo_mode_is_off_unless_asked(monkeypatch):
    for raw, on in (("", False), ("0", False), ("no", False), ("1", True), ("true", True)):
        monkeypatch.setenv("GAZPORTAL_DEMO", raw)
        get_settings.cache_clear()
        assert get_settings().demo is on
    monkeypatch.setenv("GAZPORTAL_DEMO", "maybe")
    get_settings.cache_clear()
    with pytest.raises(UtilityError):
        get_settings()
    monkeypatch.delenv("GAZPORTAL_DEMO")
    get_settings.cache_clear()


async def test_try_the_demo_signs_in_only_in_demo_mode(app_db, monkeypatch):
    from gazportal.models import AuthSession
    from gazportal.state.demo import DemoState

    utility = get_settings().utility
    generate_demo(app_db, utility, accounts=20, months=3, seed=2, last_period="2026-10", batch_size=20)
    ensure_demo_customer(app_db, utility, now=datetime.now(UTC))

    def sessions() -> int:
        with read_session(app_db) as s:
            return len(s.exec(select(AuthSession)).all())

    s = await state_of(DemoState)
    assert await drain(s.enter()) == [] and sessions() == 0  # demo mode off: nothing
    monkeypatch.setenv("GAZPORTAL_DEMO", "1")
    get_settings.cache_clear()
    out = await drain(s.enter())
    assert sessions() == 1 and s.error == ""
    assert any("/_gp/session" in repr(step) for step in out)  # the hand-over to the cookie


def test_the_shared_demo_customer_keeps_its_password_and_details_in_demo_mode(sqlite_engine, tmp_path):
    """Found by this session's attacker: "Try the demo", then a password change, locked every other
    visitor out of the demo (and an e-mail change would have moved its login). In demo mode the
    demo customer's password, e-mail, phone and profile stay as printed; out of demo mode (a
    database that happens to have the address) nothing is refused. Checked by calling the services."""
    import dataclasses

    from gazportal.services.auth.demo import DemoReadOnly
    from tests.unit.test_auth_kit import make_settings

    engine = sqlite_engine
    utility = load_utility("default")
    generate_demo(engine, utility, accounts=30, months=3, seed=3, last_period="2026-10", batch_size=30)
    who = ensure_demo_customer(engine, utility, now=NOW)
    with read_session(engine) as s:
        user = s.exec(select(User).where(User.login == who.login)).one()
    before = (user.password_hash, user.email, user.phone, user.surname)
    off = make_settings(tmp_path, utility)
    on = dataclasses.replace(off, demo=True)
    new = "Hijacked-Demo-2026!x"
    with pytest.raises(DemoReadOnly):
        auth.change_password(engine, utility, user.id, DEMO_PASSWORD, new, new, now=NOW, settings=on)
    with pytest.raises(DemoReadOnly):
        auth.update_user_profile(engine, utility, user.id, {"email": "thief@example.kz"}, now=NOW, settings=on,
                                 current_password=DEMO_PASSWORD)
    with pytest.raises(DemoReadOnly):
        auth.update_user_profile(engine, utility, user.id, {"surname": "Вор"}, now=NOW, settings=on)
    with read_session(engine) as s:
        after = s.exec(select(User).where(User.id == user.id)).one()
        assert (after.password_hash, after.email, after.phone, after.surname) == before
    assert auth.sign_in(engine, utility, who.login, DEMO_PASSWORD, now=NOW).token
    # control: the same call out of demo mode changes the password
    auth.change_password(engine, utility, user.id, DEMO_PASSWORD, new, new, now=NOW, settings=off)
    assert auth.sign_in(engine, utility, who.login, new, now=NOW).token
