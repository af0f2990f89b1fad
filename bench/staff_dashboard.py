"""Benchmark of the staff dashboard (issue 16 point 4; prints figures, not a test).

    python bench/staff_dashboard.py [--accounts 100000] [--months 24] [--runs 30] [--submits 200]
                                    [--profile default] [--db PATH] [--pg]

Generates the demo data (bench/demo_generation.py's generator, which also fills the roll-ups)
into a fresh SQLite file (``--db`` keeps and reuses one), or a temporary PostgreSQL schema with
``--pg``. Then, for the current year, the profile's first service and all settlements:

* p50/p95 ms per tile (services/staff_dashboard.py: months_tile, coverage_period, coverage_tile,
  days_tile) and for the whole dashboard (``load``: every tile plus the texts and four figures in
  every language of the profile), over ``--runs`` runs, filters alternating like an operator's;
* the baseline measured in the same run: the same monthly and coverage figures aggregated over
  the raw charges, payments and readings (what the dashboard would cost without the roll-ups),
  and the ratio;
* ``--submits`` reading submits (readings.submit_reading) on distinct meters, with the roll-up
  update (rollups.changed) timed inside each, beside the submit's own time.
"""
# ruff: noqa: B023  (each lambda is called at once, inside its loop turn)
from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from gazportal.db import make_engine, migrate, read_session  # noqa: E402
from gazportal.demo import generate_demo  # noqa: E402
from gazportal.models import Account, Charge, House, Meter, Payment, Reading, Street  # noqa: E402
from gazportal.services import periods as P  # noqa: E402
from gazportal.services import readings, rollups  # noqa: E402
from gazportal.services import staff_dashboard as svc  # noqa: E402
from gazportal.services.readings import ReadingRefused, last_reading, submit_reading  # noqa: E402
from gazportal.settings import load_utility  # noqa: E402

