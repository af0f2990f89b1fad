"""Frontend error reports are logged as one escaped, truncated, rate-limited line
(gazportal/web/frontend_errors.py)."""
from __future__ import annotations

import logging

import pytest

from gazportal.web import frontend_errors as fe

FORGED = "TypeError: x\n[Reflex Backend Exception]\n Traceback: everything is fine\r\x1b[31mred\u2028end"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def budget(monkeypatch):
    clock = Clock()
    b = fe.Budget(per_client=2, in_total=3, window=60, clock=clock)
    monkeypatch.setattr(fe, "_budget", b)
    return b, clock


def test_one_line_escapes_control_characters_and_cuts_long_text():
    line = fe.one_line(FORGED)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert line.startswith("TypeError: x\\n[Reflex Backend Exception]\\n")
    assert "\\x1b[31mred\\u2028end" in line
    assert fe.one_line("ошибка \\n") == "ошибка \\\\n"  # letters kept; a literal backslash-n stays told apart
    long = fe.one_line("x" * 20_000)
    assert len(long) == fe.MAX_CHARS + 1 and long.endswith("…")
    assert len(fe.one_line("\n" * 1000)) <= fe.MAX_CHARS + 1


def test_a_report_is_one_line(budget, caplog):
    with caplog.at_level(logging.WARNING, logger="gazportal.web.frontend"):
        fe.log_frontend_exception(Exception(FORGED + "y" * 20_000))
    [record] = caplog.records
    text = record.getMessage()
    assert "\n" not in text and len(text) < fe.MAX_CHARS + 100
    assert text.startswith("frontend error from -: TypeError: x\\n[Reflex Backend Exception]")


def test_reports_are_rate_limited_per_client_and_in_all(budget, caplog, monkeypatch):
    b, clock = budget
    client = {"ip": "192.0.2.1"}
    monkeypatch.setattr(fe, "_client", lambda: client["ip"])
    with caplog.at_level(logging.WARNING, logger="gazportal.web.frontend"):
        for _ in range(10):
            fe.log_frontend_exception(Exception("boom"))
        client["ip"] = "192.0.2.2"
        for _ in range(10):
            fe.log_frontend_exception(Exception("boom"))
    reports = [r for r in caplog.records if r.getMessage().startswith("frontend error from")]
    assert [r.getMessage().split()[3] for r in reports] == ["192.0.2.1:", "192.0.2.1:", "192.0.2.2:"]
    assert sum("dropping" in r.getMessage() for r in caplog.records) == 1  # said once, not per drop
    caplog.clear()
    clock.now += 61  # a new window
    with caplog.at_level(logging.WARNING, logger="gazportal.web.frontend"):
        fe.log_frontend_exception(Exception("again"))
    assert [r.getMessage() for r in caplog.records] == ["frontend error from 192.0.2.2: again"]


def test_the_app_uses_it():
    from gazportal.gazportal import app

    assert app.frontend_exception_handler is fe.log_frontend_exception
    app._validate_exception_handlers()  # Reflex accepts its signature


def test_the_client_is_the_address_of_the_event_being_processed(budget, caplog):
    from reflex_base.event.context import EventContext

    ctx = EventContext(token="t", state_manager=None, enqueue_impl=None, router_data={"ip": "198.51.100.4"})
    with caplog.at_level(logging.WARNING, logger="gazportal.web.frontend"), ctx:
        fe.log_frontend_exception(Exception("boom"))
    assert [r.getMessage() for r in caplog.records] == ["frontend error from 198.51.100.4: boom"]
