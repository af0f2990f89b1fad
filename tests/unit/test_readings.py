"""Meter readings: every rule of gazportal.services.readings, on SQLite and PostgreSQL."""
import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from gazportal.db import read_session, write_session
from gazportal.models import Account, Meter, Reading, Tariff, TariffStep, User
from gazportal.services import readings as rd
from gazportal.services.errors import InvalidInput, NotFound
from gazportal.services.readings import (
    ReadingRefused, check_reading, history, last_reading, meter_status, parse_reading, reading_window,
    record_reading, submit_reading,
)
from gazportal.services import periods
from gazportal.settings import ReadingWindow, load_utility

AG = load_utility("almaty_gas")  # Asia/Almaty (UTC+5), window 20..31, 2 submissions
KG = load_utility("kremenchukgaz")  # Europe/Kyiv, window 1..5, 2 submissions
KS = load_utility("karaganda_su")  # window 1..31, 1 submission
ALMATY = ZoneInfo("Asia/Almaty")
KYIV = ZoneInfo("Europe/Kyiv")


def local(y, m, d, h=12, mi=0, tz=ALMATY) -> datetime:
    """A local wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, h, mi, tzinfo=tz).astimezone(UTC)


NOW = local(2026, 11, 22)  # inside AG's window


def make_meter(engine, *, digits=6, active=True, service="gas", number="1000000001", serial="S1") -> tuple[int, int]:
    with write_session(engine) as s:
        acc = s.exec(sa.select(Account).where(Account.number == number)).scalar_one_or_none()
        if acc is None:
            acc = Account(number=number, holder_name="Test Holder", address="Almaty, Abay 1")
            s.add(acc)
            s.flush()
        m = Meter(account_id=acc.id, service=service, serial=serial, unit="kWh" if service == "electricity" else "m3",
                  digits=digits, installed_on=date(2020, 1, 1), is_active=active)
        s.add(m)
        s.flush()
        return acc.id, m.id


def add(engine, meter_id, value, when, source="inspector", slot=None, tz=ALMATY):
    local_when = when.astimezone(tz)
    with write_session(engine) as s:
        s.add(Reading(meter_id=meter_id, value=value, taken_at=when, period=f"{local_when:%Y-%m}",
                      source=source, slot=slot))


def stored(engine, meter_id):
    with read_session(engine) as s:
        return s.exec(sa.select(Reading.value, Reading.source, Reading.period, Reading.slot)
                      .where(Reading.meter_id == meter_id).order_by(Reading.taken_at, Reading.id)).all()


def refused(fn, *args, **kwargs) -> ReadingRefused:
    with pytest.raises(ReadingRefused) as e:
        fn(*args, **kwargs)
    return e.value


def check(engine, meter_id, raw, *, utility=AG, now=NOW, **kw):
    with read_session(engine) as s:
        return check_reading(s, utility, meter_id, raw, now=now, **kw)


# ---------------------------------------------------------------- input (pure)

NOT_DIGITS = [
    True, False, 12.5, 12.0, float("nan"), D("12"), b"123", [1], {"v": 1}, object(),
    "-3", -3, "+12", "NaN", "nan", "inf", "1e3", "0x1F", "1_000", "12.5.1", "12,5,1", "1.2,3", ",5", ".5",
    "²", "12²", "12a", "\x0012", "12\x00", "١2", "１2", "½", "12  345", "12 ,5", "12, 5", "12\n345", "12\t345",
    "1'234", "12-345",
]


@pytest.mark.parametrize("raw", NOT_DIGITS, ids=lambda r: repr(r)[:20])
def test_anything_but_a_number_as_a_counter_shows_it_is_refused(raw):
    e = refused(parse_reading, raw, 6)
    assert e.key == "errors.reading_not_digits" and e.params == {"digits": 6}


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n", "\u00a0"])
def test_nothing_typed_is_refused_as_required(raw):
    assert refused(parse_reading, raw, 6).key == "errors.reading_required"


@pytest.mark.parametrize("raw, value", [
    ("123", 123), (" 123 ", 123), ("\t000123\n", 123), ("000000", 0), ("0", 0), ("999999", 999999),
    (123, 123), (0, 0), ("0000000000000123", 123),  # leading zeros are only what the meter shows
])
def test_ascii_digits_are_read(raw, value):
    assert parse_reading(raw, 6) == value


# Issue 14 point 3: people type what the meter shows, the way their keyboard writes it.
@pytest.mark.parametrize("raw, value", [
    ("12 345", 12345), ("12\u00a0345", 12345), ("12\u2009345", 12345), ("12\u202f345", 12345),
    ("12\u2007345", 12345), ("12\u3000345", 12345), ("1 234 567", 1234567), ("00 011", 11), (" 12 345 ", 12345),
    ("１２３", 123), ("１２\u3000３４５", 12345), ("١٢٣", 123), ("१२३", 123),  # full-width, Arabic-Indic, Devanagari
])
def test_digit_groups_and_digits_of_any_script_are_read(raw, value):
    assert parse_reading(raw, 8) == value


@pytest.mark.parametrize("raw, value", [
    ("123,4", 123), ("123.4", 123), ("123,456", 123), ("12 345,678", 12345), ("0,9", 0), ("123,", 123),
    ("１２３．４", 123), ("１２３，４", 123), ("١٢٣٫٤", 123), (" 99 986,12 ", 99986),
])
def test_decimal_drums_are_not_counted_and_never_make_a_bigger_number(raw, value):
    assert parse_reading(raw, 6) == value  # never 1234 for "123,4"


@pytest.mark.parametrize("raw", ["12 3", "1 2 3", "1234 567", "12 3456", "12 34"])
def test_digit_groups_other_than_threes_are_refused_with_their_own_reason(raw):
    e = refused(parse_reading, raw, 6)
    assert e.key == "errors.reading_groups" and e.params == {"digits": 6}


@pytest.mark.parametrize("raw", ["1 000 000", "１００００００", "999 999,9" + "9" * 50])
def test_capacity_counts_the_whole_units_however_typed(raw):
    expected = "errors.reading_above_capacity" if raw[0] != "9" else None
    if expected:
        assert refused(parse_reading, raw, 6).key == expected
    else:
        assert parse_reading(raw, 6) == 999999


@pytest.mark.parametrize("raw", ["1000000", 1000000, "9" * 100_000, 10**5000, "0001000000"],
                         ids=["7 digits", "int", "100k digits", "huge int", "leading zeros"])
def test_above_capacity_is_refused_even_when_huge(raw):
    e = refused(parse_reading, raw, 6)
    assert e.key == "errors.reading_above_capacity" and e.params == {"max": 999999, "digits": 6}


# ---------------------------------------------------------------- window (pure)

@pytest.mark.parametrize("now, is_open, opens, closes", [
    (local(2026, 11, 19, 23, 59), False, date(2026, 11, 20), date(2026, 11, 30)),
    (local(2026, 11, 20, 0, 0), True, date(2026, 11, 20), date(2026, 11, 30)),
    # explicit UTC moments: Almaty is UTC+5, so 18:59 UTC is still the 19th there, 19:00 the 20th
    (datetime(2026, 11, 19, 18, 59, tzinfo=UTC), False, date(2026, 11, 20), date(2026, 11, 30)),
    (datetime(2026, 11, 19, 19, 0, tzinfo=UTC), True, date(2026, 11, 20), date(2026, 11, 30)),
    # to_day 31 means "to the end of the month"; the next window is next month's
    (local(2026, 11, 30, 23, 59), True, date(2026, 11, 20), date(2026, 11, 30)),
    (datetime(2026, 11, 30, 19, 0, tzinfo=UTC), False, date(2026, 12, 20), date(2026, 12, 31)),
    (local(2027, 2, 28, 23, 0), True, date(2027, 2, 20), date(2027, 2, 28)),
    (local(2026, 12, 31, 23, 59), True, date(2026, 12, 20), date(2026, 12, 31)),
    (local(2027, 1, 1, 0, 0), False, date(2027, 1, 20), date(2027, 1, 31)),
])
def test_almaty_gas_window_edges_in_local_time(now, is_open, opens, closes):
    w = reading_window(AG, now)
    assert (w.open, w.opens_on, w.closes_on) == (is_open, opens, closes)


@pytest.mark.parametrize("now, is_open, opens", [
    (datetime(2026, 11, 30, 21, 59, tzinfo=UTC), False, date(2026, 12, 1)),  # 23:59 Kyiv (UTC+2)
    (datetime(2026, 11, 30, 22, 0, tzinfo=UTC), True, date(2026, 12, 1)),  # 00:00 on the 1st
    (local(2026, 12, 5, 23, 59, tz=KYIV), True, date(2026, 12, 1)),
    (datetime(2026, 12, 5, 22, 0, tzinfo=UTC), False, date(2027, 1, 1)),  # the 6th in Kyiv
    (datetime(2026, 12, 5, 21, 59, tzinfo=UTC), True, date(2026, 12, 1)),
    (datetime(2026, 7, 5, 20, 59, tzinfo=UTC), True, date(2026, 7, 1)),  # summer time, UTC+3
    (datetime(2026, 7, 5, 21, 0, tzinfo=UTC), False, date(2026, 8, 1)),
])
def test_kremenchukgaz_window_first_to_fifth_in_kyiv(now, is_open, opens):
    w = reading_window(KG, now)
    assert (w.open, w.opens_on) == (is_open, opens)


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        reading_window(AG, datetime(2026, 11, 22, 12, 0))


# ---------------------------------------------------------------- check and submit (DB)

def test_bad_inputs_are_refused_through_check_and_submit_and_nothing_is_stored(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 500, local(2026, 10, 25))
    for raw in [None, "", True, 12.5, "12 3", "-3", -3, "١2", "NaN", {"x": 1}, "9" * 10_000, 10**100]:
        c = check(engine, mid, raw)
        assert not c.ok and c.value is None and c.error.key in {
            "errors.reading_required", "errors.reading_not_digits", "errors.reading_above_capacity",
            "errors.reading_groups"}
        e = refused(submit_reading, engine, AG, mid, raw, now=NOW)
        assert e.key == c.error.key and e.params == c.error.params and e.check is not None
    assert stored(engine, mid) == [(500, "inspector", "2026-10", None)]


def test_capacity_follows_the_meters_digits(engine):
    _, mid = make_meter(engine, digits=4)
    assert check(engine, mid, "9999").ok
    c = check(engine, mid, "10000")
    assert c.error.key == "errors.reading_above_capacity" and c.error.params == {"max": 9999, "digits": 4}
    assert c.max_value == 9999 and c.digits == 4
    assert submit_reading(engine, AG, mid, " 09999 ", now=NOW).reading.value == 9999


@pytest.mark.parametrize("raw, value, note", [
    ("12 345,6", 12345, True), ("12\u00a0345", 12345, False), ("12\u2009345.9", 12345, True),
    ("１２３４５", 12345, False), ("12345", 12345, False), ("12345,", 12345, False),
])
def test_the_live_check_and_the_submit_read_a_typed_number_alike(engine, raw, value, note):
    """Issue 14 point 3: one reader; decimals are dropped with a note, never read as a bigger number."""
    _, mid = make_meter(engine)
    add(engine, mid, 12000, local(2026, 10, 25))
    c = check(engine, mid, raw)
    assert c.ok and c.value == value and c.volume == value - 12000
    assert c.note == (rd.Notice("notes.reading_decimals", {"value": value}) if note else None)
    sub = submit_reading(engine, AG, mid, raw, now=NOW)
    assert sub.reading.value == value and sub.check.note == c.note
    assert stored(engine, mid)[-1] == (value, "customer", "2026-11", 1)


def test_decimals_are_noted_even_when_the_whole_units_are_refused(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 1235, local(2026, 10, 25))
    c = check(engine, mid, "1234,9")  # 1234 whole units: below 1235, not 12349
    assert c.error.key == "errors.reading_below_previous" and c.value == 1234
    assert c.note == rd.Notice("notes.reading_decimals", {"value": 1234})


def test_below_the_previous_reading_says_which_and_when(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 12345, local(2026, 11, 1, 10))
    c = check(engine, mid, "12344")
    assert not c.ok and c.error.key == "errors.reading_below_previous"
    assert c.error.params == {"previous": 12345, "date": "2026-11-01", "unit": "m3"}
    e = refused(submit_reading, engine, AG, mid, "12344", now=NOW)
    assert (e.key, e.params) == ("errors.reading_below_previous", {"previous": 12345, "date": "2026-11-01", "unit": "m3"})


def test_base_date_is_the_local_day(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, datetime(2026, 10, 31, 20, 0, tzinfo=UTC))  # 1 Nov 01:00 in Almaty
    c = check(engine, mid, "99")
    assert c.error.params == {"previous": 100, "date": "2026-11-01", "unit": "m3"}
    assert c.base_date == date(2026, 11, 1) and c.base_source == "inspector"


def test_equal_to_the_base_is_zero_use_asked_before_it_uses_a_submission(engine):
    """Issue 14 point 6: "no consumption this month — correct?" with a flag of its own."""
    _, mid = make_meter(engine)
    add(engine, mid, 777, local(2026, 10, 21))
    c = check(engine, mid, "000777")
    assert c.ok and c.volume == 0 and c.base_value == 777 and c.needs_confirmation
    assert c.warning_kind == "zero"
    assert c.warning == rd.Notice("warnings.reading_zero", {"previous": 777, "date": "2026-10-21", "unit": "m3"})
    for flags in ({}, {"confirm": True}, {"rollover": True}, {"confirm_zero": "yes"}):
        e = refused(submit_reading, engine, AG, mid, "777", now=NOW, **flags)
        assert (e.key, e.params) == ("warnings.reading_zero", {"previous": 777, "date": "2026-10-21", "unit": "m3"})
    assert meter_status_of(engine, mid).submissions_left == 2  # asking used no submission
    sub = submit_reading(engine, AG, mid, "777", now=NOW, confirm_zero=True)
    assert sub.reading.value == 777 and sub.reading.slot == 1 and sub.check.volume == 0
    assert stored(engine, mid) == [(777, "inspector", "2026-10", None), (777, "customer", "2026-11", 1)]


def test_zero_use_is_asked_for_a_correction_too_and_not_for_a_first_reading(engine):
    _, mid = make_meter(engine)
    assert check(engine, mid, "0").warning is None  # a new meter at 0: nothing to compare with
    add(engine, mid, 500, local(2026, 10, 21))
    submit_reading(engine, AG, mid, "510", now=NOW)
    c = check(engine, mid, "500", now=NOW + timedelta(hours=1))  # the correction back to the base
    assert c.warning_kind == "zero" and c.volume == 0
    assert check(engine, mid, "501", now=NOW + timedelta(hours=1)).warning is None


def test_first_reading_of_a_new_meter_has_no_base(engine):
    _, mid = make_meter(engine)
    c = check(engine, mid, "42")
    assert c.ok and c.base_value is None and c.volume is None and c.cost is None and c.warning is None
    assert submit_reading(engine, AG, mid, "42", now=NOW).reading.value == 42


def test_correction_may_be_lower_than_the_first_submission_but_not_below_the_base(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 1000, local(2026, 10, 25), source="customer", slot=1)  # last month's = base
    first = submit_reading(engine, AG, mid, "1100", now=local(2026, 11, 20, 9))
    assert (first.reading.slot, first.reading.period, first.submissions_used, first.submissions_left) == (1, "2026-11", 1, 1)
    c = check(engine, mid, "999", now=local(2026, 11, 21))
    assert c.error.params == {"previous": 1000, "date": "2026-10-25", "unit": "m3"}  # the base, not 1100
    c = check(engine, mid, "1050", now=local(2026, 11, 21))
    assert c.ok and c.base_value == 1000 and c.volume == 50 and c.next_slot == 2 and c.submissions_left == 1
    second = submit_reading(engine, AG, mid, "1050", now=local(2026, 11, 21))
    assert second.reading.slot == 2 and second.submissions_left == 0
    e = refused(submit_reading, engine, AG, mid, "1060", now=local(2026, 11, 22))
    assert (e.key, e.params) == ("errors.reading_limit_reached", {"limit": 2, "used": 2, "for_month": "2026-11"})
    st = meter_status_of(engine, mid, now=local(2026, 11, 23))
    assert not st.can_submit and st.submissions_left == 0 and st.error.key == "errors.reading_limit_reached"
    assert [r[0] for r in stored(engine, mid)] == [1000, 1100, 1050]


def test_a_correction_names_the_reading_it_replaces_and_counts_from_the_same_base(engine):
    """Issue 14 point 7: October's 75, November's 80, then 81 as a correction: 81 is 6 m³ counted
    from 75 (the base 80 was counted from), and the check names 80 of 20 Nov as what it replaces."""
    _, mid = make_meter(engine)
    add(engine, mid, 75, local(2026, 10, 25))
    first = check(engine, mid, "80", now=local(2026, 11, 20, 9))
    assert (first.base_value, first.volume, first.replaces_value, first.replaces_taken_at) == (75, 5, None, None)
    submit_reading(engine, AG, mid, "80", now=local(2026, 11, 20, 9))
    st = meter_status_of(engine, mid, now=local(2026, 11, 21))
    assert (st.base_value, st.replaces_value, st.replaces_taken_at) == (75, 80, local(2026, 11, 20, 9))
    c = check(engine, mid, "81", now=local(2026, 11, 21))
    assert (c.base_value, c.volume, c.replaces_value) == (75, 6, 80)
    second = submit_reading(engine, AG, mid, "81", now=local(2026, 11, 21))
    assert (second.check.volume, second.check.replaces_value) == (6, 80)
    st = meter_status_of(engine, mid, now=local(2026, 11, 22))  # no slot left: nothing to replace
    assert not st.can_submit and st.replaces_value is None


def test_history_marks_a_replaced_reading_and_keeps_who_sent_each(engine):
    """Issue 14 point 7: a customer reading corrected later in its month carries the value that
    replaced it; every reading says which user sent it (None: staff, or before the account was linked)."""
    _, mid = make_meter(engine)
    with write_session(engine) as s:
        u = User(surname="T", name="U", login="h@example.com", password_hash="x", is_active=True)
        s.add(u)
        s.flush()
        uid = u.id
    add(engine, mid, 70, local(2026, 9, 25))
    add(engine, mid, 74, local(2026, 10, 21), source="customer", slot=1)  # before the portal user
    add(engine, mid, 75, local(2026, 10, 22), source="customer", slot=2)  # corrects 74
    submit_reading(engine, AG, mid, "80", now=local(2026, 11, 20, 9), user_id=uid)
    submit_reading(engine, AG, mid, "81", now=local(2026, 11, 21), user_id=uid)
    with read_session(engine) as s:
        h = history(s, mid)
    assert [(e.value, e.source, e.user_id, e.replaced_by) for e in h] == [
        (81, "customer", uid, None), (80, "customer", uid, 81),
        (75, "customer", None, None), (74, "customer", None, 75), (70, "inspector", None, None)]
    with read_session(engine) as s:  # a short history whose newest row is the correction
        assert [e.replaced_by for e in history(s, mid, limit=2)] == [None, 81]


def test_a_reading_by_staff_after_the_first_submission_becomes_the_base(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 1000, local(2026, 10, 25))
    submit_reading(engine, AG, mid, "1100", now=local(2026, 11, 20, 9))
    record_reading(engine, AG, mid, 1120, source="inspector", taken_at=local(2026, 11, 21))
    c = check(engine, mid, "1110", now=local(2026, 11, 22))
    assert c.error.params == {"previous": 1120, "date": "2026-11-21", "unit": "m3"}
    assert submit_reading(engine, AG, mid, "1120", now=local(2026, 11, 22), confirm_zero=True).reading.slot == 2


def test_last_months_customer_submission_is_the_base_of_this_month(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 900, local(2026, 10, 21), source="customer", slot=1)
    add(engine, mid, 950, local(2026, 10, 22), source="customer", slot=2)
    c = check(engine, mid, "940")
    assert c.error.params == {"previous": 950, "date": "2026-10-22", "unit": "m3"} and c.submissions_used == 0


def test_window_closed_refuses_with_the_opening_date(engine):
    _, mid = make_meter(engine)
    now = datetime(2026, 11, 19, 18, 59, tzinfo=UTC)  # 23:59 on the 19th in Almaty
    c = check(engine, mid, "5", now=now)
    assert c.error.key == "errors.reading_window_closed"
    assert c.error.params == {"opens": "2026-11-20", "closes": "2026-11-30"}
    assert not c.window_open and c.window_opens_on == date(2026, 11, 20) and not c.can_submit
    e = refused(submit_reading, engine, AG, mid, "5", now=now)
    assert e.params["opens"] == "2026-11-20"
    sub = submit_reading(engine, AG, mid, "5", now=now + timedelta(minutes=1))  # 00:00 on the 20th
    assert sub.reading.period == "2026-11"
    assert len(stored(engine, mid)) == 1


def test_kremenchukgaz_window_and_period_in_kyiv(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, local(2026, 11, 2, tz=KYIV), tz=KYIV)
    e = refused(submit_reading, engine, KG, mid, "110", now=datetime(2026, 11, 30, 21, 59, tzinfo=UTC))
    assert (e.key, e.params["opens"]) == ("errors.reading_window_closed", "2026-12-01")
    sub = submit_reading(engine, KG, mid, "110", now=datetime(2026, 11, 30, 22, 0, tzinfo=UTC))  # 1 Dec, Kyiv
    # sent by the 5th: the meter at the end of November (the profile's previous_month_until = 5)
    assert (sub.reading.period, sub.reading.slot) == ("2026-11", 1)
    e = refused(submit_reading, engine, KG, mid, "120", now=datetime(2026, 12, 5, 22, 0, tzinfo=UTC))  # the 6th
    assert (e.key, e.params["opens"]) == ("errors.reading_window_closed", "2027-01-01")


def test_period_is_the_local_month_so_a_new_month_has_fresh_slots(engine):
    _, mid = make_meter(engine)
    submit_reading(engine, KG, mid, "10", now=local(2026, 11, 2, tz=KYIV))
    submit_reading(engine, KG, mid, "11", now=local(2026, 11, 3, tz=KYIV))
    assert refused(submit_reading, engine, KG, mid, "12", now=local(2026, 11, 4, tz=KYIV)).key == "errors.reading_limit_reached"
    # 30 Nov 22:30 UTC is already 1 December in Kyiv: the next window, whose readings count for November
    sub = submit_reading(engine, KG, mid, "12", now=datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    assert (sub.reading.period, sub.reading.slot, sub.check.base_value) == ("2026-11", 1, 11)


# ---------------------------------------------------------------- the period a reading counts for
# (issue 14.9): one rule from the profile, decided on the local day in the profile's time zone

SPAN = KG.model_copy(update={  # Kyiv, a window from the 28th to the 3rd of the next month, 1 submission
    "reading_window": ReadingWindow(from_day=28, to_day=3, previous_month_until=3),
    "submissions_per_month": 1,
})
SPAN2 = SPAN.model_copy(update={"submissions_per_month": 2})


def kyiv(y, m, d, h, mi) -> datetime:
    return local(y, m, d, h, mi, tz=KYIV)


@pytest.mark.parametrize("moment, period", [
    (kyiv(2026, 12, 5, 23, 59), "2026-11"),  # "by the 5th inclusive": November's meter
    (datetime(2026, 12, 5, 21, 59, tzinfo=UTC), "2026-11"),  # the same moment in UTC
    (kyiv(2026, 12, 6, 0, 30), "2026-12"),
    (datetime(2026, 12, 5, 22, 30, tzinfo=UTC), "2026-12"),  # still the 5th in UTC, the 6th in Kyiv
    (datetime(2026, 11, 30, 22, 30, tzinfo=UTC), "2026-11"),  # 1 Dec 00:30 in Kyiv
    (datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "2026-12"),  # 1 Jan 00:30 in Kyiv: December's
    (kyiv(2027, 3, 5, 23, 59), "2027-02"),
    (datetime(2026, 7, 5, 21, 30, tzinfo=UTC), "2026-07"),  # summer time: 6 July 00:30 in Kyiv
])
def test_kremenchukgaz_reading_period_on_the_local_day(moment, period):
    assert periods.reading_period(moment, KG) == period


def test_almaty_reading_period_is_the_local_month():
    assert periods.reading_period(local(2026, 11, 30, 23, 59), AG) == "2026-11"
    assert periods.reading_period(datetime(2026, 11, 30, 19, 30, tzinfo=UTC), AG) == "2026-12"  # 00:30 on 1 Dec
    with pytest.raises(ValueError):
        periods.reading_period(datetime(2026, 11, 30, 12), AG)


def test_kremenchukgaz_sent_by_the_fifth_counts_for_last_month_and_shares_its_slots(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, kyiv(2026, 11, 3, 12, 0), tz=KYIV)
    c = check(engine, mid, "110", utility=KG, now=kyiv(2026, 12, 1, 0, 30))
    assert c.ok and c.period == "2026-11" and c.window.period == "2026-11" and c.window.open
    assert (c.window.opens_on, c.window.closes_on) == (date(2026, 12, 1), date(2026, 12, 5))
    first = submit_reading(engine, KG, mid, "110", now=kyiv(2026, 12, 1, 0, 30))
    assert (first.reading.period, first.reading.slot) == ("2026-11", 1)
    # 5 Dec 23:59 in Kyiv (21:59 UTC): still open, the same period: the correction, slot 2
    second = submit_reading(engine, KG, mid, "111", now=datetime(2026, 12, 5, 21, 59, tzinfo=UTC))
    assert (second.reading.period, second.reading.slot, second.check.base_value) == ("2026-11", 2, 100)
    # 6 Dec 00:30 in Kyiv (still the 5th in UTC): closed; the next window is for December
    st = meter_status_of(engine, mid, utility=KG, now=datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    assert not st.window.open and st.period == "2026-12" and st.submissions_used == 0
    assert (st.window.opens_on, st.window.closes_on, st.window.period) == (date(2027, 1, 1), date(2027, 1, 5),
                                                                           "2026-12")
    e = refused(submit_reading, engine, KG, mid, "112", now=datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    assert (e.key, e.params["opens"]) == ("errors.reading_window_closed", "2027-01-01")
    assert [r.period for r in stored(engine, mid)] == ["2026-11", "2026-11", "2026-11"]


def test_staff_reading_follows_the_same_rule(engine):
    _, mid = make_meter(engine)
    r = record_reading(engine, KG, mid, 50, source="inspector", taken_at=datetime(2026, 12, 2, 21, 59, tzinfo=UTC))
    assert r.period == "2026-11"  # 2 Dec 23:59 in Kyiv
    r = record_reading(engine, KG, mid, 60, source="controller", taken_at=datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    assert r.period == "2026-12"  # 6 Dec 00:30 in Kyiv


@pytest.mark.parametrize("now, is_open, opens, closes, period", [
    (kyiv(2026, 11, 27, 23, 59), False, date(2026, 11, 28), date(2026, 12, 3), "2026-11"),
    (datetime(2026, 11, 27, 22, 30, tzinfo=UTC), True, date(2026, 11, 28), date(2026, 12, 3), "2026-11"),  # 28th 00:30
    (kyiv(2026, 11, 30, 23, 59), True, date(2026, 11, 28), date(2026, 12, 3), "2026-11"),
    (kyiv(2026, 12, 1, 0, 30), True, date(2026, 11, 28), date(2026, 12, 3), "2026-11"),  # across the month's turn
    (datetime(2026, 12, 3, 21, 59, tzinfo=UTC), True, date(2026, 11, 28), date(2026, 12, 3), "2026-11"),  # 3rd 23:59
    (datetime(2026, 12, 3, 22, 30, tzinfo=UTC), False, date(2026, 12, 28), date(2027, 1, 3), "2026-12"),  # 4th 00:30
    (kyiv(2026, 12, 31, 23, 59), True, date(2026, 12, 28), date(2027, 1, 3), "2026-12"),
    (kyiv(2027, 1, 2, 0, 30), True, date(2026, 12, 28), date(2027, 1, 3), "2026-12"),  # the year's turn
    (kyiv(2027, 2, 27, 12, 0), False, date(2027, 2, 28), date(2027, 3, 3), "2027-02"),
])
def test_window_spanning_the_months_end(now, is_open, opens, closes, period):
    w = reading_window(SPAN, now)
    assert (w.open, w.opens_on, w.closes_on, w.period) == (is_open, opens, closes, period)
    if is_open:
        assert periods.reading_period(now, SPAN) == period


def test_a_spanning_window_is_one_period_with_one_limit(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, kyiv(2026, 10, 29, 12, 0), tz=KYIV)
    sub = submit_reading(engine, SPAN, mid, "110", now=kyiv(2026, 11, 30, 12, 0))
    assert (sub.reading.period, sub.reading.slot, sub.submissions_left) == ("2026-11", 1, 0)
    # the 2nd of December is the same window: the second submission of November, refused
    st = meter_status_of(engine, mid, utility=SPAN, now=kyiv(2026, 12, 2, 12, 0))
    assert st.window.open and st.period == "2026-11" and st.submissions_used == 1 and not st.can_submit
    e = refused(submit_reading, engine, SPAN, mid, "111", now=kyiv(2026, 12, 2, 12, 0))
    assert (e.key, e.params) == ("errors.reading_limit_reached", {"limit": 1, "used": 1, "for_month": "2026-11"})
    # the next window (28 Dec) is December's, with its own slot; its base is November's reading
    sub = submit_reading(engine, SPAN, mid, "120", now=datetime(2026, 12, 27, 22, 30, tzinfo=UTC))  # 28th 00:30
    assert (sub.reading.period, sub.reading.slot, sub.check.base_value) == ("2026-12", 1, 110)


def test_a_spanning_window_with_two_submissions_corrects_across_the_month_turn(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, kyiv(2026, 10, 29, 12, 0), tz=KYIV)
    submit_reading(engine, SPAN2, mid, "115", now=kyiv(2026, 11, 30, 23, 59))
    sub = submit_reading(engine, SPAN2, mid, "112", now=kyiv(2026, 12, 1, 0, 30))  # lower: corrects the first
    assert (sub.reading.period, sub.reading.slot, sub.check.base_value, sub.check.volume) == ("2026-11", 2, 100, 12)


def test_a_closed_window_shows_the_period_of_the_next(engine):
    """A profile whose window is 20..31 and whose days 1..5 count for the month before (only staff
    read then): on 3 December the form's state is for December's window, not November."""
    late = AG.model_copy(update={"reading_window": ReadingWindow(from_day=20, to_day=31, previous_month_until=5)})
    _, mid = make_meter(engine)
    now = local(2026, 12, 3)
    st = meter_status_of(engine, mid, utility=late, now=now)
    assert (st.window.open, st.window.opens_on, st.period, st.window.period) == (False, date(2026, 12, 20),
                                                                                 "2026-12", "2026-12")
    assert record_reading(engine, late, mid, 5, source="inspector", taken_at=now).period == "2026-11"
    assert submit_reading(engine, late, mid, "6", now=local(2026, 12, 20)).reading.period == "2026-12"


@pytest.mark.parametrize("fields, message", [
    ({"from_day": 28, "to_day": 3}, "spans the month's end"),  # which month? must be said
    ({"from_day": 28, "to_day": 3, "previous_month_until": 2}, "count for two months"),
    ({"from_day": 28, "to_day": 3, "previous_month_until": 28}, "count for two months"),
    ({"from_day": 1, "to_day": 5, "previous_month_until": 3}, "use 0 (none) or at least 5"),
    ({"from_day": 20, "to_day": 31, "previous_month_until": 25}, "splits the window 20..31"),
    ({"from_day": 1, "to_day": 5, "previous_month_until": 29}, "less than or equal to 28"),
])
def test_contradictory_reading_windows_are_refused(fields, message):
    with pytest.raises(ValidationError) as e:
        ReadingWindow(**fields)
    assert message in str(e.value)


@pytest.mark.parametrize("fields", [
    {"from_day": 1, "to_day": 5, "previous_month_until": 5},
    {"from_day": 1, "to_day": 5},
    {"from_day": 28, "to_day": 3, "previous_month_until": 3},
    {"from_day": 25, "to_day": 5, "previous_month_until": 24},
    {"from_day": 20, "to_day": 31, "previous_month_until": 5},
])
def test_reading_windows_of_one_period_are_accepted(fields):
    assert ReadingWindow(**fields).from_day == fields["from_day"]


def test_one_submission_a_month_profile(engine):
    _, mid = make_meter(engine, number="100200300")
    assert submit_reading(engine, KS, mid, "10", now=NOW).submissions_left == 0
    e = refused(submit_reading, engine, KS, mid, "10", now=NOW + timedelta(hours=1))
    assert (e.key, e.params) == ("errors.reading_limit_reached", {"limit": 1, "used": 1, "for_month": "2026-11"})


def test_limit_never_exceeds_the_two_slots_of_the_database(engine):
    _, mid = make_meter(engine)
    generous = AG.model_copy(update={"submissions_per_month": 5})
    for i in range(2):
        submit_reading(engine, generous, mid, str(10 + i), now=NOW + timedelta(hours=i))
    e = refused(submit_reading, engine, generous, mid, "20", now=NOW + timedelta(hours=3))
    assert (e.key, e.params) == ("errors.reading_limit_reached", {"limit": 2, "used": 2, "for_month": "2026-11"})


def test_limit_is_per_meter(engine):
    acc, m1 = make_meter(engine, serial="A")
    _, m2 = make_meter(engine, serial="B")
    submit_reading(engine, KS, m1, "1", now=NOW)
    assert submit_reading(engine, KS, m2, "1", now=NOW).reading.slot == 1


def test_inactive_meter_is_refused(engine):
    _, mid = make_meter(engine, active=False, serial="OLD-7")
    c = check(engine, mid, "5")
    assert (c.error.key, c.error.params) == ("errors.meter_inactive", {"serial": "OLD-7"}) and not c.can_submit
    assert refused(submit_reading, engine, AG, mid, "5", now=NOW).key == "errors.meter_inactive"
    assert stored(engine, mid) == []


def meter_status_of(engine, mid, *, utility=AG, now=NOW, **kw):
    with read_session(engine) as s:
        return meter_status(s, utility, mid, now=now, **kw)


def test_meter_status_before_typing(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 321, local(2026, 11, 2))
    st = meter_status_of(engine, mid)
    assert st.ok and st.can_submit and st.value is None and st.base_value == 321
    assert (st.submissions_limit, st.submissions_used, st.submissions_left, st.next_slot) == (2, 0, 2, 1)
    assert st.period == "2026-11" and st.window.closes_on == date(2026, 11, 30) and st.unit == "m3"


def test_check_while_typing_writes_nothing(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 10, local(2026, 10, 20))
    for raw in ["1", "12", "120"]:
        check(engine, mid, raw)
    assert len(stored(engine, mid)) == 1


# ---------------------------------------------------------------- jump warning

def monthly_history(engine, mid, *, start=100, per_month=100, months=12, last=local(2026, 11, 1)):
    for k in range(months, -1, -1):  # a reading a month, the last on `last`
        add(engine, mid, start + (months - k) * per_month, last - timedelta(days=round(30.4375 * k)))
    return start + months * per_month


def test_jump_far_above_usual_needs_confirmation(engine):
    _, mid = make_meter(engine)
    base = monthly_history(engine, mid)
    ok = check(engine, mid, str(base + 250))
    assert ok.ok and ok.warning is None and D(99) < ok.usual_monthly < D(101)
    c = check(engine, mid, str(base + 400))
    assert c.ok and c.needs_confirmation and c.warning.key == "warnings.reading_jump"
    assert c.warning.params["volume"] == 400 and c.warning.params["usual"] == c.usual_monthly
    assert c.warning.params["since"] == "2026-11-01" and c.warning.params["unit"] == "m3"
    e = refused(submit_reading, engine, AG, mid, str(base + 400), now=NOW)
    assert e.key == "warnings.reading_jump" and e.params["volume"] == 400
    assert len(stored(engine, mid)) == 13
    e = refused(submit_reading, engine, AG, mid, str(base + 400), now=NOW, confirm="yes")  # only True confirms
    assert e.key == "warnings.reading_jump"
    sub = submit_reading(engine, AG, mid, str(base + 400), now=NOW, confirm=True)
    assert sub.reading.value == base + 400 and sub.check.warning is not None


def test_no_jump_warning_without_two_months_of_history(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, local(2026, 10, 1))
    add(engine, mid, 110, local(2026, 11, 1))  # one month: usual unknown
    c = check(engine, mid, "2500")  # 2 390 m³: far above any usual use, below the hard limit
    assert c.ok and c.warning is None and c.usual_monthly is None
    assert submit_reading(engine, AG, mid, "2500", now=NOW).reading.value == 2500


def test_jump_is_measured_against_the_months_since_the_base(engine):
    _, mid = make_meter(engine)
    base = monthly_history(engine, mid, last=local(2026, 8, 1))  # nothing since August
    c = check(engine, mid, str(base + 500))  # ~3.7 months of usual use: not a jump
    assert c.ok and c.warning is None
    assert check(engine, mid, str(base + 1500)).warning.key == "warnings.reading_jump"


def test_jump_floor_when_nothing_was_used(engine):
    _, mid = make_meter(engine)
    monthly_history(engine, mid, start=50, per_month=0, months=6)
    c = check(engine, mid, "55")
    assert c.usual_monthly == D("0.000") and c.warning is None  # 5 units: under the floor
    assert check(engine, mid, "80").warning.key == "warnings.reading_jump"


def test_superseded_submission_does_not_shape_the_usual_use(engine):
    _, mid = make_meter(engine)
    base = monthly_history(engine, mid, months=3, last=local(2026, 10, 1))
    add(engine, mid, base + 5000, local(2026, 10, 20), source="customer", slot=1)  # typo, corrected
    add(engine, mid, base + 100, local(2026, 10, 21), source="customer", slot=2)
    c = check(engine, mid, str(base + 200))
    assert c.base_value == base + 100 and c.ok and c.warning is None and D(100) < c.usual_monthly < D(115)


# ---------------------------------------------------------------- cost estimate

def add_tariff(engine, service="gas", valid_from=date(2026, 1, 1), valid_to=None, steps=None):
    steps = steps or [(D("100"), D("20.5")), (D("300"), D("25.125")), (None, D("31"))]
    with write_session(engine) as s:
        t = Tariff(service=service, name=f"{service} {valid_from}", valid_from=valid_from, valid_to=valid_to)
        s.add(t)
        s.flush()
        for i, (up_to, price) in enumerate(steps, 1):
            s.add(TariffStep(tariff_id=t.id, position=i, up_to=up_to, price=price))


def test_cost_estimate_with_a_stepped_tariff(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 1000, local(2026, 10, 25))
    add_tariff(engine, valid_to=date(2026, 11, 21))
    add_tariff(engine, valid_from=date(2026, 11, 22), steps=[(None, D("10"))])
    c = check(engine, mid, "1350", now=local(2026, 11, 21))
    # 100 × 20.50 + 200 × 25.125 + 50 × 31.00
    assert c.volume == 350 and c.cost == D("8625.00")
    assert [p.amount for p in c.calculation.parts] == [D("2050.00"), D("5025.00"), D("1550.00")]
    assert check(engine, mid, "1350", now=local(2026, 11, 22)).cost == D("3500.00")  # the tariff of the day
    assert check(engine, mid, "1000", now=local(2026, 11, 21)).cost == D("0.00")
    assert check(engine, mid, "999", now=local(2026, 11, 21)).cost is None  # refused: no estimate


def test_no_tariff_for_the_service_means_no_estimate(engine):
    _, mid = make_meter(engine, service="water")
    add(engine, mid, 10, local(2026, 10, 25))
    add_tariff(engine, service="gas")
    c = check(engine, mid, "20")
    assert c.ok and c.volume == 10 and c.cost is None and c.calculation is None


# ---------------------------------------------------------------- ownership

def test_meter_of_another_account_is_not_found_like_a_missing_one(engine):
    acc, mid = make_meter(engine)
    other, _ = make_meter(engine, number="2000000002")
    with read_session(engine) as s:
        with pytest.raises(NotFound) as missing:
            check_reading(s, AG, 987654, "5", now=NOW, allowed_account_ids=[other])
        with pytest.raises(NotFound) as foreign:
            check_reading(s, AG, mid, "5", now=NOW, allowed_account_ids=[other])
        with pytest.raises(NotFound):
            meter_status(s, AG, mid, now=NOW, allowed_account_ids=[])
    assert (missing.value.key, missing.value.params) == (foreign.value.key, foreign.value.params) == ("errors.meter_not_found", {})
    with pytest.raises(NotFound) as e:
        submit_reading(engine, AG, mid, "5", now=NOW, allowed_account_ids={other})
    assert e.value.key == "errors.meter_not_found"
    assert stored(engine, mid) == []
    assert submit_reading(engine, AG, mid, "5", now=NOW, allowed_account_ids=[other, acc]).reading.value == 5


@pytest.mark.parametrize("bad_id", [str, "x", None, True, 1.0, -1, 0, 2**40, [1]])
def test_meter_ids_from_the_browser_that_are_not_ids(engine, bad_id):
    _, mid = make_meter(engine)
    if bad_id is str:
        bad_id = str(mid)
    with pytest.raises(NotFound):
        submit_reading(engine, AG, bad_id, "5", now=NOW)
    with read_session(engine) as s, pytest.raises(NotFound):
        check_reading(s, AG, bad_id, "5", now=NOW)


def test_submission_is_stored_with_the_user_and_read_back_after_commit(engine):
    _, mid = make_meter(engine)
    with write_session(engine) as s:
        u = User(surname="T", name="U", login="u@example.com", password_hash="x", is_active=True)
        s.add(u)
        s.flush()
        uid = u.id
    sub = submit_reading(engine, AG, mid, "7", now=NOW, user_id=uid)
    with read_session(engine) as s:
        r = s.get(Reading, sub.reading.id)
        assert (r.value, r.user_id, r.source, r.slot, r.taken_at) == (7, uid, "customer", 1, NOW)


def test_a_unique_slot_conflict_becomes_limit_reached(engine, monkeypatch):
    """If the slot count was ever wrong, the database's unique slot still refuses, in words."""
    _, mid = make_meter(engine)
    submit_reading(engine, AG, mid, "5", now=NOW)
    monkeypatch.setattr(rd, "_customer_slots", lambda s, m, p: (0, 0))  # pretend nothing is there
    e = refused(submit_reading, engine, AG, mid, "6", now=NOW)
    assert (e.key, e.params) == ("errors.reading_limit_reached", {"limit": 2, "used": 2, "for_month": "2026-11"})
    assert [r[0] for r in stored(engine, mid)] == [5]


