"""The schema itself refuses what must never happen."""
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from gazportal.db import read_session, write_session
from gazportal.models import Account, Meter, Reading


def _meter(s) -> Meter:
    acc = Account(number="100200300", holder_name="Test", address="x")
    s.add(acc)
    s.flush()
    m = Meter(account_id=acc.id, service="gas", serial="S1", unit="m3", digits=6, installed_on=date(2020, 1, 1))
    s.add(m)
    s.flush()
    return m


def _reading(meter_id, slot, source="customer"):
    return Reading(meter_id=meter_id, value=10, taken_at=datetime(2026, 11, 21, tzinfo=UTC), period="2026-11",
                   source=source, slot=slot)


def test_third_slot_and_duplicate_slot_are_refused_by_the_database(engine):
    with write_session(engine) as s:
        m = _meter(s)
        s.add(_reading(m.id, 1))
        s.add(_reading(m.id, 2))
    for bad in (_reading(m.id, 3), _reading(m.id, 1), _reading(m.id, None), _reading(m.id, 1, source="inspector")):
        with pytest.raises(sa.exc.IntegrityError):
            with write_session(engine) as s:
                s.add(bad)
    with write_session(engine) as s:  # any number of inspector readings, no slot
        s.add(_reading(m.id, None, source="inspector"))
        s.add(_reading(m.id, None, source="inspector"))
    with read_session(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Reading)) == 4


def test_times_come_back_as_aware_utc(engine):
    with write_session(engine) as s:
        m = _meter(s)
        s.add(_reading(m.id, 1))
    with read_session(engine) as s:
        r = s.exec(sa.select(Reading)).scalar_one()
        assert r.taken_at == datetime(2026, 11, 21, tzinfo=UTC) and r.taken_at.tzinfo is not None


def test_naive_datetimes_are_refused(engine):
    with pytest.raises(sa.exc.StatementError):
        with write_session(engine) as s:
            m = _meter(s)
            s.add(Reading(meter_id=m.id, value=1, taken_at=datetime(2026, 1, 1), period="2026-01",
                          source="customer", slot=1))


def test_benchmarks_import_no_test_internals():
    """bench/ scripts run on their own: nothing from tests/ (issue 13, point 7)."""
    import ast
    from pathlib import Path

    for path in (Path(__file__).resolve().parents[2] / "bench").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "tests" or n.startswith("tests.") for n in names), path.name

# --------------------------------------------------------------------------------------------
# Every guarantee docs/architecture.md promises ("The schema refuses what must never happen"),
# tried through the ORM and through raw SQL on each backend. Each forbidden row is a copy of a
# row the database holds with only the forbidden part changed, and the same copy with a legal
# value is accepted first (the positive control: the statement itself works, the refusal is the
# rule's). The error must name the rule (constraint name, or the unique columns on SQLite).
# --------------------------------------------------------------------------------------------
from decimal import Decimal as D  # noqa: E402

from gazportal.models import Charge, Payment, ReadingReview  # noqa: E402

_READING_UNIQUE = r"uq_reading_meter_period_slot|reading\.meter_id, reading\.period, reading\.slot"
# (name, model, legal override, forbidden override, what the error names)
GUARANTEES = [
    ("negative reading", Reading, {"value": 0, "period": "2026-12"}, {"value": -1, "period": "2027-01"},
     "ck_reading_value"),
    ("negative roll-over count", Reading, {"rollovers": 1, "period": "2026-10"},
     {"rollovers": -1, "period": "2026-09"}, "ck_reading_rollovers"),
    ("negative charged volume", Charge, {"service": "water", "volume": D("0.000")},
     {"service": "electricity", "volume": D("-1.000")}, "ck_charge_volume"),
    ("review in an unknown state", ReadingReview, {"status": "accepted"}, {"status": "booked"},
     "ck_reading_review_status"),
    ("review of a plausible volume", ReadingReview, {"volume": 3001}, {"volume": 3000}, "ck_reading_review_values"),
    ("third submission (slot 3)", Reading, {"slot": 1, "period": "2027-02"}, {"slot": 3},
     "ck_reading_slot"),
    ("third submission (a taken slot)", Reading, {"slot": 1, "period": "2027-03"}, {"slot": 2},
     _READING_UNIQUE),
    ("customer reading without a slot", Reading, {"source": "inspector", "slot": None},
     {"source": "customer", "slot": None}, "ck_reading_slot_source"),
    ("negative payment", Payment, {"amount": D("0.01"), "receipt_no": "R-legal"},
     {"amount": D("-5.00"), "receipt_no": "R-neg"}, "ck_payment_amount"),
    ("zero payment", Payment, {"amount": D("0.01"), "receipt_no": "R-legal"},
     {"amount": D("0.00"), "receipt_no": "R-zero"}, "ck_payment_amount"),
    ("duplicate receipt", Payment, {"receipt_no": "R-legal"}, {"amount": D("1.00")},
     r"receipt_no"),
    ("two charges for one account, month and service", Charge, {"service": "water"},
     {"amount": D("1.00")}, r"uq_charge_account_period_service|charge\.account_id, charge\.period, charge\.service"),
]


