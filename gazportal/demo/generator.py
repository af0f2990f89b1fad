"""Realistic demo data for any utility profile, at any size (10 to 1,000,000 accounts).

Everything comes from one ``random.Random(seed)`` consumed in a fixed order, so the same seed,
size, profile and last period give identical rows. Rows are built building by building and
written with SQLAlchemy Core ``executemany`` in bounded chunks, committing every ``batch_size``
accounts, so memory stays flat however many accounts are asked for. Ids are given explicitly
(the database is empty when generating); on PostgreSQL the id sequences are moved past them at
the end.

What is made: the address directory (branch -> settlement -> street -> house -> flat) with names
of the profile's country or its own (the words come from JSON files, :mod:`gazportal.demo.data`),
accounts (people and, where the profile allows, legal entities with
valid BINs), meters for the profile's services, a baseline reading and ``months`` of monthly
readings with seasonal consumption (customers in slot 1, now and then a slot-2 correction,
inspectors and controllers, estimates), two stepped tariffs per service (one change in the
history), monthly charges computed with :func:`gazportal.services.tariffs.calculate`, payments
(about one account in ten is a debtor) and common-house meters with their monthly readings.
No users are made.
"""
from __future__ import annotations

import calendar
import re
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from random import Random

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gazportal.db import write_session
from gazportal.models import (
    Account, Branch, BuildingMeter, BuildingReading, Charge, Flat, House, Meter, Payment, Reading,
    Settlement, StatMonth, Street, Tariff, TariffStep,
)
from gazportal.demo.data import DemoWords, words
from gazportal.services import readings, rollups
from gazportal.services.errors import DomainError, InvalidInput
from gazportal.services.identifiers import make_bin
from gazportal.services.periods import add_months, local_day_start_utc, period_start, reading_period
from gazportal.services.tariffs import CENT, Step, calculate
from gazportal.settings import UNITS, Utility

MIN_ACCOUNTS = 10
MAX_ACCOUNTS = 1_000_000
MAX_MONTHS = 240

# Tables in foreign-key order: a chunk of a table is written only after every earlier table.
TABLES = [t.__table__ for t in (Branch, Settlement, Street, House, Flat, Account, Meter, Reading,
                                BuildingMeter, BuildingReading, Tariff, TariffStep, Charge, Payment)]

class DemoDatabaseNotEmpty(DomainError):
    key = "errors.demo_database_not_empty"


@dataclass
class DemoResult:
    utility: str
    seed: int
    first_period: str = ""
    last_period: str = ""
    skipped: bool = False  # nothing done: the database was not empty and if_empty was asked
    elapsed: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)  # table name -> rows written

    @property
    def accounts(self) -> int:
        return self.counts.get("account", 0)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


# --------------------------------------------------------------------------------------------
# Consumption, tariffs, payments (the words of a country or utility are in data/, see data.py)
# --------------------------------------------------------------------------------------------


# Seasonal factors by calendar month (index 0 = January).
SEASON = {
    "gas_heating": (2.3, 2.1, 1.6, 0.9, 0.35, 0.15, 0.12, 0.12, 0.25, 0.8, 1.5, 2.1),
    "gas": (1.25, 1.2, 1.1, 1.0, 0.95, 0.85, 0.8, 0.8, 0.9, 1.0, 1.1, 1.2),
    "electricity": (1.2, 1.15, 1.05, 0.95, 0.9, 0.85, 0.88, 0.9, 0.92, 1.0, 1.1, 1.2),
    "water": (0.95, 0.95, 0.95, 1.0, 1.05, 1.12, 1.15, 1.12, 1.02, 0.97, 0.95, 0.95),
}

# (monthly volume a step reaches or None, price) for the older tariff; the newer one is dearer.
TARIFF_RISE = Decimal("1.12")
RECEIPT_PREFIX = {"kaspi": "KSP", "bank": "BNK", "card": "CRD", "cash": "CSH", "post": "PST"}


