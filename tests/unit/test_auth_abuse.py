"""Issue 15, points 3, 5, 6, 7 and 8, attacked through the auth services on SQLite and PostgreSQL:
registering someone's login first, mail as a weapon, look-alike logins, the timing of "resend
confirmation", and the removal of registrations never confirmed."""
from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models.accounts import Account, UserAccountLink
from gazportal.models.auth import AuthSession, OneTimeSecret
from gazportal.models.messages import CustomerMessage
from gazportal.models.people import User
from gazportal.services import auth, identity, notify, passwords, throttle
from gazportal.services.errors import DomainError
from test_auth_kit import (  # noqa: F401 - fixtures
    DEFAULT, KG, NOW, SE, cheap_argon2, form_for, link_token, make_settings, seed_account, sms_code, wait_outbox,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")

VICTIM = "victim@example.kz"
VICTIM_PW = "victim owns this 77"
ATTACKER_PW = "attacker knows this 66"


def _users(engine) -> list[User]:
    with read_session(engine) as s:
        return list(s.exec(select(User).order_by(User.id)).all())


def _accounts_of(engine, login) -> list[str]:
    with read_session(engine) as s:
        return sorted(s.exec(select(Account.number).join(UserAccountLink, UserAccountLink.account_id == Account.id)
                             .join(User, User.id == UserAccountLink.user_id).where(User.login == login)).all())


def _refused(fn) -> str | None:
    try:
        fn()
    except DomainError as e:
        return e.key
    return None


def _mails(s, to=None) -> list:
    notify.wait_idle()
    return notify.read_outbox(kind="mail", to=to, settings=s)


def _signs_in(engine, utility, login, password, s, now=NOW) -> bool:
    return _refused(lambda: auth.sign_in(engine, utility, login, password, now=now, settings=s)) is None


# --- point 3: registering someone's login first ----------------------------------------------------


def test_pre_registration_gains_the_attacker_nothing(engine, tmp_path):
    """The attacker registers the victim's address first with a bill of their own; the victim
    then registers with their own bill and password. The victim's link activates the victim's
    password and account only; the attacker's earlier link is refused. (Before: the victim's
    registration re-sent the attacker's attempt, whose link activated the attacker's password and
    account.)"""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"], holder="Attacker")
    seed_account(engine, "7770001", ["2500.00"], holder="Victim")
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="5550001", payment="100",
                                            password=ATTACKER_PW, password2=ATTACKER_PW, name="Mallory"),
                  now=NOW, settings=s)
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500",
                                            password=VICTIM_PW, password2=VICTIM_PW, name="Victoria"),
                  now=NOW + timedelta(minutes=5), settings=s)
    attackers, victims = [link_token(m.text) for m in _mails(s, VICTIM)]
    assert len(_users(engine)) == 1  # one login, one user: the pending attempt was replaced
    assert _refused(lambda: auth.confirm_link(engine, attackers, now=NOW + timedelta(minutes=6), settings=s)) == \
        "errors.link_invalid"
    # the login was registered twice: the link alone does not choose, the attempt's password does
    assert _refused(lambda: auth.confirm_link(engine, victims, now=NOW + timedelta(minutes=7), settings=s)) == \
        "errors.confirm_needs_password"
    assert _refused(lambda: auth.confirm_link(engine, victims, now=NOW + timedelta(minutes=7), settings=s,
                                              password=ATTACKER_PW)) == "errors.confirm_password_mismatch"
    assert auth.confirm_link(engine, victims, now=NOW + timedelta(minutes=7), settings=s, password=VICTIM_PW)
    assert _refused(lambda: auth.confirm_link(engine, attackers, now=NOW + timedelta(minutes=8), settings=s)) == \
        "errors.link_invalid"
    (user,) = _users(engine)
    assert user.is_active and user.name == "Victoria"
    assert _accounts_of(engine, VICTIM) == ["7770001"]
    assert _signs_in(engine, DEFAULT, VICTIM, VICTIM_PW, s)
    assert not _signs_in(engine, DEFAULT, VICTIM, ATTACKER_PW, s)


