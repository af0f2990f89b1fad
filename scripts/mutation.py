"""Mutation testing of the rule modules with mutmut: how many deliberately broken versions of a
module its tests catch. Slow (minutes per module on 2 cores); not part of ./test.sh.

    .venv/bin/python scripts/mutation.py tariffs readings        # the modules to measure
    .venv/bin/python scripts/mutation.py --all --pg              # every module, PostgreSQL cases too
    .venv/bin/python scripts/mutation.py tariffs --rev 5a79159   # the code and tests of a commit
    .venv/bin/python scripts/mutation.py billing_io --only 'x__parse_*' --only 'xǁ_Importerǁ*'  # a subset

For each module: a scratch copy of the project (the tracked files of the working tree, or of
``--rev``) in ``$TMPDIR/gazportal-mutation/<module>``, a ``setup.cfg`` telling mutmut to mutate only
that module and to run only the test files that cover it, ``mutmut run``, then one line::

    tariffs: 117 mutants, 83 killed, 34 survived, 0 no tests, 0 timeout -> 70.9 %

and the surviving mutants' names (``cd`` into the scratch copy and ``mutmut show NAME`` for the
change; docs/testing.md lists them with why each is harmless or which test now kills it).
Score = (killed + timeout) / (mutants - skipped). PostgreSQL cases are deselected unless ``--pg``
(each makes a schema of its own: much slower, and the rules are the same on both backends).
Exit status 1 when a module scores below ``--fail-under`` (default 0: report only).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module key -> (the file to mutate, the test files that cover it)
MODULES: dict[str, tuple[str, list[str]]] = {
    "tariffs": ("gazportal/services/tariffs.py", ["tests/unit/test_tariffs.py"]),
    "readings": ("gazportal/services/readings.py", ["tests/unit/test_readings.py", "tests/unit/test_readings_race.py"]),
    "numerals": ("gazportal/services/numerals.py", ["tests/unit/test_readings.py"]),
    "billing": ("gazportal/services/billing.py", ["tests/unit/test_billing.py"]),
    "billing_io": ("gazportal/services/billing_io.py", ["tests/unit/test_billing_io.py"]),
    "common_house": ("gazportal/services/common_house.py", ["tests/unit/test_common_house.py"]),
    "sessions": ("gazportal/services/auth/sessions.py",
                 ["tests/unit/test_auth.py", "tests/unit/test_auth_attacks.py", "tests/unit/test_source_limits.py",
                  "tests/unit/test_session_http.py"]),
    "throttle": ("gazportal/services/throttle.py", ["tests/unit/test_throttle.py", "tests/unit/test_source_limits.py"]),
    "accounts": ("gazportal/services/accounts/linking.py",
                 ["tests/unit/test_accounts.py", "tests/unit/test_account_holders.py"]),
    "holders": ("gazportal/services/accounts/holders.py",
                ["tests/unit/test_account_holders.py", "tests/unit/test_accounts.py"]),
    "staff": ("gazportal/services/staff.py", ["tests/unit/test_staff.py"]),
}
ALSO_COPY = ["tests", "alembic", "alembic.ini", "locales", "rxconfig.py", "pytest.ini"]


def _export(dest: Path, rev: str | None) -> None:
    """The project's tracked files (of the working tree, or of ``rev``) into ``dest``."""
    if rev:
        data = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                              check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")
        return
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _config(module_file: str, tests: list[str], pg: bool) -> str:
    args = ["-p", "no:cacheprovider", "-x"] + ([] if pg else ["-k", "not postgresql"])
    lines = ["[mutmut]", "source_paths=gazportal", f"only_mutate={module_file}", "also_copy="]
    lines += [f"    {p}" for p in ALSO_COPY]
    lines += ["pytest_add_cli_args_test_selection="] + [f"    {t}" for t in tests]
    lines += ["pytest_add_cli_args="] + [f"    {a}" for a in args]
    return "\n".join(lines) + "\n"