# ---------------------------------------------------------------- staff readings

def test_record_reading_has_no_slot_window_or_limit(engine):
    _, mid = make_meter(engine)
    for i, day in enumerate([3, 4, 5]):  # outside AG's window, three in a month
        r = record_reading(engine, AG, mid, 100 + i, source="inspector", taken_at=local(2026, 11, day))
        assert (r.slot, r.period, r.source) == (None, "2026-11", "inspector")
    r = record_reading(engine, AG, mid, "000105", source="estimate", taken_at=local(2026, 11, 6))
    assert r.value == 105
    # the period is the local month of taken_at
    r = record_reading(engine, AG, mid, 106, source="controller", taken_at=datetime(2026, 11, 30, 19, 30, tzinfo=UTC))
    assert r.period == "2026-12"


def test_record_reading_refuses_below_the_previous_and_above_capacity(engine):
    _, mid = make_meter(engine, digits=5)
    record_reading(engine, AG, mid, 500, source="inspector", taken_at=local(2026, 10, 1))
    e = refused(record_reading, engine, AG, mid, 499, source="controller", taken_at=local(2026, 11, 1))
    assert (e.key, e.params) == ("errors.reading_below_previous", {"previous": 500, "date": "2026-10-01", "unit": "m3"})
    e = refused(record_reading, engine, AG, mid, 100000, source="controller", taken_at=local(2026, 11, 1))
    assert (e.key, e.params) == ("errors.reading_above_capacity", {"max": 99999, "digits": 5})
    assert refused(record_reading, engine, AG, mid, -1, source="inspector", taken_at=local(2026, 11, 1)).key == "errors.reading_not_digits"
    assert refused(record_reading, engine, AG, mid, 5.5, source="inspector", taken_at=local(2026, 11, 1)).key == "errors.reading_not_digits"
    # a back-dated reading must fit between its neighbours
    record_reading(engine, AG, mid, 700, source="inspector", taken_at=local(2026, 12, 1))
    e = refused(record_reading, engine, AG, mid, 701, source="inspector", taken_at=local(2026, 11, 1))
    assert (e.key, e.params) == ("errors.reading_above_next", {"next": 700, "date": "2026-12-01", "unit": "m3"})
    assert record_reading(engine, AG, mid, 600, source="inspector", taken_at=local(2026, 11, 1)).value == 600
    assert [r[0] for r in stored(engine, mid)] == [500, 600, 700]


