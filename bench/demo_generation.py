"""Benchmark of the demo-data generator (prints figures; not a test).

    python bench/demo_generation.py [--sizes 1000,10000] [--profile default] [--months 24] [--no-pg]

For each size: generates into a fresh temporary SQLite file (and into a temporary schema of the
local PostgreSQL when it answers), then prints accounts/s, rows/s, elapsed time, peak memory and
the time 1,000,000 accounts would take at that rate. Peak memory is the process's maximum RSS
(resource.getrusage) and, separately, the Python heap peak measured by tracemalloc in a second,
smaller run (tracemalloc slows Python down several times, so it is not used for the timings).
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import secrets
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from gazportal.db import make_engine  # noqa: E402
from gazportal.demo import generate_demo  # noqa: E402
from gazportal.settings import load_utility  # noqa: E402
from gazportal.db import migrate  # noqa: E402

PG_URL = os.environ.get("GAZPORTAL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sqlite(tmp: Path, name: str):
    engine = make_engine(f"sqlite:///{tmp / name}")
    migrate(engine)
    return engine, lambda: engine.dispose()


def _pg():
    schema = "bench_" + secrets.token_hex(4)
    admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    with admin.begin() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    migrate(engine)

    def drop():
        engine.dispose()
        with admin.begin() as c:
            c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    return engine, drop


def _pg_available() -> bool:
    try:
        e = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with e.connect():
            pass
        e.dispose()
        return True
    except Exception:
        return False


def run(backend: str, size: int, utility, months: int, tmp: Path) -> dict:
    engine, cleanup = _sqlite(tmp, f"bench_{size}.db") if backend == "sqlite" else _pg()
    try:
        gc.collect()
        res = generate_demo(engine, utility, accounts=size, months=months, seed=1, last_period="2025-12")
    finally:
        cleanup()
    return {"backend": backend, "accounts": size, "rows": res.rows, "elapsed": res.elapsed,
            "acc_s": size / res.elapsed, "rows_s": res.rows / res.elapsed, "rss_mb": _rss_mb(),
            "counts": res.counts}


def heap_peak(utility, months: int, tmp: Path, size: int) -> float:
    engine, cleanup = _sqlite(tmp, f"heap_{size}.db")
    tracemalloc.start()
    try:
        generate_demo(engine, utility, accounts=size, months=months, seed=1, last_period="2025-12")
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
        cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    utility = load_utility(args.utility)
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = ["sqlite"] + ([] if args.no_pg or not _pg_available() else ["postgresql"])
    print(f"profile {utility.id} (services {', '.join(utility.services)}), {args.months} months, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = []
        for backend in backends:
            for size in sizes:
                r = run(backend, size, utility, args.months, tmp)
                results.append(r)
                per_acc = r["rows"] / r["accounts"]
                print(f"{backend:10s} {size:>9,} accounts  {r['rows']:>11,} rows ({per_acc:.0f}/account)  "
                      f"{r['elapsed']:7.1f} s  {r['acc_s']:8,.0f} accounts/s  {r['rows_s']:9,.0f} rows/s  "
                      f"max RSS {r['rss_mb']:6.0f} MB  -> 1,000,000 accounts ~ "
                      f"{1_000_000 / r['acc_s'] / 60:5.1f} min", flush=True)
        for size in sorted({min(sizes), max(sizes)}):
            print(f"tracemalloc Python heap peak at {size:,} accounts (SQLite): "
                  f"{heap_peak(utility, args.months, tmp, size):.1f} MB", flush=True)
        print("rows by table at the largest size:",
              ", ".join(f"{k} {v:,}" for k, v in results[len(sizes) - 1]["counts"].items()))


if __name__ == "__main__":
    main()
