"""Lighthouse (mobile preset) on the portal's pages against a blank Reflex page, in one run.

    python bench/lighthouse.py [--runs 3] [--profile default] [--pages /,/signin,...]

Prints, per page, the median of ``--runs`` Lighthouse runs: the four category scores, first and
largest contentful paint, total blocking time, speed index and the bytes transferred, then the
performance ratio against the blank page measured in the same run. Not a test: the figures depend
on the machine, so run it when nothing else is (the e2e suite running beside it halves them).

What it starts (and stops at the end):

* the blank page: ``reflex init --template blank`` (Reflex's own starter, as a new project gets
  it) in a cached folder, ``reflex run --env prod``;
* the portal: ``reflex run --env prod`` with the profile, demo data (30 accounts) in a temporary
  SQLite file (the e2e fixture's start-up, tests/e2e/conftest.run_portal);
* Debian's Chromium with a remote-debugging port; Lighthouse 12 drives it (installed into
  .tools/lighthouse/ on first use: ``npm install lighthouse@12``).

Signed-in pages (/accounts, /dashboard, /statistics, ...) are measured with a customer's session
cookie set in that Chromium; before each of their runs the cache, the service worker and its
caches are cleared (Lighthouse's own reset would clear the cookie too), so every run is cold.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import _answers, _free_port, run_portal, stop_process_group  # noqa: E402  (tests/e2e: the portal as the e2e suite starts it)

TOOLS = ROOT / ".tools"
LH_DIR = TOOLS / "lighthouse"
LH_BIN = LH_DIR / "node_modules" / ".bin" / "lighthouse"
CACHE = Path(os.environ.get("GAZPORTAL_E2E_CACHE", Path(tempfile.gettempdir()) / "gazportal-e2e"))
CHROMIUM = os.environ.get("GAZPORTAL_E2E_CHROMIUM", "/usr/bin/chromium")
PUBLIC_PAGES = ["/", "/signin", "/register", "/confirm", "/recover", "/agreement", "/contacts"]
SIGNED_IN_PAGES = ["/accounts", "/dashboard", "/statistics", "/statement", "/messages", "/feedback", "/support",
                   "/profile", "/password"]
PASSWORD = "Sturdy-Lantern-42"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFLEX_", "GAZPORTAL_"))}
    env["PATH"] = f"{TOOLS / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    return env


def ensure_lighthouse() -> None:
    if not LH_BIN.exists():
        print("installing lighthouse@12 into .tools/lighthouse/ ...", flush=True)
        LH_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(LH_DIR), "--no-audit", "--no-fund", "--loglevel=error",
                        "lighthouse@12"], check=True)


def start_blank(port: int) -> subprocess.Popen:
    """Reflex's blank starter app in production mode on ``port``."""
    folder = CACHE / "blank-app"
    if not (folder / "rxconfig.py").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "reflex", "init", "--template", "blank"], cwd=folder, env=_env(),
                       check=True, capture_output=True)
    log = open(folder / "run.log", "wb")  # noqa: SIM115 (kept open for the process)
    proc = subprocess.Popen([sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port)],
                            cwd=folder, env=_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while not (_answers(url + "/") and _answers(url + "/ping")):
        if proc.poll() is not None or time.monotonic() - started > 600:
            raise SystemExit(f"the blank app did not start:\n{(folder / 'run.log').read_text(errors='replace')[-3000:]}")
        time.sleep(1)
    return proc


def customer_session(portal) -> tuple[str, int]:
    """A signed-in customer with a demo account (charges, meters, payments): the session token
    and the account id."""
    from sqlmodel import select

    from gazportal.db import make_engine, write_session
    from gazportal.models import Account, Charge, User, UserAccountLink
    from gazportal.services import auth
    from gazportal.services.passwords import hash_password
    from gazportal.settings import load_utility

    utility = load_utility(portal.utility_id)
    engine = make_engine(portal.db_url)
    try:
        with write_session(engine) as s:
            charged = set(s.exec(select(Charge.account_id)).all())
            acc = next(a for a in s.exec(select(Account).where(Account.kind == "person").order_by(Account.id)).all()
                       if a.id in charged)
            login = acc.number if utility.login_identifier == "account" else (
                "+380501234567" if utility.login_identifier == "phone" else "bench@example.org")
            user = User(login=login, email="bench@example.org", phone=login if login.startswith("+") else None,
                        password_hash=hash_password(PASSWORD), surname="Тестова", name="Анна", is_active=True,
                        email_verified=True, phone_verified=login.startswith("+"), language=utility.default_language,
                        created_at=datetime.now(UTC) - timedelta(days=1))
            s.add(user)
            s.flush()
            s.add(UserAccountLink(user_id=user.id, account_id=acc.id))
            account_id = acc.id
        token = auth.sign_in(engine, utility, login, PASSWORD, remember=False, now=datetime.now(UTC)).token
        return token, account_id
    finally:
        engine.dispose()