def test_record_reading_refuses_a_customer_source_and_naive_times(engine):
    _, mid = make_meter(engine)
    with pytest.raises(InvalidInput) as e:
        record_reading(engine, AG, mid, 1, source="customer", taken_at=NOW)
    assert e.value.key == "errors.reading_bad_source"
    with pytest.raises(ValueError):
        record_reading(engine, AG, mid, 1, source="inspector", taken_at=datetime(2026, 11, 1))
    with pytest.raises(NotFound):
        record_reading(engine, AG, 424242, 1, source="inspector", taken_at=NOW)


def test_record_reading_in_the_callers_transaction(engine):
    _, mid = make_meter(engine)
    with pytest.raises(RuntimeError):
        with write_session(engine) as s:
            record_reading(None, AG, mid, 1, source="estimate", taken_at=local(2026, 10, 1), session=s)
            record_reading(None, AG, mid, 2, source="estimate", taken_at=local(2026, 10, 2), session=s)
            raise RuntimeError("import failed half-way")
    assert stored(engine, mid) == []
    with write_session(engine) as s:
        record_reading(None, AG, mid, 1, source="estimate", taken_at=local(2026, 10, 1), session=s)
        record_reading(None, AG, mid, 2, source="estimate", taken_at=local(2026, 10, 2), session=s)
    assert [r[0] for r in stored(engine, mid)] == [1, 2]


