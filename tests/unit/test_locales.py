"""The locale files agree with each other and with the code.

* every key in one language exists, non-empty, in every other language;
* a key has the same ``{placeholders}`` in every language;
* every message key the code uses (``"errors.…"`` and ``"warnings.…"`` literals, ``t("…")`` calls)
  is in the locales.
"""
from __future__ import annotations

import json
import re

import pytest

from gazportal.settings import LANGUAGES, ROOT

LOCALES = ROOT / "locales"
CODE = ROOT / "gazportal"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ERROR_KEY = re.compile(r"""["']((?:errors|warnings)\.[a-z0-9_.]*[a-z0-9_])["']""")
T_CALL = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']""")
STATE_T = re.compile(r"""\.t\[\s*["']([A-Za-z0-9_.]+)["']\s*\]""")
# Keys the UI composes from the profile at run time (gazportal.services.i18n.profile_messages).
RUNTIME_PREFIXES = ("utility.",)


def _flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out


def _load(lang: str) -> dict:
    path = LOCALES / f"{lang}.json"
    assert path.is_file(), f"{path} is missing"
    return _flatten(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def locales() -> dict[str, dict]:
    return {lang: _load(lang) for lang in LANGUAGES}


def test_values_are_non_empty_strings(locales):
    bad = [
        f"{lang}: {key}"
        for lang, msgs in locales.items()
        for key, value in msgs.items()
        if not isinstance(value, str) or not value.strip()
    ]
    assert not bad, "empty or non-string messages:\n" + "\n".join(bad)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_same_keys_in_every_language(locales, lang):
    every = set().union(*(set(m) for m in locales.values()))
    missing = sorted(every - set(locales[lang]))
    assert not missing, f"{lang}.json lacks {len(missing)} key(s):\n" + "\n".join(missing)


def test_same_placeholders_in_every_language(locales):
    diffs = []
    for key in sorted(locales["en"]):
        found = {
            lang: frozenset(PLACEHOLDER.findall(msgs[key]))
            for lang, msgs in locales.items()
            if isinstance(msgs.get(key), str)
        }
        if len(set(found.values())) > 1:
            diffs.append(f"{key}: " + ", ".join(f"{lang}={sorted(p)}" for lang, p in found.items()))
    assert not diffs, "placeholders differ between languages:\n" + "\n".join(diffs)


def _keys_used_in_code() -> dict[str, str]:
    used: dict[str, str] = {}
    for path in sorted(CODE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for regex in (ERROR_KEY, T_CALL, STATE_T):
            for m in regex.finditer(text):
                key = m.group(1)
                if not key.startswith(RUNTIME_PREFIXES) and not key.endswith("."):
                    used.setdefault(key, f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}")
    return used


def test_the_scan_finds_keys():
    used = _keys_used_in_code()
    assert "errors.generic" in used  # gazportal/services/errors.py
    assert "warnings.reading_jump" in used  # gazportal/services/readings.py
    assert any(k.startswith("index.") for k in used)  # the first page


def test_every_key_used_in_code_is_in_the_locales(locales):
    known = set(locales["en"])
    missing = sorted(f"{key}  ({where})" for key, where in _keys_used_in_code().items() if key not in known)
    assert not missing, f"{len(missing)} message key(s) used in gazportal/ but not in locales/:\n" + "\n".join(missing)


def test_amount_hints_and_the_error_give_the_same_examples():
    """Issue 14 point 17: the hints under a last-payment field and the error for a wrong amount show
    the amounts the same way (as a bill prints them), and the parser takes both examples."""
    from decimal import Decimal

    from gazportal.services.i18n import t
    from gazportal.services.money import parse_amount

    for lang in ("kk", "ru", "uk", "en"):
        texts = [t(k, lang) for k in ("errors.amount_invalid", "accounts.add.last_payment_hint",
                                      "auth.field.last_payment_hint")]
        for text in texts:
            assert "5 600" in text and "1 234,50" in text, (lang, text)
        assert parse_amount("5 600", lang) == Decimal("5600.00")
        assert parse_amount("1 234,50", lang) == Decimal("1234.50")
