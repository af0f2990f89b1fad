"""The common-house (building) meter, seed KS (Karaganda Su):

    "the difference between the common-house meter and the sum of the flats' individual meters is
    paid by the flats' owners in proportion to the volumes of water they consumed".

Conventions:

* **Building volume** of period P = the building meter's reading for P minus its reading for the
  period before (``BuildingReading`` has one reading per meter and period). A house may have more
  than one building meter for a service; their volumes add up. A missing reading (for P or the
  month before) refuses the calculation with ``errors.building_reading_missing``.
* **A flat's volume** (per personal account, ``Account.house_id``) = for each of its meters of the
  service, the latest reading of P (by ``taken_at``, then id; a customer's correction wins) minus
  the latest reading of any period before P; summed over the account's meters. A meter with no
  reading in P, with no earlier reading to compare with, or whose reading went down (a replaced
  meter) counts 0 and is listed with that status, so staff can see why. Inactive meters count only
  when they have a reading in P. Accounts of the house with no meter of the service take no part.
* **Difference** = building volume - flats' total. When it is 0 or negative (the flats' meters
  show as much as the building's or more) nobody pays anything: every share is 0 and the result
  says ``nothing_to_share``; shares are never negative.
* **Shares** are proportional to each flat's volume, rounded to 0.001 by the largest-remainder
  method so they add up *exactly* to the difference (see ``allocate``). If every flat used 0,
  the difference is split equally (still exactly).
* **Money**: the difference is priced at the *first step* of the tariff in force on the last day
  of P (the day the period's charges are posted, as in ``billing``). The building's surplus is
  not any one flat's own consumption, so it must not push a flat into a dearer step; the first
  step is the base price. ``total_money`` = difference x price, rounded half-up to the tiyn, and
  is split over the flats with the same weights and method, so the money adds up exactly too.
* Periods are the stored 'YYYY-MM' of the readings (already in the profile's time zone), so no
  time-zone argument is needed here.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from gazportal.models import Account, BuildingMeter, BuildingReading, House, Meter, Reading
from gazportal.models.metering import SERVICES
from gazportal.services.errors import AccountNotFound, DomainError, InvalidInput, NotFound
from gazportal.services.periods import add_months, parse_period, period_end
from gazportal.services.tariffs import NoTariff, tariff_at

K = TypeVar("K", bound=Hashable)

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
ZERO_VOLUME = Decimal("0.000")
ZERO_MONEY = Decimal("0.00")

# statuses of a flat's meter in a period
OK = "ok"
NO_READING = "no_reading"  # no reading in the period: counts 0
NO_PREVIOUS = "no_previous_reading"  # nothing earlier to compare with: counts 0
DECREASED = "decreased"  # lower than the previous reading (replaced meter?): counts 0


# --------------------------------------------------------------------------- errors


class HouseNotFound(NotFound):
    key = "errors.house_not_found"


class NoBuildingMeter(DomainError):
    key = "errors.no_building_meter"


class BuildingReadingMissing(DomainError):
    key = "errors.building_reading_missing"


class BuildingReadingDecreased(DomainError):
    key = "errors.building_reading_decreased"


class AccountWithoutHouse(DomainError):
    key = "errors.account_without_house"


# --------------------------------------------------------------------------- allocation


def _decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise InvalidInput("errors.bad_volume", volume=str(value))
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput("errors.bad_volume", volume=str(value)[:20]) from None
    if not d.is_finite():
        raise InvalidInput("errors.bad_volume", volume=str(value)[:20])
    return d


def _key_order(keys: list) -> dict:
    try:
        ordered = sorted(keys)
    except TypeError:
        ordered = sorted(keys, key=repr)
    return {k: i for i, k in enumerate(ordered)}


def allocate(difference, flat_volumes: Mapping[K, Decimal], places: int = 3) -> dict[K, Decimal]:
    """Split ``difference`` over the flats in proportion to their volumes, to ``places`` decimals.

    Largest-remainder (Hamilton) method: every flat first gets its exact proportional share
    rounded down to the last place; the units left over go one each to the flats with the largest
    cut-off remainders (ties: the larger volume first, then the smaller key). So the shares add up
    exactly to ``difference`` (itself first rounded half-up to ``places``) and each differs from the
    exact proportion by less than one unit of the last place.

    If every volume is 0, the difference is split equally (again exactly). If ``difference`` is 0
    or negative every share is 0. Volumes must not be negative. Keys come back in input order.
    """
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 6:
        raise InvalidInput("errors.invalid_input", field="places")
    unit = Decimal(1).scaleb(-places)
    diff = _decimal(difference)
    weights: dict[K, Fraction] = {}
    for k, v in flat_volumes.items():
        d = _decimal(v)
        if d < 0:
            raise InvalidInput("errors.negative_volume", key=str(k)[:40], volume=str(d))
        weights[k] = Fraction(d)
    zero = Decimal(0).quantize(unit)
    units = int(diff.quantize(unit, rounding=ROUND_HALF_UP).scaleb(places)) if diff > 0 else 0
    if units <= 0:
        return {k: zero for k in weights}
    if not weights:
        raise InvalidInput("errors.allocation_no_flats")
    total = sum(weights.values(), Fraction(0))
    if total == 0:
        weights = {k: Fraction(1) for k in weights}
        total = Fraction(len(weights))
    base: dict[K, int] = {}
    remainder: dict[K, Fraction] = {}
    for k, w in weights.items():
        exact = units * w / total
        base[k] = exact.numerator // exact.denominator
        remainder[k] = exact - base[k]
    left = units - sum(base.values())
    order = _key_order(list(weights))
    for k in sorted(weights, key=lambda k: (-remainder[k], -weights[k], order[k]))[:left]:
        base[k] += 1
    return {k: Decimal(base[k]).scaleb(-places).quantize(unit) for k in weights}


def allocate_money(total, weights: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """``allocate`` to the tiyn/kopiyka: the amounts add up exactly to ``total`` (rounded to 0.01)."""
    return allocate(total, weights, places=2)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BuildingMeterVolume:
    meter_id: int
    serial: str
    previous: int  # reading of the month before
    current: int  # reading of the period
    volume: Decimal


@dataclass(frozen=True)
class MeterVolume:
    meter_id: int
    serial: str
    previous: int | None  # latest reading before the period
    current: int | None  # latest reading in the period
    volume: Decimal  # counted volume (0 unless status is "ok")
    status: str  # ok | no_reading | no_previous_reading | decreased


@dataclass(frozen=True)
class FlatShare:
    account_id: int
    account_number: str
    flat_id: int | None
    volume: Decimal  # the flat's own metered volume
    meters: tuple[MeterVolume, ...]
    share: Decimal  # its part of the difference, 3 places
    money: Decimal  # what that part costs, 2 places

    @property
    def complete(self) -> bool:
        """Every meter of the flat had a usable reading."""
        return all(m.status == OK for m in self.meters)


@dataclass(frozen=True)
class BuildingAllocation:
    house_id: int
    service: str
    period: str
    building_meters: tuple[BuildingMeterVolume, ...]
    building_volume: Decimal
    flats: tuple[FlatShare, ...]
    flats_volume: Decimal
    difference: Decimal  # building - flats; may be negative
    shared: Decimal  # what is shared out: max(0, difference)
    nothing_to_share: bool
    tariff_name: str | None
    price: Decimal | None  # first step's price; None only when nothing is shared and no tariff
    total_money: Decimal
    shares: dict[int, Decimal] = field(default_factory=dict)  # account_id -> volume
    money: dict[int, Decimal] = field(default_factory=dict)  # account_id -> amount

    def flat(self, account_id: int) -> FlatShare | None:
        return next((f for f in self.flats if f.account_id == account_id), None)


@dataclass(frozen=True)
class AccountShare:
    """What one customer sees: their part of the building's difference."""

    account_id: int
    service: str
    period: str
    included: bool  # False: the account has no meter of this service in the house's calculation
    volume: Decimal  # own metered volume
    share: Decimal
    money: Decimal
    meters: tuple[MeterVolume, ...]
    building_volume: Decimal
    flats_volume: Decimal
    difference: Decimal
    nothing_to_share: bool
    flats_count: int
    price: Decimal | None


