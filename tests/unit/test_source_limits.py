"""Issue 15 point 2, attacked by calling the services directly (SQLite and PostgreSQL): failures
of sign-in and of the registration proof are bound to their source (services/throttle.py), so a
stranger who knows a login or an account number cannot keep its holder out.

Before: five wrong passwords locked a login for everyone for 15 minutes (the holder's right
password refused); ten wrong proofs blocked the registration of an account number for everyone
for an hour. After: the guessing source waits (1 minute, doubling), unknown sources are asked for
the CAPTCHA, the holder's known device goes straight in, and the holder is told once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models.accounts import Account, UserAccountLink
from gazportal.models.auth import KnownDevice, LoginThrottle
from gazportal.models.people import User
from gazportal.services import auth, notify, throttle
from gazportal.services.auth.registration import PROOF_LIMITS
from gazportal.services.auth.sessions import SIGN_IN_GLOBAL_CAPTCHA_AFTER, SIGN_IN_GLOBAL_WINDOW, sign_in_limits
from gazportal.services.errors import DomainError, FormErrors, Notice
from gazportal.services.i18n import t
from test_auth_kit import (  # noqa: F401 - fixtures
    AG, DEFAULT, GOOD_PW, KG, NOW, cheap_argon2, form_for, make_settings, new_device, seed_account, smtp_server,
    smtp_to, sms_code, solve_captcha, source, wait_outbox,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")

LOGIN = "aigerim.ivanova@example.kz"
PW = GOOD_PW["default"]
MIN = timedelta(minutes=1)


def _refusal(fn):
    try:
        fn()
    except FormErrors as e:
        return e.key, dict(e.fields)
    except DomainError as e:
        return e.key, e.params
    return None


def _holder(engine, s, *, language="en", number="100200300"):
    """An active default-profile user with an account; returns the user id."""
    seed_account(engine, number, ["1234.50"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, account=number, language=language), now=NOW - 2 * MIN,
                  settings=s)
    with write_session(engine) as ss:
        user = ss.exec(select(User).where(User.login == LOGIN)).one()
        user.is_active = user.email_verified = True
        ss.add(user)
        return user.id


def _hammer(engine, s, utility, login, src, start, n):
    """``n`` wrong passwords from ``src``, each at the first moment the source may try again, each
    with a solved CAPTCHA (the strongest attacker). Returns (the wait each failure started, the
    moment after the last)."""
    now, waits = start, []
    for i in range(n):
        got = _refusal(lambda i=i, now=now: auth.sign_in(engine, utility, login, f"Wrong-{i}!", now=now, settings=s,
                                                         source=src, captcha=solve_captcha(s)))
        if got == ("errors.sign_in_failed", {}):
            waits.append(None)
        else:
            assert got[0] == "errors.sign_in_locked", got
            waits.append(got[1]["wait"])
            now += got[1]["wait"]
    return waits, now


def _rows(engine):
    with read_session(engine) as ss:
        return ss.exec(select(LoginThrottle)).all()


def _counts(engine, scope, target):
    """(failures on the target, failures in the scope) as stored."""
    key = throttle.target_key(scope, target)
    with read_session(engine) as ss:
        whole = ss.exec(select(LoginThrottle).where(LoginThrottle.identifier_hash == key)).first()
        everyone = ss.exec(select(LoginThrottle).where(
            LoginThrottle.identifier_hash == throttle._global_key(scope))).first()
    return (whole.failures if whole else 0), (everyone.failures if everyone else 0)


def _login_target(s, login=LOGIN):
    from gazportal.services.auth._base import _identifier_hash

    return _identifier_hash(s, DEFAULT, "login", login)


# --- sign-in ------------------------------------------------------------------------------------


def test_fifty_wrong_passwords_from_one_source_do_not_keep_the_holder_out(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    home = new_device()
    # the holder signed in from their own browser before: a known device
    auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW - MIN, settings=s, source=source(s, "192.0.2.10", home))
    attacker = source(s, "198.51.100.66", new_device())
    waits, end = _hammer(engine, s, DEFAULT, LOGIN, attacker, NOW, 50)
    # every one of the 50 was checked; the attacker's own waits: 1 minute after the profile's
    # max_failed_logins (5), doubling, at most lockout_minutes (15)
    n, cap = DEFAULT.max_failed_logins, timedelta(minutes=DEFAULT.lockout_minutes)
    assert waits == [None] * (n - 1) + [MIN, 2 * MIN, 4 * MIN, 8 * MIN] + [cap] * (50 - n - 3)
    # the attacker's source still waits, even with the right password
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=end - MIN, settings=s, source=attacker,
                                         captcha=solve_captcha(s))) == ("errors.sign_in_locked", {"wait": MIN})
    # the holder's known device, even behind the attacker's own address: in at once, no CAPTCHA
    same_address = source(s, "198.51.100.66", home)
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=end - MIN, settings=s, source=same_address)
    # the holder on a new device elsewhere: the CAPTCHA, then in — never refused for the right answer
    phone = source(s, "203.0.113.50", new_device())
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=end - MIN, settings=s, source=phone)) == \
        ("errors.sign_in_captcha", {})
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=end - MIN, settings=s, source=phone, captcha=solve_captcha(s))
    # a forged or replayed solution is no solution
    replay = solve_captcha(s)
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=end - MIN, settings=s, source=source(s, "203.0.113.51"),
                        captcha=replay)
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=end - MIN, settings=s,
                                         source=source(s, "203.0.113.52"), captcha=replay)) == \
        ("errors.sign_in_captcha", {})
    # the right passwords gave their count back: 50 failures on the login, all the attacker's
    assert _counts(engine, "sign_in", _login_target(s))[0] == 50


def test_the_old_rule_would_have_refused_the_holder(engine, tmp_path):
    """The same attack as a single anonymous source (what every caller was before issue 15):
    that source waits — a wait the holder shares only if they are that very source."""
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    for _ in range(DEFAULT.max_failed_logins):
        _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, "nope-nope-1", now=NOW, settings=s))
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s))[0] == \
        "errors.sign_in_locked"
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, "192.0.2.1"),
                        captcha=solve_captcha(s))


def test_a_right_password_never_counts(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    n = DEFAULT.max_failed_logins
    for i in range(n - 1):
        _refusal(lambda i=i: auth.sign_in(engine, DEFAULT, LOGIN, "nope-nope-1", now=NOW, settings=s,
                                          source=source(s, f"198.51.100.{i}")))
    # n right passwords from n new sources: none of them tips the login into the CAPTCHA
    for i in range(n):
        assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, f"203.0.113.{i}"))
    assert _counts(engine, "sign_in", _login_target(s)) == (n - 1, n - 1)
    # one more failure does
    _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, "nope-nope-1", now=NOW, settings=s,
                                  source=source(s, "198.51.100.200")))
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s,
                                         source=source(s, "203.0.113.200")))[0] == "errors.sign_in_captcha"


def test_failures_are_forgotten_after_a_quiet_day(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    here = source(s, "198.51.100.9")
    _hammer(engine, s, DEFAULT, LOGIN, here, NOW, DEFAULT.max_failed_logins + 2)
    day = sign_in_limits(DEFAULT).memory
    later = NOW + day + timedelta(hours=1)
    # a day without failures: no wait, no CAPTCHA, a fresh count
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=later, settings=s, source=source(s, "203.0.113.9"))
    got = [_refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, "x-x-x-x-1", now=later, settings=s, source=here))
           for _ in range(DEFAULT.max_failed_logins)]
    assert got[:-1] == [("errors.sign_in_failed", {})] * (DEFAULT.max_failed_logins - 1)
    assert got[-1] == ("errors.sign_in_locked", {"wait": MIN})


def test_an_ipv6_subscriber_is_one_source(engine, tmp_path):
    """An IPv6 subscriber gets a whole /64: its addresses count as one source."""
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    n = DEFAULT.max_failed_logins
    got = [_refusal(lambda i=i: auth.sign_in(engine, DEFAULT, LOGIN, "x-x-x-x-1", now=NOW, settings=s,
                                             source=source(s, f"2001:db8:1:2::{i + 1:x}"), captcha=solve_captcha(s)))
           for i in range(n + 1)]
    assert got[n - 1] == ("errors.sign_in_locked", {"wait": MIN})
    assert got[n] == ("errors.sign_in_locked", {"wait": MIN})  # another address of the same /64
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s,
                                         source=source(s, "2001:db8:1:3::1"), captcha=solve_captcha(s))) is None


def _parallel(n, fn):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        results[i] = _refusal(lambda: fn(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results


def test_fifty_parallel_guesses_from_fifty_sources_keep_the_counts_exact(engine, tmp_path):
    """Distributed guessing at once: without the CAPTCHA exactly max_failed_logins guesses are
    checked, the rest are asked for it; with it solved each guess is counted exactly once."""
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    n, limit = 50, DEFAULT.max_failed_logins
    got = _parallel(n, lambda i: auth.sign_in(engine, DEFAULT, LOGIN, f"Guess-{i}!", now=NOW, settings=s,
                                              source=source(s, f"198.51.100.{i}")))
    keys = [g[0] for g in got]
    assert keys.count("errors.sign_in_failed") == limit and keys.count("errors.sign_in_captcha") == n - limit, keys
    assert _counts(engine, "sign_in", _login_target(s)) == (limit, limit)
    solutions = [solve_captcha(s) for _ in range(n)]
    got = _parallel(n, lambda i: auth.sign_in(engine, DEFAULT, LOGIN, f"Guess-{i}!", now=NOW, settings=s,
                                              source=source(s, f"203.0.113.{i}"), captcha=solutions[i]))
    assert [g[0] for g in got] == ["errors.sign_in_failed"] * n
    assert _counts(engine, "sign_in", _login_target(s)) == (limit + n, limit + n)
    with read_session(engine) as ss:
        per_source = ss.exec(select(LoginThrottle).where(
            LoginThrottle.target_hash == throttle.target_key("sign_in", _login_target(s)))).all()
    # one failure for each source that was let through; the 45 asked for the CAPTCHA counted nothing
    assert sorted(r.failures for r in per_source if r.failures) == [1] * (limit + n)
    assert len(per_source) == 2 * n
    # through all of it the holder's known device is not held back
    home = new_device()
    with write_session(engine) as ss:
        throttle.remember_device(ss, _holder_id(engine), source(s, "192.0.2.1", home), NOW)
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, "198.51.100.0", home))


def _holder_id(engine):
    with read_session(engine) as ss:
        return ss.exec(select(User.id).where(User.login == LOGIN)).one()


def test_guessing_many_logins_asks_every_unknown_source_for_the_captcha(engine, tmp_path):
    """One guess on each of many logins never reaches a login's own threshold: the scope's counter
    does (SIGN_IN_GLOBAL_CAPTCHA_AFTER failures within SIGN_IN_GLOBAL_WINDOW)."""
    s = make_settings(tmp_path, DEFAULT)
    _holder(engine, s)
    home = new_device()
    auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW - MIN, settings=s, source=source(s, "192.0.2.10", home))
    for i in range(SIGN_IN_GLOBAL_CAPTCHA_AFTER):
        login = LOGIN if i == 0 else f"u{i}@example.kz"
        assert _refusal(lambda login=login, i=i: auth.sign_in(
            engine, DEFAULT, login, "guess-123", now=NOW, settings=s, source=source(s, f"10.0.{i // 250}.{i % 250}"))) \
            == ("errors.sign_in_failed", {}), i
    fresh = source(s, "203.0.113.77")
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, "new@example.kz", "guess-123", now=NOW, settings=s,
                                         source=fresh)) == ("errors.sign_in_captcha", {})
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=fresh)) == \
        ("errors.sign_in_captcha", {})
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=fresh, captcha=solve_captcha(s))
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, "203.0.113.78", home))
    # the window ends: no CAPTCHA for a fresh login from a fresh source
    assert _refusal(lambda: auth.sign_in(engine, DEFAULT, "new@example.kz", "guess-123",
                                         now=NOW + SIGN_IN_GLOBAL_WINDOW, settings=s, source=fresh)) == \
        ("errors.sign_in_failed", {})


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_holder_is_told_once_per_episode_by_mail(engine, tmp_path, smtp_server, lang):  # noqa: F811
    inbox, port = smtp_server
    s = make_settings(tmp_path, DEFAULT, smtp=smtp_to(port))
    _holder(engine, s, language=lang)
    notify.wait_idle()
    inbox.messages.clear()  # the confirmation
    home = source(s, "192.0.2.10", new_device())
    auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW - MIN, settings=s, source=home)
    # the holder's own typos on a known device are not an attack: nothing is sent
    for _ in range(DEFAULT.max_failed_logins):
        _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, "typo-typo-1", now=NOW, settings=s, source=home))
    notify.wait_idle()
    assert inbox.messages == []
    # 49 wrong passwords of an attacker: one message, in the holder's language (the next comes at
    # ten times the first count: test_account_holders' tenfold test)
    _, end = _hammer(engine, s, DEFAULT, LOGIN, source(s, "198.51.100.66"), NOW, 10 * DEFAULT.max_failed_logins - 1)
    notify.wait_idle()
    assert len(inbox.messages) == 1
    rcpt, msg = inbox.messages[0]
    assert rcpt == [LOGIN]
    assert msg["Subject"].replace(" ", "") == \
        t("mail.sign_in_attack_subject", lang, portal=DEFAULT.short_name).replace(" ", "")  # see below
    text = notify.mail_text(msg).replace("\r\n", "\n")
    assert str(DEFAULT.max_failed_logins) in text and "https://portal.example/recover" in text
    assert text.strip() == t("mail.sign_in_attack_body", lang, portal=DEFAULT.short_name,
                             count=DEFAULT.max_failed_logins, name="Айгерим",
                             recover="https://portal.example/recover").strip()
    # a new episode after a quiet day: told again, once
    _hammer(engine, s, DEFAULT, LOGIN, source(s, "198.51.100.67"), end + timedelta(days=1), 10)
    notify.wait_idle()
    assert len(inbox.messages) == 2


def test_a_right_password_at_the_threshold_tells_no_one(engine, tmp_path, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    s = make_settings(tmp_path, DEFAULT, smtp=smtp_to(port))
    _holder(engine, s)
    notify.wait_idle()
    inbox.messages.clear()
    for i in range(DEFAULT.max_failed_logins - 1):
        _refusal(lambda i=i: auth.sign_in(engine, DEFAULT, LOGIN, "nope-nope-1", now=NOW, settings=s,
                                          source=source(s, f"198.51.100.{i}")))
    # this attempt reaches the threshold when counted, then turns out right: no episode
    assert auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, "203.0.113.1"))
    notify.wait_idle()
    assert inbox.messages == []
    _refusal(lambda: auth.sign_in(engine, DEFAULT, LOGIN, "nope-nope-1", now=NOW, settings=s,
                                  source=source(s, "198.51.100.99")))
    notify.wait_idle()
    assert len(inbox.messages) == 1


def test_a_phone_login_is_told_by_sms(engine, tmp_path):
    s = make_settings(tmp_path, KG)
    phone = "+380675056312"
    auth.register(engine, KG, form_for(KG, s, login=phone, language="uk"), now=NOW, settings=s)
    code = sms_code(wait_outbox(s, kind="sms", to=phone)[-1].text)
    auth.confirm_code(engine, KG, phone, code, now=NOW, settings=s)
    _hammer(engine, s, KG, phone, source(s, "198.51.100.66"), NOW, 20)
    sms = wait_outbox(s, kind="sms", to=phone, count=2)
    assert [m.text for m in sms[1:]] == [t("sms.sign_in_attack", "uk", portal=KG.short_name,
                                           count=KG.max_failed_logins)]


def test_unknown_logins_are_counted_alike_and_tell_no_one(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    got = [_refusal(lambda i=i: auth.sign_in(engine, DEFAULT, "nobody@example.kz", "guess-123", now=NOW, settings=s,
                                             source=source(s, f"198.51.100.{i}")))
           for i in range(DEFAULT.max_failed_logins + 1)]
    assert got == [("errors.sign_in_failed", {})] * DEFAULT.max_failed_logins + [("errors.sign_in_captcha", {})]
    notify.wait_idle()
    assert notify.read_outbox(settings=s) == []


def test_a_sign_in_makes_the_device_known_and_nothing_without_a_cookie(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    uid = _holder(engine, s)
    device = new_device()
    auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, "192.0.2.1", device))
    auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW + MIN, settings=s, source=source(s, "192.0.2.2", device))
    auth.sign_in(engine, DEFAULT, LOGIN, PW, now=NOW, settings=s, source=source(s, "192.0.2.3"))
    with read_session(engine) as ss:
        rows = ss.exec(select(KnownDevice)).all()
    assert [(r.user_id, r.device_hash, r.first_seen_at, r.last_seen_at) for r in rows] == \
        [(uid, throttle.device_hash(device, settings=s), NOW, NOW + MIN)]
    assert device not in rows[0].device_hash  # only its HMAC is kept


# --- the registration proof ---------------------------------------------------------------------


def _ag_attempt(engine, s, src, now, *, payment, login, captcha=True, account="0100000001"):
    form = form_for(AG, s, account=account, payment=payment, login=login)
    return _refusal(lambda: auth.register(engine, AG, form | {"captcha": solve_captcha(s) if captcha else ""},
                                          now=now, settings=s, source=src))


def test_fifty_wrong_proofs_do_not_keep_the_holder_from_registering(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    seed_account(engine, "0100000001", ["1234.50"])
    attacker = source(s, "198.51.100.66", new_device())
    now, waits = NOW, []
    for i in range(50):
        got = _ag_attempt(engine, s, attacker, now, payment=f"{i + 1}.00", login=f"x{i}@example.kz")
        assert got[0] == "errors.form_invalid" and got[1]["last_payment"] == Notice("errors.proof_mismatch"), got
        first = got[1]["account_number"]
        waits.append(first.params.get("wait"))
        now += first.params.get("wait", timedelta(0))
    hour = PROOF_LIMITS.longest_wait
    k = PROOF_LIMITS.free_failures
    assert waits == [None] * (k - 1) + [MIN * 2 ** i for i in range(6)] + [hour] * (50 - k - 5)
    # the attacker's source waits, even with the right payment
    assert _ag_attempt(engine, s, attacker, now - MIN, payment="1234.50", login=LOGIN) == \
        ("errors.form_invalid", {"account_number": Notice("errors.proof_locked", {"wait": MIN})})
    # the real holder from elsewhere: asked for the CAPTCHA (nothing else checked or counted) ...
    holder = source(s, "203.0.113.9", new_device())
    assert _ag_attempt(engine, s, holder, now - MIN, payment="1234.50", login=LOGIN, captcha=False) == \
        ("errors.form_invalid", {"captcha": Notice("errors.captcha_required")})
    # ... and registered with it solved
    assert auth.register(engine, AG, form_for(AG, s, account="0100000001", login=LOGIN) | {"captcha": solve_captcha(s)},
                         now=now - MIN, settings=s, source=holder)
    with read_session(engine) as ss:
        user = ss.exec(select(User).where(User.login == LOGIN)).one()
        assert ss.exec(select(UserAccountLink).where(UserAccountLink.user_id == user.id)).one()


def test_a_known_device_of_the_account_needs_no_captcha_and_holders_are_told(engine, tmp_path, smtp_server):  # noqa: F811
    """A household member already registered with the account signs in on the family computer;
    another member registers from it while the number is being guessed: no CAPTCHA. The linked
    user is told of the guessing once."""
    inbox, port = smtp_server
    s = make_settings(tmp_path, AG, smtp=smtp_to(port))
    seed_account(engine, "0100000001", ["1234.50"])
    auth.register(engine, AG, form_for(AG, s, account="0100000001", language="ru"), now=NOW, settings=s)
    family = source(s, "192.0.2.44", new_device())
    auth.sign_in(engine, AG, LOGIN, GOOD_PW["almaty_gas"], now=NOW, settings=s, source=family)
    notify.wait_idle()
    inbox.messages.clear()
    for i in range(PROOF_LIMITS.captcha_after):
        _ag_attempt(engine, s, source(s, f"198.51.100.{i}"), NOW, payment=f"{i + 1}.00", login=f"x{i}@example.kz")
    notify.wait_idle()
    # (spaces aside: Python 3.11's header folder drops the space where it splits a long
    # Cyrillic subject into encoded words — notify.build_mail, noted in the report)
    assert [(r, m["Subject"].replace(" ", "")) for r, m in inbox.messages] == \
        [([LOGIN], t("mail.proof_attack_subject", "ru", portal=AG.short_name).replace(" ", ""))]
    assert "0100000001" in notify.mail_text(inbox.messages[0][1])
    assert _ag_attempt(engine, s, source(s, "203.0.113.1"), NOW, payment="1234.50", login="son@example.kz",
                       captcha=False)[1] == {"captcha": Notice("errors.captcha_required")}
    assert auth.register(engine, AG, form_for(AG, s, account="0100000001", login="son@example.kz"), now=NOW,
                         settings=s, source=family)


def test_fifty_parallel_wrong_proofs_from_one_source_get_exactly_the_free_checks(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    seed_account(engine, "0100000001", ["1234.50"])
    attacker = source(s, "198.51.100.66")
    forms = [form_for(AG, s, account="0100000001", payment=f"{i + 1}.00", login=f"x{i}@example.kz")
             for i in range(50)]
    got = _parallel(50, lambda i: auth.register(engine, AG, forms[i], now=NOW, settings=s, source=attacker))
    first = [g[1]["account_number"].key for g in got]
    checked = [g for g in got if "last_payment" in g[1]]
    assert len(checked) == PROOF_LIMITS.free_failures, got
    assert first.count("errors.proof_locked") == 50 - PROOF_LIMITS.free_failures + 1
    from gazportal.services.auth._base import _identifier_hash
    assert _counts(engine, "proof", _identifier_hash(s, AG, "proof", "0100000001")) == \
        (PROOF_LIMITS.free_failures, PROOF_LIMITS.free_failures)
    # the holder from elsewhere registers at once (5 failures: below the CAPTCHA's 10)
    assert auth.register(engine, AG, form_for(AG, s, account="0100000001", login=LOGIN), now=NOW, settings=s,
                         source=source(s, "203.0.113.9"))
    with read_session(engine) as ss:
        assert ss.exec(sa.select(sa.func.count()).select_from(User)).one()[0] == 1
        assert ss.exec(select(Account)).one()
