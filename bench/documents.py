"""Benchmark of the PDF documents (issue 17 point 6; prints figures, not a test).

    python bench/documents.py [--runs 20] [--profiles default,kremenchukgaz] [--accounts 10]

Generates demo data (24 months) for each profile into a temporary SQLite file and renders, for the
account with the most charges, in the profile's default language: the invoice of the last month,
a receipt of its newest payment, a 12-month reconciliation act and a certificate of no debt (the
rendering only: the row is recorded once, as the refusal rule would block an indebted demo
account). For each: p50 / p95 milliseconds over ``--runs`` renders and the size in KB, against
the goals (< 300 ms and < 100 KB each; the 12-month act < 1 s).

The baselines are measured in the same run: an empty fpdf2 page (core font, no text), and a page
with the two DejaVu Sans fonts embedded and one line of text (what any of our documents costs
before its content: loading and subsetting the fonts).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dataclasses  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from fpdf import FPDF  # noqa: E402

from gazportal.db import make_engine, migrate, read_session, write_session  # noqa: E402
from gazportal.demo import generate_demo  # noqa: E402
from gazportal.models import Charge, DebtCertificate, Payment  # noqa: E402
from gazportal.services import documents  # noqa: E402
from gazportal.services.documents.pdf import Page  # noqa: E402
from gazportal.services.periods import add_months  # noqa: E402
from gazportal.settings import get_settings, load_utility  # noqa: E402

GOAL_MS, GOAL_KB, ACT_GOAL_MS = 300, 100, 1000


def timed(fn: Callable[[], bytes], runs: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        size = len(fn())
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], size


def line(name: str, figures: tuple[float, float, int], goal_ms: float | None) -> None:
    p50, p95, size = figures
    verdict = ""
    if goal_ms is not None:
        ok = p95 < goal_ms and size < GOAL_KB * 1024
        verdict = f"  goal < {goal_ms:.0f} ms, < {GOAL_KB} KB: {'ok' if ok else 'MISSED'}"
    print(f"  {name:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {size / 1024:6.1f} KB{verdict}")


def baselines(runs: int) -> None:
    def empty() -> bytes:
        pdf = FPDF()
        pdf.add_page()
        return bytes(pdf.output())

    def fonts() -> bytes:
        page = Page(load_utility("default"), "kk", "baseline", created=datetime.now(UTC))
        page.font()
        page.cell(text="Әсел Ғалымқызы Қоңырбаева · Ґалина Їжакевич · 1 234,56 ₸ ₴")
        return bytes(page.output())

    print("baselines (same run):")
    line("empty fpdf2 page", timed(empty, runs), None)
    line("DejaVu page, one line", timed(fonts, runs), None)


def bench_profile(profile: str, accounts: int, runs: int, tmp: Path) -> None:
    utility = load_utility(profile)
    engine = make_engine(f"sqlite:///{tmp / (profile + '.db')}")
    migrate(engine)
    generate_demo(engine, utility, accounts=accounts, months=24, seed=7)
    settings = dataclasses.replace(get_settings(), utility=utility)
    now = datetime.now(UTC)
    lang = utility.default_language
    with read_session(engine) as s:
        account_id, last = s.execute(
            sa.select(Charge.account_id, sa.func.max(Charge.period)).group_by(Charge.account_id)
            .order_by(sa.func.count().desc()).limit(1)).one()
        payment_id = s.execute(sa.select(Payment.id).where(Payment.account_id == account_id)
                               .order_by(Payment.paid_at.desc()).limit(1)).scalar()
    with write_session(engine) as s:
        row = DebtCertificate(code="bench" + "x" * 20, account_id=account_id, as_of=now.date(), issued_at=now)
        s.add(row)
        s.flush()
        cert_id = row.id
    first = add_months(last, -11)
    print(f"{profile} ({lang}), account id {account_id}, invoice {last}, act {first}..{last}:")
    with read_session(engine) as s:
        line("invoice", timed(lambda: documents.invoice(s, utility, account_id, last, lang, settings=settings,
                                                        now=now).data, runs), GOAL_MS)
        if payment_id is not None:
            line("receipt", timed(lambda: documents.receipt(s, utility, payment_id, lang, now=now).data, runs),
                 GOAL_MS)
        line("act, 12 months", timed(lambda: documents.act(s, utility, account_id, first, last, lang, now=now).data,
                                     runs), ACT_GOAL_MS)
        cert = s.get(DebtCertificate, cert_id)
        line("certificate", timed(lambda: documents.render_certificate(s, utility, cert, lang,
                                                                       settings=settings).data, runs), GOAL_MS)
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--profiles", default="default,kremenchukgaz")
    args = ap.parse_args()
    baselines(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        for profile in args.profiles.split(","):
            bench_profile(profile.strip(), args.accounts, args.runs, Path(tmp))


if __name__ == "__main__":
    main()
