"""Benchmark of the staff dashboard (issue 16 point 4; prints figures, not a test).

    python bench/staff_dashboard.py [--accounts 100000] [--months 24] [--runs 30] [--submits 200]
                                    [--profile default] [--db PATH] [--pg]

Generates the demo data (bench/demo_generation.py's generator, which also fills the roll-ups)
into a fresh SQLite file (``--db`` keeps and reuses one), or a temporary PostgreSQL schema with
``--pg``. Then, for the current year, the profile's first service and all settlements:

* p50/p95 ms per tile (services/staff_dashboard.py: months_tile, coverage_period, coverage_tile,
  days_tile, years_tile, ageing_tile, debtors_tile, consumers_tile, and missing_meters' first page)
  and for the whole dashboard (``load``: every tile plus the texts and four figures in
  every language of the profile), over ``--runs`` runs, filters alternating like an operator's;
* the baseline measured in the same run: the same monthly and coverage figures aggregated over
  the raw charges, payments and readings (what the dashboard would cost without the roll-ups),
  and the ratio; the debt ageing, top debtors and top consumers also each beside their own raw
  computation (per-account charges and payments, payments paying the oldest charges first);
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


def raw_debts(s, utility, f: svc.Filters, now: datetime):
    """Debt ageing and top debtors over the raw charges and payments (rollups.debts is that
    from-scratch computation; the settlement filter by a join)."""
    from gazportal.services.billing import _charge_cutoff
    today = now.astimezone(utility.tz).date()
    cutoff = _charge_cutoff(today)
    unpaid = rollups.debts(s)
    if f.settlement is not None:
        a, h, st = (t.__table__ for t in (Account, House, Street))
        keep = set(s.execute(sa.select(a.c.id).outerjoin(h, h.c.id == a.c.house_id).outerjoin(st, st.c.id == h.c.street_id)
                             .where(sa.func.coalesce(st.c.settlement_id, 0) == f.settlement)).scalars())
        unpaid = {k: v for k, v in unpaid.items() if k[0] in keep}
    ages = [0] * len(svc.AGEING)
    per: dict[int, object] = {}
    for (acc, period), v in unpaid.items():
        if period <= cutoff:
            ages[svc.ageing_bucket((today - P.period_end(period)).days)] += v
            per[acc] = per.get(acc, 0) + v
    return ages, sorted(per.items(), key=lambda x: (-x[1], x[0]))[:svc.TOP]


def raw_consumers(s, f: svc.Filters):
    c = Charge.__table__
    total = sa.func.sum(c.c.volume)
    return s.execute(sa.select(c.c.account_id, total).where(
        c.c.period >= f"{f.year:04d}-01", c.c.period <= f"{f.year:04d}-12", c.c.service == f.service)
        .group_by(c.c.account_id).order_by(total.desc(), c.c.account_id).limit(svc.TOP)).all()


def raw_years(s, f: svc.Filters):
    """Consumption and charges of the service by year over the raw charges."""
    c = Charge.__table__
    year = sa.func.substr(c.c.period, 1, 4)
    return s.execute(sa.select(year, sa.func.sum(c.c.volume), sa.func.sum(c.c.amount))
                     .where(c.c.service == f.service).group_by(year)).all()


def raw_missing(s, f: svc.Filters, period: str):
    """The first page of the meters not read yet, from all meters minus all readings of the period."""
    m, r = Meter.__table__, Reading.__table__
    read = set(s.execute(sa.select(r.c.meter_id).where(r.c.period == period)).scalars())
    ids = [i for i in s.execute(sa.select(m.c.id).where(m.c.is_active.is_(True), m.c.service == f.service)
                                .order_by(m.c.id)).scalars() if i not in read]
    return ids[:svc.MISSING_PER_PAGE]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--submits", type=int, default=200)
    ap.add_argument("--raw-runs", type=int, default=5, help="runs of the raw baseline (slow at 100,000 accounts)")
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
        tiles: dict[str, list[float]] = {k: [] for k in ("months", "coverage_period", "coverage", "days", "years",
                                                         "ageing", "debtors", "consumers", "missing p1")}
        raw_tiles: dict[str, list[float]] = {k: [] for k in ("years", "ageing+debtors", "consumers", "missing p1")}
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
                ms, _ = timed(lambda: svc.years_tile(s, f))
                tiles["years"].append(ms)
                ms, _ = timed(lambda: svc.ageing_tile(s, utility, f, now))
                tiles["ageing"].append(ms)
                ms, _ = timed(lambda: svc.debtors_tile(s, utility, f, now))
                tiles["debtors"].append(ms)
                ms, _ = timed(lambda: svc.consumers_tile(s, f))
                tiles["consumers"].append(ms)
                ms, _ = timed(lambda: svc.missing_meters(s, f, period, 1))
                tiles["missing p1"].append(ms)
            with read_session(engine) as s:
                def whole_board():  # what the page's load does: every tile, texts, figures, the missing page
                    g = svc.check_filters(s, utility, now, y, service, place)
                    board = svc.load(s, utility, g, now, langs)
                    return svc.missing_meters(s, g, board.data.coverage_period, 1)
                ms, _ = timed(whole_board)
                whole.append(ms)
            if i < max(3, args.raw_runs):  # the raw baseline is slow: a few runs are enough
                with read_session(engine) as s:
                    ms_m, _ = timed(lambda: raw_baseline(s, utility, f, period))
                    ms_d, _ = timed(lambda: raw_debts(s, utility, f, now))
                    ms_c, _ = timed(lambda: raw_consumers(s, f))
                    ms_y, _ = timed(lambda: raw_years(s, f))
                    ms_x, _ = timed(lambda: raw_missing(s, f, period))
                raw.append(ms_m + ms_d + ms_c + ms_y + ms_x)
                raw_tiles["ageing+debtors"].append(ms_d)
                raw_tiles["consumers"].append(ms_c)
                raw_tiles["years"].append(ms_y)
                raw_tiles["missing p1"].append(ms_x)
        print(f"dashboard at {args.accounts:,} accounts on {engine.dialect.name} ({args.runs} runs):")
        for k, v in tiles.items():
            show("tile " + k, v)
        show(f"whole dashboard ({len(langs)} languages)", whole)
        show("baseline: same figures over raw rows", raw)
        print(f"  ratio raw ÷ roll-ups (whole, p50): {pct(raw, .5) / pct(whole, .5):.0f}x")
        mine = {"years": pct(tiles["years"], .5), "consumers": pct(tiles["consumers"], .5),
                "missing p1": pct(tiles["missing p1"], .5),
                "ageing+debtors": pct(tiles["ageing"], .5) + pct(tiles["debtors"], .5)}
        for k, v in raw_tiles.items():
            show(f"baseline: {k}, raw", v)
            print(f"  ratio raw ÷ tile ({k}, p50): {pct(v, .5) / max(mine[k], 1e-3):.0f}x")

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
