"""End-to-end fixtures: the real portal in production mode, driven by Debian's Chromium.

Run them on their own (the sync Playwright API and pytest-asyncio do not mix)::

    python -m pytest -q tests/e2e -p no:asyncio

Each profile in GAZPORTAL_E2E_PROFILES (default "default,kremenchukgaz,shygysenergotrade") gets its own build,
because the profile is baked into the compiled pages. For each one the fixture migrates a fresh
SQLite file and starts::

    reflex run --env prod --frontend-port <free port>

(frontend and backend on that one port) with GAZPORTAL_PROFILE, GAZPORTAL_DB_URL,
GAZPORTAL_PUBLIC_URL=http://127.0.0.1:<port>, REFLEX_WEB_WORKDIR (a per-profile build directory
kept between runs under GAZPORTAL_E2E_CACHE, default /tmp/gazportal-e2e, so node_modules are
reused), REFLEX_STATES_WORKDIR, and PATH starting with .tools/node_modules/.bin (bun). It waits
until the page and the backend answer, and kills the whole process group at the end.
Screenshots go to tests/e2e/screenshots/.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"
AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CACHE = Path(os.environ.get("GAZPORTAL_E2E_CACHE", Path(tempfile.gettempdir()) / "gazportal-e2e"))
UTILITIES = [p.strip() for p in os.environ.get("GAZPORTAL_E2E_PROFILES", "default,kremenchukgaz,shygysenergotrade").split(",") if p.strip()]
START_TIMEOUT = float(os.environ.get("GAZPORTAL_E2E_START_TIMEOUT", "600"))
CHROMIUM = os.environ.get("GAZPORTAL_E2E_CHROMIUM", "/usr/bin/chromium")
# How long an expect() may wait for the page to get where it should (ms). Playwright's own default
# is a fixed 5 s whatever the page's default timeout is (new_page sets that one for actions only):
# on a loaded machine a submit that reloads the dashboard took longer, and the test failed while
# the page was still on its way (issue 13). A ceiling for a condition, not a condition.
EXPECT_TIMEOUT = float(os.environ.get("GAZPORTAL_E2E_EXPECT_TIMEOUT", "20000"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


_ON_ITS_OWN = "e2e runs on its own: python -m pytest tests/e2e -p no:asyncio"
_NOT_RUN: list[str] = []  # e2e tests collected in a run that cannot drive them (pytest-asyncio loaded)


def pytest_configure(config):
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT)


def pytest_collection_modifyitems(config, items):
    if config.pluginmanager.hasplugin("asyncio"):
        skip = pytest.mark.skip(reason=_ON_ITS_OWN)
        for item in items:
            if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
                item.add_marker(skip)
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple) and _ON_ITS_OWN in str(report.longrepr[2]):
        _NOT_RUN.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _NOT_RUN:
        tr = terminalreporter
        tr.section(f"{len(_NOT_RUN)} END-TO-END TESTS DID NOT RUN", sep="!", red=True, bold=True)
        tr.write_line("They cannot run next to pytest-asyncio, so this run fails. Run them on their own:",
                      red=True)
        tr.write_line("    python -m pytest -q tests/e2e -p no:asyncio", red=True)
        tr.write_line("or everything with ./test.sh; or leave them out: --ignore=tests/e2e (or -m 'not e2e').",
                      red=True)


def pytest_sessionfinish(session, exitstatus):
    """A plain `pytest` that skipped the end-to-end tests must not look like a green run."""
    if _NOT_RUN and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except Exception:
        return False


@dataclass
class Portal:
    utility_id: str
    url: str
    log: Path
    started_in: float
    db_url: str = ""  # the portal's database (tests may add users to it)
    outbox: Path | None = None

    def html(self, path: str = "/") -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode("utf-8")


def _lockfiles() -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (ROOT / "reflex.lock").glob("*") if p.is_file()}


def _restore_lock_formatting(before: dict[Path, bytes]) -> None:
    """A fresh build directory makes Reflex copy its package.json back to reflex.lock/ as one
    line of JSON; put the committed bytes back when the content is the same (a real change of
    the pins is left for a human to see)."""
    for path, old in before.items():
        try:
            new = path.read_bytes()
            if new != old and path.suffix == ".json" and json.loads(new) == json.loads(old):
                path.write_bytes(old)
        except (OSError, ValueError):
            pass


def _migrate(db_file: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from gazportal.db import make_engine
    from tests.conftest import migrate

    engine = make_engine(f"sqlite:///{db_file}")
    try:
        migrate(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=UTILITIES)
def portal(request, tmp_path_factory):
    """The portal for one profile, running in production mode on a free port."""
    yield from run_portal(request.param, tmp_path_factory.mktemp(f"portal-{request.param}"))


def run_portal(utility_id: str, tmp: Path, *, port: int | None = None, extra_env: dict[str, str] | None = None,
               build: str | None = None):
    """Start a portal; a generator that yields the Portal and stops it when resumed. ``extra_env``
    adds settings (e.g. GAZPORTAL_OIDC_*); ``build`` names a build directory of its own under CACHE,
    for pages compiled differently from the profile's usual ones (the SSO button)."""
    db_file = tmp / "portal.db"
    _migrate(db_file)
    subprocess.run(  # demo accounts, payments and the address directory
        [sys.executable, "-m", "gazportal.cli", "--db-url", f"sqlite:///{db_file}", "--profile", utility_id,
         "demo", "--accounts", "30", "--seed", "1"],
        cwd=ROOT, check=True, capture_output=True,
    )
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFLEX_", "GAZPORTAL_"))}
    env.update(
        PATH=f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}",
        GAZPORTAL_PROFILE=utility_id,
        GAZPORTAL_DB_URL=f"sqlite:///{db_file}",
        GAZPORTAL_PUBLIC_URL=url,
        GAZPORTAL_OUTBOX=str(tmp / "outbox"),
        REFLEX_WEB_WORKDIR=str(CACHE / (build or utility_id) / "web"),
        REFLEX_STATES_WORKDIR=str(tmp / "states"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    (CACHE / (build or utility_id)).mkdir(parents=True, exist_ok=True)
    log = tmp / "reflex.log"
    lockfiles = _lockfiles()
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we end all of it, and only it
        )
    try:
        while not (_answers(url + "/") and _answers(url + "/ping")):
            if proc.poll() is not None:
                pytest.fail(f"reflex exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"the portal did not answer in {START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(1)
        took = time.monotonic() - started
        _restore_lock_formatting(lockfiles)
        print(f"\n[e2e] {utility_id}: portal up at {url} after {took:.1f} s")
        yield Portal(utility_id=utility_id, url=url, log=log, started_in=took, db_url=f"sqlite:///{db_file}",
                     outbox=tmp / "outbox")
    finally:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen) -> None:
    """End a process started with ``start_new_session=True`` and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def portal_factory(tmp_path_factory):
    """For tests that need a portal with settings of their own: ``portal_factory(profile_id,
    port=..., extra_env=..., build=...)`` -> Portal (see run_portal); stopped after the module."""
    running = []

    def start(utility_id: str, **kwargs) -> Portal:
        gen = run_portal(utility_id, tmp_path_factory.mktemp(f"portal-{utility_id}"), **kwargs)
        running.append(gen)
        return next(gen)

    yield start
    for gen in reversed(running):
        next(gen, None)


@pytest.fixture(scope="session")
def whole_month_portal(tmp_path_factory):
    """``whole_month_portal(profile_id)`` -> the portal of a copy of that profile whose reading
    window is the whole month (helpers.whole_month_profile), started on first use and shared by
    every test of the session (test_readings, test_new_customer); its build is cached as
    <profile>-readings."""
    from helpers import whole_month_utility

    running: dict[str, Portal] = {}
    gens = []

    def get(utility_id: str) -> Portal:
        if utility_id not in running:
            path = whole_month_utility(utility_id, tmp_path_factory.mktemp(f"profile-{utility_id}"))
            gen = run_portal(utility_id, tmp_path_factory.mktemp(f"portal-{utility_id}-readings"),
                             extra_env={"GAZPORTAL_PROFILE": str(path)}, build=f"{utility_id}-readings")
            gens.append(gen)
            running[utility_id] = next(gen)
        return running[utility_id]

    yield get
    for gen in reversed(gens):
        next(gen, None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is not installed: npm install --prefix {ROOT / '.tools'} axe-core@4")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