# --------------------------------------------------------------------------- queries


def _volume(n: int) -> Decimal:
    return Decimal(n).quantize(MILLI)


def _check_service(service) -> str:
    if service not in SERVICES:
        raise InvalidInput("errors.bad_service", service=str(service)[:20])
    return service


def _building_meters(session: Session, house_id: int, service: str, period: str
                     ) -> tuple[BuildingMeterVolume, ...]:
    previous_period = add_months(period, -1)
    meters = session.execute(
        sa.select(col(BuildingMeter.id), col(BuildingMeter.serial))
        .where(col(BuildingMeter.house_id) == house_id, col(BuildingMeter.service) == service)
        .order_by(col(BuildingMeter.id))
    ).all()
    if not meters:
        raise NoBuildingMeter(house_id=house_id, service=service)
    readings = {
        (m, p): v
        for m, p, v in session.execute(
            sa.select(col(BuildingReading.building_meter_id), col(BuildingReading.period), col(BuildingReading.value))
            .where(col(BuildingReading.building_meter_id).in_([m.id for m in meters]),
                   col(BuildingReading.period).in_([period, previous_period]))
        ).all()
    }
    out = []
    for meter_id, serial in meters:
        for p in (period, previous_period):
            if (meter_id, p) not in readings:
                raise BuildingReadingMissing(house_id=house_id, service=service, serial=serial, period=p)
        cur, prev = int(readings[meter_id, period]), int(readings[meter_id, previous_period])
        if cur < prev:
            raise BuildingReadingDecreased(serial=serial, period=period, previous=prev, current=cur)
        out.append(BuildingMeterVolume(meter_id, serial, prev, cur, _volume(cur - prev)))
    return tuple(out)


