"""The account state for a period sent by e-mail (gazportal.services.statements), through a REAL
SMTP server (aiosmtpd): what arrives has the right amounts in the customer's language; foreign
accounts, bad periods, customers without a (confirmed) e-mail and the hourly limit send nothing."""
from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from aiosmtpd.controller import Controller

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Payment, User, UserAccountLink
from gazportal.services import notify, statements
from gazportal.services.errors import InvalidInput, NotFound
from gazportal.settings import Smtp, load_utility
from test_auth_kit import free_port, make_settings

NOW = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)
PROFILE = load_utility("default")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos,
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp(tmp_path):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = make_settings(tmp_path, utility=PROFILE, smtp=Smtp(
        host="127.0.0.1", port=port, username=None, password=None, starttls=False, use_tls=False,
        sender="Portal <no-reply@portal.example>"))
    yield inbox, settings
    controller.stop()


def seed(engine) -> dict:
    with write_session(engine) as s:
        mine = Account(number="100000001", holder_name="Иванова А.", address="Алматы, Абая <1>", kind="person")
        other = Account(number="100000002", holder_name="Bob B.", address="Almaty", kind="person")
        s.add_all([mine, other])
        s.flush()
        s.add(Charge(account_id=mine.id, period="2026-01", service="gas", volume=D("10.000"), amount=D("1000.00")))
        s.add(Charge(account_id=mine.id, period="2026-02", service="gas", volume=D("12.345"), amount=D("2469.00")))
        s.add(Payment(account_id=mine.id, paid_at=datetime(2026, 2, 10, 8, tzinfo=UTC), amount=D("1500.00"),
                      receipt_no="R-77", channel="bank"))

        def user(login, lang, email_=True, verified=True):
            u = User(login=login, email=login if email_ else None, phone=None if email_ else "+77010000000",
                     password_hash="x", surname="S", name="N", is_active=True, email_verified=verified,
                     language=lang)
            s.add(u)
            s.flush()
            return u.id

        ids = dict(mine=mine.id, other=other.id, alice=user("alice@example.kz", "ru"),
                   bob=user("bob@example.kz", "en"), nomail=user("+77010000000", "en", email_=False),
                   unconfirmed=user("u@example.kz", "en", verified=False), kk=user("kk@example.kz", "kk"))
        s.add_all([UserAccountLink(user_id=ids[u], account_id=mine.id) for u in ("alice", "nomail", "unconfirmed", "kk")]
                  + [UserAccountLink(user_id=ids["bob"], account_id=other.id)])
        return ids