def test_a_newer_attempt_voids_every_earlier_secret_and_resend_follows_the_new_one(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"])
    form = form_for(DEFAULT, s, login=VICTIM, account="5550001", payment="100")
    auth.register(engine, DEFAULT, form | {"password": ATTACKER_PW, "password2": ATTACKER_PW}, now=NOW, settings=s)
    auth.request_reset(engine, DEFAULT, VICTIM, now=NOW, settings=s)  # a reset link of the first attempt
    first_reset = link_token(_mails(s, VICTIM)[-1].text, "/reset")
    auth.register(engine, DEFAULT, form | {"password": VICTIM_PW, "password2": VICTIM_PW}, now=NOW, settings=s)
    assert _refused(lambda: auth.reset_password_with_link(engine, DEFAULT, first_reset, "x" * 20, "x" * 20,
                                                          now=NOW, settings=s)) == "errors.link_invalid"
    auth.resend_confirmation(engine, DEFAULT, VICTIM, now=NOW, settings=s)
    newest = link_token(_mails(s, VICTIM)[-1].text)
    auth.confirm_link(engine, newest, now=NOW, settings=s, password=VICTIM_PW)
    assert _signs_in(engine, DEFAULT, VICTIM, VICTIM_PW, s)


def test_a_link_of_a_replaced_attempt_is_refused_even_if_it_was_never_retired(engine, tmp_path):
    """Each confirmation secret carries its attempt's mark: a link whose attempt is gone is refused
    by that mark alone (the retirement of old links is not the only guard)."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"])
    form = form_for(DEFAULT, s, login=VICTIM, account="5550001", payment="100")
    auth.register(engine, DEFAULT, form, now=NOW, settings=s)
    token = link_token(_mails(s, VICTIM)[-1].text)
    with write_session(engine) as ss:  # the attempt changes behind the link's back
        user = ss.exec(select(User).where(User.login == VICTIM)).one()
        user.password_hash = passwords.hash_password(ATTACKER_PW)
        ss.add(user)
    assert _refused(lambda: auth.confirm_link(engine, token, now=NOW, settings=s)) == "errors.link_invalid"


def test_pre_registration_of_a_phone_number(engine, tmp_path):
    """The same by SMS (Kremenchukgaz: the phone is the login, no account proof)."""
    s = make_settings(tmp_path, KG)
    phone = "+380675056312"
    auth.register(engine, KG, form_for(KG, s, login=phone, password=ATTACKER_PW, password2=ATTACKER_PW),
                  now=NOW, settings=s)
    first = sms_code(wait_outbox(s, kind="sms", to=phone)[-1].text)
    auth.register(engine, KG, form_for(KG, s, login=phone, password=VICTIM_PW, password2=VICTIM_PW),
                  now=NOW, settings=s)
    second = sms_code(wait_outbox(s, kind="sms", to=phone, count=2)[-1].text)
    if first != second:
        assert _refused(lambda: auth.confirm_code(engine, KG, phone, first, now=NOW, settings=s)) == \
            "errors.code_invalid"
    assert _refused(lambda: auth.confirm_code(engine, KG, phone, second, now=NOW, settings=s)) == \
        "errors.confirm_needs_password"  # registered twice: the code alone does not choose
    auth.confirm_code(engine, KG, phone, second, now=NOW, settings=s, password=VICTIM_PW)
    assert _signs_in(engine, KG, phone, VICTIM_PW, s)
    assert not _signs_in(engine, KG, phone, ATTACKER_PW, s)


def test_registering_after_the_owner_gains_the_attacker_nothing_either(engine, tmp_path):
    """The other order (the gap left in session 5): the owner registers, then the attacker
    registers the owner's address again. The newest link in the owner's mailbox is the
    attacker's attempt; clicking it no longer activates the attacker's password — the page asks
    for the password chosen at registration, and the owner's is not the attacker's. The owner
    registers again and confirms their own attempt with their own password."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"], holder="Attacker")
    seed_account(engine, "7770001", ["2500.00"], holder="Victim")
    victim = form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500", password=VICTIM_PW,
                      password2=VICTIM_PW, name="Victoria")
    auth.register(engine, DEFAULT, victim, now=NOW, settings=s)
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="5550001", payment="100",
                                            password=ATTACKER_PW, password2=ATTACKER_PW, name="Mallory"),
                  now=NOW + timedelta(minutes=1), settings=s)
    newest = link_token(_mails(s, VICTIM)[-1].text)  # the attacker's attempt
    later = NOW + timedelta(minutes=2)
    assert _refused(lambda: auth.confirm_link(engine, newest, now=later, settings=s)) == "errors.confirm_needs_password"
    assert _refused(lambda: auth.confirm_link(engine, newest, now=later, settings=s, password=VICTIM_PW)) == \
        "errors.confirm_password_mismatch"
    (user,) = _users(engine)
    assert not user.is_active and not _signs_in(engine, DEFAULT, VICTIM, ATTACKER_PW, s, now=later)
    auth.register(engine, DEFAULT, victim, now=later, settings=s)  # the owner registers again
    own = link_token(_mails(s, VICTIM)[-1].text)
    assert _refused(lambda: auth.confirm_link(engine, newest, now=later, settings=s, password=ATTACKER_PW)) == \
        "errors.link_invalid"  # the attacker's attempt is gone
    auth.confirm_link(engine, own, now=later, settings=s, password=VICTIM_PW)
    assert _signs_in(engine, DEFAULT, VICTIM, VICTIM_PW, s, now=later)
    assert not _signs_in(engine, DEFAULT, VICTIM, ATTACKER_PW, s, now=later)
    assert _accounts_of(engine, VICTIM) == ["7770001"]


