"""The staff dashboard's monthly roll-ups (services/rollups.py, issue 16 point 4): kept equal to a
from-scratch aggregate of the raw rows by every writer, on SQLite and PostgreSQL."""
import itertools
from datetime import UTC, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gazportal.db import read_session, write_session
from gazportal.demo import generate_demo
from gazportal.models import Account, Meter, StatConsumer, StatDay, StatDebt, StatMonth
from gazportal.services import rollups
from gazportal.services.billing_io import ImportRejected, import_text
from gazportal.services.readings import ReadingRefused, last_reading, record_reading, submit_reading
from gazportal.settings import load_utility

AG = load_utility("almaty_gas")  # Asia/Almaty, reading window 20..31
ALMATY = ZoneInfo("Asia/Almaty")
RECEIPTS = itertools.count(1)
LATER = datetime(2027, 2, 1, tzinfo=UTC)  # "now" of the imports: no payment date is in the future


def local(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=ALMATY).astimezone(UTC)


def assert_consistent(engine) -> None:
    """The stored roll-ups equal the from-scratch aggregate of every period (a stored row's
    ``meters`` is the bucket's meter count; the aggregate also lists buckets nobody touched)."""
    with read_session(engine) as s:
        periods = rollups.all_periods(s, AG)
        fresh = rollups.aggregate(s, AG, periods)
        kept = rollups.stored(s)
    assert rollups.comparable(kept, with_meters=False) == rollups.comparable(fresh, with_meters=False)
    for key, b in kept.months.items():
        if key[1] != rollups.PAYMENTS:
            assert b.meters == fresh.months[key].meters, key
    with read_session(engine) as s:  # the per-account roll-ups: debt by month, yearly volume
        years = {int(p[:4]) for p in periods}
        debts = {(r.account_id, r.period): D(r.unpaid).quantize(D("0.01")) for r in s.execute(sa.select(StatDebt.__table__))}
        assert debts == rollups.debts(s)
        kept_c = {(r.year, r.service, r.account_id): D(r.volume).quantize(D("0.001"))
                  for r in s.execute(sa.select(StatConsumer.__table__)) if r.volume}
        assert kept_c == rollups.consumers(s, years)


def _demo(engine) -> tuple[list[int], list[str]]:
    generate_demo(engine, AG, accounts=12, months=3, seed=5, last_period="2026-10")
    with read_session(engine) as s:
        meters = list(s.execute(sa.select(Meter.id).order_by(Meter.id)).scalars())
        numbers = list(s.execute(sa.select(Account.number).order_by(Account.id)).scalars())
    return meters, numbers


def test_the_demo_generator_fills_the_rollups(engine):
    _demo(engine)
    with read_session(engine) as s:
        rows = s.execute(sa.select(StatMonth)).scalars().all()
        assert {r.period for r in rows} >= {"2026-09", "2026-10"}
        assert sum(r.readings for r in rows) > 0 and sum(r.charged for r in rows) > 0
        assert sum(r.paid for r in rows if r.service == "") > 0
        assert s.execute(sa.select(sa.func.count()).select_from(StatDay)).scalar_one() > 0
    assert_consistent(engine)


def test_a_submit_adds_its_reading_in_place_and_a_correction_counts_no_second_meter(engine):
    meters, _ = _demo(engine)
    meter = meters[0]
    with read_session(engine) as s:
        base = last_reading(s, meter).value
        svc = s.get(Meter, meter).service
    now = local(2026, 11, 22)
    submit_reading(engine, AG, meter, str(base + 3), now=now, confirm=True)
    with read_session(engine) as s:
        row = s.execute(sa.select(StatMonth).where(StatMonth.period == "2026-11", StatMonth.service == svc)).scalars().all()
        assert sum(r.readings for r in row) == 1 and sum(r.meters_read for r in row) == 1
        assert all(r.meters > 0 for r in row)
        day = s.execute(sa.select(StatDay).where(StatDay.period == "2026-11")).scalars().one()
        assert (day.day, day.first_readings) == (22, 1)
    submit_reading(engine, AG, meter, str(base + 4), now=local(2026, 11, 25), confirm=True)  # the second slot
    with read_session(engine) as s:
        row = s.execute(sa.select(StatMonth).where(StatMonth.period == "2026-11", StatMonth.service == svc)).scalars().all()
        assert sum(r.readings for r in row) == 2 and sum(r.meters_read for r in row) == 1
    assert_consistent(engine)


def test_a_refused_submit_and_a_rejected_import_change_no_rollup(engine):
    meters, numbers = _demo(engine)
    with read_session(engine) as s:
        before = rollups.comparable(rollups.stored(s))
    with pytest.raises(ReadingRefused):
        submit_reading(engine, AG, meters[0], "abc", now=local(2026, 11, 22))
    with pytest.raises(ImportRejected):
        import_text(engine, AG, "charges", "account_number,period,service,volume,amount\n"
                    f"{numbers[0]},2026-10,gas,1,10\nnobody,2026-10,gas,1,10\n")
    with read_session(engine) as s:
        assert rollups.comparable(rollups.stored(s)) == before


