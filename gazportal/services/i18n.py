"""Translations and locale-aware formatting. Pure Python (no ``import reflex``).

Messages live in ``locales/<lang>.json`` as nested objects (``{"index": {"title": ...}}``) and
are addressed by dotted keys (``"index.title"``). python-i18n loads the files; a missing
translation falls back to English and then to the key itself, so a screen never breaks on a
missing text (``tests/unit/test_locales.py`` makes sure none is missing).

Placeholders are written ``{name}`` and filled by :func:`t`; an unknown placeholder is left as
it is rather than raising. Numbers, money, dates and volumes are formatted with Babel in the
language's locale (kk_KZ, ru_RU, uk_UA, en_GB).
"""
from __future__ import annotations

import math
import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import i18n
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers
from i18n import resource_loader, translations

from gazportal.settings import LANGUAGES, ROOT, UNITS

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Utility

LOCALES_DIR = ROOT / "locales"
FALLBACK = "en"
BABEL_LOCALES: dict[str, str] = {"kk": "kk_KZ", "ru": "ru_RU", "uk": "uk_UA", "en": "en_GB"}
# Babel spells some currencies with their ISO code outside their home locale ("KZT12.00" in
# en_GB); customers know the sign.
CURRENCY_SIGNS: dict[str, str] = {"KZT": "₸", "UAH": "₴"}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_lock = threading.Lock()
_loaded_from: Path | None = None


def _load(directory: Path | None = None) -> None:
    """Load every language's file into python-i18n: once, or again from another ``directory``."""
    global _loaded_from
    if directory is None:
        if _loaded_from is not None:
            return
        directory = LOCALES_DIR
    if _loaded_from == directory:
        return
    with _lock:
        if _loaded_from == directory:
            return
        i18n.set("file_format", "json")
        i18n.set("filename_format", "{locale}.{format}")
        i18n.set("skip_locale_root_data", True)
        i18n.set("fallback", FALLBACK)
        i18n.set("available_locales", list(LANGUAGES))
        if str(directory) not in i18n.load_path:
            i18n.load_path.append(str(directory))
        resource_loader.init_loaders()
        translations.container.clear()
        for lang in LANGUAGES:
            if (directory / f"{lang}.json").is_file():
                resource_loader.load_translation_file(f"{lang}.json", str(directory), lang)
        _messages.cache_clear()
        _loaded_from = directory


def language(lang: Any) -> str:
    """``lang`` if it is one of the portal's languages, else English."""
    return lang if isinstance(lang, str) and lang in LANGUAGES else FALLBACK


def fill(template: str, **params: Any) -> str:
    """Put ``params`` into the ``{name}`` placeholders of ``template``; unknown ones stay."""
    if not params:
        return template
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), template)


