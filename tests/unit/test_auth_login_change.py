"""Issue 15 point 4 and issue 14 point 19: changing the login (the e-mail) and the password.

The current password is asked again and a wrong one counts toward the sign-in lock (also under 50
parallel guesses); the old address is told, with a link that cancels a waiting change or undoes a
made one; other sessions end; a password change sends a security e-mail. Services on SQLite and
PostgreSQL, mail over a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import email
import email.policy
import re
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models.auth import LoginThrottle
from gazportal.models.people import User
from gazportal.services import auth, notify, throttle
from gazportal.services.errors import DomainError, FormErrors
from gazportal.settings import Smtp
from test_auth_kit import (  # noqa: F401 - fixtures
    DEFAULT, KG, NOW, cheap_argon2, form_for, free_port, link_token, make_settings, seed_account, wait_outbox,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")

LOGIN = "anna@example.kz"
NEW = "anna.new@example.kz"
PW = "green apple orchard 42"  # GOOD_PW of the default profile


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos[0], str(msg["Subject"]), notify.mail_text(msg)))
        return "250 OK"

    def to(self, address):
        notify.wait_idle()
        return [(subject, text) for rcpt, subject, text in self.messages if rcpt == address]


@pytest.fixture
def smtp(tmp_path):
    """A real SMTP server and settings that send through it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    s = make_settings(tmp_path, DEFAULT, smtp=Smtp(host="127.0.0.1", port=port, username=None, password=None,
                                                   starttls=False, use_tls=False, sender="no-reply@portal.example"))
    yield inbox, s
    notify.wait_idle()
    controller.stop()


def _customer(engine, s, login=LOGIN) -> int:
    seed_account(engine, "7770001", ["10.00"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=login, account="7770001", payment="10", name="Anna"),
                  now=NOW, settings=s)
    notify.wait_idle()
    with write_session(engine) as ss:  # confirmed (the link flow is tested elsewhere)
        user = ss.exec(select(User).where(User.login == login)).one()
        user.is_active = user.email_verified = True
        ss.add(user)
        return user.id


def _key(fn):
    try:
        fn()
    except FormErrors as e:
        return {k: (n.key, dict(n.params)) for k, n in e.fields.items()}
    except DomainError as e:
        return e.key
    return None


def _sign_in(engine, s, login=LOGIN, password=PW, now=NOW):
    return auth.sign_in(engine, DEFAULT, login, password, now=now, settings=s)


def _user(engine, uid) -> User:
    with read_session(engine) as ss:
        return ss.get(User, uid)


# --- the current password counts toward the sign-in lock --------------------------------------------


def test_wrong_current_passwords_make_this_browser_wait_not_the_holder(engine, smtp):
    """3 wrong current passwords on the profile and 2 on /password (before: 30 wrong current
    passwords on /password and no limit): this browser waits (the sign-in limits' first wait), even
    with the right password; the holder signing in from elsewhere is not kept out; after the wait
    the right current password works."""
    _inbox, s = smtp
    uid = _customer(engine, s)
    for i in range(3):
        assert _key(lambda i=i: auth.update_user_profile(engine, DEFAULT, uid, {"email": NEW}, now=NOW, settings=s,
                                                         current_password=f"guess {i}")) == \
            {"current": ("errors.current_password_wrong", {})}
    assert _key(lambda: auth.change_password(engine, DEFAULT, uid, "guess 3", "brand new words 88",
                                             "brand new words 88", now=NOW, settings=s)) == \
        {"current": ("errors.current_password_wrong", {})}
    assert _key(lambda: auth.change_password(engine, DEFAULT, uid, "guess 4", "brand new words 88",
                                             "brand new words 88", now=NOW, settings=s)) == \
        {"current": ("errors.current_password_locked", {"minutes": 1})}
    assert _key(lambda: auth.change_password(engine, DEFAULT, uid, PW, "brand new words 88", "brand new words 88",
                                             now=NOW + timedelta(seconds=30), settings=s)) == \
        {"current": ("errors.current_password_locked", {"minutes": 1})}
    assert _user(engine, uid).email == LOGIN  # nothing changed
    elsewhere = throttle.Source(device=None, address="198.51.100.7")
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=elsewhere)
    later = NOW + timedelta(minutes=1)
    auth.change_password(engine, DEFAULT, uid, PW, "brand new words 88", "brand new words 88", now=later, settings=s)
    assert _sign_in(engine, s, password="brand new words 88", now=later)


def test_a_right_current_password_clears_the_count(engine, smtp):
    _inbox, s = smtp
    uid = _customer(engine, s)
    for _ in range(DEFAULT.max_failed_logins - 1):
        _key(lambda: auth.change_password(engine, DEFAULT, uid, "guess", "brand new words 88", "brand new words 88",
                                          now=NOW, settings=s))
    assert _key(lambda: auth.change_password(engine, DEFAULT, uid, PW, "abc", "abc", now=NOW, settings=s)) == \
        {"password": ("errors.password_too_short", {"min": 8})}  # right current, wrong new one
    assert _key(lambda: auth.change_password(engine, DEFAULT, uid, "guess", "brand new words 88",
                                             "brand new words 88", now=NOW, settings=s)) == \
        {"current": ("errors.current_password_wrong", {})}  # counting starts again
    assert _sign_in(engine, s)


