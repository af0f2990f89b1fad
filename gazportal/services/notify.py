"""Outgoing e-mail and SMS.

E-mail goes over SMTP (stdlib ``smtplib``; STARTTLS or implicit TLS per ``settings.smtp``). With
no SMTP host configured (local runs) each message is written to ``settings.outbox_dir`` as an
``.eml`` file and logged instead. SMS goes through an :class:`SmsProvider`; the only built-in one,
``outbox``, writes ``*.sms.txt`` files there and logs them. Every function takes an optional
``settings`` (default: :func:`gazportal.settings.get_settings`) so tests can point it elsewhere.

Links in messages are built by the callers from ``settings.public_url`` only (never from a Host
header): see :func:`public_link`.
"""
from __future__ import annotations

import email.policy
import logging
import secrets
import smtplib
import ssl
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol
from urllib.parse import urlencode

from gazportal.services.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings, Utility

log = logging.getLogger("gazportal.notify")
SMTP_TIMEOUT = 20


class DeliveryFailed(DomainError):
    key = "errors.delivery_failed"


def _settings(settings: "Settings | None") -> "Settings":
    if settings is not None:
        return settings
    from gazportal.settings import get_settings

    return get_settings()


def public_link(path: str, *, settings: "Settings | None" = None, **query: str) -> str:
    """``{public_url}{path}?query`` from the configured public URL only."""
    base = _settings(settings).public_url.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def mask_email(addr: str) -> str:
    """``'victim@example.com'`` -> ``'v***@example.com'`` (what a message may show of an address)."""
    local, _, domain = addr.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def mask_phone(phone: str) -> str:
    """``'+77011234567'`` -> ``'+770******67'``."""
    return phone[:4] + "*" * max(0, len(phone) - 6) + phone[-2:] if len(phone) > 6 else "***"


def message_to(utility: "Utility", user: Any, settings: "Settings", *, mail: tuple[str, str],
               sms: str) -> tuple[Callable[..., None], tuple, dict] | None:
    """A message for ``user`` (a ``User`` row) by the channel the profile reaches its customers
    on — an SMS where the login is a phone number or the user has no e-mail, else an e-mail
    (``mail``: subject and text) — as ``(send function, args, kwargs)`` for :func:`queue` or
    :func:`deliver_later`; None when the user has no address on that channel."""
    if utility.login_identifier == "phone" or (not user.email and user.phone):
        phone = user.phone or (user.login if utility.login_identifier == "phone" else None)
        return (send_sms, (phone, sms), {"settings": settings}) if phone else None
    if user.email:
        return send_mail, (user.email, *mail), {"settings": settings}
    return None