def _plain(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\u00a0", " ").replace("\u202f", " ")


def _html(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content().replace("\u00a0", " ").replace("\u202f", " ")


def test_statement_arrives_in_the_customers_language(engine, smtp):
    inbox, settings = smtp
    ids = seed(engine)
    sent = statements.send_statement(engine, PROFILE, ids["alice"], ids["mine"], "2026-02", now=NOW,
                                     settings=settings)
    assert sent == statements.Sent(to="alice@example.kz", period="2026-02")
    (rcpt, msg), = inbox.messages
    assert rcpt == ["alice@example.kz"]
    assert msg["Subject"] == "Лицевой счёт 100000001: состояние за Февраль 2026"
    text = _plain(msg)
    # opening = -1000.00 (January's charge), +1500 paid, -2469 charged -> -1969.00
    assert "Сальдо на начало месяца: -1 000,00 ₸" in text
    assert "Газоснабжение, 12,345 м³: 2 469,00 ₸" in text or "12,345 м³: 2 469,00 ₸" in text
    assert "квитанция R-77: 1 500,00 ₸" in text
    assert "Сальдо на конец месяца: -1 969,00 ₸" in text
    assert "Долг на конец месяца: 1 969,00 ₸" in text
    assert "https://portal.example/statement" in text
    page = _html(msg)
    assert "<table" in page and "1 969,00 ₸" in page and "#b42318" in page
    assert "Алматы, Абая &lt;1&gt;" in page and "<1>" not in page  # escaped


def test_kazakh_and_a_month_without_debt(engine, smtp):
    inbox, settings = smtp
    ids = seed(engine)
    with write_session(engine) as s:
        s.add(Payment(account_id=ids["mine"], paid_at=datetime(2026, 3, 2, 8, tzinfo=UTC), amount=D("5000.00"),
                      receipt_no="R-78", channel="kaspi"))
    statements.send_statement(engine, PROFILE, ids["kk"], ids["mine"], "2026-03", now=NOW, settings=settings)
    (_, msg), = inbox.messages
    text = _plain(msg)
    assert "Ай соңында қарыз жоқ." in text and "5 000,00 ₸" in text
    assert "Наурыз 2026" in msg["Subject"]


@pytest.mark.parametrize("who,account,period,exc,key", [
    ("alice", "other", "2026-02", NotFound, "errors.account_not_found"),
    ("bob", "mine", "2026-02", NotFound, "errors.account_not_found"),
    ("alice", None, "2026-02", NotFound, "errors.account_not_found"),
    ("alice", "mine", "2026-04", InvalidInput, "errors.period_in_future"),
    ("alice", "mine", "2026-13", InvalidInput, "errors.bad_period"),
    ("alice", "mine", ["2026-02"], InvalidInput, "errors.bad_period"),
    ("nomail", "mine", "2026-02", statements.NoEmail, "errors.statement_no_email"),
    ("unconfirmed", "mine", "2026-02", statements.EmailNotConfirmed, "errors.statement_email_not_confirmed"),
])
def test_refusals_send_nothing(engine, smtp, who, account, period, exc, key):
    inbox, settings = smtp
    ids = seed(engine)
    aid = ids[account] if account in ids else account
    with pytest.raises(exc) as e:
        statements.send_statement(engine, PROFILE, ids[who], aid, period, now=NOW, settings=settings)
    assert e.value.key == key
    assert inbox.messages == []


def test_five_an_hour(engine, smtp):
    inbox, settings = smtp
    ids = seed(engine)
    for i in range(statements.MAX_MAILS_PER_HOUR):
        statements.send_statement(engine, PROFILE, ids["alice"], ids["mine"], "2026-02",
                                  now=NOW + timedelta(minutes=i), settings=settings)
    with pytest.raises(statements.TooManyMails) as e:
        statements.send_statement(engine, PROFILE, ids["alice"], ids["mine"], "2026-02",
                                  now=NOW + timedelta(minutes=10), settings=settings)
    assert e.value.params == {"minutes": 50, "max": 5}
    assert len(inbox.messages) == 5
    # another customer has a limit of their own; after the hour it starts again
    statements.send_statement(engine, PROFILE, ids["kk"], ids["mine"], "2026-02", now=NOW, settings=settings)
    statements.send_statement(engine, PROFILE, ids["alice"], ids["mine"], "2026-02",
                              now=NOW + timedelta(minutes=61), settings=settings)
    assert len(inbox.messages) == 7


def test_smtp_down_is_a_delivery_failure(engine, tmp_path):
    ids = seed(engine)
    settings = make_settings(tmp_path, utility=PROFILE, smtp=Smtp(
        host="127.0.0.1", port=free_port(), username=None, password=None, starttls=False, use_tls=False,
        sender="no-reply@portal.example"))
    with pytest.raises(notify.DeliveryFailed):
        statements.send_statement(engine, PROFILE, ids["alice"], ids["mine"], "2026-02", now=NOW, settings=settings)


def test_outbox_when_no_smtp(sqlite_engine, tmp_path):
    ids = seed(sqlite_engine)
    settings = make_settings(tmp_path, utility=PROFILE)
    statements.send_statement(sqlite_engine, PROFILE, ids["alice"], ids["mine"], "2026-02", now=NOW,
                              settings=settings)
    (item,) = notify.read_outbox(settings=settings)
    assert item.to == "alice@example.kz" and "1 969,00" in item.text.replace("\u00a0", " ").replace("\u202f", " ")


def test_state_lines_for_the_page(sqlite_engine):
    ids = seed(sqlite_engine)
    with read_session(sqlite_engine) as s:
        acc = s.get(Account, ids["mine"])
        lines = statements.state_lines(s, PROFILE, acc, "2026-02", "en")
    assert lines.in_debt and lines.debt == "₸1,969.00" and lines.closing == "-₸1,969.00"
    assert lines.charges == [("Gas supply", "12.345\u00a0m³", "₸2,469.00")]
    assert lines.payments == [("10 Feb 2026", "₸1,500.00", "R-77")]


def test_the_statement_opens_on_the_last_billed_month(engine):
    """Issue 14 point 15: not the current month (March 2026, nothing charged yet) but February, the
    account's last month with a charge; the month before the current one when nothing is charged;
    another's account refused."""
    ids = seed(engine)
    with read_session(engine) as s:
        assert statements.last_billed_period(s, PROFILE, ids["alice"], ids["mine"], now=NOW) == "2026-02"
        # a charge posted after now's month (an import ahead of time) is not "last billed"
        later = datetime(2026, 1, 20, 6, tzinfo=UTC)
        assert statements.last_billed_period(s, PROFILE, ids["alice"], ids["mine"], now=later) == "2026-01"
        june = datetime(2026, 6, 15, 6, tzinfo=UTC)
        assert statements.last_billed_period(s, PROFILE, ids["bob"], ids["other"], now=june) == "2026-05"
        with pytest.raises(NotFound):
            statements.last_billed_period(s, PROFILE, ids["alice"], ids["other"], now=NOW)