def test_customer_reading_must_not_exceed_a_later_staff_reading(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, local(2026, 10, 1))
    add(engine, mid, 200, local(2026, 11, 25))  # taken after the customer's moment
    c = check(engine, mid, "201", now=local(2026, 11, 22))
    assert (c.error.key, c.error.params) == ("errors.reading_above_next", {"next": 200, "date": "2026-11-25", "unit": "m3"})
    assert check(engine, mid, "150", now=local(2026, 11, 22)).ok


# ---------------------------------------------------------------- read helpers

def test_history_and_last_reading_newest_first(engine):
    _, mid = make_meter(engine)
    with read_session(engine) as s:
        assert history(s, mid) == [] and last_reading(s, mid) is None
    for k in range(15):
        add(engine, mid, 100 + k, local(2025, 9, 1) + timedelta(days=30 * k))
    sub = submit_reading(engine, AG, mid, "116", now=NOW)
    with read_session(engine) as s:
        h = history(s, mid)
        assert len(h) == 12 and h[0][:5] == (116, NOW, "customer", "2026-11", 1)
        assert [e.value for e in h] == [116] + list(range(114, 103, -1))
        assert h[1].source == "inspector" and h[1].slot is None
        assert len(history(s, mid, limit=3)) == 3 and len(history(s, mid, limit=100)) == 16
        last = last_reading(s, mid)
        assert last.id == sub.reading.id and last.value == 116
        with pytest.raises(InvalidInput):
            history(s, mid, limit="12")
        with pytest.raises(NotFound):
            history(s, "1; drop table reading")
        with pytest.raises(NotFound):
            last_reading(s, 2**40)