class _Numbers:
    """Unique account numbers that match the profile's pattern, in no order a neighbour could use
    (issue 15: flats 10 and 11 had numbers 20 apart): the ``i``-th number is ``(a·i + b) mod 10^w``
    after the profile's prefix, with ``a`` coprime to ``10^w`` — a permutation of the range,
    drawn from the seed, so no two accounts share a number and nothing needs remembering."""

    def __init__(self, utility: Utility, total: int, rng: Random) -> None:
        pat = utility.account_number_pattern
        m = re.fullmatch(r"(?:\\d|\[0-9\])\{(\d+)(?:,(\d+))?\}", pat)
        example = utility.account_number_example
        if m and m.group(2) is None:
            length = int(m.group(1))
        elif m and int(m.group(1)) <= len(example) <= int(m.group(2)):
            length = len(example)
        else:
            raise InvalidInput("errors.demo_account_pattern_unsupported", pattern=pat, utility=utility.id)
        prefix_len = 1 if length <= 8 else 2
        self.prefix = example[:prefix_len]
        self.width = length - prefix_len
        self.size = 10 ** self.width
        if total > self.size:
            raise InvalidInput("errors.demo_account_pattern_unsupported", pattern=pat, utility=utility.id)
        own = Random(rng.random())  # one draw from the generator's stream, as before
        step = int(own.random() * self.size) | 1  # odd ...
        while step % 5 == 0 or not self.size // 10 <= step <= self.size - self.size // 10:
            # ... not a multiple of 5 (so coprime to 10^w), and neighbours land far apart either way
            step = int(own.random() * self.size) | 1
        self.step = step
        self.value = int(own.random() * self.size)
        self.utility = utility

    def next(self, rng: Random) -> str:
        rng.random()  # the draw the earlier, ordered numbers made: the rest of the demo data stays as it was
        self.value = (self.value + self.step) % self.size
        number = f"{self.prefix}{self.value:0{self.width}d}"
        if not self.utility.valid_account_number(number):
            raise InvalidInput("errors.demo_account_pattern_unsupported",
                               pattern=self.utility.account_number_pattern, utility=self.utility.id)
        return number


@dataclass
class _Tariffs:
    change_day: date
    old: dict[str, list[Step]]
    new: dict[str, list[Step]]
    cache: dict = field(default_factory=dict)

    def amount(self, service: str, day: date, volume: int) -> Decimal:
        key = (service, day >= self.change_day, volume)
        a = self.cache.get(key)
        if a is None:
            steps = (self.new if key[1] else self.old)[service]
            a = calculate(steps, Decimal(volume)).amount
            self.cache[key] = a
        return a


class _Writer:
    """Per-table row buffers written in foreign-key order with Core executemany."""

    def __init__(self, session: Session | None, chunk: int) -> None:
        self.session = session
        self.chunk = chunk
        self.buffers: dict[str, list[dict]] = {t.name: [] for t in TABLES}
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}

    def add(self, table: str, row: dict) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= self.chunk:
            self.flush(upto=table)

    def flush(self, upto: str | None = None) -> None:
        for t in TABLES:
            rows = self.buffers[t.name]
            if rows:
                self.session.execute(sa.insert(t), rows)
                self.counts[t.name] += len(rows)
                self.buffers[t.name] = []
            if t.name == upto:
                return


def _check_size(accounts: int, months: int) -> None:
    if not isinstance(accounts, int) or not MIN_ACCOUNTS <= accounts <= MAX_ACCOUNTS:
        raise InvalidInput("errors.demo_bad_size", min=MIN_ACCOUNTS, max=MAX_ACCOUNTS, value=accounts)
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InvalidInput("errors.demo_bad_months", max=MAX_MONTHS, value=months)


def nonempty_tables(engine: Engine) -> dict[str, int]:
    """The demo tables that already hold rows (table -> a row count, capped at 1)."""
    found = {}
    with engine.connect() as conn:
        for t in TABLES:
            if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is not None:
                found[t.name] = 1
    return found


def default_last_period(utility: Utility, now: datetime | None = None) -> str:
    """The last period whose reading window has closed: the one before the period a reading made
    now counts for (the month before now; Kremenchukgaz on the 1st-5th: two months before)."""
    return add_months(reading_period(now or datetime.now(UTC), utility), -1)


