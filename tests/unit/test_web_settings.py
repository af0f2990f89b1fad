"""Origins and web limits from the environment (gazportal/settings.py: Web, allowed_origins) and
what rxconfig.py hands to Reflex."""
from __future__ import annotations

import dataclasses

import pytest

from gazportal.services.accounts import MAX_DOCUMENT_BYTES
from gazportal.settings import UtilityError, Web, allowed_origins, get_settings


def _origins(public_url, *extra):
    s = dataclasses.replace(get_settings(), public_url=public_url, web=Web(extra_origins=extra))
    return allowed_origins(s)


def test_locally_every_loopback_address_is_allowed():
    assert _origins("http://localhost:3000") == [
        "http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000", "http://0.0.0.0:3000"]
    assert set(_origins("http://0.0.0.0:3000")) == set(_origins("http://localhost:3000"))
    assert set(_origins("http://127.0.0.1:8123")) == {
        "http://localhost:8123", "http://127.0.0.1:8123", "http://[::1]:8123", "http://0.0.0.0:8123"}
    assert "http://localhost" in _origins("http://[::1]")


def test_in_production_only_the_public_url_and_its_aliases():
    assert _origins("https://gas.example.kz") == ["https://gas.example.kz"]
    assert _origins("https://Gas.Example.kz/", "https://www.gas.example.kz") == [
        "https://gas.example.kz", "https://www.gas.example.kz"]
    assert not any("localhost" in o or "127.0.0.1" in o for o in _origins("https://gas.example.kz"))


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GAZPORTAL_ALLOWED_ORIGINS", " https://www.gas.example.kz/ ,https://old.example.kz")
    monkeypatch.setenv("GAZPORTAL_TRUSTED_PROXY_HOPS", "1")
    monkeypatch.setenv("GAZPORTAL_CONNECTIONS_PER_CLIENT", "7")
    get_settings.cache_clear()
    try:
        web = get_settings().web
        assert web.extra_origins == ("https://www.gas.example.kz", "https://old.example.kz")
        assert web.trusted_proxy_hops == 1 and web.connections_per_client == 7
        monkeypatch.setenv("GAZPORTAL_ALLOWED_ORIGINS", "www.gas.example.kz")
        get_settings.cache_clear()
        with pytest.raises(UtilityError, match="GAZPORTAL_ALLOWED_ORIGINS"):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_per_client_caps_are_for_a_public_portal(monkeypatch):
    for name in ("GAZPORTAL_CONNECTIONS_PER_CLIENT", "GAZPORTAL_NEW_CLIENTS_PER_WINDOW"):
        monkeypatch.delenv(name, raising=False)
    try:
        monkeypatch.setenv("GAZPORTAL_PUBLIC_URL", "https://gas.example.kz")
        get_settings.cache_clear()
        web = get_settings().web
        assert (web.connections_per_client, web.new_clients_per_window) == (20, 60)
        # Locally (one person, or a test suite's browsers, all on 127.0.0.1) they never refuse.
        monkeypatch.setenv("GAZPORTAL_PUBLIC_URL", "http://127.0.0.1:3000")
        get_settings.cache_clear()
        web = get_settings().web
        assert web.connections_per_client >= 1000 and web.new_clients_per_window >= 100_000
        monkeypatch.setenv("GAZPORTAL_NEW_CLIENTS_PER_WINDOW", "5")
        get_settings.cache_clear()
        assert get_settings().web.new_clients_per_window == 5
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_body_cap_leaves_room_for_one_document():
    web = Web()
    assert MAX_DOCUMENT_BYTES < web.max_request_bytes <= MAX_DOCUMENT_BYTES + 2 * 2**20


def test_rxconfig_hands_them_to_reflex():
    from rxconfig import config

    s = get_settings()
    assert list(config.cors_allowed_origins) == allowed_origins(s)
    assert config.trusted_proxy_hops == s.web.trusted_proxy_hops
    assert config.redis_token_expiration == s.web.state_ttl_minutes * 60 < 3600