@pytest.fixture
def held(engine):
    """One row of each table the guarantees are about; returns {model: id}."""
    with write_session(engine) as s:
        m = _meter(s)
        r1, r2 = _reading(m.id, 1), _reading(m.id, 2)
        p = Payment(account_id=m.account_id, paid_at=datetime(2026, 11, 2, tzinfo=UTC), amount=D("10.00"),
                    receipt_no="R-1", channel="bank")
        c = Charge(account_id=m.account_id, period="2026-11", service="gas", volume=D("12.000"), amount=D("99.50"))
        rv = ReadingReview(meter_id=m.id, value=999999, taken_at=datetime(2026, 11, 22, tzinfo=UTC), period="2026-11",
                           base_value=1000, volume=998999, limit_volume=3000, reason="review.above_hard_limit")
        s.add_all([r1, r2, p, c, rv])
        s.flush()
        return {Reading: r2.id, Payment: p.id, Charge: c.id, ReadingReview: rv.id}


def _orm_copy(engine, model, row_id, override):
    with read_session(engine) as s:
        row = s.get(model, row_id)
        data = {c.name: getattr(row, c.name) for c in model.__table__.columns if c.name != "id"}
    with write_session(engine) as s:
        s.add(model(**{**data, **override}))


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


def _sql_copy(engine, model, row_id, override):
    t = model.__table__
    cols = [c.name for c in t.columns if c.name != "id"]
    values = ", ".join(_literal(override[c]) if c in override else c for c in cols)
    with write_session(engine) as s:
        s.execute(sa.text(f"INSERT INTO {t.name} ({', '.join(cols)}) SELECT {values} FROM {t.name} WHERE id = :id"),
                  {"id": row_id})


def _count_of(engine, model):
    with read_session(engine) as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("way", ["orm", "sql"])
@pytest.mark.parametrize("name, model, legal, forbidden, names", GUARANTEES, ids=[g[0] for g in GUARANTEES])
def test_the_database_refuses_each_forbidden_row(engine, held, way, name, model, legal, forbidden, names):
    copy = _orm_copy if way == "orm" else _sql_copy
    before = _count_of(engine, model)
    copy(engine, model, held[model], legal)  # the positive control
    assert _count_of(engine, model) == before + 1
    with pytest.raises(sa.exc.IntegrityError, match=names):
        copy(engine, model, held[model], forbidden)
    assert _count_of(engine, model) == before + 1


# --------------------------------------------------------------------------------------------
# SQLite connection settings docs/architecture.md states: WAL, busy_timeout 30 s, foreign keys
# on, writes start with BEGIN IMMEDIATE.


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert Path(str(sqlite_engine.url.database) + "-wal").exists()  # the file really is in WAL mode


def test_a_sqlite_write_session_holds_the_write_lock_from_its_start(sqlite_engine):
    """BEGIN IMMEDIATE: a second writer is refused while the first has only read."""
    import sqlite3

    with write_session(sqlite_engine) as s:
        s.execute(sa.text("SELECT 1"))  # nothing written yet
        other = sqlite3.connect(sqlite_engine.url.database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.execute("BEGIN")  # readers are fine (WAL)
            other.execute("SELECT count(*) FROM account").fetchone()
            other.execute("ROLLBACK")
        finally:
            other.close()
