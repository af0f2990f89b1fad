"""Monthly roll-ups for the staff dashboard (issue 16 point 4): ``stat_month`` and ``stat_day``.

The dashboard reads only these tables, never the raw readings, charges and payments. They are
kept as data changes by one function, :func:`changed`, called in the same transaction as the
write: a single reading (``readings.submit_reading`` / ``record_reading``) is added in place (a
few indexed statements); bulk writes (the CSV importer, the demo generator, the periods' re-file,
``cli rollups rebuild``) name the periods they touched and those periods are recomputed from the
raw rows. :func:`aggregate` is that from-scratch computation, also the property tests' oracle.

Keys: (period ``YYYY-MM``, service, settlement id). The settlement is the account's house →
street → settlement in the address directory; accounts outside it share settlement 0. Payments
belong to an account, not a service: they are in rows with service ``''``, bucketed by the local
month (profile time zone) of ``paid_at``, like the customer's statement. Volumes are the charged
volumes in each service's unit (m³ or kWh) and are never added across services.

Per account (the top lists and the debt ageing): ``stat_debt`` (unpaid charges by the period they
were charged, payments paying the oldest first: :func:`debts`) and ``stat_consumer`` (charged
volume per service and year: :func:`consumers`), recomputed by :func:`changed` for the accounts
and years a bulk write touched.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gazportal.models import (
    Account, Charge, House, Meter, Payment, Reading, StatConsumer, StatDay, StatDebt, StatMonth, Street,
)
from gazportal.models._base import table_of
from gazportal.services import periods as P
from gazportal.services.billing import _cents_to_money, _milli_to_volume, _sum_cents, _sum_milli, _utc
from gazportal.settings import Utility

PAYMENTS = ""  # the service of the payments' rows

Key = tuple[str, str, int]  # (period, service, settlement_id)


@dataclass
class Bucket:
    """One stat_month row's figures (money Decimal, volume Decimal in the service's unit)."""

    readings: int = 0
    meters_read: int = 0
    meters: int = 0
    volume: Decimal = Decimal(0)
    charged: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)


@dataclass
class Rollup:
    """Roll-up figures: ``months[key]`` and ``days[(period, service, settlement, day)]`` → count."""

    months: dict[Key, Bucket] = field(default_factory=dict)
    days: dict[tuple[str, str, int, int], int] = field(default_factory=dict)


def _settlement_col():
    return sa.func.coalesce(table_of(Street).c.settlement_id, sa.literal_column("0"))  # one SQL text: GROUP BY it


def _with_settlement(sel, account_id_col):
    """Outer-join account → house → street onto ``sel`` by ``account_id_col``."""
    a, h, s = table_of(Account), table_of(House), table_of(Street)
    return (sel.join(a, a.c.id == account_id_col)
            .outerjoin(h, h.c.id == a.c.house_id)
            .outerjoin(s, s.c.id == h.c.street_id))


def _meter_counts(session: Session) -> dict[tuple[str, int], int]:
    m = table_of(Meter)
    sel = _with_settlement(sa.select(m.c.service, _settlement_col(), sa.func.count()).select_from(m), m.c.account_id)
    sel = sel.where(m.c.is_active.is_(True)).group_by(m.c.service, _settlement_col())
    return {(svc, int(st)): int(n) for svc, st, n in session.execute(sel)}


def aggregate(session: Session, utility: Utility, periods: Iterable[str]) -> Rollup:
    """Compute the roll-ups of ``periods`` from the raw rows (the from-scratch aggregate).

    Every (service, settlement) with active meters gets a row in each period (its ``meters``
    the current count), so coverage shows buckets nobody read yet."""
    out = Rollup()
    wanted = sorted(set(periods))
    if not wanted:
        return out
    meters = _meter_counts(session)
    r, m, c, p = table_of(Reading), table_of(Meter), table_of(Charge), table_of(Payment)
    tz = utility.tz

    def bucket(key: Key) -> Bucket:
        b = out.months.get(key)
        if b is None:
            b = out.months[key] = Bucket()
        return b

    for period in wanted:
        for (svc, st), n in meters.items():
            bucket((period, svc, st)).meters = n
        sel = _with_settlement(
            sa.select(m.c.service, _settlement_col(), r.c.meter_id, r.c.taken_at).select_from(r)
            .join(m, m.c.id == r.c.meter_id), m.c.account_id).where(r.c.period == period)
        first: dict[int, tuple[datetime, str, int]] = {}
        for svc, st, meter_id, taken_at in session.execute(sel):
            bucket((period, svc, int(st))).readings += 1
            seen = first.get(meter_id)
            if seen is None or taken_at < seen[0]:
                first[meter_id] = (taken_at, svc, int(st))
        for taken_at, svc, st in first.values():
            bucket((period, svc, st)).meters_read += 1
            dk = (period, svc, st, _local_day(taken_at, tz))
            out.days[dk] = out.days.get(dk, 0) + 1
        sel = _with_settlement(
            sa.select(c.c.service, _settlement_col(), _sum_milli(c.c.volume), _sum_cents(c.c.amount))
            .select_from(c), c.c.account_id).where(c.c.period == period).group_by(c.c.service, _settlement_col())
        for svc, st, vol, amount in session.execute(sel):
            b = bucket((period, svc, int(st)))
            b.volume, b.charged = _milli_to_volume(vol), _cents_to_money(amount)
        start = P.local_day_start_utc(P.period_start(period), tz)
        end = P.local_day_start_utc(P.next_period_start(period), tz)
        sel = _with_settlement(
            sa.select(_settlement_col(), _sum_cents(p.c.amount)).select_from(p), p.c.account_id
        ).where(p.c.paid_at >= _utc(start), p.c.paid_at < _utc(end)).group_by(_settlement_col())
        for st, amount in session.execute(sel):
            bucket((period, PAYMENTS, int(st))).paid = _cents_to_money(amount)
    return out


def _local_day(moment: datetime, tz) -> int:
    if moment.tzinfo is None:  # SQLite hands back naive UTC for a column it stored as text
        from datetime import UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).day


def stored(session: Session, periods: Iterable[str] | None = None) -> Rollup:
    """The roll-ups as stored (all periods, or ``periods``), in :func:`aggregate`'s shape; rows
    that are all zero are left out on both sides by :func:`comparable`."""
    sm, sd = table_of(StatMonth), table_of(StatDay)
    out = Rollup()
    q = sa.select(sm)
    qd = sa.select(sd)
    if periods is not None:
        ps = sorted(set(periods))
        q, qd = q.where(sm.c.period.in_(ps)), qd.where(sd.c.period.in_(ps))
    for row in session.execute(q):
        out.months[(row.period, row.service, row.settlement_id)] = Bucket(
            row.readings, row.meters_read, row.meters, Decimal(row.volume), Decimal(row.charged), Decimal(row.paid))
    for row in session.execute(qd):
        out.days[(row.period, row.service, row.settlement_id, row.day)] = row.first_readings
    return out


def comparable(rollup: Rollup, *, with_meters: bool = True) -> tuple[dict, dict]:
    """Roll-up figures without empty rows, for comparing a stored and a computed roll-up."""
    months = {}
    for k, b in rollup.months.items():
        t = (b.readings, b.meters_read, b.meters if with_meters else 0, b.volume, b.charged, b.paid)
        if any(t):
            months[k] = t
    return months, {k: v for k, v in rollup.days.items() if v}


def refresh(session: Session, utility: Utility, periods: Iterable[str]) -> int:
    """Recompute the stored roll-ups of ``periods`` from the raw rows (delete, then insert), in the
    caller's transaction. Returns the number of stat_month rows written."""
    wanted = sorted(set(periods))
    if not wanted:
        return 0
    fresh = aggregate(session, utility, wanted)
    sm, sd = table_of(StatMonth), table_of(StatDay)
    for chunk in _chunks(wanted, 500):
        session.execute(sa.delete(sd).where(sd.c.period.in_(chunk)))
        session.execute(sa.delete(sm).where(sm.c.period.in_(chunk)))
    rows = [{"period": k[0], "service": k[1], "settlement_id": k[2], "readings": b.readings,
             "meters_read": b.meters_read, "meters": b.meters, "volume": b.volume, "charged": b.charged,
             "paid": b.paid} for k, b in fresh.months.items()]
    days = [{"period": k[0], "service": k[1], "settlement_id": k[2], "day": k[3], "first_readings": n}
            for k, n in fresh.days.items()]
    for chunk in _chunks(rows, 5000):
        session.execute(sa.insert(sm), chunk)
    for chunk in _chunks(days, 5000):
        session.execute(sa.insert(sd), chunk)
    return len(rows)


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _upsert_month(session: Session, key: Key, meter_service: str) -> None:
    """Make sure the stat_month row of ``key`` exists (a new one counts the bucket's meters)."""
    sm = table_of(StatMonth)
    period, svc, st = key
    exists = session.execute(sa.select(sm.c.id).where(
        sm.c.period == period, sm.c.service == svc, sm.c.settlement_id == st)).first()
    if exists is not None:
        return
    m = table_of(Meter)
    count = _with_settlement(sa.select(sa.func.count()).select_from(m), m.c.account_id).where(
        m.c.is_active.is_(True), m.c.service == meter_service, _settlement_col() == st)
    n = session.execute(count).scalar_one()
    _insert_ignore(session, sm, {"period": period, "service": svc, "settlement_id": st, "readings": 0,
                                 "meters_read": 0, "meters": int(n), "volume": Decimal(0),
                                 "charged": Decimal(0), "paid": Decimal(0)})