PG_URL = os.environ.get("GAZPORTAL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pct(values: list[float], q: float) -> float:
    xs = sorted(values)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def show(name: str, ms: list[float]) -> None:
    print(f"  {name:<34} p50 {pct(ms, .5):8.1f} ms   p95 {pct(ms, .95):8.1f} ms   (n={len(ms)})")


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def raw_baseline(s, utility, f: svc.Filters, period: str):
    """The dashboard's monthly and coverage numbers aggregated over the raw rows."""
    c, p, r, m, a, h, st = (t.__table__ for t in (Charge, Payment, Reading, Meter, Account, House, Street))
    settle = sa.func.coalesce(st.c.settlement_id, sa.literal_column("0"))

    def joined(sel, acc_col):
        return sel.join(a, a.c.id == acc_col).outerjoin(h, h.c.id == a.c.house_id).outerjoin(st, st.c.id == h.c.street_id)

    first, last = f"{f.year - 1:04d}-01", f"{f.year:04d}-12"
    months = s.execute(joined(sa.select(c.c.period, c.c.service, sa.func.sum(c.c.volume), sa.func.sum(c.c.amount))
                              .select_from(c), c.c.account_id)
                       .where(c.c.period >= first, c.c.period <= last).group_by(c.c.period, c.c.service)).all()
    lo = P.local_day_start_utc(P.period_start(first), utility.tz)
    hi = P.local_day_start_utc(P.next_period_start(last), utility.tz)
    paid = s.execute(sa.select(sa.func.sum(p.c.amount)).where(p.c.paid_at >= lo, p.c.paid_at < hi)).all()
    cov = s.execute(joined(sa.select(settle, sa.func.count(sa.distinct(r.c.meter_id))).select_from(r)
                           .join(m, m.c.id == r.c.meter_id), m.c.account_id)
                    .where(r.c.period == period, m.c.service == f.service).group_by(settle)).all()
    meters = s.execute(joined(sa.select(settle, sa.func.count()).select_from(m), m.c.account_id)
                       .where(m.c.service == f.service, m.c.is_active.is_(True)).group_by(settle)).all()
    return months, paid, cov, meters


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--submits", type=int, default=200)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--db", default=None, help="SQLite file to keep and reuse (generated when missing)")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL (a temporary schema) instead of SQLite")
    args = ap.parse_args()
    utility = load_utility(args.profile)
    drop = None
    if args.pg:
        schema = "bench_" + secrets.token_hex(4)
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})

        def drop():
            engine.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        fresh = True
    else:
        path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "dash.db"
        fresh = not path.exists()
        engine = make_engine(f"sqlite:///{path}")
    try:
        if fresh:
            migrate(engine)
            t = time.perf_counter()
            res = generate_demo(engine, utility, accounts=args.accounts, months=args.months, seed=1)
            print(f"demo: {args.accounts:,} accounts, {args.months} months, {res.counts.get('reading', 0):,} readings "
                  f"in {time.perf_counter() - t:.0f} s (roll-ups included)")
        now = datetime.now(UTC)
        year = now.year
        with read_session(engine) as s:
            places = [str(i) for i, _ in svc.settlements(s)]
        filters = [(year, utility.services[0], ""), (year - 1, utility.services[0], ""),
                   (year, utility.services[-1], places[0] if places else "")]
        tiles: dict[str, list[float]] = {k: [] for k in ("months", "coverage_period", "coverage", "days")}
        whole, raw = [], []
        langs = list(utility.languages)
        for i in range(args.runs):
            y, service, place = filters[i % len(filters)]
            with read_session(engine) as s:
                f = svc.check_filters(s, utility, now, y, service, place)
                ms, _ = timed(lambda: svc.months_tile(s, f))
                tiles["months"].append(ms)
                ms, period = timed(lambda: svc.coverage_period(s, utility, f, now))
                tiles["coverage_period"].append(ms)
                ms, _ = timed(lambda: svc.coverage_tile(s, f, period))
                tiles["coverage"].append(ms)
                ms, _ = timed(lambda: svc.days_tile(s, f, period))
                tiles["days"].append(ms)
            with read_session(engine) as s:
                ms, _ = timed(lambda: svc.load(s, utility, svc.check_filters(s, utility, now, y, service, place),
                                               now, langs))
                whole.append(ms)
            with read_session(engine) as s:
                ms, _ = timed(lambda: raw_baseline(s, utility, f, period))
                raw.append(ms)
        print(f"dashboard at {args.accounts:,} accounts on {engine.dialect.name} ({args.runs} runs):")
        for k, v in tiles.items():
            show("tile " + k, v)
        show(f"whole dashboard ({len(langs)} languages)", whole)
        show("baseline: same figures over raw rows", raw)
        print(f"  ratio raw ÷ roll-ups (whole, p50): {pct(raw, .5) / pct(whole, .5):.0f}x")

        # submits: the roll-up update timed inside each
        spent: list[float] = []
        original = rollups.changed

        def measured(*a, **kw):
            t = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                spent.append((time.perf_counter() - t) * 1000)

        readings.rollups.changed = measured  # type: ignore[assignment]
        with read_session(engine) as s:
            meter_ids = list(s.execute(sa.select(Meter.id).where(Meter.is_active.is_(True)).order_by(Meter.id.desc())
                                       .limit(args.submits * 3)).scalars())
        w = readings.reading_window(utility, now)
        at = now if w.open else P.local_day_start_utc(w.opens_on, utility.tz) + timedelta(hours=12)
        submit_ms, roll_ms = [], []
        for mid in meter_ids:
            if len(submit_ms) >= args.submits:
                break
            with read_session(engine) as s:
                last = last_reading(s, mid)
            before = len(spent)
            t = time.perf_counter()
            try:
                submit_reading(engine, utility, mid, str((last.value if last else 0) + 1), now=at, confirm=True,
                               confirm_zero=True, rollover=True)
            except ReadingRefused:
                continue
            submit_ms.append((time.perf_counter() - t) * 1000)
            roll_ms.append(spent[before] if len(spent) > before else 0.0)
        readings.rollups.changed = original  # type: ignore[assignment]
        print(f"reading submit ({len(submit_ms)} meters, at {at:%Y-%m-%d %H:%M} UTC):")
        if submit_ms:
            show("submit, whole (incl. roll-ups)", submit_ms)
            show("of which roll-up update", roll_ms)
    finally:
        if drop:
            drop()
        else:
            engine.dispose()


if __name__ == "__main__":
    main()