def queue(session: Any, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Send a message once ``session``'s transaction has committed: the caller hands the queue
    to the background sender with :func:`send_queued` after the ``with`` block (a rolled-back
    transaction sends nothing, since its caller never gets there)."""
    session.info.setdefault("outgoing", []).append((fn, args, kwargs))


def send_queued(session: Any) -> None:
    """Hand the committed transaction's queued messages (:func:`queue`) to the background sender."""
    for fn, args, kwargs in session.info.pop("outgoing", []):
        deliver_later(fn, *args, **kwargs)


def _outbox_name(suffix: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{stamp}-{secrets.token_hex(4)}{suffix}"


def _write_outbox(directory: Path, suffix: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _outbox_name(suffix)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def build_mail(to: str, subject: str, text: str, html: str | None = None, *, sender: str) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send_mail(to: str, subject: str, text: str, html: str | None = None, *,
              settings: "Settings | None" = None) -> None:
    """Send one e-mail. Raises DeliveryFailed("errors.delivery_failed") when the SMTP server
    refuses it or cannot be reached."""
    s = _settings(settings)
    msg = build_mail(to, subject, text, html, sender=s.smtp.sender)
    smtp = s.smtp
    if not smtp.host:
        path = _write_outbox(Path(s.outbox_dir), ".eml", msg.as_bytes())
        log.info("mail to %s (%s) written to %s\n%s", to, subject, path, text)
        return
    try:
        if smtp.use_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
        with client:
            if smtp.starttls and not smtp.use_tls:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                elif smtp.username:
                    # never send a password in the clear
                    raise DeliveryFailed()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        log.error("mail to %s (%s) not sent: %s", to, subject, e)
        raise DeliveryFailed() from None
    log.info("mail to %s (%s) sent through %s:%s", to, subject, smtp.host, smtp.port)


class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class OutboxSms:
    """Writes each SMS to ``outbox_dir`` as ``*.sms.txt`` and logs it (local default)."""

    def __init__(self, settings: "Settings") -> None:
        self.directory = Path(settings.outbox_dir)

    def send(self, phone: str, text: str) -> None:
        data = f"To: {phone}\n\n{text}\n".encode()
        path = _write_outbox(self.directory, ".sms.txt", data)
        log.info("SMS to %s written to %s: %s", phone, path, text)


_providers: dict[str, Callable[["Settings"], SmsProvider]] = {"outbox": OutboxSms}
_providers_lock = threading.Lock()


def register_sms_provider(name: str, factory: Callable[["Settings"], SmsProvider]) -> None:
    """Make a provider available as ``GAZPORTAL_SMS_PROVIDER=name``."""
    with _providers_lock:
        _providers[name] = factory


def send_sms(phone: str, text: str, *, settings: "Settings | None" = None) -> None:
    s = _settings(settings)
    factory = _providers.get(s.sms_provider)
    if factory is None:
        log.error("unknown SMS provider %r", s.sms_provider)
        raise DeliveryFailed()
    try:
        factory(s).send(phone, text)
    except DomainError:
        raise
    except Exception as e:  # a provider's own failure must not become a 500
        log.error("SMS to %s not sent: %s", phone, e)
        raise DeliveryFailed() from None


@dataclass(frozen=True)
class OutboxItem:
    path: Path
    kind: str  # mail | sms
    to: str
    subject: str
    text: str


def _read_item(path: Path) -> OutboxItem:
    if path.name.endswith(".sms.txt"):
        head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        return OutboxItem(path, "sms", head.removeprefix("To: ").strip(), "", body.rstrip("\n"))
    msg = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
    return OutboxItem(path, "mail", str(msg["To"]), str(msg["Subject"]), mail_text(msg))


def mail_text(msg: Any) -> str:
    """The plain-text body of a parsed e-mail message."""
    part = msg.get_body(preferencelist=("plain",)) if hasattr(msg, "get_body") else None
    return part.get_content() if part is not None else ""


def read_outbox(*, kind: str | None = None, to: str | None = None,
                settings: "Settings | None" = None) -> list[OutboxItem]:
    """Messages in the outbox folder, oldest first (for tests and local runs)."""
    directory = Path(_settings(settings).outbox_dir)
    if not directory.is_dir():
        return []
    items = [
        _read_item(p)
        for p in sorted(directory.iterdir())
        if p.name.endswith((".eml", ".sms.txt"))
    ]
    return [i for i in items if (kind is None or i.kind == kind) and (to is None or i.to == to)]


# --- delivery that the caller does not wait for -------------------------------------------------
# Where the answer must not tell whether an account exists (registration, recovery), the message
# is handed to a small worker pool so that the SMTP server's latency never shows in the timing.
_executor: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_pending_lock = threading.Lock()


_chains: dict[str, deque] = {}  # recipient → messages waiting for the one being sent to it


def _run_logged(fn: Callable[..., None], args: tuple, kwargs: dict) -> None:
    try:
        fn(*args, **kwargs)
    except DomainError:
        pass  # already logged by send_mail / send_sms
    except Exception:  # pragma: no cover - a bug in a provider
        log.exception("background delivery failed")


def _run_in_turn(key: str | None, fn: Callable[..., None], args: tuple, kwargs: dict, fut: Future) -> None:
    try:
        _run_logged(fn, args, kwargs)
    finally:
        fut.set_result(None)
        if key is not None:
            with _pending_lock:
                chain = _chains[key]
                if chain:
                    assert _executor is not None
                    _executor.submit(_run_in_turn, key, *chain.popleft())
                else:
                    del _chains[key]


def deliver_later(fn: Callable[..., None], *args: Any, **kwargs: Any) -> Future:
    """Run ``send_mail``/``send_sms`` (or any sender) in the background; failures are logged.
    Returns a future that is done when the message has been handed over (or failed).

    Messages to one recipient leave in the order they were queued, one at a time (a resent
    confirmation link never arrives before the one it replaces, which no longer works): a later
    one waits in that recipient's line, outside the pool, so other recipients are not held up."""
    global _executor
    key = str(args[0]) if fn in (send_mail, send_sms) and args else None
    fut: Future = Future()
    fut.set_running_or_notify_cancel()
    with _pending_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gazportal-notify")
        _pending.add(fut)
        if key is not None and key in _chains:
            _chains[key].append((fn, args, kwargs, fut))
        else:
            if key is not None:
                _chains[key] = deque()
            _executor.submit(_run_in_turn, key, fn, args, kwargs, fut)
    fut.add_done_callback(lambda f: _discard(f))
    return fut


def _discard(fut: Future) -> None:
    with _pending_lock:
        _pending.discard(fut)


def wait_idle(timeout: float = 30) -> None:
    """Wait until no background delivery is left, including those that finished ones started
    (a job that sends its messages after its own commit), at most ``timeout`` seconds (tests,
    shutdown)."""
    deadline = time.monotonic() + timeout
    while True:
        with _pending_lock:
            futures = [f for f in _pending if not f.done()]
        left = deadline - time.monotonic()
        if not futures or left <= 0:
            return
        wait(futures, timeout=left)