def _insert_ignore(session: Session, table: sa.Table, values: dict) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    pg = session.get_bind().dialect.name == "postgresql"
    stmt = (postgresql.insert(table) if pg else sqlite.insert(table)).values(**values).on_conflict_do_nothing()
    session.execute(stmt)


def _bump_day(session: Session, key: Key, day: int, delta: int) -> None:
    sd = table_of(StatDay)
    period, svc, st = key
    if delta > 0:
        _insert_ignore(session, sd, {"period": period, "service": svc, "settlement_id": st, "day": day,
                                     "first_readings": 0})
    session.execute(sa.update(sd).where(
        sd.c.period == period, sd.c.service == svc, sd.c.settlement_id == st, sd.c.day == day,
    ).values(first_readings=sd.c.first_readings + delta))


def _add_reading(session: Session, utility: Utility, reading: Reading) -> None:
    r, m, sm = table_of(Reading), table_of(Meter), table_of(StatMonth)
    row = session.execute(_with_settlement(
        sa.select(m.c.service, _settlement_col()).select_from(m), m.c.account_id).where(m.c.id == reading.meter_id)).one()
    key: Key = (reading.period, row[0], int(row[1]))
    _upsert_month(session, key, row[0])
    earlier = session.execute(sa.select(sa.func.min(r.c.taken_at)).where(
        r.c.meter_id == reading.meter_id, r.c.period == reading.period, r.c.id != reading.id)).scalar_one()
    first_of_meter = earlier is None
    session.execute(sa.update(sm).where(
        sm.c.period == key[0], sm.c.service == key[1], sm.c.settlement_id == key[2],
    ).values(readings=sm.c.readings + 1, meters_read=sm.c.meters_read + (1 if first_of_meter else 0)))
    tz = utility.tz
    new_day = _local_day(reading.taken_at, tz)
    if first_of_meter:
        _bump_day(session, key, new_day, +1)
    elif _aware(reading.taken_at) < _aware(earlier):  # a back-dated reading is now the first one
        old_day = _local_day(earlier, tz)
        if old_day != new_day:
            _bump_day(session, key, old_day, -1)
            _bump_day(session, key, new_day, +1)


