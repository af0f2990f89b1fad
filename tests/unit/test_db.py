"""The schema itself refuses what must never happen."""
from datetime import UTC, date, datetime

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
