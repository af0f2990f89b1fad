"""The staff dashboard (issue 16 point 3): its numbers equal the raw rows' aggregates, it reads the
roll-ups only, the operator's filters, and a filter not among the choices refused with a
translated message, changing nothing."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from gazportal.db import read_session, write_session
from gazportal.demo import generate_demo
from gazportal.models import Charge, Meter, Payment, Reading, StatMonth
from gazportal.services import i18n, periods, staff, staff_dashboard as svc
from gazportal.services.errors import InvalidInput
from gazportal.settings import get_settings, load_utility
from gazportal.state.staff_dashboard import StaffDashboardState
from tests.conftest import sign_in_token, state_of

AG = load_utility("almaty_gas")
NOW = datetime(2026, 11, 22, 7, tzinfo=UTC)
PW = "Quiet-Harbour-Lamp-71"

pytestmark = pytest.mark.usefixtures("fast_hashing")


def _raw_month(s, period: str, service: str) -> tuple[D, D]:
    vol, amount = s.execute(sa.select(sa.func.sum(Charge.volume), sa.func.sum(Charge.amount))
                            .where(Charge.period == period, Charge.service == service)).one()
    return D(str(vol or 0)).quantize(D("0.001")), D(str(amount or 0)).quantize(D("0.01"))


def test_the_figures_equal_the_raw_aggregates(engine):
    generate_demo(engine, AG, accounts=40, months=14, seed=4, last_period="2026-10")
    with read_session(engine) as s:
        f = svc.check_filters(s, AG, NOW, "2026", "gas", "")
        data = svc.figures(s, AG, f, NOW)
        for m in data.months[:10]:
            assert (m.volume, m.charged) == _raw_month(s, m.period, "gas"), m.period
        for m in data.previous[8:]:
            assert (m.volume, m.charged) == _raw_month(s, m.period, "gas"), m.period
        start = periods.local_day_start_utc(periods.period_start("2026-03"), AG.tz)
        end = periods.local_day_start_utc(periods.next_period_start("2026-03"), AG.tz)
        paid = sum((p for p in s.execute(sa.select(Payment.amount).where(Payment.paid_at >= start,
                                                                         Payment.paid_at < end)).scalars()), D(0))
        assert data.months[2].paid == paid
        assert data.coverage_period == "2026-10"  # nobody has read in November yet: the last period read
        read = s.execute(sa.select(sa.func.count(sa.distinct(Reading.meter_id))).join(Meter)
                         .where(Reading.period == "2026-10", Meter.service == "gas")).scalar_one()
        meters = s.execute(sa.select(sa.func.count()).select_from(Meter).where(Meter.service == "gas",
                                                                                Meter.is_active)).scalar_one()
        assert (data.read, data.meters) == (read, meters)
        assert data.coverage_days[-1][1] == read and [r for _, r in data.coverage_days] == sorted(
            r for _, r in data.coverage_days)  # the running sum never falls
        one = data.coverage[0]
        g = svc.check_filters(s, AG, NOW, "2026", "gas", str(one.settlement))
        assert svc.figures(s, AG, g, NOW).read == one.read
        board = svc.load(s, AG, f, NOW, ["kk", "ru", "uk", "en"])
    assert set(board.figures["kk"]) == set(svc.CHART_NAMES) and len(board.kpis["ru"]) == 4
    assert "m³" in board.kpis["en"][0][1] and "%" in board.kpis["en"][3][1]


def test_the_dashboard_reads_the_rollups_not_the_raw_rows(engine):
    """Damage the raw rows (delete them): the dashboard still shows what the roll-ups hold."""
    generate_demo(engine, AG, accounts=10, months=3, seed=4, last_period="2026-10")
    with read_session(engine) as s:
        before = svc.figures(s, AG, svc.check_filters(s, AG, NOW, "2026", "gas", ""), NOW)
    with write_session(engine) as s:
        s.execute(sa.delete(Charge))
        s.execute(sa.delete(Payment))
    with read_session(engine) as s:
        after = svc.figures(s, AG, svc.check_filters(s, AG, NOW, "2026", "gas", ""), NOW)
        assert s.execute(sa.select(sa.func.count()).select_from(StatMonth)).scalar_one() > 0
    assert after.months == before.months and sum(m.charged for m in after.months) > 0


@pytest.mark.parametrize("year,service,settlement", [
    ("1999", "gas", ""), ("abc", "gas", ""), ("2026", "heat", ""), ("2026", "gas", "99999"), ("2026", "gas", "x"),
    ("2026", None, ""), ({"a": 1}, "gas", ""),
])
def test_filters_not_among_the_choices_are_refused(engine, year, service, settlement):
    with read_session(engine) as s, pytest.raises(InvalidInput) as e:
        svc.check_filters(s, AG, NOW, year, service, settlement)
    assert e.value.key == "errors.dashboard_filter"
    for lang in ("kk", "ru", "uk", "en"):
        assert i18n.t(e.value.key, lang) != e.value.key


def test_percentages():
    assert svc.change(D(110), D(100)) == D("10.0") and svc.change(D(1), D(0)) is None
    assert svc.rate(D(45), D(60)) == D("75.0") and svc.rate(D(1), D(0)) is None


async def test_the_operator_opens_the_dashboard_and_changes_the_filters(app_db):
    utility = get_settings().utility
    now = datetime.now(UTC)
    generate_demo(app_db, utility, accounts=20, months=14, seed=3)
    staff.add_staff(app_db, utility, login="op@example.org", password=PW, role="operator", surname="Staff",
                    name="Op", now=now)
    token = sign_in_token(app_db, "op@example.org", PW)
    d = await state_of(StaffDashboardState, token, path="/staff/dashboard")
    await d.load()
    assert d.loaded and d.error == "" and d.year == str(now.year) and d.service == utility.services[0]
    assert set(d.kpis) == set(utility.languages) and all(len(v) == 4 for v in d.kpis.values())
    assert set(d.figures["ru"]) == set(svc.CHART_NAMES) and d.coverage["en"]
    volume_before = d.kpis["en"][0].value
    await d.set_year(str(now.year - 1))
    assert d.year == str(now.year - 1) and d.kpis["en"][0].value != volume_before
    other = next(s for s in d.services if s != d.service)
    await d.set_service(other)
    assert d.service == other
    place = d.settlements[0].id
    await d.set_settlement(place)
    assert d.settlement == place and len(d.coverage["en"]) <= 1
    shown = (d.year, d.service, d.settlement, d.kpis)
    await d.set_service("heat")  # not a service of the profile: refused, nothing changes
    assert d.error in {i18n.t("errors.dashboard_filter", lg) for lg in utility.languages}
    assert (d.year, d.service, d.settlement, d.kpis) == shown


def _raw_debt_older_than(s, utility, today, days: int) -> D:
    """Oracle from the raw rows: money owed for charges posted at least ``days`` days ago, payments
    paying the oldest charges first = per account max(0, charges posted by then − all payments)."""
    from datetime import timedelta

    from gazportal.models import Account
    cutoff = today - timedelta(days=days)
    total = D(0)
    for acc in s.execute(sa.select(Account.id)).scalars():
        charged = sum((D(str(a)) for p, a in s.execute(sa.select(Charge.period, Charge.amount)
                                                        .where(Charge.account_id == acc))
                       if periods.period_end(p) <= cutoff), D(0))
        paid = sum((D(str(a)) for a in s.execute(sa.select(Payment.amount).where(Payment.account_id == acc)).scalars()),
                   D(0))
        total += max(D(0), charged - paid)
    return total.quantize(D("0.01"))


def test_debt_ageing_and_the_top_lists_equal_the_raw_rows(engine):
    """Debt ageing (0–30, 31–60, 61–90, over 90 days), top debtors and top consumers: the tiles
    (roll-ups) equal computations over the raw charges and payments."""
    from gazportal.services import billing

    generate_demo(engine, AG, accounts=40, months=14, seed=4, last_period="2026-10")
    today = NOW.astimezone(AG.tz).date()
    with read_session(engine) as s:
        f = svc.check_filters(s, AG, NOW, "2026", "gas", "")
        ageing = svc.ageing_tile(s, AG, f, NOW)
        older = [_raw_debt_older_than(s, AG, today, d) for d in (0, 31, 61, 91)]
        expect = [older[0] - older[1], older[1] - older[2], older[2] - older[3], older[3]]
        assert ageing == expect and sum(ageing) > 0
        debts = {a: billing.debt_at(s, a, today, AG.tz) for a in s.execute(sa.select(Meter.account_id)).scalars()}
        assert sum(ageing) == sum(debts.values())
        top = svc.debtors_tile(s, AG, f, NOW)
        want = sorted(((v, a) for a, v in debts.items() if v), key=lambda x: (-x[0], x[1]))[:svc.TOP]
        assert [(r.value, r.account_id) for r in top] == want and top[0].number and top[0].address
        for service in ("gas", "electricity"):
            if service not in AG.services:
                continue
            g = svc.check_filters(s, AG, NOW, "2025", service, "")
            vols = s.execute(sa.select(Charge.account_id, sa.func.sum(Charge.volume)).where(
                Charge.period >= "2025-01", Charge.period <= "2025-12", Charge.service == service)
                .group_by(Charge.account_id)).all()
            want_c = sorted(((D(str(v)).quantize(D("0.001")), int(a)) for a, v in vols if v),
                            key=lambda x: (-x[0], x[1]))[:svc.TOP]
            assert [(r.value, r.account_id) for r in svc.consumers_tile(s, g)] == want_c
        one = svc.coverage_tile(s, f, "2026-10")[0].settlement  # a settlement filter narrows both lists
        h = svc.check_filters(s, AG, NOW, "2026", "gas", str(one))
        assert sum(svc.ageing_tile(s, AG, h, NOW)) <= sum(ageing)
        assert {r.account_id for r in svc.debtors_tile(s, AG, h, NOW, limit=1000)} <= set(debts)
        board = svc.load(s, AG, f, NOW, ["kk", "ru", "uk", "en"])
    for lang in ("kk", "ru", "uk", "en"):
        assert set(board.tables[lang]) == set(svc.CHART_NAMES) | {"debtors", "consumers"}
        assert len(board.tables[lang]["ageing"].rows) == 4 and len(board.tables[lang]["volume"].rows) == 12
        assert all(len(r) == len(board.tables[lang]["collection"].head) for r in board.tables[lang]["collection"].rows)
        first = board.data.consumers[0]  # the service's own unit, in the language's words
        assert board.tables[lang]["consumers"].rows[0] == [first.number, first.address,
                                                           i18n.format_volume(first.value, "gas", lang)]


def test_a_payment_import_moves_the_debt_at_once(engine):
    """The debt roll-up follows an import: a payment pays the oldest debt first."""
    from gazportal.models import Account
    from gazportal.services.billing_io import import_text

    generate_demo(engine, AG, accounts=10, months=6, seed=4, last_period="2026-10")
    with read_session(engine) as s:
        f = svc.check_filters(s, AG, NOW, "2026", "gas", "")
        top = svc.debtors_tile(s, AG, f, NOW)[0]
        before = svc.ageing_tile(s, AG, f, NOW)
        number = s.execute(sa.select(Account.number).where(Account.id == top.account_id)).scalar_one()
    import_text(engine, AG, "payments", "account_number,paid_at,amount,receipt_no,channel\n"
                f"{number},2026-11-20T10:00:00+05:00,{top.value},DEBT-1,bank\n", now=NOW)
    with read_session(engine) as s:
        after = svc.ageing_tile(s, AG, f, NOW)
        assert sum(before) - sum(after) == top.value
        assert top.account_id not in {r.account_id for r in svc.debtors_tile(s, AG, f, NOW, limit=1000)}


def test_the_yearly_figures_equal_the_raw_rows(engine):
    """Consumption and charges by year, with the change on the same months of the year before,
    equal sums over the raw charges (a partial year compared on its own months only)."""
    generate_demo(engine, AG, accounts=30, months=20, seed=6, last_period="2026-10")
    with read_session(engine) as s:
        f = svc.check_filters(s, AG, NOW, "2026", "gas", "")
        got = {y.year: y for y in svc.years_tile(s, f)}
        raw: dict[str, tuple[D, D]] = {}
        for period, vol, amount in s.execute(sa.select(Charge.period, Charge.volume, Charge.amount)
                                             .where(Charge.service == "gas")):
            v, a = raw.get(period, (D(0), D(0)))
            raw[period] = (v + D(str(vol)), a + D(str(amount)))
        assert set(got) == {int(p[:4]) for p in raw}
        for year, y in got.items():
            mine = [p for p in raw if p.startswith(str(year))]
            assert y.volume == sum((raw[p][0] for p in mine), D(0)).quantize(D("0.001"))
            assert y.charged == sum((raw[p][1] for p in mine), D(0)).quantize(D("0.01"))
        both = [p for p in raw if p.startswith("2026") and raw[p][1] and raw.get(f"2025{p[4:]}", (0, 0))[1]]
        assert len(both) == 8  # March to October: the months both years have (the demo starts in 2025-03)
        now_v = sum((raw[p][0] for p in both), D(0))
        was_v = sum((raw[f"2025{p[4:]}"][0] for p in both), D(0))
        assert got[2026].volume_change == svc.change(now_v, was_v)
        assert got[min(got)].volume_change is None  # no year before it
        board = svc.load(s, AG, f, NOW, ["kk", "en"])
    assert [r[0] for r in board.tables["en"]["yearly"].rows] == [str(y) for y in sorted(got)]
    assert board.figures["kk"]["yearly"]["data"][0]["x"] == [str(y) for y in sorted(got)]


def test_the_missing_meters_list_equals_the_raw_rows_page_by_page(engine):
    """The meters not read yet: active meters of the service with no reading in the period, by
    meter id, with their accounts; the pages together are that list, each once."""
    from gazportal.models import Account

    generate_demo(engine, AG, accounts=40, months=3, seed=8, last_period="2026-10")
    with write_session(engine) as s:  # leave a few meters unread in October
        gone = list(s.execute(sa.select(Meter.id).where(Meter.service == "gas").order_by(Meter.id.desc()).limit(7))
                    .scalars())
        s.execute(sa.delete(Reading).where(Reading.meter_id.in_(gone), Reading.period == "2026-10"))
    with read_session(engine) as s:
        f = svc.check_filters(s, AG, NOW, "2026", "gas", "")
        read = set(s.execute(sa.select(Reading.meter_id).where(Reading.period == "2026-10")).scalars())
        want = [(m.id, m.serial, a.number, a.address) for m, a in s.execute(
            sa.select(Meter, Account).join(Account, Account.id == Meter.account_id)
            .where(Meter.service == "gas", Meter.is_active).order_by(Meter.id)).all() if m.id not in read]
        assert len(want) >= 7
        got, page = [], 1
        while True:
            rows, more = svc.missing_meters(s, f, "2026-10", page, per_page=3)
            got += [(r.meter_id, r.serial, r.number, r.address) for r in rows]
            if not more:
                break
            page += 1
        assert got == want and page == -(-len(want) // 3)
        assert svc.missing_meters(s, f, "2026-10", page + 5, per_page=3) == ([], False)
        from gazportal.services import rollups
        account = s.execute(sa.select(Meter.account_id).where(Meter.id == want[0][0])).scalar_one()
        place = rollups._settlements_of(s, {account})[account]
        g = svc.check_filters(s, AG, NOW, "2026", "gas", str(place))
        narrowed, _ = svc.missing_meters(s, g, "2026-10", 1, per_page=100)
        assert want[0][0] in {r.meter_id for r in narrowed} and {r.meter_id for r in narrowed} <= {w[0] for w in want}


async def test_the_operator_pages_through_the_missing_meters(app_db):
    utility = get_settings().utility
    now = datetime.now(UTC)
    generate_demo(app_db, utility, accounts=30, months=3, seed=3)
    staff.add_staff(app_db, utility, login="op2@example.org", password=PW, role="operator", surname="Staff",
                    name="Op", now=now)
    token = sign_in_token(app_db, "op2@example.org", PW)
    d = await state_of(StaffDashboardState, token, path="/staff/dashboard")
    await d.load()
    first = list(d.missing)
    assert d.missing_page == 1
    if d.missing_more:
        await d.show_missing(2)
        assert d.missing_page == 2 and d.missing and not set(d.missing) & set(first)
    await d.show_missing(9999)
    assert d.missing == [] and not d.missing_more


def test_collection_bands_come_from_the_profile():
    """[staff.collection]: good at or above, fair at or above, poor below; contradictory bands refused."""
    from pydantic import ValidationError

    from gazportal.settings import CollectionBands

    bands = load_utility("default").staff.collection
    assert (bands.good, bands.fair) == (D(95), D(85))
    assert [bands.band(x) for x in (D("95.0"), D("94.9"), D("85"), D("84.9"), None)] == [
        "good", "fair", "fair", "poor", None]
    for bad in ({"good": 80, "fair": 85}, {"good": 90, "fair": 90}, {"good": 250}, {"fair": -1}):
        with pytest.raises(ValidationError):
            CollectionBands(**bad)
    odd = CollectionBands(good=D(60), fair=D(40))
    assert odd.band(D(50)) == "fair"


def test_the_collection_table_names_each_months_band(engine):
    generate_demo(engine, AG, accounts=20, months=12, seed=4, last_period="2026-10")
    with read_session(engine) as s:
        f = svc.check_filters(s, AG, NOW, "2026", "gas", "")
        board = svc.load(s, AG, f, NOW, ["en", "kk"])
    bands = AG.staff.collection
    for m, row in zip(board.data.months, board.tables["en"]["collection"].rows, strict=True):
        band = bands.band(svc.rate(m.paid, m.charged_all))
        assert row[-1] == ("—" if band is None else i18n.t(f"staff_dashboard.band.{band}", "en",
                                                           good="95.0 %", fair="85.0 %"))
    assert board.figures["kk"]["collection"]["layout"]["shapes"][0]["y0"] == float(bands.good)