def _aware(moment: datetime) -> datetime:
    from datetime import UTC
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def changed(session: Session, utility: Utility, *, reading: Reading | None = None,
            periods: Iterable[str] = (), accounts: Iterable[int] | None = None) -> None:
    """Keep the roll-ups true after a write, in the writer's transaction (the one function every
    writer of readings, charges and payments calls).

    ``reading``: one new, flushed reading row — added in place (its bucket's counts, and the
    day of the meter's first reading of the period). ``periods``: periods whose readings, charges
    or payments changed in bulk — recomputed from the raw rows (:func:`refresh`), and with them
    the top consumers of their years (:func:`refresh_consumers`). ``accounts``: the accounts whose
    charges or payments changed (their debt by month, :func:`refresh_debts`); ``None`` (the
    default, with ``periods``) means every account, ``()`` none (only readings moved)."""
    if reading is not None:
        _add_reading(session, utility, reading)
    wanted = set(periods)
    if wanted:
        refresh(session, utility, wanted)
        refresh_consumers(session, {int(p[:4]) for p in wanted})
        refresh_debts(session, None if accounts is None else set(accounts))


def debts(session: Session, accounts: set[int] | None = None) -> dict[tuple[int, str], Decimal]:
    """The from-scratch debt by month: {(account id, period): unpaid} for ``accounts`` (None: all).

    Each account's charges (all services, money) by period, oldest first, are paid by the sum of
    all its payments (oldest charges first, like a receipt paying off the oldest debt); what is
    left of a period's charges is its unpaid part (only periods with something unpaid appear).
    Exact in whole tiyn. The sum over an account's posted periods equals
    ``billing.debt_at`` on days after its last payment."""
    c, p = table_of(Charge), table_of(Payment)
    cq = sa.select(c.c.account_id, c.c.period, _sum_cents(c.c.amount)).group_by(c.c.account_id, c.c.period)
    pq = sa.select(p.c.account_id, _sum_cents(p.c.amount)).group_by(p.c.account_id)
    if accounts is not None:
        ids = sorted(accounts)
        if not ids:
            return {}
        charged: list = []
        paid_rows: list = []
        for chunk in _chunks(ids, 500):
            charged += session.execute(cq.where(c.c.account_id.in_(chunk))).all()
            paid_rows += session.execute(pq.where(p.c.account_id.in_(chunk))).all()
    else:
        charged = list(session.execute(cq).all())
        paid_rows = list(session.execute(pq).all())
    paid = {int(a): int(v or 0) for a, v in paid_rows}
    by_account: dict[int, list[tuple[str, int]]] = {}
    for a, period, cents in charged:
        by_account.setdefault(int(a), []).append((period, int(cents or 0)))
    out: dict[tuple[int, str], Decimal] = {}
    for a, rows in by_account.items():
        # a credit (a negative charge) pays like a payment
        left = paid.get(a, 0) - sum(cents for _p, cents in rows if cents < 0)
        for period, cents in sorted(rows):
            covered = min(max(left, 0), max(cents, 0))
            left -= covered
            if cents - covered > 0:
                out[(a, period)] = _cents_to_money(cents - covered)
    return out