def test_a_login_registered_once_confirms_with_the_link_alone(engine, tmp_path):
    """The password is asked only where the login had competing attempts (a resend is the same one)."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["2500.00"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500"),
                  now=NOW, settings=s)
    auth.resend_confirmation(engine, DEFAULT, VICTIM, now=NOW, settings=s)
    newest = link_token(_mails(s, VICTIM)[-1].text)
    assert len(_mails(s, VICTIM)) == 2
    assert auth.confirm_link(engine, newest, now=NOW, settings=s)


# --- point 6: look-alike logins --------------------------------------------------------------------


LOOKALIKES = ["viсtim@example.kz",  # Cyrillic с
              "ｖictim@example.kz",  # full-width v (NFKC)
              "VICTIM@EXAMPLE.KZ",
              "vіctіm@example.kz",  # Cyrillic і
              "victim@exаmple.kz"]  # Cyrillic а in the domain


def test_look_alikes_of_a_login_are_refused_like_the_login(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["2500.00"])
    form = form_for(DEFAULT, s, account="7770001", payment="2500")
    auth.register(engine, DEFAULT, form | {"login": VICTIM}, now=NOW, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, VICTIM)[-1].text), now=NOW, settings=s)
    taken = auth.register(engine, DEFAULT, form | {"login": VICTIM}, now=NOW, settings=s)
    for other in LOOKALIKES:
        out = auth.register(engine, DEFAULT, form | {"login": other}, now=NOW, settings=s)
        # the same answer as for the taken login itself: success, a masked address of the same shape
        assert (type(out), out.confirmation, out.sent_to.partition("@")[0]) == \
            (type(taken), taken.confirmation, taken.sent_to.partition("@")[0]), other
    assert [u.login for u in _users(engine)] == [VICTIM]
    assert {m.to for m in _mails(s)} == {VICTIM}  # nothing went to a look-alike address
    # the full-width spelling is the login itself: it signs in
    assert _signs_in(engine, DEFAULT, "ｖictim@example.kz", form["password"], s)


def test_a_pending_look_alike_does_not_keep_the_owner_out(engine, tmp_path):
    """Someone registers a look-alike of the victim's address first (its link goes nowhere): the
    victim's own registration replaces that pending attempt instead of being refused as taken."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"])
    seed_account(engine, "7770001", ["2500.00"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="viсtim@example.kz", account="5550001", payment="100",
                                            password=ATTACKER_PW, password2=ATTACKER_PW), now=NOW, settings=s)
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500",
                                            password=VICTIM_PW, password2=VICTIM_PW), now=NOW, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, VICTIM)[-1].text), now=NOW, settings=s, password=VICTIM_PW)
    assert [u.login for u in _users(engine) if u.is_active] == [VICTIM]  # the look-alike's attempt never will be
    assert _accounts_of(engine, VICTIM) == ["7770001"]
    assert _signs_in(engine, DEFAULT, VICTIM, VICTIM_PW, s)