# ---------------------------------------------------------------- failures of the database

def test_other_integrity_errors_are_not_mistaken_for_the_limit(engine):
    _, mid = make_meter(engine)
    with pytest.raises(sa.exc.IntegrityError):
        submit_reading(engine, AG, mid, "5", now=NOW, user_id=987654)  # no such user: foreign key
    assert stored(engine, mid) == []


def test_real_lock_conflicts_are_recognised_as_retryable(engine):
    """A real serialization failure (PostgreSQL) or 'database is locked' (SQLite) from the driver
    is what the retry loop looks for."""
    _, mid = make_meter(engine)
    if engine.dialect.name == "sqlite":
        with engine.connect() as a, engine.connect() as b:
            for c in (a, b):
                c.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once instead of waiting
                c.commit()
                c.info["write"] = True  # db.py's BEGIN IMMEDIATE
            with a.begin():
                a.exec_driver_sql("UPDATE meter SET serial = 'A' WHERE id = ?", (mid,))
                with pytest.raises(sa.exc.OperationalError) as e:
                    with b.begin():
                        b.exec_driver_sql("UPDATE meter SET serial = 'B' WHERE id = ?", (mid,))
            assert "database is locked" in str(e.value)
            a.invalidate()  # never hand these connections (busy_timeout 0) back to the pool
            b.invalidate()
    else:
        with engine.connect() as a, engine.connect() as b:
            b = b.execution_options(isolation_level="REPEATABLE READ")
            with b.begin():
                b.exec_driver_sql("SELECT serial FROM meter WHERE id = %s", (mid,)).all()  # snapshot
                with a.begin():
                    a.exec_driver_sql("UPDATE meter SET serial = 'A' WHERE id = %s", (mid,))
                with pytest.raises(sa.exc.OperationalError) as e:
                    b.exec_driver_sql("UPDATE meter SET serial = 'B' WHERE id = %s", (mid,))
        assert rd._sqlstate(e.value) == "40001"
    assert rd._retryable(e.value)


