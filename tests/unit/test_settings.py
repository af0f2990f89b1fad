"""Utility profiles: every shipped one is valid; a bad one stops start-up naming the field."""
import os
import re
import subprocess
import sys
from decimal import Decimal

import pytest

from gazportal.settings import UTILITIES_DIR, ROOT, UtilityError, available_utilities, load_utility

SEEDS = {"almaty_gas", "shygysenergotrade", "kremenchukgaz", "karaganda_su", "default"}


def test_one_profile_per_seed_and_a_default():
    assert SEEDS <= set(available_utilities())


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_shipped_profiles_are_valid(name):
    p = load_utility(name)
    assert p.id == name and p.default_language in p.languages
    assert p.valid_account_number(p.account_number_example)


def test_seed_rules_are_in_the_profiles():
    ag, se, kg, ks = (load_utility(n) for n in ("almaty_gas", "shygysenergotrade", "kremenchukgaz", "karaganda_su"))
    assert (ag.login_identifier, ag.reading_window.from_day, ag.submissions_per_month) == ("email", 20, 2)
    assert ag.legal_entities and ag.proof_by_last_payment and ag.user_agreement and ag.services == ["gas"]
    assert (se.login_identifier, se.confirmation, se.captcha, se.max_failed_logins) == ("account", "email_link", True, 3)
    pw = se.password_policy
    assert (pw.min_length, pw.require_upper_and_lower, pw.require_digit, pw.require_symbol) == (6, True, True, True)
    assert (kg.login_identifier, kg.confirmation, kg.payment_from_day, kg.timezone) == ("phone", "sms_code", 10, "Europe/Kyiv")
    assert kg.add_account_by == ["address_picker"] and kg.currency.code == "UAH" and kg.password_policy.min_length == 6
    assert ks.services == ["water"] and ks.common_house_meters and ks.valid_account_number("123456789")
    assert not ks.valid_account_number("12345678") and ks.timezone == "Asia/Almaty"
    assert ag.jump_warning_factor == Decimal("3")


def _write(tmp_path, replace=None, append=""):
    """almaty_gas.toml with one line replaced (regex -> text) and/or top-level lines added."""
    text = (UTILITIES_DIR / "almaty_gas.toml").read_text(encoding="utf-8")
    if replace:
        pattern, repl = replace
        text, n = re.subn(pattern, lambda _m: repl, text, count=1, flags=re.M)
        assert n == 1, pattern
    if append:
        text = append + "\n" + text
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("replace, append, field", [
    ((r"^max_failed_logins = .*$", "max_failed_logins = 0"), "", "max_failed_logins"),
    ((r"^timezone = .*$", 'timezone = "Mars/Olympus"'), "", "timezone"),
    ((r"^login_identifier = .*$", 'login_identifier = "telegram"'), "", "login_identifier"),
    ((r'^primary = .*$', 'primary = "blue"'), "", "colors.primary"),
    ((r"^from_day = .*$", "from_day = 40"), "", "reading_window.from_day"),
    ((r"^services = .*$", 'services = ["gas", "heat"]'), "", "services.1"),
    ((r"^default_language = .*$", 'default_language = "uk"'), "", "(profile)"),
    ((r"^submissions_per_month = .*$", "submissions_per_month = 3"), "", "submissions_per_month"),
    ((r"^account_number_pattern = .*$", "account_number_pattern = '\\d{9}'"), "", "(profile)"),
    (None, "unknown_rule = 1", "unknown_rule"),
    ((r"^\[contacts\.opening_hours\]", "[contacts.opening_hourz]"), "", "contacts.opening_hours"),
])
def test_a_bad_profile_names_the_bad_field(tmp_path, replace, append, field):
    path = _write(tmp_path, replace, append)
    with pytest.raises(UtilityError) as e:
        load_utility(str(path))
    assert f"field '{field}'" in str(e.value) and str(path) in str(e.value)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(UtilityError, match="known: .*almaty_gas"):
        load_utility("nope")


def test_start_up_stops_on_a_bad_profile(tmp_path):
    """rxconfig.py (what `reflex run` loads first) refuses a bad profile with a clear message."""
    path = _write(tmp_path, (r"^max_failed_logins = .*$", "max_failed_logins = 0"))
    env = dict(os.environ, GAZPORTAL_PROFILE=str(path))
    r = subprocess.run([sys.executable, "-c", "import rxconfig"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "max_failed_logins" in r.stderr and "ProfileError" in r.stderr


# --------------------------------------------------------------------------------------------
# GAZPORTAL_SECRET_KEY (README: "≥ 32 characters"; without it a random key kept in var/)


@pytest.fixture
def fresh_settings(monkeypatch, tmp_path):
    from gazportal import settings

    monkeypatch.setenv("GAZPORTAL_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("GAZPORTAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("GAZPORTAL_PROFILE", raising=False)
    settings.get_settings.cache_clear()
    yield settings
    settings.get_settings.cache_clear()


def test_a_secret_key_shorter_than_32_characters_stops_start_up(fresh_settings, monkeypatch):
    monkeypatch.setenv("GAZPORTAL_SECRET_KEY", "k" * 31)
    with pytest.raises(UtilityError, match="GAZPORTAL_SECRET_KEY: use at least 32 characters"):
        fresh_settings.get_settings()
    fresh_settings.get_settings.cache_clear()
    monkeypatch.setenv("GAZPORTAL_SECRET_KEY", "k" * 32)
    assert fresh_settings.get_settings().secret_key == b"k" * 32


def test_without_a_secret_key_a_random_one_is_kept_in_var(fresh_settings, tmp_path):
    key = fresh_settings.get_settings().secret_key
    path = tmp_path / "var" / "secret_key"
    assert len(key) == 64 and path.read_text().strip().encode() == key
    assert path.stat().st_mode & 0o077 == 0  # readable by the portal's user only
    fresh_settings.get_settings.cache_clear()
    assert fresh_settings.get_settings().secret_key == key  # the same key after a restart