def test_look_alike_skeletons():
    same = [("victim@example.kz", v) for v in LOOKALIKES[:1] + LOOKALIKES[3:]]
    same += [("modem@example.kz", "rnodem@example.kz"), ("user1@example.kz", "userl@example.kz"),
             ("paypal@example.kz", "pаypаl@example.kz"), ("olga@example.kz", "оlgа@example.kz")]
    for a, b in same:
        assert identity.login_skeleton(a) == identity.login_skeleton(b), (a, b)
    for a, b in [("victim@example.kz", "victor@example.kz"), ("anna@example.kz", "anna@example.com"),
                 ("+380675056312", "+380675056321"), ("40012345", "40012346")]:
        assert identity.login_skeleton(a) != identity.login_skeleton(b), (a, b)
    assert identity.normalize_login(DEFAULT, "ｖｉｃｔｉｍ＠ｅｘａｍｐｌｅ.ｋｚ") == VICTIM
    assert identity.normalize_login(KG, "０６７ ５０５ ６３ １２") == "+380675056312"
    assert identity.normalize_login(SE, "４００１２３４５") == "40012345"


def _variants(word: str, subs: dict[str, str], n: int) -> list[str]:
    out = [""]
    for ch in word:
        out = [v + alt for v in out for alt in ch + subs.get(ch, "")]
    assert len(out) >= n
    return out[:n]