class _Orig(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def test_retry_is_bounded_and_only_for_lock_conflicts(monkeypatch):
    monkeypatch.setattr(rd.time, "sleep", lambda _s: None)
    calls = []

    def flaky(fail_times, sqlstate="40001"):
        def work():
            calls.append(1)
            if len(calls) <= fail_times:
                raise sa.exc.OperationalError("UPDATE ...", {}, _Orig(sqlstate))
            return "stored"
        return work

    assert rd._with_retry(flaky(rd.MAX_ATTEMPTS - 1)) == "stored" and len(calls) == rd.MAX_ATTEMPTS
    calls.clear()
    with pytest.raises(ReadingRefused) as e:
        rd._with_retry(flaky(rd.MAX_ATTEMPTS, "40P01"))
    assert e.value.key == "errors.reading_busy" and len(calls) == rd.MAX_ATTEMPTS
    calls.clear()
    with pytest.raises(sa.exc.OperationalError):  # not a lock conflict: no retry
        rd._with_retry(flaky(1, "08006"))
    assert len(calls) == 1


# ---------------------------------------------------------------- what mutation testing found
# (scripts/mutation.py readings; docs/testing.md): orderings with ties and rows stored out of
# time order, the limits of the read helpers, the error keys and values, and the helpers that
# decide "the slot is taken" and "try again".


def test_read_helpers_order_by_time_then_by_id_whatever_the_insert_order(engine):
    _, mid = make_meter(engine)
    same = local(2026, 10, 10)
    add(engine, mid, 300, local(2026, 10, 20))  # stored first, taken last
    add(engine, mid, 100, local(2026, 9, 1))
    add(engine, mid, 200, same)
    add(engine, mid, 201, same)  # the same moment: the later row counts as the later reading
    with read_session(engine) as s:
        assert [e.value for e in history(s, mid)] == [300, 201, 200, 100]
        assert last_reading(s, mid).value == 300
    add(engine, mid, 50, local(2026, 8, 1))  # an older one stored last: still not the latest
    add(engine, mid, 301, local(2026, 10, 20))
    with read_session(engine) as s:
        assert last_reading(s, mid).value == 301
        assert [e.value for e in history(s, mid, limit=2)] == [301, 300]


def test_history_limit_is_clamped_to_1_and_1000(engine):
    _, mid = make_meter(engine, digits=9)
    start = local(2020, 1, 1)
    with write_session(engine) as s:
        s.execute(sa.insert(Reading), [
            {"meter_id": mid, "value": k, "taken_at": start + timedelta(hours=k), "period": "2020-01",
             "source": "inspector", "slot": None, "created_at": start} for k in range(1002)])
    with read_session(engine) as s:
        assert [e.value for e in history(s, mid, limit=0)] == [1001]
        assert [e.value for e in history(s, mid, limit=-5)] == [1001]
        assert len(history(s, mid, limit=1)) == 1
        assert len(history(s, mid, limit=1000)) == 1000 and len(history(s, mid, limit=10**6)) == 1000


@pytest.mark.parametrize("bad", [0, -1, 2**31, True, "1", 1.0, None])
def test_read_helpers_refuse_ids_that_cannot_be_a_meter(engine, bad):
    with read_session(engine) as s:
        for fn in (history, last_reading):
            with pytest.raises(NotFound) as e:
                fn(s, bad)
            assert e.value.key == "errors.meter_not_found"
        with pytest.raises(InvalidInput) as e:
            history(s, 1, limit=None)
        assert e.value.key == "errors.invalid_input"


def test_read_helpers_take_the_largest_id(engine):
    with read_session(engine) as s:
        assert history(s, 2**31 - 1) == [] and last_reading(s, 2**31 - 1) is None


def test_record_reading_errors_say_what_was_wrong(engine):
    _, mid = make_meter(engine)
    with pytest.raises(InvalidInput) as e:
        record_reading(engine, AG, mid, 1, source="customer" * 4, taken_at=NOW)
    assert e.value.params == {"source": ("customer" * 4)[:20]}
    with pytest.raises(ValueError, match="^taken_at must be an aware datetime"):
        record_reading(engine, AG, mid, 1, source="inspector", taken_at=datetime(2026, 11, 1))
    with pytest.raises(ValueError, match="^record_reading needs an engine or a session$"):
        record_reading(None, AG, mid, 1, source="inspector", taken_at=NOW)


def test_record_reading_keeps_who_recorded_it(engine):
    _, mid = make_meter(engine)
    with write_session(engine) as s:
        staff = User(login="inspector@example.kz", password_hash="x", surname="I", name="I", role="operator")
        s.add(staff)
        s.flush()
        staff_id = staff.id
    r1 = record_reading(engine, AG, mid, 1, source="inspector", taken_at=local(2026, 10, 1), user_id=staff_id)
    with write_session(engine) as s:
        r2 = record_reading(None, AG, mid, 2, source="controller", taken_at=local(2026, 10, 2), user_id=staff_id,
                            session=s)
    with read_session(engine) as s:
        assert [s.get(Reading, r.id).user_id for r in (r1, r2)] == [staff_id, staff_id]


def test_usual_use_counts_from_the_earliest_reading_of_the_year_whatever_the_insert_order(engine):
    _, mid = make_meter(engine)
    base = local(2026, 11, 1)
    add(engine, mid, 400, base)  # the base, stored first
    add(engine, mid, 250, base - timedelta(days=round(30.4375 * 3)))
    add(engine, mid, 100, base - timedelta(days=round(30.4375 * 6)))  # the earliest: 300 in 6 months
    c = check(engine, mid, "450")
    assert D("49") < c.usual_monthly < D("51")


class _DriverError(Exception):
    def __init__(self, text, sqlstate=None, pgcode=None, constraint=None):
        super().__init__(text)
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if pgcode is not None:
            self.pgcode = pgcode
        if constraint is not None:
            self.diag = type("Diag", (), {"constraint_name": constraint})()


def _integrity(orig):
    return sa.exc.IntegrityError("INSERT INTO reading ...", {}, orig)


@pytest.mark.parametrize("orig, taken", [
    (_DriverError("duplicate key", constraint="uq_reading_meter_period_slot"), True),  # PostgreSQL (diag)
    (_DriverError('duplicate key value violates unique constraint "uq_reading_meter_period_slot"'), True),
    (_DriverError("UNIQUE constraint failed: reading.meter_id, reading.period, reading.slot"), True),  # SQLite
    (_DriverError("duplicate key", constraint="payment_receipt_no_key"), False),
    (_DriverError("UNIQUE constraint failed: payment.receipt_no"), False),
    (_DriverError("CHECK constraint failed: ck_reading_value"), False),
])
def test_the_slot_conflict_is_told_from_other_integrity_errors(orig, taken):
    assert rd._is_slot_conflict(_integrity(orig)) is taken


@pytest.mark.parametrize("orig, retry", [
    (_DriverError("could not serialize access", sqlstate="40001"), True),
    (_DriverError("deadlock detected", sqlstate="40P01"), True),
    (_DriverError("lock not available", pgcode="55P03"), True),  # an older driver's attribute
    (_DriverError("database is locked"), True),
    (_DriverError("Database is BUSY"), True),
    (_DriverError("syntax error", sqlstate="42601"), False),
    (_DriverError("disk I/O error"), False),
])
def test_what_is_tried_again(orig, retry):
    exc = sa.exc.OperationalError("UPDATE ...", {}, orig)
    assert rd._retryable(exc) is retry
    assert rd._sqlstate(exc) == (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None))


def test_usual_use_at_the_edges_of_its_history(engine):
    _, mid = make_meter(engine)
    base = local(2026, 11, 1)
    add(engine, mid, 1000, base - timedelta(days=55))  # exactly the shortest history that counts
    add(engine, mid, 1165, base)
    # 165 in 55 days = 91.3125 a month: rounded half up (not to even) to 3 places
    assert check(engine, mid, "1170").usual_monthly == D("91.313")
    _, other = make_meter(engine, serial="S2")
    add(engine, other, 1000, base - timedelta(days=365))  # exactly a year back: still counts
    add(engine, other, 1100, base - timedelta(days=200))
    add(engine, other, 1365, base)
    add(engine, other, 900, base - timedelta(days=400))  # more than a year back: not counted
    assert check(engine, other, "1370").usual_monthly == D("30.438")  # 365 in 365 days
    assert check(engine, mid, "1170").usual_monthly == D("91.313")  # the other meter's are not counted


def test_effective_readings_a_correction_hides_only_its_own_months_first_submission(engine):
    _, mid = make_meter(engine)
    _, other = make_meter(engine, serial="S2")
    add(engine, mid, 100, local(2026, 9, 1))
    add(engine, mid, 200, local(2026, 10, 21), source="customer", slot=1)  # October: no correction
    add(engine, mid, 300, local(2026, 11, 20), source="customer", slot=1)
    add(engine, mid, 280, local(2026, 11, 21, 12), source="customer", slot=2)  # corrects November's
    add(engine, other, 500, local(2026, 10, 21), source="customer", slot=1)  # another meter's
    # October's only submission counts: a staff reading after it may not be below it
    e = refused(record_reading, engine, AG, mid, 150, source="inspector", taken_at=local(2026, 10, 25))
    assert (e.key, e.params["previous"]) == ("errors.reading_below_previous", 200)
    # November's first submission (300) was corrected to 280: it no longer counts
    assert record_reading(engine, AG, mid, 250, source="inspector", taken_at=local(2026, 11, 20, 18)).value == 250
    # a correction on one meter hides nothing of another meter
    e = refused(record_reading, engine, AG, other, 400, source="inspector", taken_at=local(2026, 10, 25))
    assert e.params["previous"] == 500


def test_staff_reading_at_the_same_moment_as_another(engine):
    _, mid = make_meter(engine)
    t = local(2026, 10, 1)
    add(engine, mid, 200, t)
    e = refused(record_reading, engine, AG, mid, 150, source="inspector", taken_at=t)
    assert (e.key, e.params["previous"]) == ("errors.reading_below_previous", 200)
    assert record_reading(engine, AG, mid, 250, source="controller", taken_at=t).value == 250
    e = refused(record_reading, engine, AG, mid, 240, source="inspector", taken_at=t + timedelta(minutes=1))
    assert e.params["previous"] == 250  # of two at one moment, the later row is the latest


def test_a_customer_reading_may_equal_a_later_staff_reading(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 100, local(2026, 10, 1))
    add(engine, mid, 200, local(2026, 11, 25, 2))  # 02:00 in Almaty: still the 24th in UTC
    assert check(engine, mid, "200", now=local(2026, 11, 22)).ok
    c = check(engine, mid, "201", now=local(2026, 11, 22))
    assert c.error.params == {"next": 200, "date": "2026-11-25", "unit": "m3"}  # the local date


def test_the_tariff_of_the_local_day(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 1000, local(2026, 10, 25))
    add_tariff(engine, valid_to=date(2026, 11, 21))
    add_tariff(engine, valid_from=date(2026, 11, 22), steps=[(None, D("10"))])
    # 02:00 on the 22nd in Almaty is still the 21st in UTC: the new tariff applies
    assert check(engine, mid, "1350", now=local(2026, 11, 22, 2)).cost == D("3500.00")


def test_the_check_names_its_meter_base_and_counts(engine):
    _, mid = make_meter(engine)
    base_at = local(2026, 10, 25)
    add(engine, mid, 1000, base_at)
    c = check(engine, mid, "1010")
    assert (c.meter_id, c.base_value, c.base_taken_at, c.submissions_used, c.next_slot) == (mid, 1000, base_at, 0, 1)
    submit_reading(engine, AG, mid, "1010", now=NOW)
    c = check(engine, mid, "1011")
    assert (c.submissions_used, c.submissions_left, c.next_slot) == (1, 1, 2)