def generate_demo(
    engine: Engine,
    utility: Utility,
    *,
    accounts: int = 200,
    months: int = 24,
    seed: int = 1,
    if_empty: bool = False,
    last_period: str | None = None,
    batch_size: int = 5000,
    chunk_rows: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Fill an empty, migrated database with demo data for ``profile``.

    ``last_period`` is the last month with readings and charges (default: the month before the
    current one in the profile's time zone); ``months`` months end with it. Raises
    :class:`DemoDatabaseNotEmpty` if demo tables already have rows, unless ``if_empty`` is set,
    in which case nothing is done and the result says ``skipped``.
    """
    _check_size(accounts, months)
    started = time.perf_counter()
    result = DemoResult(utility=utility.id, seed=seed)
    busy = nonempty_tables(engine)
    if busy:
        if if_empty:
            # a database made before the roll-ups existed (migration 0012) gets them once here
            with write_session(engine) as session:
                if session.execute(sa.select(sa.func.count()).select_from(StatMonth)).scalar_one() == 0:
                    rollups.changed(session, utility, periods=rollups.all_periods(session, utility))
            result.skipped = True
            result.elapsed = time.perf_counter() - started
            return result
        raise DemoDatabaseNotEmpty(tables=", ".join(sorted(busy)))
    gen = _Generator(utility, accounts, months, seed, last_period or default_last_period(utility))
    result.first_period, result.last_period = gen.periods[1], gen.periods[-1]
    batches = gen.batches(batch_size)
    counts = {t.name: 0 for t in TABLES}
    while True:
        with write_session(engine) as session:
            gen.writer = writer = _Writer(session, chunk_rows)
            done = next(batches, None)
            if done is None:
                break
            writer.flush()
        for k, v in writer.counts.items():
            counts[k] += v
        if progress:
            progress(done, accounts)
    with write_session(engine) as session:  # the dashboard's roll-ups of every generated period
        rollups.changed(session, utility, periods=rollups.all_periods(session, utility))
    if engine.dialect.name == "postgresql":
        with write_session(engine) as session:
            for t in TABLES:
                session.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {t.name}), false)"))
    result.counts = counts
    result.elapsed = time.perf_counter() - started
    return result


class _Generator:
    def __init__(self, utility: Utility, accounts: int, months: int, seed: int, last_period: str) -> None:
        self.utility = utility
        self.total = accounts
        self.rng = Random(seed)
        self.tz = utility.tz
        self.words: DemoWords = words(utility)
        self.writer: _Writer | None = None
        # periods[0] is the baseline (a controller's reading); 1..months are read and charged.
        self.periods = [add_months(last_period, -months + i) for i in range(months + 1)]
        self.month_idx = [int(p[5:7]) - 1 for p in self.periods]
        self.period_days = [calendar.monthrange(int(p[:4]), int(p[5:7]))[1] for p in self.periods]
        self.day_starts = []
        for p, n in zip(self.periods, self.period_days):
            first = period_start(p)
            self.day_starts.append([local_day_start_utc(first + timedelta(days=d), self.tz) for d in range(n)])
        self.period_first_day = [period_start(p) for p in self.periods]
        self.ids = {t.name: 0 for t in TABLES}
        self.numbers = _Numbers(utility, accounts, self.rng)
        self.heating_share = 0.3  # flats with an individual gas boiler
        self._build_directory()
        self._build_tariffs()

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # ---- time helpers -------------------------------------------------------------------------
    def _at(self, pi: int, day: int, hour: int, minute: int) -> datetime:
        """UTC moment of a local day (1-based) and time in period ``pi``."""
        return self.day_starts[pi][day - 1] + timedelta(hours=hour, minutes=minute)

    # ---- directory -----------------------------------------------------------------------------
    def _build_directory(self) -> None:
        self.streets = []  # [street_id, settlement_type, settlement, street, next_house, weight]
        self.top_rows = []
        for branch, settlements in self.words.directory.items():
            bid = self._id("branch")
            self.top_rows.append(("branch", {"id": bid, "name": branch}))
            for stype, sname, weight, streets in ((p.type, p.name, p.weight, p.streets) for p in settlements):
                sid = self._id("settlement")
                self.top_rows.append(("settlement", {"id": sid, "branch_id": bid, "name": sname}))
                for street in streets:
                    stid = self._id("street")
                    self.top_rows.append(("street", {"id": stid, "settlement_id": sid, "name": street}))
                    self.streets.append([stid, stype, sname, street, 0, weight / len(streets)])
        self.street_cum = list(accumulate(s[5] for s in self.streets))

    def _build_tariffs(self) -> None:
        months = len(self.periods) - 1
        change = None
        for i in range(months, 1, -1):
            if self.month_idx[i] in (0, 6):
                change = i
                break
        if change is None:
            change = max(1, (months + 1) // 2)
        change_day = self.period_first_day[change]
        old_from = date(self.period_first_day[0].year - 2, 7, 1)
        old, new = {}, {}
        for service in self.utility.services:
            old[service] = [Step(u, p) for u, p in self.words.tariff_steps[service]]
            new[service] = [Step(s.up_to, (s.price * TARIFF_RISE).quantize(Decimal("0.01"))) for s in old[service]]
            for steps, vfrom, vto in ((old[service], old_from, change_day - timedelta(days=1)),
                                      (new[service], change_day, None)):
                tid = self._id("tariff")
                name = (self.words.tariff_name.format(d=vfrom.strftime("%d.%m.%Y"))
                        + f" ({self.words.service_words[service]})")
                self.top_rows.append(("tariff", {"id": tid, "service": service, "name": name,
                                                 "valid_from": vfrom, "valid_to": vto}))
                for pos, s in enumerate(steps, 1):
                    self.top_rows.append(("tariff_step", {"id": self._id("tariff_step"), "tariff_id": tid,
                                                          "position": pos, "up_to": s.up_to, "price": s.price}))
        self.tariffs = _Tariffs(change_day, old, new)

    # ---- generation ------------------------------------------------------------------------
    def batches(self, batch_size: int):
        """Yields the number of accounts done after each batch; rows go to ``self.writer``, which
        the caller replaces (one per transaction) before asking for the next batch."""
        for table, row in self.top_rows:
            self.writer.add(table, row)
        self.top_rows = []
        done = 0
        metered_one = False
        rng = self.rng
        utility = self.utility
        while done < self.total:
            target = min(self.total, done + batch_size)
            while done < target:
                street = self.streets[bisect_right(self.street_cum, rng.random() * self.street_cum[-1])]
                while done == 0 and street[1] not in self.words.city_types:  # the first building: a city block
                    street = self.streets[bisect_right(self.street_cum, rng.random() * self.street_cum[-1])]
                city = street[1] in self.words.city_types
                street[4] += 1
                n = street[4]
                house_no = str(n) if n <= 150 else f"{(n - 1) % 150 + 1}/{(n - 1) // 150 + 1}"
                if n <= 150 and rng.random() < 0.08:
                    house_no += rng.choice(self.words.house_letters)
                house_id = self._id("house")
                self.writer.add("house", {"id": house_id, "street_id": street[0], "number": house_no})
                address = f"{street[1]} {street[2]}, {street[3]}, {self.words.house_word} {house_no}"
                room = self.total - done  # not the batch's: the data must not depend on batch_size
                if room >= 2 and city and (done == 0 or rng.random() < 0.65):
                    flats = min(room, rng.choice((12, 20, 36, 45, 60, 60, 72, 80, 108, 120)), max(8, self.total // 12))
                    meter_service = None
                    if flats >= 8 and (utility.common_house_meters or not metered_one):
                        metered_one = True
                        meter_service = "water" if "water" in utility.services else utility.services[0]
                    self._apartment_building(house_id, address, flats, meter_service)
                    done += flats
                else:
                    legal = utility.legal_entities and rng.random() < 0.04
                    self._account(house_id, None, address, private=True, legal=legal)
                    done += 1
            yield done

    def _apartment_building(self, house_id: int, address: str, flats: int, meter_service: str | None) -> None:
        totals = [0] * len(self.periods)
        for f in range(1, flats + 1):
            flat_id = self._id("flat")
            self.writer.add("flat", {"id": flat_id, "house_id": house_id, "number": str(f)})
            per_service = self._account(house_id, flat_id, f"{address}, {self.words.flat_word} {f}", private=False, legal=False)
            if meter_service:
                vols = per_service[meter_service]
                for i in range(1, len(totals)):
                    totals[i] += vols[i]
        if meter_service:
            self._building_meter(house_id, meter_service, totals)

    def _building_meter(self, house_id: int, service: str, totals: list[int]) -> None:
        rng = self.rng
        bm_id = self._id("building_meter")
        self.writer.add("building_meter", {
            "id": bm_id, "house_id": house_id, "service": service,
            "serial": f"ОДПУ-{10_000_000 + (bm_id * 7919) % 90_000_000}", "unit": UNITS[service], "digits": 8,
            "installed_on": self.period_first_day[0] - timedelta(days=200 + int(rng.random() * 1500)),
        })
        value = int(rng.random() * 200_000)
        for i, p in enumerate(self.periods):
            if i:
                value += int(totals[i] * (1.03 + rng.random() * 0.09)) + 1
            self.writer.add("building_reading", {
                "id": self._id("building_reading"), "building_meter_id": bm_id, "value": value,
                "taken_at": self._at(i, min(25, self.period_days[i]), 10, int(rng.random() * 50)), "period": p,
            })

    def _account(self, house_id: int, flat_id: int | None, address: str, *, private: bool, legal: bool) -> dict[str, list[int]]:
        rng = self.rng
        utility = self.utility
        acc_id = self._id("account")
        number = self.numbers.next(rng)
        if legal:
            holder = self.words.company(rng)
            bin_ = make_bin(rng)
        else:
            holder = self.words.person(rng)
            bin_ = None
        created = datetime.combine(self.period_first_day[0] - timedelta(days=30 + int(rng.random() * 3000)),
                                   datetime.min.time(), tzinfo=UTC)
        self.writer.add("account", {
            "id": acc_id, "number": number, "holder_name": holder, "kind": "legal" if legal else "person",
            "bin": bin_, "address": address, "house_id": house_id, "flat_id": flat_id, "created_at": created,
        })
        scale = (2.0 + rng.random() * 4.0) if legal else 1.0
        n_periods = len(self.periods)
        per_service: dict[str, list[int]] = {}
        for service in utility.services:
            if service == "water":
                n_meters = 1 if (private or legal) else (2 if rng.random() < 0.65 else 1)
            else:
                n_meters = 1
            total = [0] * n_periods
            for _ in range(n_meters):
                vols = self._meter(acc_id, service, private, scale, n_meters)
                for i in range(1, n_periods):
                    total[i] += vols[i]
            per_service[service] = total
        self._charges_and_payments(acc_id, per_service)
        return per_service

    def _consumption(self, service: str, private: bool, scale: float, n_meters: int) -> list[int]:
        rng = self.rng
        if service == "gas":
            heating = private or rng.random() < self.heating_share
            season = SEASON["gas_heating" if heating else "gas"]
            base = (90 + rng.random() * 140) if heating else (12 + rng.random() * 30)
            if private and heating:
                base *= 1.3
        elif service == "water":
            season = SEASON["water"]
            base = (6 + rng.random() * 8) if private else (2.5 + rng.random() * 5) / (1 if n_meters == 1 else 1.6)
        else:
            season = SEASON["electricity"]
            base = (180 + rng.random() * 220) if private else (90 + rng.random() * 200)
        base *= scale
        vacant = rng.random() < 0.01
        out = [0]
        for i in range(1, len(self.periods)):
            if vacant:
                out.append(int(rng.random() * 2))
            else:
                out.append(int(base * season[self.month_idx[i]] * (0.85 + rng.random() * 0.3) + 0.5))
        return out

    def _meter(self, acc_id: int, service: str, private: bool, scale: float, n_meters: int) -> list[int]:
        rng = self.rng
        periods = self.periods
        vols = self._consumption(service, private, scale, n_meters)
        total = sum(vols)
        digits = rng.choice((5, 5, 6, 6, 6, 7, 8)) if service != "electricity" else rng.choice((5, 6, 6, 6, 7))
        while 10 ** digits - 1 < total * 2 and digits < 12:
            digits += 1
        capacity = 10 ** digits - 1
        meter_id = self._id("meter")
        installed = self.period_first_day[0] - timedelta(days=60 + int(rng.random() * 3000))
        self.writer.add("meter", {
            "id": meter_id, "account_id": acc_id, "service": service,
            "serial": str(10_000_000 + (meter_id * 7919) % 90_000_000), "unit": UNITS[service],
            "digits": digits, "installed_on": installed, "is_active": True,
        })
        yearly = (total / max(1, len(periods) - 1)) * 12
        age_years = (self.period_first_day[0] - installed).days / 365
        value = int(rng.random() * min(capacity - total, yearly * age_years + 1))
        two_slots = self.utility.submissions_per_month >= 2
        until = self.utility.reading_window.previous_month_until
        add = self.writer.add
        for i, p in enumerate(periods):
            value += vols[i]
            r = rng.random() if i else 2.0
            if r < 0.06 or i == 0:  # an inspector's or controller's visit (and the baseline)
                # after the days that count for the month before (Kremenchukgaz: the 1st-5th)
                day = min(max(3, until + 1) + int(rng.random() * 23), self.period_days[i])
                at = self._at(i, day, 9 + int(rng.random() * 8), int(rng.random() * 60))
                rp = reading_period(at, self.utility)  # the month it counts for (the profile's rule)
                source = "controller" if (i == 0 or r < 0.02) else "inspector"
                add("reading", {"id": self._id("reading"), "meter_id": meter_id, "value": value,
                                "taken_at": at, "period": rp, "source": source, "slot": None, "created_at": at})
                continue
            if r < 0.09:  # the utility estimated it (no reading came)
                at = self._at(i, self.period_days[i], 20, int(rng.random() * 60))
                rp = reading_period(at, self.utility)
                add("reading", {"id": self._id("reading"), "meter_id": meter_id, "value": value,
                                "taken_at": at, "period": rp, "source": "estimate", "slot": None, "created_at": at})
                continue
            # in the window whose readings count for p (Kremenchukgaz: the 1st-5th of the next month)
            win_from, win_to = readings.window_for_period(self.utility, p)
            day = win_from + timedelta(days=int(rng.random() * ((win_to - win_from).days + 1)))
            hour = 7 + int(rng.random() * 14)
            at = local_day_start_utc(day, self.tz) + timedelta(hours=hour, minutes=int(rng.random() * 60))
            # A reading sent by the profile's previous_month_until day counts for the month before
            # (Kremenchukgaz: the 1st-5th); a correction later that day is of the same period.
            rp = reading_period(at, self.utility)
            if two_slots and r > 0.95:  # a first submission, then a correction
                first = value - int(vols[i] * (0.2 + rng.random() * 0.6))
                add("reading", {"id": self._id("reading"), "meter_id": meter_id, "value": first,
                                "taken_at": at, "period": rp, "source": "customer", "slot": 1, "created_at": at})
                at = at + timedelta(minutes=20 + int(rng.random() * 90))
                add("reading", {"id": self._id("reading"), "meter_id": meter_id, "value": value,
                                "taken_at": at, "period": rp, "source": "customer", "slot": 2, "created_at": at})
            else:
                add("reading", {"id": self._id("reading"), "meter_id": meter_id, "value": value,
                                "taken_at": at, "period": rp, "source": "customer", "slot": 1, "created_at": at})
        assert value <= capacity
        return vols

    def _charges_and_payments(self, acc_id: int, per_service: dict[str, list[int]]) -> None:
        rng = self.rng
        add = self.writer.add
        n = len(self.periods)
        bills = [Decimal("0.00")] * n
        for service, vols in per_service.items():
            for i in range(1, n):
                day = self.period_first_day[i]
                amount = self.tariffs.amount(service, day, vols[i])
                bills[i] += amount
                add("charge", {
                    "id": self._id("charge"), "account_id": acc_id, "period": self.periods[i], "service": service,
                    "volume": Decimal(vols[i]), "amount": amount,
                    "created_at": self._at(i, self.period_days[i], 23, 0),
                })
        debtor = rng.random() < 0.10
        skip = 0.5 if debtor else 0.03
        channels, weights = zip(*self.words.payment_channels)
        cum = list(accumulate(weights))
        from_day = self.utility.payment_from_day
        rounding = self.words.payment_rounding
        owed = Decimal("0.00")
        for i in range(1, n - 1):  # the last period's bill is paid next month (not yet)
            owed += bills[i]
            if rng.random() < skip or owed <= 0:
                continue
            r = rng.random()
            if r < 0.7:
                amount = bills[i]
            elif r < 0.85:
                amount = ((bills[i] / rounding).to_integral_value(rounding="ROUND_CEILING") * rounding).quantize(CENT)
            elif r < 0.95:
                amount = owed
            else:
                amount = (bills[i] * Decimal(0.6 + rng.random() * 0.35)).quantize(CENT)
            if amount <= 0:
                continue
            owed -= amount
            channel = channels[bisect_right(cum, rng.random() * cum[-1])]
            pay_period = i + 1
            day = from_day + int(rng.random() * (min(28, self.period_days[pay_period]) - from_day + 1))
            at = self._at(pay_period, day, 8 + int(rng.random() * 13), int(rng.random() * 60))
            pid = self._id("payment")
            add("payment", {
                "id": pid, "account_id": acc_id, "paid_at": at, "amount": amount,
                "receipt_no": f"{RECEIPT_PREFIX[channel]}-{self.periods[pay_period][2:4]}{self.periods[pay_period][5:]}-{pid:09d}",
                "channel": channel,
            })