def test_fifty_look_alikes_registered_at_once_make_one_user(engine, tmp_path):
    """50 registrations at the same moment, each a different look-alike of the same new login:
    the database's unique skeleton lets exactly one in (before: 50 users)."""
    s = make_settings(tmp_path, DEFAULT)
    for i in range(50):  # each with a bill of its own: the proofs do not queue on one account's row
        seed_account(engine, f"77700{i:02d}", ["2500.00"])
    form = form_for(DEFAULT, s, payment="2500")
    logins = [v + "@example.kz" for v in _variants("copax", {"c": "сϲ", "o": "оο", "p": "рρ", "a": "а", "x": "х"}, 50)]
    assert len(set(logins)) == 50 and len({identity.login_skeleton(x) for x in logins}) == 1
    barrier = threading.Barrier(50)
    errors: list = []

    def go(i, login):
        barrier.wait()
        try:
            auth.register(engine, DEFAULT, form | {"login": login, "account_number": f"77700{i:02d}"}, now=NOW,
                          settings=s)
        except Exception as e:  # pragma: no cover - the failure we hunt for
            errors.append(repr(e))

    threads = [threading.Thread(target=go, args=(i, x)) for i, x in enumerate(logins)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == []
    # each is an attempt of its own (a registration not confirmed holds only its own spelling, so
    # that a stranger's look-alike cannot take over someone else's: the attacker test of issue 15)
    assert sorted(u.login for u in _users(engine)) == sorted(logins)
    # ... and of the fifty links clicked at once exactly one confirms: the database's unique
    # look among confirmed users lets one in
    tokens = [link_token(_mails(s, login)[-1].text) for login in logins]
    barrier = threading.Barrier(len(tokens))
    answers: list = []

    def confirm(tok):
        barrier.wait()
        try:
            auth.confirm_link(engine, tok, now=NOW, settings=s)
            answers.append("confirmed")
        except auth.SecretRefused as e:
            answers.append(e.key)

    threads = [threading.Thread(target=confirm, args=(tok,)) for tok in tokens]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert sorted(answers) == ["confirmed"] + ["errors.login_taken"] * 49
    assert sum(u.is_active for u in _users(engine)) == 1


def test_a_new_email_that_looks_like_anothers_login_is_refused(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    for number, login in (("7770001", VICTIM), ("7770002", "mallory@example.kz")):
        seed_account(engine, number, ["10.00"])
        auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=login, account=number, payment="10"), now=NOW,
                      settings=s)
        auth.confirm_link(engine, link_token(_mails(s, login)[-1].text), now=NOW, settings=s)
    mallory = next(u for u in _users(engine) if u.login == "mallory@example.kz")
    pw = form_for(DEFAULT, s)["password"]
    auth.update_user_profile(engine, DEFAULT, mallory.id, {"email": "viсtim@example.kz"}, now=NOW, settings=s,
                             current_password=pw)
    token = link_token(_mails(s, "viсtim@example.kz")[-1].text, "/confirm-email")
    assert _refused(lambda: auth.confirm_email_change(engine, token, now=NOW, settings=s)) == "errors.email_taken"
    assert {u.login for u in _users(engine)} == {VICTIM, "mallory@example.kz"}


# --- point 5: mail as a weapon ---------------------------------------------------------------------