def _settlements_of(session: Session, accounts: Iterable[int] | None) -> dict[int, int]:
    a, h, st = table_of(Account), table_of(House), table_of(Street)
    sel = (sa.select(a.c.id, _settlement_col()).select_from(a)
           .outerjoin(h, h.c.id == a.c.house_id).outerjoin(st, st.c.id == h.c.street_id))
    if accounts is None:
        return {int(i): int(st) for i, st in session.execute(sel)}
    out: dict[int, int] = {}
    for chunk in _chunks(sorted(accounts), 500):
        out.update({int(i): int(st) for i, st in session.execute(sel.where(a.c.id.in_(chunk)))})
    return out


def refresh_debts(session: Session, accounts: set[int] | None = None) -> int:
    """Recompute ``stat_debt`` for ``accounts`` (None: every account) from the raw charges and
    payments, in the caller's transaction (:func:`debts`). Returns the rows written."""
    fresh = debts(session, accounts)
    sd = table_of(StatDebt)
    if accounts is None:
        session.execute(sa.delete(sd))
    else:
        for chunk in _chunks(sorted(accounts), 500):
            session.execute(sa.delete(sd).where(sd.c.account_id.in_(chunk)))
    places = _settlements_of(session, {a for a, _p in fresh} if accounts is not None else None)
    rows = [{"account_id": a, "period": period, "settlement_id": places.get(a, 0), "unpaid": v}
            for (a, period), v in fresh.items()]
    for chunk in _chunks(rows, 5000):
        session.execute(sa.insert(sd), chunk)
    return len(rows)


