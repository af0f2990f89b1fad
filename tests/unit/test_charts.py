"""Statistics for the page (gazportal.services.charts): the monthly table, plotly figures as plain
dicts (compact, no default template), their summaries, the period rules and ownership, on SQLite
and PostgreSQL."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Payment, User, UserAccountLink
from gazportal.services import billing, charts
from gazportal.services.errors import InvalidInput, NotFound
from gazportal.settings import load_utility

NOW = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)  # 11:00 in Almaty
PROFILE = load_utility("default")
UA = load_utility("kremenchukgaz")


def seed(engine) -> dict:
    with write_session(engine) as s:
        mine = Account(number="100000001", holder_name="Ivanova A.", address="Almaty, Abai 1", kind="person")
        other = Account(number="100000002", holder_name="Bob B.", address="Almaty, Abai 2", kind="person")
        s.add_all([mine, other])
        s.flush()
        for i, period in enumerate([f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02"]):
            vol = D(10 + i) + D("0.5")
            s.add(Charge(account_id=mine.id, period=period, service="gas", volume=vol, amount=vol * 100))
        s.add(Charge(account_id=other.id, period="2026-01", service="gas", volume=D("99"), amount=D("9900")))
        # a second, smaller service: its money counts, its volume (another unit) does not
        s.add(Charge(account_id=mine.id, period="2026-02", service="electricity", volume=D("100"), amount=D("50")))
        s.add(Payment(account_id=mine.id, paid_at=datetime(2026, 2, 10, 8, tzinfo=UTC), amount=D("1000.00"),
                      receipt_no="R-1", channel="bank"))
        u = User(login="a@example.kz", email="a@example.kz", password_hash="x", surname="I", name="A",
                 is_active=True, email_verified=True, language="ru")
        b = User(login="b@example.kz", email="b@example.kz", password_hash="x", surname="B", name="B",
                 is_active=True, email_verified=True, language="en")
        s.add_all([u, b])
        s.flush()
        s.add_all([UserAccountLink(user_id=u.id, account_id=mine.id),
                   UserAccountLink(user_id=b.id, account_id=other.id)])
        return dict(mine=mine.id, other=other.id, alice=u.id, bob=b.id)


def test_statistics_table_and_figures(engine):
    ids = seed(engine)
    with read_session(engine) as s:
        st = charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2025-03", "2026-02", now=NOW,
                                    languages=["en", "ru"])
    assert (st.first, st.last, st.service, st.year) == ("2025-03", "2026-02", "gas", 2026)
    assert [r.period for r in st.rows] == [f"2025-{m:02d}" for m in range(3, 13)] + ["2026-01", "2026-02"]
    feb = st.rows[-1]
    assert feb.charged == D("2400.00") and feb.paid == D("1000.00")
    assert feb.closing == feb.opening + D("1000.00") - D("2400.00")
    en = st.table["en"][-1]
    # volume and charges of gas only (₸2,350.00; electricity's ₸50.00 is not in it); payments and
    # the balance over the account
    assert en == {"period": "2026-02", "label": "February 2026", "volume": "23.5\u00a0m³",
                  "charged": "₸2,350.00", "paid": "₸1,000.00", "balance": en["balance"], "debt": "1", "nodata": ""}
    assert en["balance"].startswith("-") and "₸" in en["balance"]
    ru = st.table["ru"][-1]
    assert ru["label"] == "Февраль 2026" and ru["charged"].replace("\u00a0", " ").replace("\u202f", " ") == "2 350,00 ₸"

    monthly = st.figures["en"]["monthly"]
    assert monthly["layout"]["template"] == "none"
    assert monthly["data"][0]["y"] == [float(D(12 + i) + D("0.5")) for i in range(12)]  # gas only
    assert monthly["data"][0]["x"][0] == "Mar 2025"
    assert monthly["data"][0]["marker"]["color"] == PROFILE.colors.primary
    assert st.figures["ru"]["monthly"]["layout"]["separators"][0] == ","
    yearly = st.figures["en"]["yearly"]
    # at least three years; 2024 is before the account's first month, 2026 is billed to February
    assert yearly["data"][0]["x"] == ["2024", "2025", "2026 (Jan–Feb)"]
    assert yearly["data"][0]["y"] == [None, float(sum(D(10 + i) + D("0.5") for i in range(12))), 22.5 + 23.5]
    comp = st.figures["en"]["comparison"]
    assert [t["name"] for t in comp["data"]] == ["2025", "2026"]
    assert comp["data"][1]["y"][:3] == [22.5, 23.5, 0.0] and comp["data"][0]["y"][:2] == [10.5, 11.5]
    for fig in st.figures["en"].values():
        assert len(json.dumps(fig)) < 8000  # compact: no template, a few KB

    assert "February 2026" in st.summaries["en"]["monthly"] and "23.5\u00a0" in st.summaries["en"]["monthly"]
    assert "2024: No data; 2025: 192\u00a0m³; 2026 (Jan–Feb): 46\u00a0m³" in st.summaries["en"]["yearly"]
    assert st.summaries["ru"]["comparison"].startswith("2026: ")


def test_foreign_account_is_refused(engine):
    ids = seed(engine)
    with read_session(engine) as s:
        for bad in (ids["other"], 999999, "1", None, True, -1, 1.5):
            with pytest.raises(NotFound):
                charts.load_statistics(s, PROFILE, ids["alice"], bad, "2025-03", "2026-02", now=NOW, languages=["en"])


@pytest.mark.parametrize("first,last,key", [
    ("2026-02", "2025-03", "errors.period_range_reversed"),
    ("2015-01", "2026-02", "errors.period_range_too_long"),
    ("2026-13", "2026-02", "errors.bad_period"),
    ("2026-04", "2026-04", "errors.period_in_future"),
    ("2025-03", "2026-04", "errors.period_in_future"),
    (202503, "2026-02", "errors.bad_period"),
    (None, "2026-02", "errors.bad_period"),
    ("2025-3", "2026-02", "errors.bad_period"),
    ("0999-01", "2026-02", "errors.bad_period"),
    ("x" * 500, "2026-02", "errors.bad_period"),
])
def test_bad_ranges_are_refused(engine, first, last, key):
    ids = seed(engine)
    with read_session(engine) as s:
        with pytest.raises(InvalidInput) as e:
            charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], first, last, now=NOW, languages=["en"])
    assert e.value.key == key


def test_longest_range_and_years_capped(sqlite_engine):
    ids = seed(sqlite_engine)
    with read_session(sqlite_engine) as s:
        st = charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2016-03", "2026-02", now=NOW,
                                    languages=["en"])
    assert len(st.rows) == billing.MAX_MONTHS
    assert len(st.figures["en"]["yearly"]["data"][0]["x"]) == billing.MAX_YEARS


def test_default_range_is_last_twelve_complete_months():
    assert charts.default_range(PROFILE, NOW) == ("2025-03", "2026-02")
    # 31 Dec 20:00 UTC is already 1 January in Almaty (UTC+5)
    assert charts.current_period(PROFILE, datetime(2025, 12, 31, 20, tzinfo=UTC)) == "2026-01"


def test_ukrainian_money_and_separators(sqlite_engine):
    ids = seed(sqlite_engine)
    with read_session(sqlite_engine) as s:
        st = charts.load_statistics(s, UA, ids["alice"], ids["mine"], "2026-01", "2026-02", now=NOW, languages=["uk"])
    assert "₴" in st.table["uk"][0]["charged"] and st.table["uk"][0]["label"] == "Січень 2026"
    assert st.figures["uk"]["monthly"]["layout"]["separators"][0] == ","


def test_volumes_of_the_chosen_service(sqlite_engine):
    ids = seed(sqlite_engine)
    with read_session(sqlite_engine) as s:
        main = charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2026-01", "2026-02", now=NOW,
                                      languages=["en"])
        assert main.services == ["gas", "electricity"] and main.service == "gas"
        el = charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2026-01", "2026-02", now=NOW,
                                    languages=["en"], service="electricity")
        assert [r["volume"] for r in el.table["en"]] == ["0\u00a0kWh", "100\u00a0kWh"]
        # the money column follows the service: electricity's ₸50.00 beside its 100 kWh, not the
        # account's ₸2,400.00 (issue 14 point 12); payments and balance are the account's
        assert el.table["en"][1]["charged"] == "₸50.00" and main.table["en"][1]["charged"] == "₸2,350.00"
        assert el.table["en"][1]["paid"] == main.table["en"][1]["paid"] == "₸1,000.00"
        assert el.table["en"][1]["balance"] == main.table["en"][1]["balance"]
        assert "Electricity supply only" in el.captions["en"] and "all services" in el.captions["en"]
        assert el.figures["en"]["monthly"]["layout"]["yaxis"]["title"]["text"] == "kWh"
        for bad in ("water", "GAS", 1, ["gas"], {"s": 1}):
            with pytest.raises(InvalidInput) as e:
                charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2026-01", "2026-02", now=NOW,
                                       languages=["en"], service=bad)
            assert e.value.key == "errors.bad_service"


def test_months_before_the_account_say_no_data_and_partial_years_are_marked(sqlite_engine):
    """Issue 14 point 12: the account's first month is January 2025; the months before it are "no
    data" (not zeros) in the table, the charts and their summaries; the yearly chart marks the
    years it has only some months of (by label and hatching)."""
    ids = seed(sqlite_engine)
    with read_session(sqlite_engine) as s:
        st = charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2024-11", "2025-02", now=NOW,
                                    languages=["en", "ru"])
    assert st.start == "2025-01"
    nov, dec, jan, feb = st.table["en"]
    assert nov == {"period": "2024-11", "label": "November 2024", "volume": "No data", "charged": "No data",
                   "paid": "No data", "balance": "No data", "debt": "", "nodata": "1"}
    assert dec["nodata"] == "1" and st.table["ru"][0]["volume"] == "Нет данных"
    assert jan["nodata"] == "" and jan["volume"] == "10.5\u00a0m³" and feb["charged"] == "₸1,150.00"
    monthly = st.figures["en"]["monthly"]["data"][0]
    assert monthly["y"][:2] == [None, None] and monthly["text"][:2] == ["No data", "No data"]
    assert "There is no data before January 2025." in st.summaries["en"]["monthly"]
    assert st.summaries["en"]["monthly"].startswith("From January 2025 to February 2025 you used 22\u00a0m³")
    yearly = st.figures["en"]["yearly"]["data"][0]
    assert yearly["x"] == ["2023", "2024", "2025"] and yearly["y"][:2] == [None, None]
    assert "pattern" not in yearly["marker"]  # 2025 is a whole year
    comp = st.figures["en"]["comparison"]["data"]
    assert comp[0]["y"] == [None] * 12  # 2024: before the account
    with read_session(sqlite_engine) as s:
        now = datetime(2026, 3, 15, 6, tzinfo=UTC)
        st = charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2025-03", "2026-02", now=now,
                                    languages=["ru"])
    yearly = st.figures["ru"]["yearly"]["data"][0]
    assert yearly["x"][-1] == "2026 (Янв.–Февр.)"
    assert yearly["marker"]["pattern"]["shape"] == ["", "", "/"]
    assert "Заштрихованный" in st.summaries["ru"]["yearly"]


def test_an_account_with_nothing_yet_says_no_data(sqlite_engine):
    ids = seed(sqlite_engine)
    with write_session(sqlite_engine) as s:
        empty = Account(number="100000003", holder_name="New N.", address="Almaty, Abai 3", kind="person")
        s.add(empty)
        s.flush()
        s.add(UserAccountLink(user_id=ids["alice"], account_id=empty.id))
        empty_id = empty.id
    with read_session(sqlite_engine) as s:
        st = charts.load_statistics(s, PROFILE, ids["alice"], empty_id, "2025-03", "2026-02", now=NOW, languages=["en"])
    assert st.start is None and all(r["nodata"] == "1" for r in st.table["en"])
    assert st.summaries["en"]["monthly"] == "No data: March 2025 – February 2026."


@pytest.mark.parametrize("utility_id", ["default", "kremenchukgaz", "shygysenergotrade", "almaty_gas", "karaganda_su"])
def test_chart_colours_read_in_both_colour_modes(utility_id):
    """Issue 14 point 14: a chart's legend and axis labels keep 4.5:1 on the panel in the light and
    the dark mode, and its grid lines stay subdued (bright grid lines on a dark panel were the
    fault). The colours are the figure's own (light) and the theme's --gp-chart-* (both modes)."""
    from gazportal.components import theme

    utility = load_utility(utility_id)
    lo, hi = theme.CHART_GRID_CONTRAST
    for mode, pal in (("light", theme.palette(utility)), ("dark", theme.dark_palette(utility))):
        for bg in (pal["--gp-surface"],):  # the chart panels' background
            assert theme.contrast(pal["--gp-chart-text"], bg) >= 4.5, (mode, pal["--gp-chart-text"], bg)
            assert lo <= theme.contrast(pal["--gp-chart-grid"], bg) <= hi, (mode, pal["--gp-chart-grid"], bg)
            assert theme.contrast(pal["--gp-chart-axis"], bg) < theme.contrast(pal["--gp-chart-text"], bg)
    light = theme.palette(utility)
    assert (charts.MUTED, charts.GRID, charts.AXIS) == (light["--gp-chart-text"], light["--gp-chart-grid"],
                                                        light["--gp-chart-axis"])
    layout = charts._layout(charts.ChartStyle(utility.colors.primary, utility.colors.accent, "en", "gas"), legend=True)
    for colour in (layout["xaxis"]["tickfont"]["color"], layout["yaxis"]["tickfont"]["color"],
                   layout["yaxis"]["title"]["font"]["color"], layout["legend"]["font"]["color"]):
        assert theme.contrast(colour, "#ffffff") >= 4.5
    assert lo <= theme.contrast(layout["yaxis"]["gridcolor"], "#ffffff") <= hi


def test_a_month_not_come_yet_is_named_as_a_month(engine):
    """Said as the customer reads months ("грудень 2026"), never as the "2026-12" of the address."""
    from gazportal.services import i18n

    ids = seed(engine)
    with read_session(engine) as s:
        with pytest.raises(InvalidInput) as e:
            charts.load_statistics(s, PROFILE, ids["alice"], ids["mine"], "2025-03", "2026-04", now=NOW,
                                   languages=["en"])
    texts = {lang: i18n.error_text(e.value, lang) for lang in ("kk", "ru", "uk", "en")}
    assert texts["en"].startswith("April 2026 has not come yet"), texts
    assert "квітень 2026" in texts["uk"] and "апрель 2026" in texts["ru"] and "сәуір 2026" in texts["kk"], texts
    assert not any("2026-04" in t for t in texts.values()), texts