def t(key: str, lang: str, /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` (else English, else the key), placeholders filled."""
    _load()
    lang = language(lang)
    for candidate in (lang, FALLBACK):
        value = translations.container.get(candidate, {}).get(key)
        if isinstance(value, str) and value:
            return fill(value, **params)
    return key


@lru_cache(maxsize=len(LANGUAGES))
def _messages(lang: str) -> tuple[tuple[str, str], ...]:
    merged: dict[str, str] = {}
    for candidate in (FALLBACK, lang):
        for key, value in translations.container.get(candidate, {}).items():
            if isinstance(value, str) and value:
                merged[key] = value
    return tuple(sorted(merged.items()))


def messages(lang: str) -> dict[str, str]:
    """Every key of the language (English where it has none) -> its unfilled template."""
    _load()
    return dict(_messages(language(lang)))



def raw_messages(lang: str) -> dict[str, Any]:
    """Exactly what ``locales/<lang>.json`` holds, flattened (no fallback); for the tests."""
    _load()
    return dict(translations.container.get(lang, {}))


# Params formatted as money (with the profile's currency) when they are Decimals.
MONEY_PARAMS = frozenset({"amount", "cost", "debt", "paid", "charged", "balance", "sum", "expected",
                          "min_amount", "max_amount"})
# Decimal params shown with a fixed number of decimals (an average use a month: "10.3", not "10.333").
FIXED_PLACES = {"usual": 1}
# Params that are a volume or a meter reading: when the message carries its ``unit``, they are said
# with it by :func:`format_units` (the message's text has no ``{unit}`` of its own).
QUANTITY_PARAMS = frozenset({"volume", "usual", "previous", "next", "current", "value", "reading"})


def _param(name: str, value: Any, lang: str, tz: Any, currency: str | None, unit: str | None = None) -> Any:
    """One param of a message, formatted for ``lang`` by its type (and, for money, its name)."""
    if unit and name in QUANTITY_PARAMS and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        if name in FIXED_PLACES and isinstance(value, Decimal):
            value = value.quantize(Decimal(1).scaleb(-FIXED_PLACES[name]))
        return format_units(value, unit, lang)
    if isinstance(value, datetime):
        return format_date(value.astimezone(tz) if tz is not None else value, lang)
    if isinstance(value, date):
        return format_date(value, lang)
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            return format_date(date.fromisoformat(value), lang)
        except ValueError:
            return value
    if name == "for_month" and isinstance(value, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        return format_period(value, lang, in_sentence=True)  # the month a reading counts for
    if isinstance(value, timedelta):
        return format_wait(value, lang)
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and name in MONEY_PARAMS and currency:
        return format_money(value, currency, lang)
    if isinstance(value, Decimal) and name in FIXED_PLACES:
        return format_number(value, lang, places=FIXED_PLACES[name])
    if isinstance(value, Decimal):
        exponent = value.normalize().as_tuple().exponent if value.is_finite() else 0
        places = max(0, min(3, -exponent)) if isinstance(exponent, int) else 0
        return format_number(value, lang, places=places)
    if isinstance(value, int):
        return format_number(value, lang)
    if name == "unit" and isinstance(value, str):
        return t(f"units.{value}", lang)
    return value


def error_text(err: Any, lang: str, *, tz: Any = None, currency: str | None = None) -> str:
    """The text of a refusal or notice for a page: a ``DomainError`` or a ``Notice`` (its key and
    params) in ``lang``, the params formatted by type: dates in the language's format (aware
    datetimes in ``tz``), a timedelta as a wait (:func:`format_wait`), Decimals named like money
    (``amount``, ``cost``, ...) with ``currency``, volumes and readings (``QUANTITY_PARAMS``) with
    the message's ``unit`` when it has one (:func:`format_units`), other numbers grouped, ``unit``
    translated. The one translator from an error to a text."""
    raw = getattr(err, "params", None) or {}
    unit = raw.get("unit") if isinstance(raw.get("unit"), str) else None
    params = {k: _param(k, v, lang, tz, currency, unit) for k, v in raw.items()}
    text = t(err.key, lang, **params)
    return text[:-1] if text.endswith("..") else text  # a sentence ending in a date format's dot


def field_texts(err: Any, lang: str, *, tz: Any = None, currency: str | None = None) -> dict[str, str]:
    """``FormErrors.fields`` as texts: field name -> the message in ``lang``."""
    return {name: error_text(notice, lang, tz=tz, currency=currency) for name, notice in err.fields.items()}


# --- formatting -----------------------------------------------------------------------------


def babel_locale(lang: str) -> str:
    return BABEL_LOCALES[language(lang)]


def format_number(value: int | Decimal, lang: str, places: int | None = None) -> str:
    """A number with the language's grouping and decimal sign (``places`` fixes the decimals)."""
    fmt = None if places is None else "#,##0" + ("." + "0" * places if places else "")
    return babel_numbers.format_decimal(value, format=fmt, locale=babel_locale(lang), decimal_quantization=True)


def format_money(amount: Decimal, currency_code: str, lang: str) -> str:
    """``Decimal('12345.6'), 'KZT', 'ru'`` -> ``'12 345,60 ₸'`` (two places, the currency sign)."""
    loc = babel_locale(lang)
    sign = CURRENCY_SIGNS.get(currency_code)
    if sign is None:
        return babel_numbers.format_currency(amount, currency_code, locale=loc)
    pattern = babel_numbers.Locale.parse(loc).currency_formats["standard"].pattern
    pattern = pattern.split(";")[0].replace("¤", f"'{sign}'")
    return babel_numbers.format_decimal(Decimal(amount).quantize(Decimal("0.01")), format=pattern, locale=loc)


def _unit(amount: int, unit: Literal["second", "minute", "hour"], lang: str) -> str:
    return babel_dates.format_timedelta(timedelta(seconds=amount * {"second": 1, "minute": 60, "hour": 3600}[unit]),
                                        granularity=unit, threshold=10**9, locale=babel_locale(lang))


def format_wait(wait: timedelta, lang: str) -> str:
    """How long to wait, never shorter than ``wait``, in words (nominative: the messages put it
    after a colon): "45 seconds" under a minute, "2 minutes" (rounded up) under an hour, else
    "1 hour, 30 minutes" (Babel's units and list pattern of the language)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return _unit(seconds, "second", lang)
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return _unit(minutes, "minute", lang)
    hours, rest = divmod(minutes, 60)
    parts = [_unit(hours, "hour", lang)] + ([_unit(rest, "minute", lang)] if rest else [])
    return babel_lists.format_list(parts, style="unit", locale=babel_locale(lang))


def format_quantity(value: int | Decimal, lang: str) -> str:
    """A volume's number: up to three decimals, none shown when they are zero (``16``, ``7.5``,
    ``1,234.567``), so that "16.000" is never read as sixteen thousand."""
    return babel_numbers.format_decimal(value, format="#,##0.###", locale=babel_locale(lang))


def format_units(value: int | Decimal, unit: str, lang: str) -> str:
    """The one formatter of a volume or a meter reading with its unit, used by every page, table,
    chart and message: ``Decimal('12.500'), 'm3', 'en'`` -> ``'12.5 m³'``, ``4858, 'kWh', 'ru'`` ->
    ``'4 858 кВт·ч'`` (:func:`format_quantity`'s number, a no-break space, the unit's translation
    ``units.<unit>``; ``unit`` is a meter's unit, ``m3`` or ``kWh``)."""
    return f"{format_quantity(value, lang)}\u00a0{t('units.' + unit, lang)}"


def unit_of(service: str) -> str:
    """The unit a service is measured in (``settings.UNITS``): m3 for gas and water, kWh for
    electricity."""
    return UNITS.get(service, "m3")


def format_volume(volume: int | Decimal, service: str, lang: str) -> str:
    """``Decimal('12.500'), 'gas', 'en'`` -> ``'12.5 m³'`` (kWh for electricity): :func:`format_units`
    with the service's unit."""
    return format_units(volume, unit_of(service), lang)


def format_date(value: date | datetime, lang: str, fmt: str = "medium") -> str:
    """A date in the language: ``fmt`` is short|medium|long|full or a CLDR pattern."""
    if isinstance(value, datetime):
        value = value.date()
    return babel_dates.format_date(value, format=fmt, locale=babel_locale(lang))


def format_period(period: str, lang: str, *, in_sentence: bool = False) -> str:
    """``'2026-11'`` -> ``'November 2026'`` / ``'Ноябрь 2026'`` (stand-alone month name, capitalised
    as a label); ``in_sentence=True`` keeps the language's case for use inside a sentence
    (``'ноябрь 2026'``: "Показания за ноябрь 2026")."""
    from gazportal.services.periods import period_start

    day, loc = period_start(period), babel_locale(lang)
    text = babel_dates.format_date(day, format="LLLL yyyy", locale=loc)
    if not in_sentence:
        return text[:1].upper() + text[1:]
    # the language's case inside a sentence is that of its month names in a date ("5 қараша"),
    # while CLDR may capitalise the stand-alone name (kk "Қараша"); English keeps "November"
    in_date = babel_dates.format_date(day, format="MMMM", locale=loc)
    return text[:1].lower() + text[1:] if in_date[:1].islower() else text


# --- profile texts --------------------------------------------------------------------------


def reading_window_text(utility: "Utility", lang: str) -> str:
    """When readings are accepted, in a sentence (from the profile's reading window)."""
    w = utility.reading_window
    text = _window_days_text(w, lang)
    if w.previous_month_until:  # Kremenchukgaz: "by the 5th inclusive" is last month's meter
        text += " " + t("index.window.previous_month", lang, until=w.previous_month_until)
    return text


def _window_days_text(w: Any, lang: str) -> str:
    if w.spans_month_end:
        return t("index.window.spanning", lang, from_day=w.from_day, to_day=w.to_day)
    if w.from_day <= 1 and w.to_day >= 31:
        return t("index.window.any_day", lang)
    if w.to_day >= 31:
        return t("index.window.from_to_end", lang, from_day=w.from_day)
    return t("index.window.from_to", lang, from_day=w.from_day, to_day=w.to_day)


def utility_messages(utility: "Utility", lang: str) -> dict[str, str]:
    """The profile's own texts in ``lang`` under ``profile.*`` keys (for the UI's message map)."""
    lang = language(lang)
    out = {
        "utility.name": utility.name.get(lang),
        "utility.address": utility.contacts.address.get(lang),
        "utility.opening_hours": utility.contacts.opening_hours.get(lang),
        "utility.reading_window": reading_window_text(utility, lang),
        "utility.services": ", ".join(t(f"services.{s}", lang) for s in utility.services),
        "utility.copyright": t("footer.rights", lang, year=date.today().year, name=utility.name.get(lang)),
    }
    for i, phone in enumerate(utility.contacts.phones):
        out[f"utility.phone.{i}"] = phone.label.get(lang)
    return out


def ui_messages(utility: "Utility", lang: str) -> dict[str, str]:
    """Everything a screen needs in one map: the locale's messages plus the profile's texts."""
    return messages(lang) | utility_messages(utility, lang)