def test_someone_tried_to_register_is_said_once_a_day(engine, tmp_path):
    """31 registrations of a taken login (before: 31 mails to its owner)."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["2500.00"])
    form = form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500")
    auth.register(engine, DEFAULT, form, now=NOW, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, VICTIM)[-1].text), now=NOW, settings=s)
    for i in range(31):
        auth.register(engine, DEFAULT, form, now=NOW + timedelta(minutes=i), settings=s)
    told = [m for m in _mails(s, VICTIM) if "tried to register" in m.subject]
    assert len(told) == 1
    auth.register(engine, DEFAULT, form, now=NOW + auth.ALREADY_REGISTERED_EVERY + timedelta(minutes=1), settings=s)
    assert len([m for m in _mails(s, VICTIM) if "tried to register" in m.subject]) == 2


def test_no_text_of_an_unconfirmed_sender_reaches_an_unconfirmed_address(engine, tmp_path):
    """The name is typed by whoever registers: it never goes to an address that has not proved
    it wants our mail (before: a 100-character name of the sender's choosing in the body)."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["2500.00"])
    spam = "Win a prize at evil.example"
    form = form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500", name=spam, surname=spam)
    auth.register(engine, DEFAULT, form, now=NOW, settings=s)
    auth.resend_confirmation(engine, DEFAULT, VICTIM, now=NOW, settings=s)
    auth.request_reset(engine, DEFAULT, VICTIM, now=NOW, settings=s)  # the reset of a pending user
    mails = _mails(s, VICTIM)
    assert len(mails) == 3 and not any(spam in m.text or spam in m.subject for m in mails), [m.text for m in mails]
    assert all(m.text.startswith("Hello!") for m in mails)


def _parallel(n, fn):
    barrier = threading.Barrier(n)
    errors: list = []

    def run(i):
        barrier.wait()
        try:
            fn(i)
        except DomainError:
            pass
        except Exception as e:  # pragma: no cover - the failure we hunt for
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(180)
    assert errors == []


SE_NO_CAPTCHA = SE.model_copy(update={"captcha": False})


def _se_accounts(engine, n):
    for i in range(n):
        seed_account(engine, f"4001{i:04d}", ["100.00"])


def test_fifty_registrations_mailing_one_address_send_the_limit(engine, tmp_path):
    """50 registrations at once (distinct accounts and sources) that all give the victim's
    address: at most MESSAGES_PER_DESTINATION mails reach it in the hour (before: 50)."""
    s = make_settings(tmp_path, SE_NO_CAPTCHA)
    _se_accounts(engine, 50)
    _parallel(50, lambda i: auth.register(
        engine, SE_NO_CAPTCHA, form_for(SE_NO_CAPTCHA, s, account=f"4001{i:04d}", payment="100", email=VICTIM),
        now=NOW, settings=s, source=throttle.Source(address=f"198.51.100.{i}")))
    assert len(_mails(s, VICTIM)) == auth.MESSAGES_PER_DESTINATION
    assert len(_users(engine)) == 50  # the registrations themselves are made; the rest can ask again later
    later = NOW + auth.MESSAGE_WINDOW + timedelta(seconds=1)
    auth.resend_confirmation(engine, SE_NO_CAPTCHA, "40010049", now=later, settings=s)
    assert len(_mails(s, VICTIM)) == auth.MESSAGES_PER_DESTINATION + 1


def test_fifty_registrations_from_one_source_send_the_source_limit(engine, tmp_path):
    """50 registrations at once from one client address, each to another address: at most
    MESSAGES_PER_SOURCE mails leave (before: 50); another source is not held back."""
    s = make_settings(tmp_path, SE_NO_CAPTCHA)
    _se_accounts(engine, 51)
    _parallel(50, lambda i: auth.register(
        engine, SE_NO_CAPTCHA, form_for(SE_NO_CAPTCHA, s, account=f"4001{i:04d}", payment="100",
                                        email=f"person{i}@example.kz"),
        now=NOW, settings=s, source=throttle.Source(address="203.0.113.7")))
    assert len(_mails(s)) == auth.MESSAGES_PER_SOURCE
    auth.register(engine, SE_NO_CAPTCHA, form_for(SE_NO_CAPTCHA, s, account="40010050", payment="100",
                                                  email="someone@example.kz"),
                  now=NOW, settings=s, source=throttle.Source(address="192.0.2.1"))
    assert len(_mails(s, "someone@example.kz")) == 1


# --- point 7: "resend confirmation" takes the same time for every login ---------------------------


def _medians_ms(calls: dict, tries=30) -> dict:
    """Median milliseconds of each call over ``tries``, the calls taken in turn (warming up and the
    machine's load weigh on each alike)."""
    times: dict = {name: [] for name in calls}
    for _ in range(tries):
        for name, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
            notify.wait_idle()  # the background work of one try does not weigh on the next
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def test_resend_confirmation_takes_the_same_time_for_every_login(engine, tmp_path):
    """Medians over 30 tries for a pending, an unknown and a confirmed login (before: the pending
    one took about twice as long, 11.0 vs 5.4 ms). The database and the mail are the background's
    work now: each answer is the login's normalisation and a hand-over to the worker pool."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["10.00"])
    form = form_for(DEFAULT, s, account="7770001", payment="10")
    auth.register(engine, DEFAULT, form | {"login": "pending@example.kz"}, now=NOW, settings=s)
    auth.register(engine, DEFAULT, form | {"login": "done@example.kz"}, now=NOW, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, "done@example.kz")[-1].text), now=NOW, settings=s)
    medians = _medians_ms({who: (lambda who=who: auth.resend_confirmation(engine, DEFAULT, who, now=NOW, settings=s))
                           for who in ("pending@example.kz", "nobody@example.kz", "done@example.kz")})
    low, high = min(medians.values()), max(medians.values())
    assert high < 1.0 or high / low < 1.5, medians  # well under a millisecond each, or within 50 %
    assert len(_mails(s, "pending@example.kz")) > 1  # and the pending login did get a new link


# --- point 8: registrations never confirmed are removed ----------------------------------------------


def test_unconfirmed_users_whose_links_expired_are_removed(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["10.00"])
    form = form_for(DEFAULT, s, account="7770001", payment="10")
    roomy = DEFAULT.model_copy(update={"max_holders_per_account": 10})  # four holders of one account
    auth.register(engine, roomy, form | {"login": "old@example.kz"}, now=NOW, settings=s)
    auth.register(engine, roomy, form | {"login": "renewed@example.kz"}, now=NOW, settings=s)
    auth.register(engine, roomy, form | {"login": "kept@example.kz"}, now=NOW, settings=s)
    auth.register(engine, roomy, form | {"login": "done@example.kz"}, now=NOW, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, "done@example.kz")[-1].text), now=NOW, settings=s)
    auth.register(engine, roomy, form | {"login": "wrote@example.kz"}, now=NOW, settings=s)
    with write_session(engine) as ss:  # something else refers to this one: it is kept
        wrote = ss.exec(select(User).where(User.login == "wrote@example.kz")).one()
        ss.add(CustomerMessage(user_id=wrote.id, kind="contact", subject="s", body="b", created_at=NOW))
    later = NOW + auth.CONFIRM_LINK_TTL + timedelta(hours=1)
    auth.resend_confirmation(engine, DEFAULT, "renewed@example.kz", now=later - timedelta(hours=2), settings=s)
    notify.wait_idle()  # its work is done in the background
    kept_old = NOW + auth.CONFIRM_LINK_TTL - timedelta(minutes=1)
    assert auth.purge_unconfirmed(engine, now=kept_old) == 0  # nobody before the links expire
    assert auth.purge_unconfirmed(engine, now=later) == 2  # old@ and kept@ (renewed@ has a live link)
    assert sorted(u.login for u in _users(engine)) == ["done@example.kz", "renewed@example.kz", "wrote@example.kz"]
    with read_session(engine) as ss:
        owners = set(ss.exec(select(OneTimeSecret.user_id)).all()) | set(ss.exec(select(UserAccountLink.user_id)).all())
        assert owners <= {u.id for u in _users(engine)}  # their secrets and links went with them
    # the login is free again: a new registration is a new user, confirmed by its own link
    auth.register(engine, roomy, form | {"login": "old@example.kz"}, now=later, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, "old@example.kz")[-1].text), now=later, settings=s)
    assert _signs_in(engine, DEFAULT, "old@example.kz", form["password"], s, now=later)


def test_each_registration_removes_the_expired_ones(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "7770001", ["10.00"])
    form = form_for(DEFAULT, s, account="7770001", payment="10")
    auth.register(engine, DEFAULT, form | {"login": "old@example.kz"}, now=NOW, settings=s)
    later = NOW + auth.CONFIRM_LINK_TTL + timedelta(minutes=1)
    auth.register(engine, DEFAULT, form | {"login": "new@example.kz"}, now=later, settings=s)
    notify.wait_idle()  # the removal runs after the answer
    assert [u.login for u in _users(engine)] == ["new@example.kz"]
    with read_session(engine) as ss:
        assert ss.exec(sa.select(sa.func.count()).select_from(AuthSession)).one()[0] == 0


def test_the_purge_as_a_scheduled_job(sqlite_engine):
    """``python -m gazportal.cli purge-unconfirmed`` (for a daily job)."""
    import subprocess
    import sys
    from datetime import UTC, datetime

    from tests.conftest import ROOT, add_user

    with write_session(sqlite_engine) as ss:
        add_user(ss, "old@example.kz", is_active=False, email_verified=False,
                 created_at=datetime.now(UTC) - timedelta(days=3))
        add_user(ss, "fresh@example.kz", is_active=False, email_verified=False)
        add_user(ss, "done@example.kz", created_at=datetime.now(UTC) - timedelta(days=3))
    p = subprocess.run([sys.executable, "-m", "gazportal.cli", "--db-url", str(sqlite_engine.url),
                        "purge-unconfirmed"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "purge-unconfirmed: 1 registrations never confirmed removed"
    assert [u.login for u in _users(sqlite_engine)] == ["fresh@example.kz", "done@example.kz"]


def test_a_look_alike_registration_does_not_take_over_a_pending_one(engine, tmp_path):
    """Found by the attacker test of issue 15: the victim registers v3@example.com and has not
    confirmed yet; the attacker registers v3@exаmple.com (Cyrillic а) with their own bill. Before,
    that replaced the victim's attempt and moved its login to the look-alike, whose link the
    attacker confirmed: the owner was locked out of their own address. Now each is its own
    attempt; the victim's link still works, and the first confirmed keeps the look."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"], holder="Attacker")
    seed_account(engine, "7770001", ["2500.00"], holder="Victim")
    look = "victim@exаmple.kz"  # Cyrillic а
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500",
                                            password=VICTIM_PW, password2=VICTIM_PW), now=NOW, settings=s)
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=look, account="5550001", payment="100",
                                            password=ATTACKER_PW, password2=ATTACKER_PW), now=NOW, settings=s)
    assert sorted(u.login for u in _users(engine)) == sorted([VICTIM, look])  # two attempts, the victim's intact
    victims = link_token(_mails(s, VICTIM)[-1].text)
    attackers = link_token(_mails(s, look)[-1].text)
    auth.confirm_link(engine, victims, now=NOW, settings=s)  # no password asked: one attempt of this login
    assert _signs_in(engine, DEFAULT, VICTIM, VICTIM_PW, s)
    assert _refused(lambda: auth.confirm_link(engine, attackers, now=NOW, settings=s)) == "errors.login_taken"
    assert {u.login: u.is_active for u in _users(engine)} == {VICTIM: True, look: False}