def test_a_lone_second_slot_leaves_no_slot_to_take(engine):
    """Slot 2 without slot 1 (an import, a manual fix): the month is used up, not given slot 3."""
    _, mid = make_meter(engine)
    add(engine, mid, 1000, local(2026, 11, 21), source="customer", slot=2)
    c = check(engine, mid, "1001")
    assert c.next_slot is None and c.submissions_used == 1


def test_a_jump_warning_names_the_factor_and_an_error_hides_the_warning(engine):
    _, mid = make_meter(engine)
    base = monthly_history(engine, mid)
    c = check(engine, mid, str(base + 400))
    assert c.warning.params["factor"] == AG.jump_warning_factor
    e = refused(submit_reading, engine, AG, mid, str(base + 400), now=NOW)
    assert e.check is not None and e.check.warning.key == "warnings.reading_jump"
    add(engine, mid, base + 300, local(2026, 11, 25))  # a later staff reading: base + 400 is above it
    c = check(engine, mid, str(base + 400))
    assert c.error.key == "errors.reading_above_next" and c.warning is None


class _NoOffset(tzinfo):
    def utcoffset(self, dt):
        return None


@pytest.mark.parametrize("bad", [datetime(2026, 11, 22, 12), datetime(2026, 11, 22, tzinfo=_NoOffset()),
                                 date(2026, 11, 22), "2026-11-22T12:00:00+05:00"])
def test_times_without_an_offset_are_refused_by_name(engine, bad):
    _, mid = make_meter(engine)
    for call in (lambda: reading_window(AG, bad), lambda: check(engine, mid, "1", now=bad),
                 lambda: submit_reading(engine, AG, mid, "1", now=bad)):
        with pytest.raises(ValueError, match="^now must be an aware datetime"):
            call()


@pytest.mark.parametrize("bad", [0, 2**31, True, "7"])
def test_meter_ids_that_cannot_be_are_not_found(engine, bad):
    with read_session(engine) as s:
        with pytest.raises(NotFound) as e:
            check_reading(s, AG, bad, "1", now=NOW)
    assert e.value.key == "errors.meter_not_found"


def test_retry_waits_a_little_longer_each_time(monkeypatch):
    waits = []
    monkeypatch.setattr(rd.time, "sleep", waits.append)

    def busy():
        raise sa.exc.OperationalError("UPDATE ...", {}, _Orig("40001"))

    with pytest.raises(ReadingRefused):
        rd._with_retry(busy)
    assert len(waits) == rd.MAX_ATTEMPTS - 1
    for attempt, w in enumerate(waits, 1):
        assert 0.005 * attempt <= w <= 0.02 * attempt


def test_staff_readings_equal_to_their_neighbours_and_local_dates(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 200, local(2026, 10, 1, 2))  # 02:00 in Almaty: still 30 September in UTC
    add(engine, mid, 300, local(2026, 10, 20, 2))
    assert record_reading(engine, AG, mid, 200, source="inspector", taken_at=local(2026, 10, 5)).value == 200
    assert record_reading(engine, AG, mid, 300, source="inspector", taken_at=local(2026, 10, 15)).value == 300
    e = refused(record_reading, engine, AG, mid, 199, source="inspector", taken_at=local(2026, 10, 2))
    assert e.params == {"previous": 200, "date": "2026-10-01", "unit": "m3"}
    e = refused(record_reading, engine, AG, mid, 301, source="inspector", taken_at=local(2026, 10, 16))
    assert e.params == {"next": 300, "date": "2026-10-20", "unit": "m3"}


def test_a_driver_error_without_a_constraint_name_is_read_from_its_text():
    diag = type("Diag", (), {})()  # no constraint_name at all
    orig = _DriverError('duplicate key value violates unique constraint "uq_reading_meter_period_slot"')
    orig.diag = diag
    assert rd._is_slot_conflict(_integrity(orig)) is True


def test_other_meters_readings_are_neither_neighbours_nor_corrections(engine):
    """Aimed at survivors of the last measured run (_after without _others; _effective without its
    meter condition): added after that run, so not yet in its figure."""
    _, mid = make_meter(engine)
    _, other = make_meter(engine, serial="S2")
    add(engine, mid, 100, local(2026, 10, 1))
    add(engine, other, 50, local(2026, 10, 20))  # lower, later, on another meter
    assert record_reading(engine, AG, mid, 150, source="inspector", taken_at=local(2026, 10, 10)).value == 150
    add(engine, other, 500, local(2026, 11, 20), source="customer", slot=1)
    add(engine, mid, 300, local(2026, 11, 20), source="customer", slot=1)
    add(engine, mid, 310, local(2026, 11, 21), source="customer", slot=2)  # corrects mid's, not other's
    e = refused(record_reading, engine, AG, other, 400, source="inspector", taken_at=local(2026, 11, 21))
    assert e.params["previous"] == 500


def test_without_a_value_there_is_no_usual_use_or_volume(engine):
    _, mid = make_meter(engine)
    add(engine, mid, 1000, local(2026, 10, 25))
    with read_session(engine) as s:
        st = meter_status(s, AG, mid, now=NOW)
    assert st.usual_monthly is None and st.volume is None and st.error is None


# ---------------------------------------------------------------- roll-over past zero (issue 14 point 4)

def turns_of(engine, meter_id):
    with read_session(engine) as s:
        return s.exec(sa.select(Reading.value, Reading.rollovers)
                      .where(Reading.meter_id == meter_id).order_by(Reading.taken_at, Reading.id)).all()


def test_a_five_digit_meter_past_zero_is_offered_as_a_roll_over_and_stored_with_its_real_volume(engine):
    _, mid = make_meter(engine, digits=5)
    add(engine, mid, 99986, local(2026, 10, 25))
    c = check(engine, mid, "00011")
    assert c.ok and c.rollover and c.warning_kind == "rollover" and c.volume == 25 and c.position == 100011
    assert c.warning == rd.Notice("warnings.reading_rollover",
                                  {"previous": 99986, "value": 11, "top": 99999, "volume": 25, "unit": "m3"})
    # Not without its own confirmation: neither silently nor with the jump's flag.
    for flags in ({}, {"confirm": True}, {"rollover": "yes"}, {"rollover": 1}):
        e = refused(submit_reading, engine, AG, mid, "00011", now=NOW, **flags)
        assert e.key == "warnings.reading_rollover" and e.params["volume"] == 25
    assert turns_of(engine, mid) == [(99986, 0)]
    sub = submit_reading(engine, AG, mid, "00011", now=NOW, rollover=True)
    assert (sub.reading.value, sub.reading.rollovers, sub.check.volume) == (11, 1, 25)
    assert turns_of(engine, mid) == [(99986, 0), (11, 1)]
    # Next month the base is 11 after one turn: an ordinary reading, no warning, volume 29.
    c = check(engine, mid, "40", now=local(2026, 12, 22))
    assert c.ok and c.warning is None and not c.rollover and c.volume == 29 and c.base_value == 11
    assert submit_reading(engine, AG, mid, "40", now=local(2026, 12, 22)).reading.rollovers == 1
    # ... and a value below 11 is below the previous reading (11 is not near the top).
    assert check(engine, mid, "5", now=local(2026, 12, 23)).error.key == "errors.reading_below_previous"


def test_far_from_the_top_a_smaller_reading_stays_below_the_previous_one(engine):
    _, mid = make_meter(engine, digits=5)
    add(engine, mid, 50000, local(2026, 10, 25))
    c = check(engine, mid, "11")
    assert c.error.key == "errors.reading_below_previous" and not c.rollover and c.volume is None
    e = refused(submit_reading, engine, AG, mid, "11", now=NOW, rollover=True, confirm=True)
    assert (e.key, e.params) == ("errors.reading_below_previous", {"previous": 50000, "date": "2026-10-25", "unit": "m3"})
    assert turns_of(engine, mid) == [(50000, 0)]


@pytest.mark.parametrize("base, typed, volume", [
    (99000, "0", 1000), (99999, "999", 1000), (99986, "11", 25), (99999, "0", 1),
    (98999, "0", None), (99999, "1000", None), (99986, "99000", None), (99500, "600", None),
])
def test_the_roll_over_zone_is_the_last_percent_of_the_dial(engine, base, typed, volume):
    _, mid = make_meter(engine, digits=5)
    add(engine, mid, base, local(2026, 10, 25))
    c = check(engine, mid, typed)
    if volume is None:
        assert c.error.key == "errors.reading_below_previous"
    else:
        assert c.ok and c.rollover and c.volume == volume


def test_the_roll_over_zone_is_tuned_in_the_profile(engine):
    _, mid = make_meter(engine, digits=5)
    add(engine, mid, 96000, local(2026, 10, 25))
    assert check(engine, mid, "100").error.key == "errors.reading_below_previous"  # 1 %: from 99 000
    wide = AG.model_copy(update={"readings": AG.readings.model_copy(update={"rollover_percent": D("5")})})
    c = check(engine, mid, "100", utility=wide)
    assert c.ok and c.rollover and c.volume == 4100
    assert rd.rollover_zone(AG, 5) == 1000 and rd.rollover_zone(wide, 5) == 5000 and rd.rollover_zone(AG, 3) == 10


def test_a_correction_after_a_roll_over_keeps_the_base_and_may_undo_it(engine):
    _, mid = make_meter(engine, digits=5)
    add(engine, mid, 99986, local(2026, 10, 25))
    submit_reading(engine, AG, mid, "11", now=NOW, rollover=True)
    c = check(engine, mid, "99990", now=NOW + timedelta(hours=1))  # "I misread: it is 99 990"
    assert c.ok and not c.rollover and c.volume == 4 and c.warning is None
    sub = submit_reading(engine, AG, mid, "99990", now=NOW + timedelta(hours=1))
    assert (sub.reading.slot, sub.reading.rollovers) == (2, 0)
    assert turns_of(engine, mid) == [(99986, 0), (11, 1), (99990, 0)]


