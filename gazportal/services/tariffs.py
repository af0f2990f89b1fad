"""Stepped tariffs: which tariff is in force, and what a volume costs under it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from gazportal.models import Tariff, TariffStep
from gazportal.services.errors import DomainError, InvalidInput

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Step:
    up_to: Decimal | None  # monthly volume this step reaches; None = no upper bound
    price: Decimal  # per m³ or kWh


@dataclass(frozen=True)
class StepCharge:
    step: Step
    volume: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Calculation:
    volume: Decimal
    parts: tuple[StepCharge, ...]
    amount: Decimal  # sum of parts, two places


class NoTariff(DomainError):
    key = "errors.no_tariff"


def validate_steps(steps: Sequence[Step]) -> None:
    if not steps:
        raise InvalidInput("errors.tariff_no_steps")
    last = Decimal(0)
    for i, s in enumerate(steps):
        if s.price < 0:
            raise InvalidInput("errors.tariff_negative_price")
        if s.up_to is None:
            if i != len(steps) - 1:
                raise InvalidInput("errors.tariff_unbounded_step_not_last")
        elif s.up_to <= last:
            raise InvalidInput("errors.tariff_steps_not_increasing")
        else:
            last = s.up_to
    if steps[-1].up_to is not None:
        raise InvalidInput("errors.tariff_last_step_bounded")


def calculate(steps: Sequence[Step], volume: Decimal) -> Calculation:
    """Split a month's volume over the tariff's steps; each part is rounded to the tiyn/kopiyka.

    The total is the sum of the rounded parts, so the bill adds up line by line.
    """
    volume = Decimal(volume)
    if not volume.is_finite() or volume < 0:
        raise InvalidInput("errors.bad_volume")
    validate_steps(steps)
    parts: list[StepCharge] = []
    lower = Decimal(0)
    for s in steps:
        if volume <= lower:
            break
        upper = volume if s.up_to is None else min(volume, s.up_to)
        v = upper - lower
        parts.append(StepCharge(s, v, (v * s.price).quantize(CENT, rounding=ROUND_HALF_UP)))
        lower = upper
    return Calculation(volume, tuple(parts), sum((p.amount for p in parts), Decimal("0.00")))


def tariff_at(session: Session, service: str, day: date) -> tuple[Tariff, list[Step]]:
    """The tariff in force for a service on a day, with its steps in order."""
    tariff = session.exec(
        select(Tariff)
        .where(col(Tariff.service) == service, col(Tariff.valid_from) <= day,
               sa.or_(col(Tariff.valid_to).is_(None), col(Tariff.valid_to) >= day))
        .order_by(col(Tariff.valid_from).desc())
        .limit(1)
    ).one_or_none()
    if tariff is None:
        raise NoTariff(service=service, day=day.isoformat())
    rows = session.exec(
        select(TariffStep).where(col(TariffStep.tariff_id) == tariff.id).order_by(col(TariffStep.position))
    ).all()
    return tariff, [Step(r.up_to, r.price) for r in rows]
