"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (when reachable).

Tests that take the ``engine`` fixture run once per backend. PostgreSQL is the local server on
127.0.0.1:5432, database ``test`` (GAZPORTAL_TEST_PG_URL overrides); each test gets a schema of
its own so parallel runs and leftovers never collide. Set GAZPORTAL_REQUIRE_PG=1 (the test
command does, and CI) to fail instead of skip when PostgreSQL is not there.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from gazportal.db import make_engine
import gazportal.state.gate  # noqa: E402,F401  (the shared states exist before any test makes a state tree)

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("GAZPORTAL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


PG_AVAILABLE = _pg_available()


def migrate(engine: sa.engine.Engine) -> None:
    """Apply the Alembic migrations (the same scripts `reflex db migrate` applies)."""
    from gazportal.db import migrate as apply

    apply(engine)


def _sqlite_engine(tmp_path: Path) -> sa.engine.Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    migrate(engine)
    return engine


def _pg_engine():
    schema = "t_" + secrets.token_hex(6)
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=25, max_overflow=10)
    migrate(engine)
    return engine, admin, schema


def _backends():
    params = [pytest.param("sqlite", id="sqlite")]
    marks = []
    if not PG_AVAILABLE and not os.environ.get("GAZPORTAL_REQUIRE_PG"):
        marks = [pytest.mark.skip(reason="PostgreSQL is not reachable at " + PG_URL)]
    params.append(pytest.param("postgresql", id="postgresql", marks=marks))
    return params


@pytest.fixture(params=_backends())
def engine(request, tmp_path):
    """A freshly migrated, empty database on each backend."""
    from gazportal.services import notify

    if request.param == "sqlite":
        eng = _sqlite_engine(tmp_path)
        yield eng
        notify.wait_idle()  # background work (mail, the purge after a registration) ends first
        eng.dispose()
        return
    if not PG_AVAILABLE:
        pytest.fail("PostgreSQL is required (GAZPORTAL_REQUIRE_PG=1) but not reachable at " + PG_URL)
    eng, admin, schema = _pg_engine()
    yield eng
    notify.wait_idle()
    eng.dispose()
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    """A migrated file-backed SQLite database only (for tests that need just one backend)."""
    eng = _sqlite_engine(tmp_path)
    yield eng
    eng.dispose()


# Handler tests that write (readings, linking, messages) run on PostgreSQL as well: in these
# modules every test that takes ``app_db`` is parametrised by backend, like ``engine``.
APP_DB_ON_BOTH_BACKENDS = {"test_dashboard_states.py", "test_account_states.py", "test_message_states.py",
                           "test_app_db.py", "test_login_states.py",
                           "test_source_states.py", "test_staff_states.py", "test_review_states.py",
                           "test_care_states.py", "test_payment_providers.py", "test_pay_states.py"}


def pytest_generate_tests(metafunc):
    if "app_backend" in metafunc.fixturenames and Path(str(metafunc.definition.fspath)).name in APP_DB_ON_BOTH_BACKENDS:
        metafunc.parametrize("app_backend", _backends(), indirect=True)