def _flat_meters(session: Session, house_id: int, service: str, period: str):
    """(account_id, number, flat_id, [MeterVolume]) for the house's accounts with a meter of service."""

    def latest(cond, column=col(Reading.value)):
        return (
            sa.select(column)
            .where(col(Reading.meter_id) == col(Meter.id), cond)
            .order_by(col(Reading.taken_at).desc(), col(Reading.id).desc())
            .limit(1)
            .correlate(Meter)
            .scalar_subquery()
        )

    rows = session.execute(
        sa.select(col(Account.id), col(Account.number), col(Account.flat_id),
                  col(Meter.id), col(Meter.serial), col(Meter.is_active),
                  latest(Reading.period == period), latest(Reading.period < period),
                  col(Meter.digits), latest(Reading.period == period, col(Reading.rollovers)),
                  latest(Reading.period < period, col(Reading.rollovers)))
        .join(Meter, col(Meter.account_id) == col(Account.id))
        .where(col(Account.house_id) == house_id, col(Meter.service) == service)
        .order_by(col(Account.id), col(Meter.id))
    ).all()
    flats: dict[int, tuple[str, int | None, list[MeterVolume]]] = {}
    for account_id, number, flat_id, meter_id, serial, active, cur, prev, digits, cur_turns, prev_turns in rows:
        if not active and cur is None:
            continue
        cur = None if cur is None else int(cur)
        prev = None if prev is None else int(prev)
        # Volumes by the counter's position: a reading after the dial passed zero has one more turn.
        turns = 0 if cur is None or prev is None else int(cur_turns) - int(prev_turns)
        if cur is None:
            mv = MeterVolume(meter_id, serial, prev, None, ZERO_VOLUME, NO_READING)
        elif prev is None:
            mv = MeterVolume(meter_id, serial, None, cur, ZERO_VOLUME, NO_PREVIOUS)
        elif turns * 10 ** int(digits) + cur < prev:
            mv = MeterVolume(meter_id, serial, prev, cur, ZERO_VOLUME, DECREASED)
        else:
            mv = MeterVolume(meter_id, serial, prev, cur, _volume(turns * 10 ** int(digits) + cur - prev), OK)
        flats.setdefault(account_id, (number, flat_id, []))[2].append(mv)
    return [(a, n, f, tuple(ms)) for a, (n, f, ms) in flats.items()]