def measure(key: str, *, rev: str | None, pg: bool, max_children: int, timeout: float,
            only: list[str] | None = None) -> dict:
    module_file, tests = MODULES[key]
    work = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "gazportal-mutation" / key
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _export(work, rev)
    tests = [t for t in tests if (work / t).exists()]
    (work / "setup.cfg").write_text(_config(module_file, tests, pg))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if pg:
        env["GAZPORTAL_REQUIRE_PG"] = "1"
    else:
        env["GAZPORTAL_TEST_PG_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # not even tried
        env.pop("GAZPORTAL_REQUIRE_PG", None)
    started = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut"]
    try:
        names = [f"{_dotted(module_file)}.{pat}" for pat in only or []]
        subprocess.run([*mutmut, "run", "--max-children", str(max_children), *names], cwd=work, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        interrupted = False
    except subprocess.TimeoutExpired:
        interrupted = True
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=work, env=env, capture_output=True, check=False)
    stats_file = work / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    results = subprocess.run([*mutmut, "results"], cwd=work, env=env, capture_output=True, text=True).stdout
    survivors = [line.split(":")[0].strip() for line in results.splitlines() if line.strip().endswith("survived")]
    # a subset (--only) or a run cut short scores the mutants it checked; a full run scores them all
    checked = sum(stats.get(k, 0) for k in ("killed", "survived", "no_tests", "suspicious", "timeout", "segfault"))
    counted = checked if (only or interrupted) else stats.get("total", 0) - stats.get("skipped", 0)
    caught = stats.get("killed", 0) + stats.get("timeout", 0)
    return {
        "module": key, "file": module_file, "only": only or [], "checked": checked, "tests": tests, "rev": rev or "working tree", "pg": pg,
        "seconds": round(time.monotonic() - started), "interrupted": interrupted, "stats": stats,
        "score": round(100 * caught / counted, 1) if counted else None, "survivors": survivors, "workdir": str(work),
    }


def _dotted(module_file: str) -> str:
    """gazportal/services/auth/sessions.py -> gazportal.services.auth.sessions (mutmut's names)."""
    return module_file.removesuffix(".py").replace("/", ".")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", metavar="MODULE", help=f"one or more of: {', '.join(MODULES)}")
    ap.add_argument("--all", action="store_true", help="every module")
    ap.add_argument("--rev", help="measure the code and tests of this commit instead of the working tree")
    ap.add_argument("--pg", action="store_true", help="run the PostgreSQL cases too (needs the server)")
    ap.add_argument("--max-children", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per module before it is cut short")
    ap.add_argument("--fail-under", type=float, default=0.0, help="exit 1 if a module scores below this %%")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="only the mutants of these functions (fnmatch on mutmut's names without the module, "
                         "e.g. 'x__parse_*' or 'xǁ_Importerǁ*'); repeatable; scores the subset")
    args = ap.parse_args(argv)
    keys = list(MODULES) if args.all else args.modules
    if not keys or set(keys) - set(MODULES):
        ap.error(f"name modules among {', '.join(MODULES)}, or use --all")
    out, status = [], 0
    for key in keys:
        r = measure(key, rev=args.rev, pg=args.pg, max_children=args.max_children, timeout=args.timeout,
                    only=args.only)
        out.append(r)
        s = r["stats"]
        cut = " (cut short by --timeout: partial)" if r["interrupted"] else ""
        if r["only"]:
            cut += f" (subset {', '.join(r['only'])}: {r['checked']} checked)"
        print(f"{key}: {s.get('total', 0)} mutants, {s.get('killed', 0)} killed, {s.get('survived', 0)} survived, "
              f"{s.get('no_tests', 0)} no tests, {s.get('timeout', 0)} timeout -> {r['score']} % "
              f"in {r['seconds']} s{cut}", flush=True)
        for name in r["survivors"]:
            print(f"    survived: {name}")
        if r["score"] is None or r["score"] < args.fail_under:
            status = 1
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