def test_fifty_parallel_wrong_current_passwords_are_checked_exactly_max_times(engine, smtp):
    _inbox, s = smtp
    uid = _customer(engine, s)
    n = 50
    barrier = threading.Barrier(n)
    got: list = [None] * n

    def guess(i):
        barrier.wait()
        got[i] = _key(lambda: auth.change_password(engine, DEFAULT, uid, f"guess {i}", "brand new words 88",
                                                   "brand new words 88", now=NOW, settings=s))["current"][0]

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert got.count("errors.current_password_wrong") == DEFAULT.max_failed_logins - 1, got
    assert got.count("errors.current_password_locked") == n - DEFAULT.max_failed_logins + 1
    with read_session(engine) as ss:
        (row,) = [r for r in ss.exec(select(LoginThrottle)).all() if r.locked_until is not None]
    assert row.failures == DEFAULT.max_failed_logins
    elsewhere = throttle.Source(device=None, address="198.51.100.7")
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=elsewhere)  # the holder is not kept out


# --- the e-mail (the login) -------------------------------------------------------------------------


def _undo_token(text: str) -> str:
    return link_token(text, "/email-undo")


def test_an_email_change_asks_the_password_tells_the_old_address_and_can_be_undone(engine, smtp):
    inbox, s = smtp
    uid = _customer(engine, s)
    here = _sign_in(engine, s)
    there = _sign_in(engine, s)
    here_id = auth.resolve_session(engine, here.token, now=NOW, settings=s).session_id
    change = {"email": NEW, "surname": "Петрова"}
    # no password, a wrong one: refused, nothing changed, nothing sent
    assert _key(lambda: auth.update_user_profile(engine, DEFAULT, uid, change, now=NOW, settings=s)) == \
        {"current": ("errors.current_password_for_contact", {})}
    assert _key(lambda: auth.update_user_profile(engine, DEFAULT, uid, change, now=NOW, settings=s,
                                                 current_password="not it")) == \
        {"current": ("errors.current_password_wrong", {})}
    assert _user(engine, uid).surname == "Иванова" and inbox.to(NEW) == [] and len(inbox.to(LOGIN)) == 1
    # with it: a link to the new address (no name in it), a notice with a cancel link to the old one
    p = auth.update_user_profile(engine, DEFAULT, uid, change, now=NOW, settings=s, current_password=PW,
                                 session_id=here_id)
    assert p.pending_email == NEW and p.email == LOGIN and p.surname == "Петрова"
    ((_, to_new),) = inbox.to(NEW)
    assert "Anna" not in to_new and "Петрова" not in to_new
    (subject, notice) = inbox.to(LOGIN)[-1]
    assert "new e-mail address" in subject and "a***@example.kz" in notice and "Hello, Anna!" in notice
    _undo_token(notice)
    # the change is made: the login follows, the other session ends, the old address is told
    auth.confirm_email_change(engine, link_token(to_new, "/confirm-email"), now=NOW + timedelta(minutes=5),
                              settings=s)
    u = _user(engine, uid)
    assert (u.login, u.email) == (NEW, NEW)
    assert auth.resolve_session(engine, here.token, now=NOW + timedelta(minutes=6), settings=s) is not None
    assert auth.resolve_session(engine, there.token, now=NOW + timedelta(minutes=6), settings=s) is None
    (subject, changed) = inbox.to(LOGIN)[-1]
    assert "was changed" in subject and "a***@example.kz" in changed
    # "it was not me": the old address and login come back, every session ends, the password
    # stops working and the answer leads to a new one
    done = auth.undo_email_change(engine, _undo_token(changed), now=NOW + timedelta(days=6), settings=s)
    assert (done.user_id, done.email, done.undone) == (uid, LOGIN, True)
    u = _user(engine, uid)
    assert (u.login, u.email, u.email_verified) == (LOGIN, LOGIN, True)
    assert auth.resolve_session(engine, here.token, now=NOW + timedelta(days=6), settings=s) is None
    assert _key(lambda: _sign_in(engine, s, now=NOW + timedelta(days=6))) == "errors.sign_in_failed"
    auth.reset_password_with_link(engine, DEFAULT, done.reset_token, "mine again 2026", "mine again 2026",
                                  now=NOW + timedelta(days=6), settings=s)
    assert _sign_in(engine, s, password="mine again 2026", now=NOW + timedelta(days=6))
    # the undo link works once
    assert _key(lambda: auth.undo_email_change(engine, _undo_token(changed), now=NOW + timedelta(days=6),
                                               settings=s)) == "errors.link_invalid"


