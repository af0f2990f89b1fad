"""Shared helpers for the auth-core tests (imported by test_auth*.py; holds one sanity test)."""
from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import json
import re
import secrets
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import altcha
import pytest
from aiosmtpd.controller import Controller

from gazportal.db import write_session
from gazportal.models.accounts import Account
from gazportal.models.billing import Payment
from gazportal.services import captcha, notify, passwords, throttle
from gazportal.settings import Settings, Smtp, get_settings, load_utility

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

SE = load_utility("shygysenergotrade")
KG = load_utility("kremenchukgaz")
AG = load_utility("almaty_gas")
DEFAULT = load_utility("default")

GOOD_PW = {"shygysenergotrade": "Vostok-7km!", "kremenchukgaz": "dnipro-river-9", "almaty_gas": "green apple orchard 42",
           "default": "green apple orchard 42"}


@pytest.fixture
def cheap_argon2():
    old = passwords.use_parameters(**CHEAP)
    yield
    passwords.use_hasher(old)


def make_settings(tmp_path: Path, utility=DEFAULT, **changes) -> Settings:
    base = get_settings()
    smtp = changes.pop("smtp", Smtp(host=None, port=25, username=None, password=None, starttls=False,
                                   use_tls=False, sender="no-reply@portal.example"))
    return dataclasses.replace(
        base, utility=utility, outbox_dir=tmp_path / "outbox", upload_dir=tmp_path / "uploads",
        secret_key=b"k" * 40, redis_url=None, public_url="https://portal.example", smtp=smtp,
        sms_provider="outbox", **changes,
    )


def new_device() -> str:
    """A device cookie's value as the guard gives one (web/client.py)."""
    return secrets.token_urlsafe(32)


def source(settings: Settings, address: str, device: str | None = None) -> throttle.Source:
    """The source of a request from ``address`` with the device cookie ``device`` (None: none)."""
    return throttle.source(device, address, settings=settings)


class Inbox:
    """What a real SMTP server (aiosmtpd) received: (recipients, parsed message) each."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, msg))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free port: (Inbox, port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def smtp_to(port: int) -> Smtp:
    """Settings that send mail to the test SMTP server on ``port``."""
    return Smtp(host="127.0.0.1", port=port, username=None, password=None, starttls=True, use_tls=False,
                sender="no-reply@portal.example")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_account(engine, number: str, payments=("1234.50",), *, kind="person", bin=None,
                 holder="Иванов И.И.") -> int:
    with write_session(engine) as s:
        acc = Account(number=number, holder_name=holder, kind=kind, bin=bin, address="г. Алматы, ул. Абая, 1")
        s.add(acc)
        s.flush()
        for i, amount in enumerate(payments):
            s.add(Payment(account_id=acc.id, paid_at=NOW - timedelta(days=40 - i), amount=Decimal(amount),
                          receipt_no=f"R{secrets.token_hex(6)}", channel="bank"))
        return acc.id


def solve_captcha(settings: Settings) -> str:
    ch = captcha.new_challenge(settings=settings, max_number=2000)
    sol = altcha.solve_challenge_v1(ch["challenge"], ch["salt"], ch["algorithm"], ch["maxnumber"], 0)
    payload = {k: ch[k] for k in ("algorithm", "challenge", "salt", "signature")} | {"number": sol.number}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def form_for(utility, settings, *, login=None, account="", payment="1234.50", **extra) -> dict:
    pw = GOOD_PW[utility.id]
    f = {
        "password": pw, "password2": pw, "surname": "Иванова", "name": "Айгерим",
        "phone": "+7 701 234 5678" if utility.phone_region == "KZ" else "+380 67 505 6312",
        "kind": "person", "bin": "", "account_number": account, "last_payment": payment,
        "agreement": True, "captcha": solve_captcha(settings) if utility.captcha else "",
    }
    if utility.login_identifier == "email":
        f["login"] = login or "Aigerim.Ivanova@Example.KZ"
    elif utility.login_identifier == "account":
        f["login"] = login or account
        f["email"] = "aigerim@example.kz"
    else:
        f["login"] = login or "+380675056312"
        f["phone"] = ""
    f.update(extra)
    return f


def wait_outbox(settings, *, kind=None, to=None, count=1):
    notify.wait_idle()
    items = notify.read_outbox(kind=kind, to=to, settings=settings)
    assert len(items) >= count, items
    return items


def link_token(text: str, path: str = "/confirm") -> str:
    m = re.search(r"https://portal\.example" + re.escape(path) + r"\?token=([A-Za-z0-9_\-]+)", text)
    assert m, text
    return m.group(1)


def sms_code(text: str) -> str:
    m = re.search(r"\b(\d{6})\b", text)
    assert m, text
    return m.group(1)


def test_kit_settings_are_isolated(tmp_path):
    s = make_settings(tmp_path, SE)
    assert s.utility.id == "shygysenergotrade" and s.outbox_dir == tmp_path / "outbox"
    assert solve_captcha(s)
