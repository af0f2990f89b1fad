"""A page whose socket cannot connect says so in the page's language (gazportal/web/connection.py)."""
from __future__ import annotations

from gazportal.settings import get_settings
from gazportal.web import connection


def test_the_app_shows_our_notice_instead_of_reflexs_toast():
    from gazportal.gazportal import app

    assert app.app_wraps[(5, "Overlay")] is connection.overlay
    assert connection.overlay(False) is None
    assert "ConnectionNotice" in str(connection.overlay(True))


def test_the_notice_is_translated_and_names_the_public_address():
    code = str(connection.connection_notice_body())
    assert "connectErrors.length >= 2" in code  # after two failed attempts, as Reflex's own toast
    assert '"connection.title"' in code and '"connection.hint"' in code
    assert get_settings().public_url in code
    assert "Cannot connect" not in code