class Chromium:
    """Debian's Chromium with a DevTools port, for Lighthouse to drive (``--port``)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.utility_dir = tempfile.mkdtemp(prefix="lh-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--remote-debugging-port={self.port}",
             f"--user-data-dir={self.profile_dir}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{self.port}/json/version"):
            if time.monotonic() > deadline:
                raise SystemExit("Chromium did not open its DevTools port")
            time.sleep(0.2)

    def cdp(self, fn) -> None:
        """Run ``fn(context, cdp_session)`` in the browser (Playwright over CDP)."""
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{self.port}")
            context = browser.contexts[0]
            page = context.pages[0] if context.pages else context.new_page()
            fn(context, context.new_cdp_session(page))
            browser.close()  # disconnects; the browser keeps running

    def close(self) -> None:
        stop_process_group(self.proc)
        shutil.rmtree(self.utility_dir, ignore_errors=True)


def lighthouse(chromium: Chromium, url: str, *, keep_storage: bool) -> dict:
    args = [str(LH_BIN), url, f"--port={chromium.port}", "--output=json", "--output-path=stdout", "--quiet",
            "--form-factor=mobile", "--only-categories=performance,accessibility,best-practices,seo"]
    if keep_storage:
        args.append("--disable-storage-reset")
    out = subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"lighthouse failed on {url}:\n{out.stderr[-3000:]}")
    report = json.loads(out.stdout)
    cats, audits = report["categories"], report["audits"]
    return {
        "perf": cats["performance"]["score"] * 100,
        "a11y": cats["accessibility"]["score"] * 100,
        "bp": cats["best-practices"]["score"] * 100,
        "seo": cats["seo"]["score"] * 100,
        "fcp": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt": audits["total-blocking-time"]["numericValue"],
        "si": audits["speed-index"]["numericValue"] / 1000,
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "failed": sorted(k for k, a in audits.items()
                         if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"
                         and k in _category_audits(report, ("accessibility", "best-practices"))),
    }


def _category_audits(report: dict, names) -> set[str]:
    return {ref["id"] for name in names for ref in report["categories"][name]["auditRefs"]}


def measure(chromium: Chromium, url: str, runs: int, *, cookie: tuple[str, str] | None = None) -> dict:
    results = []
    for _ in range(runs):
        if cookie is not None:
            origin = url.split("/", 3)[:3]

            def reset(context, cdp, origin="/".join(origin)):
                cdp.send("Network.clearBrowserCache")
                cdp.send("Storage.clearDataForOrigin", {"origin": origin,
                                                        "storageTypes": "service_workers,cache_storage,local_storage"})
                context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": origin, "sameSite": "Strict",
                                      "httpOnly": True}])

            chromium.cdp(reset)
        results.append(lighthouse(chromium, url, keep_storage=cookie is not None))
    out = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "failed"}
    out["failed"] = sorted({a for r in results for a in r["failed"]})
    out["perf_runs"] = [r["perf"] for r in results]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--pages", default=",".join(PUBLIC_PAGES + SIGNED_IN_PAGES))
    opts = ap.parse_args()
    pages = [p.strip() for p in opts.pages.split(",") if p.strip()]

    ensure_lighthouse()
    load = os.getloadavg()[0]
    print(f"Lighthouse 12, mobile preset (simulated slow 4G, 4x CPU), median of {opts.runs} runs; "
          f"{os.cpu_count()} cores, load average {load:.2f} at start", flush=True)
    blank_port = _free_port()
    print("starting the blank Reflex app ...", flush=True)
    blank = start_blank(blank_port)
    gen = None
    chromium = None
    try:
        print(f"starting the portal ({opts.profile}) ...", flush=True)
        gen = run_portal(opts.utility, Path(tempfile.mkdtemp(prefix="lh-portal-")))
        portal = next(gen)
        token, account_id = customer_session(portal)
        chromium = Chromium()
        rows: list[tuple[str, dict]] = []
        base = measure(chromium, f"http://127.0.0.1:{blank_port}/", opts.runs)
        rows.append(("blank Reflex page", base))
        for page in pages:
            signed_in = page in SIGNED_IN_PAGES
            path = f"{page}?account={account_id}" if page in ("/dashboard",) else page
            result = measure(chromium, portal.url + path, opts.runs,
                             cookie=("gp_session", token) if signed_in else None)
            rows.append((page + (" (signed in)" if signed_in else ""), result))
            print(f"  {page}: performance {result['perf']:.0f}", flush=True)
    finally:
        if chromium is not None:
            chromium.close()
        if gen is not None:
            next(gen, None)
        stop_process_group(blank)

    print()
    print(f"{'page':<28}{'perf':>6}{'a11y':>6}{'BP':>5}{'SEO':>5}{'FCP s':>7}{'LCP s':>7}{'TBT ms':>8}"
          f"{'SI s':>6}{'CLS':>6}{'KiB':>7}{'perf/blank':>12}  runs")
    for name, r in rows:
        ratio = r["perf"] / base["perf"] if base["perf"] else float("nan")
        print(f"{name:<28}{r['perf']:>6.0f}{r['a11y']:>6.0f}{r['bp']:>5.0f}{r['seo']:>5.0f}{r['fcp']:>7.2f}"
              f"{r['lcp']:>7.2f}{r['tbt']:>8.0f}{r['si']:>6.2f}{r['cls']:>6.3f}{r['kib']:>7.0f}{ratio:>12.2f}  "
              f"{','.join(f'{p:.0f}' for p in r['perf_runs'])}")
        if r["failed"]:
            print(f"{'':<28}failed audits: {', '.join(r['failed'])}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