def test_imports_recompute_the_periods_they_touch(engine):
    _, numbers = _demo(engine)
    import_text(engine, AG, "charges", "account_number,period,service,volume,amount\n"
                f"{numbers[0]},2026-12,gas,10.5,1234.56\n{numbers[1]},2026-12,gas,2,0.44\n")
    import_text(engine, AG, "payments", "account_number,paid_at,amount,receipt_no,channel\n"
                f"{numbers[0]},2027-01-01T03:00:00+05:00,1000.01,RLP-1,bank\n", now=LATER)
    with read_session(engine) as s:
        dec = s.execute(sa.select(sa.func.sum(StatMonth.charged), sa.func.sum(StatMonth.volume))
                        .where(StatMonth.period == "2026-12")).one()
        assert (D(dec[0]), D(dec[1])) == (D("1235.00"), D("12.500"))
        jan = s.execute(sa.select(StatMonth.paid).where(StatMonth.period == "2027-01", StatMonth.service == "")).scalars().all()
        assert sum(D(x) for x in jan) == D("1000.01")  # local month of paid_at (UTC it is still 2026-12-31)
    assert_consistent(engine)


def test_rebuild_restores_rollups_after_they_were_damaged(engine):
    _demo(engine)
    with write_session(engine) as s:
        s.execute(sa.update(StatMonth).values(readings=0, paid=0))
        s.execute(sa.delete(StatDay))
        s.execute(sa.update(StatDebt).values(unpaid=1))
        s.execute(sa.delete(StatConsumer).where(StatConsumer.id % 2 == 0))
    rollups.rebuild(engine, AG)
    assert_consistent(engine)


OPS = st.lists(st.one_of(
    st.tuples(st.just("submit"), st.integers(0, 40), st.integers(0, 300), st.integers(20, 30)),
    st.tuples(st.just("record"), st.integers(0, 40), st.integers(-50, 300), st.sampled_from([9, 10, 11]),
              st.integers(1, 28)),
    st.tuples(st.just("charge"), st.integers(0, 11), st.sampled_from(["2026-09", "2026-10", "2026-11"]),
              st.decimals("0", "99999.99", places=2), st.decimals("0", "999.999", places=3)),
    st.tuples(st.just("pay"), st.integers(0, 11), st.integers(1, 28), st.sampled_from([10, 11, 12]),
              st.decimals("0.01", "9999.99", places=2)),
), min_size=1, max_size=6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_rollups_equal_a_from_scratch_aggregate_after_any_writes(engine, ops):
    with read_session(engine) as s:
        seeded = s.execute(sa.select(sa.func.count()).select_from(Account)).scalar_one()
    if not seeded:
        _demo(engine)
    with read_session(engine) as s:
        meters = list(s.execute(sa.select(Meter.id).order_by(Meter.id)).scalars())
        numbers = list(s.execute(sa.select(Account.number).order_by(Account.id)).scalars())
        services = dict(s.execute(sa.select(Account.number, Meter.service).join(Meter)).all())
    for op in ops:
        kind = op[0]
        try:
            if kind == "submit":
                meter = meters[op[1] % len(meters)]
                with read_session(engine) as s:
                    last = last_reading(s, meter)
                value = (last.value if last else 0) + op[2]
                submit_reading(engine, AG, meter, str(value), now=local(2026, 11, op[3]), confirm=True,
                               confirm_zero=True, rollover=True)
            elif kind == "record":
                meter = meters[op[1] % len(meters)]
                with read_session(engine) as s:
                    last = last_reading(s, meter)
                value = max(0, (last.value if last else 0) + op[2])
                record_reading(engine, AG, meter, value, source="inspector", taken_at=local(2026, op[3], op[4]))
            elif kind == "charge":
                number = numbers[op[1] % len(numbers)]
                import_text(engine, AG, "charges", "account_number,period,service,volume,amount\n"
                            f"{number},{op[2]},{services.get(number, 'gas')},{op[4]},{op[3]}\n")
            else:
                number = numbers[op[1] % len(numbers)]
                import_text(engine, AG, "payments", "account_number,paid_at,amount,receipt_no,channel\n"
                            f"{number},2026-{op[3]:02d}-{op[2]:02d}T00:30:00+05:00,{op[4]},P-{next(RECEIPTS)},bank\n", now=LATER)
        except (ReadingRefused, ImportRejected):
            pass
        assert_consistent(engine)


def test_demo_if_empty_fills_missing_rollups_of_an_older_database(engine):
    """A database with demo data from before the roll-ups (run.sh's ``demo --if-empty``) gets them."""
    _demo(engine)
    with write_session(engine) as s:
        s.execute(sa.delete(StatDay))
        s.execute(sa.delete(StatMonth))
    assert generate_demo(engine, AG, accounts=12, months=3, seed=5, last_period="2026-10", if_empty=True).skipped
    with read_session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(StatMonth)).scalar_one() > 0
    assert_consistent(engine)