@pytest.fixture
def app_backend(request):
    """The backend ``app_db`` uses: SQLite unless the module is in APP_DB_ON_BOTH_BACKENDS."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def _pg_app_engine():
    """A migrated PostgreSQL schema of its own, and a URL that names it (for GAZPORTAL_DB_URL)."""
    if not PG_AVAILABLE:
        pytest.fail("PostgreSQL is required (GAZPORTAL_REQUIRE_PG=1) but not reachable at " + PG_URL)
    eng, admin, schema = _pg_engine()
    url = eng.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    yield eng, url
    eng.dispose()
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture
def app_db(app_backend, request, monkeypatch, tmp_path):
    """The app itself (settings, ``get_engine``) pointed at a migrated test database (SQLite, or
    PostgreSQL for the modules in APP_DB_ON_BOTH_BACKENDS' second run): the default profile,
    uploads and the outbox under tmp_path, no SMTP server. State tests call the handlers on it as
    the browser would."""
    from gazportal import db, settings
    from gazportal.services import notify

    if app_backend == "postgresql":
        eng, url = request.getfixturevalue("_pg_app_engine")
    else:
        eng = request.getfixturevalue("sqlite_engine")
        url = str(eng.url)
    monkeypatch.setenv("GAZPORTAL_DB_URL", url)
    monkeypatch.setenv("GAZPORTAL_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("GAZPORTAL_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.delenv("GAZPORTAL_SMTP_HOST", raising=False)
    monkeypatch.delenv("GAZPORTAL_PROFILE", raising=False)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield eng
    notify.wait_idle()  # mail sent in the background is out before the database goes
    db.get_engine().dispose()  # the app's own connections to the test database
    monkeypatch.undo()
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def session(engine):
    from gazportal.db import write_session

    with write_session(engine) as s:
        yield s


# --- shared factories for state tests -----------------------------------------------------------


def cookie_for(token: str | None) -> dict:
    """The router data of a connection whose handshake carried the session cookie ``token``
    (None: no cookie), as Reflex keeps it for the events of that connection."""
    headers = {"cookie": f"gp_session={token}"} if token else {}
    return {"headers": headers, "pathname": "/"}


async def state_of(state_cls, token: str | None = None, *, path: str = "/"):
    """A fresh state tree as a browser tab has it, signed in with ``token`` (a session token from
    ``auth.sign_in``) or not; returns the ``state_cls`` substate whose handlers the test calls."""
    from reflex.state import State

    root = State()
    data = cookie_for(token)
    data["pathname"] = path
    root.router_data = data
    return await root.get_state(state_cls)


def sign_in_token(engine, login: str, password: str) -> str:
    """A live session token for ``login`` (the default profile), as a sign-in makes it."""
    from datetime import UTC, datetime

    from gazportal.services import auth
    from gazportal.settings import get_settings

    return auth.sign_in(engine, get_settings().utility, login, password, remember=False,
                        now=datetime.now(UTC)).token


@pytest.fixture
def fast_hashing():
    """Cheap argon2 parameters for tests that create many users (the rules are the same)."""
    from gazportal.services import passwords

    old = passwords.use_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    yield passwords
    passwords.use_hasher(old)


# --------------------------------------------------------------------------------------------
# No silent skips: a case that did not run because a service was missing is said loudly at the
# end of the run (the test command sets GAZPORTAL_REQUIRE_PG=1, which turns these into failures).
# --------------------------------------------------------------------------------------------
_NOT_REACHABLE: list[str] = []  # skip reasons


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        if "not reachable" in str(report.longrepr[2]):
            _NOT_REACHABLE.append(str(report.longrepr[2]))


def pytest_terminal_summary(terminalreporter):
    if not _NOT_REACHABLE:
        return
    services = sorted({name for r in _NOT_REACHABLE for name in ("PostgreSQL", "Redis") if name in r})
    tr = terminalreporter
    tr.section(f"{len(_NOT_REACHABLE)} TESTS DID NOT RUN: {' and '.join(services)} not reachable",
               sep="!", red=True, bold=True)
    for reason in sorted(set(_NOT_REACHABLE)):
        tr.write_line(f"{_NOT_REACHABLE.count(reason)} × {reason.removeprefix('Skipped: ')}", red=True)
    tr.write_line("They were skipped, not passed.", red=True)
    tr.write_line("Start the services (scripts/services.sh) or set GAZPORTAL_REQUIRE_PG=1 to make this a "
                  "failure, as ./test.sh does.", red=True)


PASSWORD = "Sturdy-Lantern-42"


def add_user(s, login: str, *, password: str = PASSWORD, **fields) -> int:
    """A confirmed customer (a person, e-mail login, language en) in the open session ``s``;
    ``fields`` override any column (``is_active=False``, ``kind="legal"``, ``bin=...``). Returns
    the id. The password is hashed with whatever parameters are in force (``fast_hashing``)."""
    from gazportal.models import User
    from gazportal.services import identity, passwords

    values = dict(login=login, login_skeleton=identity.login_skeleton(login), email=login, surname="Иванова",
                  name="Анна", kind="person", is_active=True, email_verified=True, language="en")
    values.update(fields)
    user = User(password_hash=passwords.hash_password(password), **values)
    s.add(user)
    s.flush()
    return user.id


def make_user(engine, login: str, **fields) -> int:
    """:func:`add_user` in a transaction of its own."""
    from gazportal.db import write_session

    with write_session(engine) as s:
        return add_user(s, login, **fields)


async def drain(gen):
    """Run an event handler (plain, coroutine or async generator); return what it yielded."""
    out = []
    if hasattr(gen, "__anext__"):
        async for item in gen:
            out.append(item)
    elif hasattr(gen, "__await__"):
        out.append(await gen)
    else:
        out.append(gen)
    return [o for o in out if o is not None]