def test_staff_readings_follow_the_turns_and_may_record_a_roll_over(engine):
    _, mid = make_meter(engine, digits=5)
    add(engine, mid, 99986, local(2026, 10, 1))
    e = refused(record_reading, engine, AG, mid, 11, source="inspector", taken_at=local(2026, 10, 10))
    assert e.key == "errors.reading_below_previous"
    r = record_reading(engine, AG, mid, 11, source="inspector", taken_at=local(2026, 10, 10), rollover=True)
    assert r.rollovers == 1
    assert record_reading(engine, AG, mid, 30, source="controller", taken_at=local(2026, 10, 20)).rollovers == 1
    # A back-dated reading between 99 986 and 11 (after one turn) fits by the counter's position.
    assert record_reading(engine, AG, mid, 99990, source="estimate", taken_at=local(2026, 10, 5)).rollovers == 0
    e = refused(record_reading, engine, AG, mid, 40, source="estimate", taken_at=local(2026, 10, 15))
    assert e.key == "errors.reading_above_next"  # 40 after the turn is above the later 30
    assert refused(record_reading, engine, AG, mid, 5, source="inspector", taken_at=local(2026, 10, 25),
                   rollover=True).key == "errors.reading_below_previous"  # 30 is not near the top


def test_usual_use_counts_the_turns_so_a_roll_over_is_no_negative_history(engine):
    _, mid = make_meter(engine, digits=5)
    for i, value in enumerate([99900, 99930, 99960, 99990]):
        add(engine, mid, value, local(2026, 6 + i, 25))
    submit_reading(engine, AG, mid, "20", now=local(2026, 10, 26), rollover=True)  # 30 more, over zero
    c = check(engine, mid, "50", now=local(2026, 11, 25))
    assert c.ok and c.volume == 30 and c.usual_monthly is not None and D(29) < c.usual_monthly < D(31)
    assert c.warning is None  # not a jump: the usual use is the real 30 a month, not a negative one
    assert check(engine, mid, "200", now=local(2026, 11, 25)).warning_kind == "jump"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=3, max_value=12).flatmap(
    lambda d: st.tuples(st.just(d), st.integers(0, 10**d - 1), st.integers(0, 10**d - 1))),
    st.sampled_from(["0.1", "1", "2.5", "10"]))
def test_property_a_roll_over_volume_is_positive_small_and_lands_on_the_value(case, percent):
    """issue 19: roll-over volumes as a property: offered only from the top zone, never 0 or
    negative, never more than the zone, and the base plus the volume shows the typed value."""
    digits, base, value = case
    utility = AG.model_copy(update={"readings": AG.readings.model_copy(update={"rollover_percent": D(percent)})})
    zone, modulus = rd.rollover_zone(utility, digits), 10**digits
    volume = rd.rollover_volume(utility, digits, base, value)
    if volume is None:
        assert value >= base or base < modulus - zone or modulus - base + value > zone
    else:
        assert value < base and base >= modulus - zone
        assert 1 <= volume <= zone and (base + volume) % modulus == value


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=3, max_value=8), st.integers(min_value=0),
       st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=24))
def test_property_monthly_readings_over_any_number_of_turns_give_back_each_months_use(digits, start, uses):
    """A meter read every month: each month's use, whatever the turns, is given back exactly by
    reading the displayed values as the portal does, when each use fits the roll-over zone."""
    modulus, zone = 10**digits, rd.rollover_zone(AG, digits)
    uses = [u % (zone + 1) for u in uses]
    position = start % (modulus * 50)
    for use in uses:
        shown_before, turns_before = position % modulus, position // modulus
        position += use
        shown = position % modulus
        if shown >= shown_before:
            got, turns = shown - shown_before, turns_before
        else:
            got, turns = rd.rollover_volume(AG, digits, shown_before, shown), turns_before + 1
        assert got == use and got >= 0
        assert turns * modulus + shown == position  # what the reading is stored as


# ---------------------------------------------------------------- hard plausibility limit (issue 14 point 5)

def reviews_of(engine, meter_id):
    from gazportal.models import ReadingReview

    with read_session(engine) as s:
        return s.exec(sa.select(ReadingReview.value, ReadingReview.volume, ReadingReview.limit_volume,
                                ReadingReview.reason, ReadingReview.status, ReadingReview.period,
                                ReadingReview.user_id)
                      .where(ReadingReview.meter_id == meter_id).order_by(ReadingReview.id)).all()


def test_above_the_hard_limit_a_reading_is_not_booked_but_goes_to_review(engine):
    """9 999 999 kWh after 4 858 was accepted with one tick; now it goes to staff review."""
    _, mid = make_meter(engine, digits=7, service="electricity")
    with write_session(engine) as s:
        user = User(login="rev@example.kz", password_hash="!", surname="S", name="N")
        s.add(user)
        s.flush()
        uid = user.id
    add(engine, mid, 4858, local(2026, 10, 25))
    c = check(engine, mid, "9999999")
    assert c.ok and c.warning_kind == "review" and c.review_limit == 10000 and c.volume == 9995141
    assert c.warning == rd.Notice("warnings.reading_review",
                                  {"volume": 9995141, "unit": "kWh", "since": "2026-10-25", "limit": 10000})
    with pytest.raises(rd.ReadingSentToReview) as e:
        submit_reading(engine, AG, mid, "9999999", now=NOW, confirm=True, user_id=uid)  # a tick changes nothing
    assert e.value.key == "notes.reading_review" and e.value.params == {"value": 9999999, "volume": 9995141,
                                                                        "unit": "kWh"}
    assert stored(engine, mid) == [(4858, "inspector", "2026-10", None)]  # not booked
    assert reviews_of(engine, mid) == [(9999999, 9995141, 10000, "review.above_hard_limit", "open", "2026-11", uid)]
    assert meter_status_of(engine, mid).submissions_left == 2  # it used no submission
    # One open review per meter and month: a repeat fills no queue ...
    e2 = refused(submit_reading, engine, AG, mid, "8888888", now=NOW + timedelta(hours=1))
    assert e2.key == "errors.reading_in_review" and len(reviews_of(engine, mid)) == 1
    # ... and a plausible reading is booked as usual.
    assert submit_reading(engine, AG, mid, "5100", now=NOW + timedelta(hours=2)).reading.value == 5100


def test_the_hard_limit_is_per_service_per_month_and_tuned_in_the_profile(engine):
    _, mid = make_meter(engine, digits=7, service="electricity")
    add(engine, mid, 1000, local(2026, 8, 22))  # three months before NOW
    limit = math.ceil(D(10000) * 92 / rd.DAYS_PER_MONTH)  # 92 days: a bit over three months
    assert limit == 30226
    c = check(engine, mid, str(1000 + limit))  # exactly at the limit: not above it
    assert c.ok and c.warning_kind != "review" and c.review_limit == limit
    assert check(engine, mid, str(1000 + limit + 1)).warning_kind == "review"
    strict = AG.model_copy(update={"readings": AG.readings.model_copy(update={"review_above": {"electricity": 100}})})
    assert check(engine, mid, "1304", utility=strict).warning_kind == "review"  # 100 a month: 303 in 92 days
    assert check(engine, mid, "1303", utility=strict).warning_kind != "review"
    no_limit = AG.model_copy(update={"readings": AG.readings.model_copy(update={"review_above": {"gas": 10}})})
    assert check(engine, mid, "9999999", utility=no_limit).warning_kind is None  # no limit for electricity here


def test_between_the_usual_use_and_the_hard_limit_the_customer_confirms(engine):
    _, mid = make_meter(engine, digits=7, service="electricity")
    for i, value in enumerate([1000, 1200, 1400, 1600]):
        add(engine, mid, value, local(2026, 7 + i, 21))
    c = check(engine, mid, "3000")  # 1 400 kWh against 200 a month: a jump, below 10 000
    assert c.warning_kind == "jump"
    assert refused(submit_reading, engine, AG, mid, "3000", now=NOW).key == "warnings.reading_jump"
    assert submit_reading(engine, AG, mid, "3000", now=NOW, confirm=True).reading.value == 3000


# ---------------------------------------------------------------- rows stored under the old rule

OLD_KG = KG.model_copy(update={"reading_window": ReadingWindow(from_day=1, to_day=5)})  # before issue 14.9


def test_refile_moves_rows_stored_under_the_old_rule(engine):
    """Readings sent on 1-5 Nov and 1-5 Dec were stored as November and December (the old rule):
    under the new one they are October's and November's. Left as they were, December's window
    (November) would count November's old submissions as used and skip them as the base."""
    _, mid = make_meter(engine)
    add(engine, mid, 90, kyiv(2026, 10, 20, 12, 0), tz=KYIV)
    submit_reading(engine, OLD_KG, mid, "100", now=kyiv(2026, 11, 2, 12, 0))
    submit_reading(engine, OLD_KG, mid, "101", now=kyiv(2026, 11, 3, 12, 0))
    submit_reading(engine, OLD_KG, mid, "110", now=kyiv(2026, 12, 1, 12, 0))
    assert [r.period for r in stored(engine, mid)] == ["2026-10", "2026-11", "2026-11", "2026-12"]
    st = meter_status_of(engine, mid, utility=KG, now=kyiv(2026, 12, 2, 12, 0))
    assert st.submissions_used == 2 and not st.can_submit  # the old rows fill November's slots

    counted = rd.refile_periods(engine, KG)
    assert (counted.readings, counted.applied) == (3, False)
    assert counted.moves == {("2026-11", "2026-10"): 2, ("2026-12", "2026-11"): 1}
    assert [r.period for r in stored(engine, mid)] == ["2026-10", "2026-11", "2026-11", "2026-12"]  # unchanged

    done = rd.refile_periods(engine, KG, apply=True)
    assert (done.readings, done.applied) == (3, True)
    assert [(r.period, r.slot) for r in stored(engine, mid)] == [
        ("2026-10", None), ("2026-10", 1), ("2026-10", 2), ("2026-11", 1)]
    st = meter_status_of(engine, mid, utility=KG, now=kyiv(2026, 12, 2, 12, 0))
    assert st.submissions_used == 1 and st.can_submit and st.base_value == 101  # the correction of Nov
    assert rd.refile_periods(engine, KG, apply=True).readings == 0  # once is enough


def test_refile_refuses_a_slot_two_rows_would_share_and_changes_nothing(engine):
    _, mid = make_meter(engine)
    submit_reading(engine, OLD_KG, mid, "100", now=kyiv(2026, 11, 2, 12, 0))  # old: November, slot 1
    with write_session(engine) as s:  # October's slot 1 taken by a row that stays (sent on the 20th)
        s.add(Reading(meter_id=mid, value=95, taken_at=kyiv(2026, 10, 20, 12, 0), period="2026-10",
                      source="customer", slot=1))
    e = refused(rd.refile_periods, engine, KG, apply=True)
    assert e.key == "errors.reading_refile_conflict"
    assert sorted(r.period for r in stored(engine, mid)) == ["2026-10", "2026-11"]