def consumers(session: Session, years: Iterable[int]) -> dict[tuple[int, str, int], Decimal]:
    """From scratch: {(year, service, account id): charged volume in the service's unit} for ``years``
    (calendar years of the charges' periods; accounts with no volume left out)."""
    c = table_of(Charge)
    out: dict[tuple[int, str, int], Decimal] = {}
    for y in sorted(set(years)):
        sel = (sa.select(c.c.service, c.c.account_id, _sum_milli(c.c.volume))
               .where(c.c.period >= f"{y:04d}-01", c.c.period <= f"{y:04d}-12")
               .group_by(c.c.service, c.c.account_id))
        for svc, a, milli in session.execute(sel):
            if milli:
                out[(y, svc, int(a))] = _milli_to_volume(milli)
    return out


def refresh_consumers(session: Session, years: Iterable[int]) -> int:
    """Recompute ``stat_consumer`` for ``years`` from the raw charges (:func:`consumers`)."""
    wanted = sorted(set(years))
    if not wanted:
        return 0
    fresh = consumers(session, wanted)
    sc = table_of(StatConsumer)
    session.execute(sa.delete(sc).where(sc.c.year.in_(wanted)))
    places = _settlements_of(session, None)
    rows = [{"year": y, "service": svc, "account_id": a, "settlement_id": places.get(a, 0), "volume": v}
            for (y, svc, a), v in fresh.items()]
    for chunk in _chunks(rows, 5000):
        session.execute(sa.insert(sc), chunk)
    return len(rows)


def all_periods(session: Session, utility: Utility) -> list[str]:
    """Every period with a reading, a charge or a payment (the periods of a full rebuild)."""
    r, c, p = table_of(Reading), table_of(Charge), table_of(Payment)
    found = {x for (x,) in session.execute(sa.select(r.c.period).distinct())}
    found |= {x for (x,) in session.execute(sa.select(c.c.period).distinct())}
    lo, hi = session.execute(sa.select(sa.func.min(p.c.paid_at), sa.func.max(p.c.paid_at))).one()
    if lo is not None:
        found |= set(P.months_between(P.period_of(_aware(lo), utility.tz), P.period_of(_aware(hi), utility.tz)))
    return sorted(found)


def rebuild(engine: Engine, utility: Utility) -> int:
    """Recompute every period's roll-ups (``cli rollups rebuild``); returns stat_month rows."""
    from gazportal.db import write_session

    with write_session(engine) as session:
        sm, sd, sc = table_of(StatMonth), table_of(StatDay), table_of(StatConsumer)
        session.execute(sa.delete(sd))
        session.execute(sa.delete(sm))
        session.execute(sa.delete(sc))
        every = all_periods(session, utility)
        n = refresh(session, utility, every)
        refresh_consumers(session, {int(p[:4]) for p in every})
        refresh_debts(session, None)
        return n
