"""Concurrent submissions on one meter: the limit holds, readings never go down, and every loser
gets a reason — on file-backed SQLite (BEGIN IMMEDIATE) and PostgreSQL (SELECT ... FOR UPDATE)."""
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from gazportal.db import read_session, write_session
from gazportal.models import Account, Meter, Reading
from gazportal.services.errors import DomainError
from gazportal.services.readings import record_reading, submit_reading
from gazportal.settings import load_utility

pytestmark = pytest.mark.timeout(60)

ALMATY = ZoneInfo("Asia/Almaty")
THREADS = 20


def local(y, m, d, h=12, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=ALMATY).astimezone(UTC)


def make_meter(engine, base=1000) -> int:
    with write_session(engine) as s:
        acc = Account(number="1000000001", holder_name="Race", address="x")
        s.add(acc)
        s.flush()
        m = Meter(account_id=acc.id, service="gas", serial="R1", unit="m3", digits=6, installed_on=date(2020, 1, 1))
        s.add(m)
        s.flush()
        s.add(Reading(meter_id=m.id, value=base, taken_at=local(2026, 10, 1), period="2026-10", source="inspector"))
        return m.id


def run_together(jobs):
    """Run the callables in THREADS threads released at once; return ('ok', result) or
    ('refused', key) or ('error', repr) for each."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait(timeout=20)
        try:
            return "ok", job()
        except DomainError as e:
            return "refused", e.key
        except Exception as e:  # noqa: BLE001 - any other exception fails the test below
            return "error", repr(e)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def rows(engine, meter_id):
    with read_session(engine) as s:
        return s.exec(sa.select(Reading).where(Reading.meter_id == meter_id)
                      .order_by(Reading.taken_at, Reading.id)).scalars().all()


@pytest.mark.parametrize("utility_name", ["almaty_gas", "karaganda_su"])
def test_twenty_submitters_on_one_meter_get_exactly_the_limit(engine, utility_name):
    utility = load_utility(utility_name)
    meter_id = make_meter(engine)
    now = local(2026, 11, 22)
    jobs = [
        (lambda i=i: submit_reading(engine, utility, meter_id, str(1001 + i), now=now + timedelta(seconds=i)))
        for i in range(THREADS)
    ]
    results = run_together(jobs)

    errors = [r for kind, r in results if kind == "error"]
    assert errors == []
    accepted = [r for kind, r in results if kind == "ok"]
    refusals = [r for kind, r in results if kind == "refused"]
    assert len(accepted) == utility.submissions_per_month
    assert refusals == ["errors.reading_limit_reached"] * (THREADS - utility.submissions_per_month)
    stored = [r for r in rows(engine, meter_id) if r.source == "customer"]
    assert sorted(r.slot for r in stored) == list(range(1, utility.submissions_per_month + 1))
    assert sorted(r.value for r in stored) == sorted(sub.reading.value for sub in accepted)
    assert {sub.reading.id for sub in accepted} == {r.id for r in stored}  # acknowledged = stored


def effective(readings):
    """Drop customer submissions corrected by a later one of the same period."""
    top = {}
    for r in readings:
        if r.source == "customer":
            top[r.period] = max(top.get(r.period, 0), r.slot)
    return [r for r in readings if r.source != "customer" or r.slot == top[r.period]]


@pytest.mark.parametrize("seed", [1, 2])
def test_concurrent_staff_and_customer_readings_never_go_down(engine, seed):
    rnd = random.Random(seed)
    utility = load_utility("almaty_gas")
    meter_id = make_meter(engine)
    jobs = []
    # 12 inspectors with random values at random moments of November (some after the customers)
    moments = rnd.sample(range(1, 28 * 24), 12)
    for h in moments:
        value, taken_at = rnd.randint(1000, 3000), local(2026, 11, 1, 0) + timedelta(hours=h)
        jobs.append(lambda v=value, t=taken_at: record_reading(engine, utility, meter_id, v, source="inspector", taken_at=t))
    # 8 customers on the 22nd with random values
    for i in range(8):
        value, now = rnd.randint(1000, 3000), local(2026, 11, 22, 12, 0, i)
        jobs.append(lambda v=value, n=now: submit_reading(engine, utility, meter_id, str(v), now=n, confirm=True))
    results = run_together(jobs)

    assert [r for kind, r in results if kind == "error"] == []
    reasons = {r for kind, r in results if kind == "refused"}
    assert reasons <= {"errors.reading_below_previous", "errors.reading_above_next", "errors.reading_limit_reached"}
    accepted = [r for kind, r in results if kind == "ok"]
    stored = rows(engine, meter_id)
    assert len(stored) == 1 + len(accepted) and len(accepted) >= 1
    values = [r.value for r in effective(stored)]
    assert values == sorted(values), [(r.taken_at.isoformat(), r.value, r.source, r.slot) for r in stored]
    assert sum(r.source == "customer" for r in stored) <= utility.submissions_per_month