def building_allocation(session: Session, house_id: int, service: str, period: str) -> BuildingAllocation:
    """The building's difference for ``period`` and every flat's share of it, in volume and money."""
    if isinstance(house_id, bool) or not isinstance(house_id, int):
        raise InvalidInput("errors.invalid_input", field="house_id")
    _check_service(service)
    parse_period(period)
    if session.execute(sa.select(col(House.id)).where(col(House.id) == house_id)).scalar_one_or_none() is None:
        raise HouseNotFound(house_id=house_id)
    building = _building_meters(session, house_id, service, period)
    building_volume = sum((m.volume for m in building), ZERO_VOLUME)
    flats = _flat_meters(session, house_id, service, period)
    volumes = {a: sum((m.volume for m in ms), ZERO_VOLUME) for a, _n, _f, ms in flats}
    flats_volume = sum(volumes.values(), ZERO_VOLUME)
    difference = building_volume - flats_volume
    nothing = difference <= 0 or not flats
    shared = ZERO_VOLUME if nothing else difference

    tariff_name: str | None = None
    price: Decimal | None = None
    try:
        tariff, steps = tariff_at(session, service, period_end(period))
        tariff_name, price = tariff.name, Decimal(steps[0].price) if steps else None
    except NoTariff:
        if not nothing:
            raise
    if nothing:
        total_money = ZERO_MONEY
    elif price is None:
        raise NoTariff(service=service, day=period_end(period).isoformat())
    else:
        total_money = (shared * price).quantize(CENT, rounding=ROUND_HALF_UP)

    shares = allocate(shared, volumes, places=3)
    money = allocate_money(total_money, volumes)
    return BuildingAllocation(
        house_id=house_id, service=service, period=period, building_meters=building,
        building_volume=building_volume,
        flats=tuple(FlatShare(a, n, f, volumes[a], ms, shares[a], money[a]) for a, n, f, ms in flats),
        flats_volume=flats_volume, difference=difference, shared=shared, nothing_to_share=nothing,
        tariff_name=tariff_name, price=price, total_money=total_money, shares=shares, money=money,
    )


def account_share(session: Session, account_id: int, service: str, period: str) -> AccountShare:
    """One account's part of its building's difference (what the customer sees)."""
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        raise InvalidInput("errors.invalid_input", field="account_id")
    _check_service(service)
    parse_period(period)
    row = session.execute(
        sa.select(col(Account.id), col(Account.house_id)).where(col(Account.id) == account_id)
    ).one_or_none()
    if row is None:
        raise AccountNotFound(account_id=account_id)
    if row.house_id is None:
        raise AccountWithoutHouse(account_id=account_id)
    alloc = building_allocation(session, row.house_id, service, period)
    flat = alloc.flat(account_id)
    return AccountShare(
        account_id=account_id, service=service, period=period, included=flat is not None,
        volume=flat.volume if flat else ZERO_VOLUME, share=flat.share if flat else ZERO_VOLUME,
        money=flat.money if flat else ZERO_MONEY, meters=flat.meters if flat else (),
        building_volume=alloc.building_volume, flats_volume=alloc.flats_volume,
        difference=alloc.difference, nothing_to_share=alloc.nothing_to_share,
        flats_count=len(alloc.flats), price=alloc.price,
    )


__all__ = [
    "AccountShare", "AccountWithoutHouse", "BuildingAllocation", "BuildingMeterVolume",
    "BuildingReadingDecreased", "BuildingReadingMissing", "FlatShare", "HouseNotFound", "MeterVolume",
    "NoBuildingMeter", "account_share", "allocate", "allocate_money", "building_allocation",
]
