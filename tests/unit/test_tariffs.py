from datetime import date
from decimal import Decimal as D

import pytest

from gazportal.db import read_session, write_session
from gazportal.models import Tariff, TariffStep
from gazportal.services.errors import InvalidInput
from gazportal.services.tariffs import NoTariff, Step, calculate, tariff_at

STEPS = [Step(D("100"), D("20.5000")), Step(D("300"), D("25.1250")), Step(None, D("31.0000"))]


def test_volume_within_first_step():
    c = calculate(STEPS, D("42.5"))
    assert c.amount == D("871.25") and len(c.parts) == 1


def test_volume_over_all_steps_is_split_and_each_part_rounded():
    c = calculate(STEPS, D("350.333"))
    assert [p.volume for p in c.parts] == [D("100"), D("200"), D("50.333")]
    assert [p.amount for p in c.parts] == [D("2050.00"), D("5025.00"), D("1560.32")]
    assert c.amount == D("8635.32")


def test_zero_volume_costs_nothing():
    assert calculate(STEPS, D(0)).amount == D("0.00")


@pytest.mark.parametrize("bad", [D(-1), D("-0.001"), D("NaN"), D("Infinity")])
def test_bad_volume_refused(bad):
    with pytest.raises(InvalidInput) as e:
        calculate(STEPS, bad)
    assert e.value.key == "errors.bad_volume"


@pytest.mark.parametrize("steps, key", [
    ([], "errors.tariff_no_steps"),
    ([Step(D(10), D(1))], "errors.tariff_last_step_bounded"),
    ([Step(None, D(1)), Step(D(10), D(2))], "errors.tariff_unbounded_step_not_last"),
    ([Step(D(10), D(1)), Step(D(5), D(2)), Step(None, D(3))], "errors.tariff_steps_not_increasing"),
    ([Step(D(10), D(1)), Step(D(10), D(2)), Step(None, D(3))], "errors.tariff_steps_not_increasing"),
    ([Step(None, D(-1))], "errors.tariff_negative_price"),
    ([Step(D(10), D("-0.0001")), Step(None, D(1))], "errors.tariff_negative_price"),
])
def test_malformed_tariffs_refused(steps, key):
    with pytest.raises(InvalidInput) as e:
        calculate(steps, D(1))
    assert e.value.key == key


def test_a_free_step_is_a_tariff():
    c = calculate([Step(D(50), D(0)), Step(None, D("2.5"))], D(60))
    assert [p.amount for p in c.parts] == [D("0.00"), D("25.00")] and c.amount == D("25.00")


def test_the_calculation_names_its_volume_and_steps():
    c = calculate(STEPS, D("350.333"))
    assert c.volume == D("350.333") and [p.step for p in c.parts] == STEPS
    assert str(calculate(STEPS, D(0)).amount) == "0.00"  # two places even when nothing is used
    assert calculate(STEPS, D(0)).parts == ()


def test_tariff_in_force_on_a_day(engine):
    with write_session(engine) as s:
        old = Tariff(service="gas", name="2025", valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))
        new = Tariff(service="gas", name="2026", valid_from=date(2026, 1, 1))
        s.add_all([old, new])
        s.flush()
        s.add_all([TariffStep(tariff_id=old.id, position=1, price=D("10")),
                   TariffStep(tariff_id=new.id, position=2, price=D("15")),
                   TariffStep(tariff_id=new.id, position=1, up_to=D("100"), price=D("12"))])
    with read_session(engine) as s:
        t, steps = tariff_at(s, "gas", date(2025, 6, 1))
        assert t.name == "2025" and steps == [Step(None, D("10.0000"))]
        t, steps = tariff_at(s, "gas", date(2026, 2, 1))
        assert [st.price for st in steps] == [D("12"), D("15")]
        with pytest.raises(NoTariff):
            tariff_at(s, "gas", date(2024, 12, 31))
        with pytest.raises(NoTariff) as e:
            tariff_at(s, "water", date(2026, 2, 1))
        assert e.value.params == {"service": "water", "day": "2026-02-01"}


