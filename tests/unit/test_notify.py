"""E-mail over a real SMTP server (aiosmtpd), the outbox for local runs, SMS providers."""
from __future__ import annotations

import email
import email.policy
import logging

import pytest
from aiosmtpd.controller import Controller

from gazportal.services import notify
from gazportal.settings import Smtp
from test_auth_kit import free_port, make_settings


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos,
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _smtp(port, **kw):
    base = dict(host="127.0.0.1", port=port, username=None, password=None, starttls=True, use_tls=False,
                sender="Portal <no-reply@portal.example>")
    return Smtp(**(base | kw))


def test_mail_goes_over_smtp(tmp_path, smtp_server):
    inbox, port = smtp_server
    s = make_settings(tmp_path, smtp=_smtp(port))
    notify.send_mail("Клиент <client@example.kz>", "Тема: проверка", "Текст письма\nhttps://portal.example/x",
                     "<p>Текст</p>", settings=s)
    (mail_from, rcpt, msg), = inbox.messages
    assert mail_from == "no-reply@portal.example" and rcpt == ["client@example.kz"]
    assert msg["Subject"] == "Тема: проверка" and msg["Message-ID"] and msg["Date"]
    assert "Текст письма" in notify.mail_text(msg)
    assert msg.get_body(preferencelist=("html",)).get_content().strip() == "<p>Текст</p>"
    assert notify.read_outbox(settings=s) == []  # nothing went to the outbox


def test_password_is_never_sent_without_tls(tmp_path, smtp_server):
    _inbox, port = smtp_server
    s = make_settings(tmp_path, smtp=_smtp(port, username="u", password="p"))
    with pytest.raises(notify.DeliveryFailed) as e:
        notify.send_mail("a@example.kz", "s", "t", settings=s)
    assert e.value.key == "errors.delivery_failed"


def test_unreachable_smtp_is_a_clean_error(tmp_path):
    s = make_settings(tmp_path, smtp=_smtp(free_port()))
    with pytest.raises(notify.DeliveryFailed):
        notify.send_mail("a@example.kz", "s", "t", settings=s)


def test_without_host_mail_goes_to_outbox_and_log(tmp_path, caplog):
    s = make_settings(tmp_path)
    with caplog.at_level(logging.INFO, logger="gazportal.notify"):
        notify.send_mail("a@example.kz", "Subject ü", "Body with link https://portal.example/confirm?token=abc",
                         settings=s)
    (item,) = notify.read_outbox(settings=s)
    assert item.kind == "mail" and item.to == "a@example.kz" and item.subject == "Subject ü"
    assert "token=abc" in item.text and item.path.suffix == ".eml"
    assert "token=abc" in caplog.text


def test_sms_outbox_and_custom_provider(tmp_path, caplog):
    s = make_settings(tmp_path)
    with caplog.at_level(logging.INFO, logger="gazportal.notify"):
        notify.send_sms("+380675056312", "Код 123456", settings=s)
    (item,) = notify.read_outbox(kind="sms", settings=s)
    assert item.to == "+380675056312" and item.text == "Код 123456" and item.path.name.endswith(".sms.txt")
    assert "123456" in caplog.text

    sent = []

    class Fake:
        def __init__(self, settings):
            pass

        def send(self, phone, text):
            sent.append((phone, text))

    class Broken(Fake):
        def send(self, phone, text):
            raise RuntimeError("gateway down")

    notify.register_sms_provider("fake-test", Fake)
    notify.register_sms_provider("broken-test", Broken)
    import dataclasses
    notify.send_sms("+77012345678", "hi", settings=dataclasses.replace(s, sms_provider="fake-test"))
    assert sent == [("+77012345678", "hi")]
    with pytest.raises(notify.DeliveryFailed):
        notify.send_sms("+77012345678", "hi", settings=dataclasses.replace(s, sms_provider="broken-test"))
    with pytest.raises(notify.DeliveryFailed):
        notify.send_sms("+77012345678", "hi", settings=dataclasses.replace(s, sms_provider="no-such"))


def test_links_use_the_public_url_only(tmp_path):
    s = make_settings(tmp_path)
    assert notify.public_link("/confirm", settings=s, token="a b") == "https://portal.example/confirm?token=a+b"


def test_background_delivery_logs_failures_and_wait_idle(tmp_path):
    s = make_settings(tmp_path, smtp=_smtp(free_port()))
    notify.deliver_later(notify.send_mail, "a@example.kz", "s", "t", settings=s)  # fails, logged only
    ok = make_settings(tmp_path)
    notify.deliver_later(notify.send_sms, "+77012345678", "x", settings=ok)
    notify.wait_idle()
    assert [i.kind for i in notify.read_outbox(settings=ok)] == ["sms"]


def test_messages_to_one_recipient_leave_in_the_order_they_were_queued(tmp_path):
    """A resent confirmation must not overtake the one it replaces (CI saw the old link arrive last).
    The first message's provider waits for a sign that a later one to the same number started;
    it never comes when the order holds, and the other recipient's message is not held back."""
    import dataclasses
    import threading
    order: list[str] = []
    second_started = threading.Event()
    other_done = threading.Event()

    class Slow:
        def __init__(self, settings):
            pass

        def send(self, phone, text):
            if text == "first":
                other_done.wait(10)  # the other recipient's message is sent meanwhile
                second_started.wait(0.3)  # set only if the second overtook the first
            elif text == "second":
                second_started.set()
            elif text == "other":
                other_done.set()
            order.append(text)

    notify.register_sms_provider("slow-test", Slow)
    s = dataclasses.replace(make_settings(tmp_path), sms_provider="slow-test")
    notify.deliver_later(notify.send_sms, "+77012345678", "first", settings=s)
    notify.deliver_later(notify.send_sms, "+77012345678", "second", settings=s)
    notify.deliver_later(notify.send_sms, "+77019999999", "other", settings=s)
    notify.wait_idle()
    assert order.index("first") < order.index("second")
    assert order.index("other") < order.index("first")