def test_the_first_confirmed_look_alike_keeps_the_look_and_the_other_is_told(engine, tmp_path):
    """The other way round: the attacker confirms the look-alike first. The victim's own link is
    then refused with a message that says why, and their login is not taken over."""
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"])
    seed_account(engine, "7770001", ["2500.00"])
    look = "victim@exаmple.kz"
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=VICTIM, account="7770001", payment="2500"),
                  now=NOW, settings=s)
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=look, account="5550001", payment="100",
                                            password=ATTACKER_PW, password2=ATTACKER_PW), now=NOW, settings=s)
    auth.confirm_link(engine, link_token(_mails(s, look)[-1].text), now=NOW, settings=s)
    victims = link_token(_mails(s, VICTIM)[-1].text)
    assert _refused(lambda: auth.confirm_link(engine, victims, now=NOW, settings=s)) == "errors.login_taken"
    logins = {u.login: u.is_active for u in _users(engine)}
    assert logins == {VICTIM: False, look: True}  # nothing of the victim's attempt moved


def test_two_look_alikes_confirmed_at_once_make_one_user(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "5550001", ["100.00"])
    seed_account(engine, "7770001", ["2500.00"])
    look = "victim@exаmple.kz"
    for login, number, pay in ((VICTIM, "7770001", "2500"), (look, "5550001", "100")):
        auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=login, account=number, payment=pay),
                      now=NOW, settings=s)
    tokens = [link_token(_mails(s, VICTIM)[-1].text), link_token(_mails(s, look)[-1].text)]
    import threading

    results: list[str | None] = []
    barrier = threading.Barrier(2)

    def confirm(tok):
        barrier.wait()
        results.append(_refused(lambda: auth.confirm_link(engine, tok, now=NOW, settings=s)))

    threads = [threading.Thread(target=confirm, args=(tok,)) for tok in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results, key=str) == sorted([None, "errors.login_taken"], key=str)
    assert sum(u.is_active for u in _users(engine)) == 1