def test_the_old_address_cancels_a_waiting_change(engine, smtp):
    inbox, s = smtp
    uid = _customer(engine, s)
    auth.update_user_profile(engine, DEFAULT, uid, {"email": NEW}, now=NOW, settings=s, current_password=PW)
    ((_, to_new),) = inbox.to(NEW)
    done = auth.undo_email_change(engine, _undo_token(inbox.to(LOGIN)[-1][1]), now=NOW, settings=s)
    assert (done.email, done.undone) == (LOGIN, False)
    assert _key(lambda: auth.confirm_email_change(engine, link_token(to_new, "/confirm-email"), now=NOW,
                                                  settings=s)) == "errors.link_invalid"
    with read_session(engine) as ss:
        assert auth.get_user_profile(ss, uid, now=NOW).pending_email is None
    assert _user(engine, uid).login == LOGIN


def test_the_undo_link_lasts_seven_days(engine, smtp):
    inbox, s = smtp
    uid = _customer(engine, s)
    auth.update_user_profile(engine, DEFAULT, uid, {"email": NEW}, now=NOW, settings=s, current_password=PW)
    auth.confirm_email_change(engine, link_token(inbox.to(NEW)[-1][1], "/confirm-email"), now=NOW, settings=s)
    token = _undo_token(inbox.to(LOGIN)[-1][1])
    assert _key(lambda: auth.undo_email_change(engine, token, now=NOW + auth.EMAIL_UNDO_TTL, settings=s)) == \
        "errors.link_expired"
    assert _user(engine, uid).login == NEW


def test_undo_takes_the_old_login_back_from_a_registration_never_confirmed(engine, smtp):
    """Someone registers the freed old address after the change (its link goes to the old
    address's owner): the undo still brings the login back, and that registration goes."""
    inbox, s = smtp
    uid = _customer(engine, s)
    auth.update_user_profile(engine, DEFAULT, uid, {"email": NEW}, now=NOW, settings=s, current_password=PW)
    auth.confirm_email_change(engine, link_token(inbox.to(NEW)[-1][1], "/confirm-email"), now=NOW, settings=s)
    token = _undo_token(inbox.to(LOGIN)[-1][1])
    seed_account(engine, "7770002", ["20.00"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="аnna@example.kz", account="7770002", payment="20"),
                  now=NOW, settings=s)  # a look-alike of the old login (Cyrillic а)
    done = auth.undo_email_change(engine, token, now=NOW, settings=s)
    assert done.undone and _user(engine, uid).login == LOGIN
    with read_session(engine) as ss:
        assert [u.login for u in ss.exec(select(User)).all() if u.is_active] == [LOGIN]
    # the look-alike's registration can never be confirmed now (it goes with the purge)
    look_link = link_token(inbox.to("аnna@example.kz")[-1][1])
    assert _key(lambda: auth.confirm_link(engine, look_link, now=NOW, settings=s)) == "errors.login_taken"


def test_a_new_phone_number_asks_the_password_and_is_told(engine, smtp):
    inbox, s = smtp
    uid = _customer(engine, s)
    assert _key(lambda: auth.update_user_profile(engine, DEFAULT, uid, {"phone": "+7 701 999 88 77"}, now=NOW,
                                                 settings=s)) == {"current": ("errors.current_password_for_contact", {})}
    auth.update_user_profile(engine, DEFAULT, uid, {"phone": "+7 701 999 88 77", "name": "Anna"}, now=NOW,
                             settings=s, current_password=PW)
    (subject, text) = inbox.to(LOGIN)[-1]
    assert "phone number was changed" in subject and "+770******77" in text
    # the same number again and other fields: no password needed
    auth.update_user_profile(engine, DEFAULT, uid, {"phone": "+77019998877", "surname": "Ким"}, now=NOW, settings=s)
    assert _user(engine, uid).surname == "Ким"


def test_a_password_change_sends_a_security_mail(engine, smtp):
    inbox, s = smtp
    uid = _customer(engine, s)
    auth.change_password(engine, DEFAULT, uid, PW, "brand new words 88", "brand new words 88", now=NOW, settings=s)
    (subject, text) = inbox.to(LOGIN)[-1]
    assert "password was changed" in subject and "https://portal.example/recover" in text
    assert text.startswith("Hello, Anna!")


def test_a_phone_login_cannot_be_changed_and_other_fields_need_no_password(engine, tmp_path):
    s = make_settings(tmp_path, KG)
    auth.register(engine, KG, form_for(KG, s, login="+380675056312"), now=NOW, settings=s)
    notify.wait_idle()
    with read_session(engine) as ss:
        uid = ss.exec(select(User)).one().id
    assert _key(lambda: auth.update_user_profile(engine, KG, uid, {"phone": "+380501234567"}, now=NOW,
                                                 settings=s, current_password="dnipro-river-9")) == \
        {"phone": ("errors.phone_is_login", {})}
    auth.update_user_profile(engine, KG, uid, {"surname": "Коваль", "language": "uk"}, now=NOW, settings=s)
    assert _user(engine, uid).surname == "Коваль"
    assert re.fullmatch(r"\+380675056312", _user(engine, uid).phone)