def test_tariff_validity_days_are_inclusive_and_the_newest_wins(engine):
    with write_session(engine) as s:
        old = Tariff(service="gas", name="old", valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))
        open_ = Tariff(service="gas", name="open", valid_from=date(2026, 1, 1))  # never closed
        new = Tariff(service="gas", name="new", valid_from=date(2026, 7, 1))
        ended = Tariff(service="water", name="ended", valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))
        s.add_all([old, open_, new, ended])
        s.flush()
        s.add_all([TariffStep(tariff_id=old.id, position=1, up_to=D("100"), price=D("10")),
                   TariffStep(tariff_id=old.id, position=2, price=D("11")),
                   TariffStep(tariff_id=open_.id, position=1, price=D("12")),
                   TariffStep(tariff_id=new.id, position=1, price=D("13"))])
    with read_session(engine) as s:
        assert tariff_at(s, "gas", date(2025, 1, 1))[0].name == "old"  # its first day
        t, steps = tariff_at(s, "gas", date(2025, 12, 31))  # its last day
        assert t.name == "old" and steps == [Step(D("100"), D("10")), Step(None, D("11"))]
        assert tariff_at(s, "gas", date(2026, 6, 30))[0].name == "open"
        assert tariff_at(s, "gas", date(2026, 7, 1))[0].name == "new"  # both in force: the newer
        with pytest.raises(NoTariff):  # the day after the last tariff ended, with none after it
            tariff_at(s, "water", date(2026, 1, 1))


def test_each_part_is_rounded_half_up_and_the_total_is_their_sum():
    """Two steps at 0.125 with volume 2: each part is 0.125, i.e. exactly half a tiyn.

    ROUND_HALF_UP per part gives 0.13 + 0.13 = 0.26; HALF_EVEN or ROUND_DOWN per part give 0.24;
    rounding the unrounded total (0.25) instead of the parts gives 0.25.
    """
    c = calculate([Step(D(1), D("0.125")), Step(None, D("0.125"))], D(2))
    assert [p.amount for p in c.parts] == [D("0.13"), D("0.13")]
    assert c.amount == D("0.26")


@pytest.mark.parametrize("volume, price, amount", [
    (D("1"), D("0.005"), D("0.01")),      # half a tiyn up, not to even (0.00)
    (D("1"), D("0.015"), D("0.02")),      # half up; HALF_EVEN also gives 0.02, DOWN gives 0.01
    (D("1"), D("0.0249"), D("0.02")),     # below half: down
    (D("3"), D("0.0050"), D("0.02")),     # 0.015 → 0.02
    (D("0.5"), D("12.3450"), D("6.17")),  # 6.1725 → 6.17
    (D("0.5"), D("12.3500"), D("6.18")),  # 6.175 → 6.18 (HALF_EVEN: 6.18, DOWN: 6.17)
    (D("0.5"), D("12.3300"), D("6.17")),  # 6.165 → 6.17 (HALF_EVEN: 6.16)
])
def test_single_step_rounding_is_half_up(volume, price, amount):
    assert calculate([Step(None, price)], volume).amount == amount


# --------------------------------------------------------------------------------------------
# Properties (Hypothesis): for any well-formed tariff and volume the bill adds up line by line.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_volumes = st.decimals(min_value=0, max_value=10**6, places=3)
_prices = st.decimals(min_value=0, max_value=1000, places=4)


@st.composite
def _tariffs(draw):
    bounds = sorted(set(draw(st.lists(st.decimals(min_value="0.001", max_value=10**5, places=3), max_size=4))))
    prices = draw(st.lists(_prices, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return [Step(b, p) for b, p in zip([*bounds, None], prices)]


@settings(max_examples=300, deadline=None)
@given(_tariffs(), _volumes)
def test_property_the_parts_cover_the_volume_and_the_total_is_their_sum(steps, volume):
    c = calculate(steps, volume)
    assert sum((p.volume for p in c.parts), D(0)) == volume
    assert all(p.volume > 0 for p in c.parts)
    assert c.amount == sum((p.amount for p in c.parts), D(0)) and c.amount.as_tuple().exponent == -2
    lower = D(0)
    for p in c.parts:  # each part is the volume within its step, at its price, rounded half up
        assert p.amount == (p.volume * p.step.price).quantize(D("0.01"), rounding="ROUND_HALF_UP")
        assert abs(p.amount - p.volume * p.step.price) <= D("0.005")
        if p.step.up_to is not None:
            assert lower + p.volume <= p.step.up_to
        lower += p.volume


@settings(max_examples=200, deadline=None)
@given(_tariffs(), _volumes, _volumes)
def test_property_more_volume_never_costs_less(steps, a, b):
    low, high = sorted((a, b))
    assert calculate(steps, low).amount <= calculate(steps, high).amount
