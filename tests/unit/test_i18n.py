"""gazportal.services.i18n: look-up with fallback, placeholders, formatting per language."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from gazportal.services import i18n
from gazportal.settings import LANGUAGES, load_utility


def test_translates_per_language():
    assert i18n.t("index.contacts.title", "en") == "Contacts"
    assert i18n.t("index.contacts.title", "ru") == "Контакты"
    assert i18n.t("index.contacts.title", "uk") == "Контакти"
    assert i18n.t("index.contacts.title", "kk") == "Байланыс"


def test_fills_placeholders_and_keeps_unknown_ones():
    assert i18n.t("errors.bad_period", "en", period="2026-13") == "“2026-13” is not a month (expected YYYY-MM)."
    assert "{period}" in i18n.t("errors.bad_period", "en")
    assert i18n.fill("{a} and {b}", a=1) == "1 and {b}"
    assert i18n.fill("{a}", a="{b}", b="x") == "{b}"  # no second pass over the values


@pytest.mark.parametrize("bad", ["xx", "", None, 5, ["en"], {"en": 1}, "EN", "en "])
def test_unknown_language_falls_back_to_english(bad):
    assert i18n.language(bad) == "en"
    assert i18n.t("index.contacts.title", bad) == "Contacts"


def test_missing_key_falls_back_to_english_then_to_the_key(tmp_path, monkeypatch):
    (tmp_path / "en.json").write_text('{"a": {"b": "English {x}", "c": "only English"}}', encoding="utf-8")
    (tmp_path / "ru.json").write_text('{"a": {"b": "Русский {x}", "c": ""}}', encoding="utf-8")
    try:
        i18n._load(tmp_path)
        assert i18n.t("a.b", "ru", x=1) == "Русский 1"
        assert i18n.t("a.c", "ru") == "only English"  # empty counts as missing
        assert i18n.t("a.c", "kk") == "only English"  # no kk.json at all
        assert i18n.t("a.zzz", "ru") == "a.zzz"
        assert i18n.messages("ru") == {"a.b": "Русский {x}", "a.c": "only English"}
    finally:
        i18n._load(i18n.LOCALES_DIR)
    assert i18n.t("index.contacts.title", "ru") == "Контакты"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_messages_is_flat_and_complete(lang):
    msgs = i18n.messages(lang)
    assert msgs.keys() == i18n.messages("en").keys()
    assert all(isinstance(v, str) and v for v in msgs.values())
    assert msgs["index.title"] == i18n.t("index.title", lang)
    msgs["index.title"] = "changed"  # a copy: callers cannot spoil the cache
    assert i18n.messages(lang)["index.title"] != "changed"


@pytest.mark.parametrize(
    "lang, expected",
    [("kk", "12\u00a0345,60\u00a0₸"), ("ru", "12\u00a0345,60\u00a0₸"), ("uk", "12\u00a0345,60\u00a0₸"), ("en", "₸12,345.60")],
)
def test_format_money_kzt(lang, expected):
    assert i18n.format_money(Decimal("12345.6"), "KZT", lang) == expected


def test_format_money_uah_negative_and_rounding():
    assert i18n.format_money(Decimal("-0.5"), "UAH", "uk") == "-0,50\u00a0₴"
    assert i18n.format_money(Decimal("1.005"), "UAH", "en") == "₴1.00"  # banker's rounding of a half
    assert i18n.format_money(Decimal("7"), "USD", "en") == "US$7.00"  # a currency we have no sign for


def test_format_volume_number_and_date():
    assert i18n.format_volume(Decimal("1234.5"), "gas", "ru") == "1\u00a0234,5\u00a0м³"
    assert i18n.format_volume(Decimal("12.000"), "electricity", "en") == "12\u00a0kWh"
    assert i18n.format_volume(Decimal("0.125"), "water", "en") == "0.125\u00a0m³"
    assert i18n.format_quantity(Decimal("16.000"), "kk") == "16"
    assert i18n.format_volume(Decimal("12"), "electricity", "uk").endswith("кВт·год")
    assert i18n.format_number(1234567, "en") == "1,234,567"
    assert i18n.format_number(Decimal("2.5"), "kk", places=2) == "2,50"
    assert i18n.format_date(date(2026, 11, 3), "ru", "long") .replace("\u202f", " ") == "3 ноября 2026 г."
    assert i18n.format_date(datetime(2026, 11, 3, 12, tzinfo=UTC), "en", "long") == "3 November 2026"
    assert "қараша" in i18n.format_date(date(2026, 11, 3), "kk", "long")
    assert i18n.format_period("2026-11", "uk") == "Листопад 2026"


def test_reading_window_text_follows_the_profile():
    assert i18n.reading_window_text(load_utility("almaty_gas"), "en") == (
        "Meter readings are accepted from day 20 until the end of each month."
    )
    assert i18n.reading_window_text(load_utility("kremenchukgaz"), "uk") == (
        "Показники лічильників приймаються з 1-го по 5-е число кожного місяця. "
        "Показник, переданий до 5-го числа включно, враховується за попередній місяць."
    )
    assert i18n.reading_window_text(load_utility("karaganda_su"), "ru") == (
        "Показания счётчиков принимаются в любой день месяца."
    )


def test_ui_messages_carry_the_profile_texts():
    p = load_utility("kremenchukgaz")
    msgs = i18n.ui_messages(p, "uk")
    assert msgs["utility.name"] == "ТОВ «Кременчукгаз-постачання»"
    assert msgs["utility.phone.1"] == "Гадяч"
    assert msgs["utility.services"] == "Газопостачання"
    assert msgs["index.title"] == i18n.t("index.title", "uk")
    assert i18n.ui_messages(p, "en")["utility.address"] == "12 Maiboroda St, Kremenchuk"


# --- the Reflex state over this service (handlers called directly, as a browser would) --------


@pytest.mark.parametrize("bad", ["xx", "", None, 7, ["kk"], {"lang": "kk"}, "kk ", "KK"])
async def test_state_set_language_refuses_anything_but_a_profile_language(bad):
    from gazportal.settings import get_settings
    from gazportal.state.i18n import I18nState

    utility = get_settings().utility
    s = I18nState()
    assert s.lang == utility.default_language
    assert await s.set_language(bad) is None
    assert s.lang_pref == "" and s.lang == utility.default_language


async def test_state_switches_language_and_messages():
    from gazportal.settings import get_settings
    from gazportal.state.i18n import I18nState

    utility = get_settings().utility
    s = I18nState()
    assert s.t["index.title"] == i18n.t("index.title", utility.default_language)
    for lang in utility.languages:
        assert await s.set_language(lang) is not None  # the <html lang> script
        assert s.lang == lang
        assert s.t["index.title"] == i18n.t("index.title", lang)
        assert s.t["utility.name"] == utility.name.get(lang)
    s.lang_pref = "zz"  # what a browser may have stored
    assert s.lang == utility.default_language


def test_one_translator_from_an_error_to_a_text():
    from gazportal.services import i18n
    from gazportal.services.errors import FormErrors, InvalidInput, Notice

    err = InvalidInput("errors.password_too_short", min=8)
    assert i18n.error_text(err, "en") == i18n.t("errors.password_too_short", "en", min=8)
    assert "8" in i18n.error_text(err, "ru")
    form = FormErrors({"password": Notice("errors.password_too_short", {"min": 9}), "login": Notice("errors.email_invalid")})
    texts = i18n.field_texts(form, "uk")
    assert set(texts) == {"password", "login"} and "9" in texts["password"]
    assert texts["login"] == i18n.t("errors.email_invalid", "uk")


@pytest.mark.parametrize("lang,expected", [
    ("en", ["1 second", "45 seconds", "1 minute", "2 minutes", "15 minutes", "1 hour", "1 hour, 30 minutes"]),
    ("ru", ["1 секунда", "45 секунд", "1 минута", "2 минуты", "15 минут", "1 час", "1 час 30 минут"]),
    ("uk", ["1 секунда", "45 секунд", "1 хвилина", "2 хвилини", "15 хвилин", "1 година", "1 година і 30 хвилин"]),
    ("kk", ["1 секунд", "45 секунд", "1 минут", "2 минут", "15 минут", "1 сағат", "1 сағат 30 минут"]),
])
def test_a_wait_is_said_in_words_and_never_shorter(lang, expected):
    from datetime import timedelta

    waits = [timedelta(seconds=0.2), timedelta(seconds=44.1), timedelta(seconds=59.5), timedelta(seconds=61),
             timedelta(minutes=15), timedelta(minutes=60), timedelta(minutes=89, seconds=1)]
    assert [i18n.format_wait(w, lang) for w in waits] == expected
    # a timedelta param of a refusal is said as a wait
    from gazportal.services.errors import DomainError
    text = i18n.error_text(DomainError("errors.sign_in_locked", wait=timedelta(seconds=90)), lang)
    assert expected[3] in text and "{wait}" not in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_volumes_and_readings_in_messages_use_the_one_formatter_with_the_unit(lang):
    """Issue 14 point 11: a volume or a reading is said the same way in a message as in a table
    (``format_units``: grouped number, no-break space, the unit), and the unit is said once."""
    from gazportal.services.errors import Notice

    jump = Notice("warnings.reading_jump", {"volume": 9995141, "usual": Decimal("10.333"), "unit": "kWh",
                                            "since": "2026-10-05", "factor": 5})
    text = i18n.error_text(jump, lang)
    kwh = i18n.t("units.kWh", lang)
    assert i18n.format_units(9995141, "kWh", lang) in text
    assert i18n.format_units(Decimal("10.3"), "kWh", lang) in text
    assert text.count(kwh) == 2 and "{unit}" not in text
    below = Notice("errors.reading_below_previous", {"previous": 12345, "unit": "m3", "date": "2026-10-05"})
    assert i18n.format_units(12345, "m3", lang) in i18n.error_text(below, lang)
    assert i18n.format_volume(Decimal("7.500"), "electricity", lang) == i18n.format_units(Decimal("7.5"), "kWh", lang)
    assert i18n.format_units(Decimal("12.500"), "m3", "en") == "12.5\u00a0m³"


def test_a_period_inside_a_sentence_keeps_the_languages_case():
    """'Reading for November 2026' / 'Показник за листопад 2026' / '... қараша 2026' (issue 14.9)."""
    got = {lang: i18n.format_period("2026-11", lang, in_sentence=True) for lang in ("en", "uk", "ru", "kk")}
    assert got == {"en": "November 2026", "uk": "листопад 2026", "ru": "ноябрь 2026", "kk": "қараша 2026"}
    assert i18n.format_period("2026-11", "kk") == "Қараша 2026"  # as a label


def test_reading_window_text_of_a_window_spanning_the_months_end():
    from gazportal.settings import ReadingWindow

    span = load_utility("kremenchukgaz").model_copy(update={
        "reading_window": ReadingWindow(from_day=28, to_day=3, previous_month_until=3)})
    assert i18n.reading_window_text(span, "en") == (
        "Meter readings are accepted from day 28 of each month to day 3 of the next. "
        "A reading sent on or before day 3 counts for the previous month.")
    assert i18n.reading_window_text(span, "ru").startswith("Показания счётчиков принимаются с 28-го числа каждого месяца по 3-е")


def test_the_month_a_reading_counts_for_is_said_in_the_sentence():
    from gazportal.services.errors import Notice

    n = Notice("errors.reading_limit_reached", {"limit": 2, "used": 2, "for_month": "2026-11"})
    assert i18n.error_text(n, "en") == "You have already sent 2 of 2 readings for November 2026 for this meter."
    assert i18n.error_text(n, "uk") == "Ви вже передали показники цього лічильника за листопад 2026: 2 з 2."
