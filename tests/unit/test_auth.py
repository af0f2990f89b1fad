"""Registration, confirmation, sign-in, sessions, recovery and profile, on the real database
(SQLite and PostgreSQL), with a real SMTP server (aiosmtpd) and the outbox SMS provider."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models.accounts import UserAccountLink
from gazportal.models.auth import AuthSession, OneTimeSecret
from gazportal.models.people import User
from gazportal.services import auth, notify, passwords
from gazportal.services.errors import FormErrors, NotFound, Notice
from gazportal.services.identifiers import make_bin
from gazportal.settings import Smtp
from test_auth_kit import (  # noqa: F401 - fixtures
    AG, DEFAULT, GOOD_PW, KG, NOW, SE, cheap_argon2, form_for, link_token, make_settings, new_device,
    seed_account, sms_code, smtp_server, source, wait_outbox,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def _user(engine, login) -> User:
    with read_session(engine) as s:
        return s.exec(select(User).where(User.login == login)).one()


# --- e-mail link over real SMTP -----------------------------------------------------------------


def test_register_confirm_by_mail_over_smtp_then_sign_in(engine, tmp_path, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    smtp = Smtp(host="127.0.0.1", port=port, username=None, password=None, starttls=True, use_tls=False,
                sender="no-reply@portal.example")
    s = make_settings(tmp_path, SE, smtp=smtp)
    seed_account(engine, "40012345", ["900.00", "1234.50"])
    out = auth.register(engine, SE, form_for(SE, s, account="40 012 345", payment="1234.5"), now=NOW, settings=s)
    assert out == auth.RegistrationOutcome(login="40012345", confirmation="email_link", sent_to="a***@example.kz")
    notify.wait_idle()
    assert len(inbox.messages) == 1
    rcpt, msg = inbox.messages[0]
    assert rcpt == ["aigerim@example.kz"] and "Шығысэнерготрейд" in msg["Subject"]
    token = link_token(notify.mail_text(msg))
    assert len(token) >= 43  # 256 bits in base64url

    # not confirmed yet: sign-in refused with its own key (only someone with the password sees it)
    with pytest.raises(auth.SignInRefused) as e:
        auth.sign_in(engine, SE, "40012345", GOOD_PW[SE.id], now=NOW, settings=s)
    assert e.value.key == "errors.sign_in_not_confirmed"

    uid = auth.confirm_link(engine, token, now=NOW + timedelta(minutes=5), settings=s)
    u = _user(engine, "40012345")
    assert uid == u.id and u.is_active and u.email_verified and u.email == "aigerim@example.kz"
    with read_session(engine) as ss:
        links = ss.exec(select(UserAccountLink).where(UserAccountLink.user_id == uid)).all()
    assert len(links) == 1
    # the raw token is nowhere in the database
    with read_session(engine) as ss:
        hashes = [r.secret_hash for r in ss.exec(select(OneTimeSecret)).all()]
    assert token not in "".join(hashes) and all(len(h) == 64 for h in hashes)

    signed = auth.sign_in(engine, SE, "40012345", GOOD_PW[SE.id], remember=False, now=NOW + timedelta(minutes=6),
                          user_agent="pytest", settings=s)
    assert signed.user_id == uid and not signed.remember
    assert signed.expires_at == NOW + timedelta(minutes=6, hours=s.session_absolute_hours)
    who = auth.resolve_session(engine, signed.token, now=NOW + timedelta(minutes=7), settings=s)
    assert who.user_id == uid and who.login == "40012345" and who.display_name == "Айгерим Иванова"


def test_default_profile_mail_link_via_outbox_and_reused_link(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "1234567", ["1234.50"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, account="1234567"), now=NOW, settings=s)
    (mail,) = wait_outbox(s, kind="mail", to="aigerim.ivanova@example.kz")
    token = link_token(mail.text)
    auth.confirm_link(engine, token, now=NOW, settings=s)
    with pytest.raises(auth.SecretRefused) as e:  # reused
        auth.confirm_link(engine, token, now=NOW, settings=s)
    assert e.value.key == "errors.link_invalid"
    assert auth.sign_in(engine, DEFAULT, "AIGERIM.IVANOVA@example.kz", GOOD_PW["default"], now=NOW, settings=s)


def test_expired_and_wrong_purpose_links_refused(engine, tmp_path):
    s = make_settings(tmp_path, DEFAULT)
    seed_account(engine, "1234567", ["1234.50"])
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, account="1234567"), now=NOW, settings=s)
    token = link_token(wait_outbox(s, kind="mail")[0].text)
    with pytest.raises(auth.SecretRefused) as e:
        auth.confirm_link(engine, token, now=NOW + timedelta(hours=24, seconds=1), settings=s)
    assert e.value.key == "errors.link_expired"
    # a confirmation link is not a reset link nor an e-mail change link
    with pytest.raises(auth.SecretRefused):
        auth.reset_password_with_link(engine, DEFAULT, token, "new green apple 77", "new green apple 77",
                                      now=NOW, settings=s)
    with pytest.raises(auth.SecretRefused):
        auth.confirm_email_change(engine, token, now=NOW, settings=s)
    # a fresh one works, and it retires the old one
    auth.resend_confirmation(engine, DEFAULT, "aigerim.ivanova@example.kz", now=NOW, settings=s)
    items = wait_outbox(s, kind="mail", count=2)
    token2 = link_token(items[-1].text)
    assert token2 != token
    auth.confirm_link(engine, token2, now=NOW, settings=s)


# --- SMS code ----------------------------------------------------------------------------------------


def test_kremenchukgaz_sms_code_flow(engine, tmp_path):
    s = make_settings(tmp_path, KG)
    out = auth.register(engine, KG, form_for(KG, s, login="067 505 63 12"), now=NOW, settings=s)
    assert out.login == "+380675056312" and out.confirmation == "sms_code"
    (sms,) = wait_outbox(s, kind="sms", to="+380675056312")
    code = sms_code(sms.text)
    uid = auth.confirm_code(engine, KG, "+380675056312", code, now=NOW + timedelta(minutes=2), settings=s)
    u = _user(engine, "+380675056312")
    assert u.id == uid and u.is_active and u.phone_verified and u.phone == "+380675056312"
    with pytest.raises(auth.SecretRefused):  # single use
        auth.confirm_code(engine, KG, "+380675056312", code, now=NOW + timedelta(minutes=3), settings=s)
    assert auth.sign_in(engine, KG, "0675056312", GOOD_PW[KG.id], now=NOW, settings=s).user_id == uid


def _kg_user(engine, s, phone="+380675056312"):
    auth.register(engine, KG, form_for(KG, s, login=phone), now=NOW, settings=s)
    return sms_code(wait_outbox(s, kind="sms", to=phone)[-1].text)


def test_code_expired_foreign_and_attempts(engine, tmp_path):
    s = make_settings(tmp_path, KG)
    code_a = _kg_user(engine, s, "+380675056312")
    code_b = _kg_user(engine, s, "+380501234567")
    # expired
    with pytest.raises(auth.SecretRefused) as e:
        auth.confirm_code(engine, KG, "+380675056312", code_a, now=NOW + timedelta(minutes=10, seconds=1), settings=s)
    assert e.value.key == "errors.code_expired"
    # foreign: B's code for A
    if code_b != code_a:
        with pytest.raises(auth.SecretRefused) as e:
            auth.confirm_code(engine, KG, "+380675056312", code_b, now=NOW, settings=s)
        assert e.value.key == "errors.code_invalid"
    # wrong purpose: a confirmation code does not reset the password
    with pytest.raises(auth.SecretRefused):
        auth.reset_password_with_code(engine, KG, "+380501234567", code_b, "another-pass-77", "another-pass-77",
                                      now=NOW, settings=s)
    # attempts: 5 wrong in all (one used above for A when codes differ), then even the right one fails
    wrong = "000000" if code_a != "000000" else "111111"
    used = 1 if code_b != code_a else 0
    for _ in range(5 - used):
        with pytest.raises(auth.SecretRefused):
            auth.confirm_code(engine, KG, "+380675056312", wrong, now=NOW, settings=s)
    with pytest.raises(auth.SecretRefused) as e:
        auth.confirm_code(engine, KG, "+380675056312", code_a, now=NOW, settings=s)
    assert e.value.key == "errors.code_attempts_exceeded"
    assert not _user(engine, "+380675056312").is_active
    # B is unaffected and the hashes hold no code in clear
    assert auth.confirm_code(engine, KG, "+380501234567", code_b, now=NOW, settings=s)
    with read_session(engine) as ss:
        rows = ss.exec(select(OneTimeSecret)).all()
    assert all(code_a not in r.secret_hash or len(r.secret_hash) == 64 for r in rows)
    assert not any(r.secret_hash in (code_a, code_b) for r in rows)


# --- AG: active at once ------------------------------------------------------------------------------


def test_almaty_gas_active_at_once_and_legal_entity_links_company_accounts(engine, tmp_path):
    import random

    s = make_settings(tmp_path, AG)
    bin_ = make_bin(random.Random(5))
    seed_account(engine, "0100000001", ["500.00"], kind="legal", bin=bin_, holder="ТОО Ромашка")
    seed_account(engine, "0100000002", ["77.70"], kind="legal", bin=bin_, holder="ТОО Ромашка")
    seed_account(engine, "0100000003", ["77.70"], kind="legal", bin="990340000000", holder="Other")
    out = auth.register(engine, AG, form_for(AG, s, kind="legal", bin=bin_, account="0100000001", payment="500"),
                        now=NOW, settings=s)
    assert out.confirmation == "none" and out.sent_to == ""
    u = _user(engine, "aigerim.ivanova@example.kz")
    assert u.is_active and u.kind == "legal" and u.bin == bin_
    with read_session(engine) as ss:
        n = ss.exec(select(sa.func.count()).select_from(UserAccountLink).where(UserAccountLink.user_id == u.id)).one()
    assert n == 2
    assert auth.sign_in(engine, AG, "aigerim.ivanova@example.kz", GOOD_PW[AG.id], now=NOW, settings=s)
    notify.wait_idle()
    assert notify.read_outbox(settings=s) == []


# --- field errors ------------------------------------------------------------------------------------


def test_every_field_error_is_marked_and_others_untouched(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    seed_account(engine, "0100000001", ["1234.50"])
    bad = {
        "login": "not an e-mail", "password": "short", "password2": "short", "surname": "", "name": "  ",
        "phone": "12", "kind": "legal", "bin": "123456789012", "account_number": "12", "last_payment": "12,3,4",
        "agreement": False, "captcha": "",
    }
    with pytest.raises(FormErrors) as e:
        auth.register(engine, AG, bad, now=NOW, settings=s)
    f = e.value.fields
    assert set(f) == {"login", "password", "surname", "name", "phone", "bin", "account_number",
                      "last_payment", "agreement"}
    assert f["login"].key == "errors.email_invalid"
    assert f["password"].key == "errors.password_too_short" and f["password"].params == {"min": 8}
    assert f["bin"].key == "errors.bin_invalid"
    assert f["account_number"].params == {"example": AG.account_number_example}
    assert f["last_payment"].key == "errors.amount_invalid"
    # one wrong field at a time: only that one is named
    good = form_for(AG, s, account="0100000001")
    for field, value, key in [
        ("login", "a@", "errors.email_invalid"), ("password2", "different", "errors.password_mismatch"),
        ("phone", "+7 701 234", "errors.phone_invalid"), ("kind", "robot", "errors.kind_invalid"),
        ("agreement", "no", "errors.agreement_required"), ("surname", "x" * 101, "errors.field_too_long"),
        ("name", "A\x00B", "errors.invalid_characters"), ("password", "password1", "errors.password_common"),
        ("last_payment", "", "errors.amount_invalid"),
    ]:
        with pytest.raises(FormErrors) as e:
            auth.register(engine, AG, good | {field: value}, now=NOW, settings=s)
        assert {k: n.key for k, n in e.value.fields.items()} == {field: key}, field
    with read_session(engine) as ss:
        assert ss.exec(select(sa.func.count()).select_from(User)).one() == 0


def test_proof_by_last_payment_to_the_tiyn(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    seed_account(engine, "0100000001", ["2000.00", "1234.50"])
    good = form_for(AG, s, account="0100000001")

    roomy = AG.model_copy(update={"max_holders_per_account": 10})  # five holders of one account below

    def attempt(amount, login):
        return auth.register(engine, roomy, good | {"last_payment": amount, "login": login}, now=NOW, settings=s)

    for i, wrong in enumerate(["1234.51", "1234.49", "2000", "1234.5001", "0"]):
        with pytest.raises(FormErrors) as e:
            attempt(wrong, f"u{i}@example.kz")
        keys = {k: n.key for k, n in e.value.fields.items()}
        assert set(keys) <= {"account_number", "last_payment"} and "last_payment" in keys, (wrong, keys)
    # an unknown account gives exactly the same answer as a wrong amount
    with pytest.raises(FormErrors) as unknown:
        auth.register(engine, AG, good | {"account_number": "0999999999", "login": "x@example.kz"}, now=NOW, settings=s)
    with pytest.raises(FormErrors) as wrong_amount:
        attempt("1234.51", "y@example.kz")
    assert unknown.value.fields == wrong_amount.value.fields
    # "1234.5" == 1234.50; "1 234,50" (with spaces and a comma, also a no-break space) is read the same
    attempt("1234.5", "a1@example.kz")
    attempt("1 234,50", "a2@example.kz")
    attempt("1\u00a0234,50", "a3@example.kz")
    attempt(Decimal("1234.50"), "a4@example.kz")
    attempt("1 234,50 ₸", "a5@example.kz")  # as the bill prints it


def test_proof_guessing_makes_that_source_wait_not_the_holder(engine, tmp_path):
    """Wrong proofs count per (account number, source): the guessing source waits, the holder from
    elsewhere registers at once (before issue 15 the number was blocked for everyone for an hour)."""
    s = make_settings(tmp_path, AG)
    seed_account(engine, "0100000001", ["1234.50"])
    good = form_for(AG, s, account="0100000001")
    guesser, holder = source(s, "198.51.100.7"), source(s, "203.0.113.9", new_device())
    keys = []
    for i in range(auth.PROOF_FAILURES):
        with pytest.raises(FormErrors) as e:
            auth.register(engine, AG, good | {"last_payment": f"{i + 1}.00", "login": f"g{i}@example.kz"}, now=NOW,
                          settings=s, source=guesser)
        keys.append(e.value.fields["account_number"])
    assert keys[:-1] == [Notice("errors.proof_mismatch")] * (auth.PROOF_FAILURES - 1)
    assert keys[-1] == Notice("errors.proof_locked", {"wait": timedelta(minutes=1)})
    with pytest.raises(FormErrors) as e:  # the guessing source waits, even with the right amount
        auth.register(engine, AG, good, now=NOW + timedelta(seconds=20), settings=s, source=guesser)
    assert e.value.fields == {"account_number": Notice("errors.proof_locked", {"wait": timedelta(seconds=40)})}
    assert auth.register(engine, AG, good, now=NOW + timedelta(seconds=20), settings=s, source=holder)
    assert _user(engine, "aigerim.ivanova@example.kz").is_active


def test_se_requires_captcha_and_refuses_replay(engine, tmp_path):
    s = make_settings(tmp_path, SE)
    seed_account(engine, "40012345", ["1234.50"])
    form = form_for(SE, s, account="40012345")
    with pytest.raises(FormErrors) as e:
        auth.register(engine, SE, form | {"captcha": ""}, now=NOW, settings=s)
    assert set(e.value.fields) == {"captcha"}
    auth.register(engine, SE, form, now=NOW, settings=s)
    with pytest.raises(FormErrors) as e:  # the same solved challenge again
        auth.register(engine, SE, form | {"login": "40012345"}, now=NOW, settings=s)
    assert set(e.value.fields) == {"captcha"}


# --- sessions -----------------------------------------------------------------------------------------


def _active_ag_user(engine, s, login="aigerim.ivanova@example.kz", account="0100000001"):
    seed_account(engine, account, ["1234.50"])
    auth.register(engine, AG, form_for(AG, s, account=account, login=login), now=NOW, settings=s)
    return _user(engine, login)


def test_session_timeouts_and_sign_out(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    u = _active_ag_user(engine, s)
    pw = GOOD_PW[AG.id]
    short = auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    # token is >= 128 bits and only its HMAC is stored
    assert len(short.token) >= 22
    with read_session(engine) as ss:
        rows = ss.exec(select(AuthSession)).all()
    assert len(rows) == 1 and len(rows[0].token_hash) == 64
    assert short.token not in repr([r.model_dump() for r in rows])
    # idle: 30 min without activity ends it; activity keeps it alive
    t = NOW
    for _ in range(10):
        t += timedelta(minutes=29)
        assert auth.resolve_session(engine, short.token, now=t, settings=s) is not None
    assert auth.resolve_session(engine, short.token, now=t + timedelta(minutes=31), settings=s) is None
    # absolute: 12 hours even with activity
    s2 = auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    t = NOW
    while t + timedelta(minutes=20) < NOW + timedelta(hours=12):
        t += timedelta(minutes=20)
        assert auth.resolve_session(engine, s2.token, now=t, settings=s) is not None
    assert auth.resolve_session(engine, s2.token, now=NOW + timedelta(hours=12), settings=s) is None
    # remember me: 30 days, survives a week of silence
    r = auth.sign_in(engine, AG, u.login, pw, remember=True, now=NOW, settings=s)
    assert r.remember and r.expires_at == NOW + timedelta(days=30)
    assert auth.resolve_session(engine, r.token, now=NOW + timedelta(days=7), settings=s).remember
    assert auth.resolve_session(engine, r.token, now=NOW + timedelta(days=30, seconds=1), settings=s) is None
    # sign-out revokes
    live = auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    auth.sign_out(engine, live.token, now=NOW, settings=s)
    assert auth.resolve_session(engine, live.token, now=NOW, settings=s) is None
    # unknown / garbage tokens
    for junk in ["", "x" * 43, None, 5, ["a"], {"t": 1}, "é" * 43, "a" * 10**6]:
        assert auth.resolve_session(engine, junk, now=NOW, settings=s) is None


def test_password_change_ends_other_sessions_reset_ends_all(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    u = _active_ag_user(engine, s)
    pw = GOOD_PW[AG.id]
    a = auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    b = auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    me = auth.resolve_session(engine, a.token, now=NOW, settings=s)
    with pytest.raises(FormErrors) as e:
        auth.change_password(engine, AG, u.id, "wrong current", "brand new words 88", "brand new words 88",
                             now=NOW, keep_session_id=me.session_id, settings=s)
    assert set(e.value.fields) == {"current"}
    with pytest.raises(FormErrors) as e:
        auth.change_password(engine, AG, u.id, pw, "abc", "abc", now=NOW, keep_session_id=me.session_id, settings=s)
    assert set(e.value.fields) == {"password"}
    auth.change_password(engine, AG, u.id, pw, "brand new words 88", "brand new words 88", now=NOW,
                         keep_session_id=me.session_id, settings=s)
    assert auth.resolve_session(engine, a.token, now=NOW, settings=s) is not None
    assert auth.resolve_session(engine, b.token, now=NOW, settings=s) is None
    with pytest.raises(auth.SignInRefused):
        auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    c = auth.sign_in(engine, AG, u.login, "brand new words 88", now=NOW, settings=s)
    # reset by link ends every session, including the current one
    auth.request_reset(engine, AG, u.login, now=NOW, settings=s)
    token = link_token(wait_outbox(s, kind="mail")[-1].text, "/reset")
    auth.reset_password_with_link(engine, AG, token, "third pass phrase 99", "third pass phrase 99", now=NOW,
                                  settings=s)
    assert auth.resolve_session(engine, a.token, now=NOW, settings=s) is None
    assert auth.resolve_session(engine, c.token, now=NOW, settings=s) is None
    with pytest.raises(auth.SecretRefused):  # a reset link works once
        auth.reset_password_with_link(engine, AG, token, "fourth pass phrase 1", "fourth pass phrase 1", now=NOW,
                                      settings=s)
    assert auth.sign_in(engine, AG, u.login, "third pass phrase 99", now=NOW, settings=s)


def test_rehash_on_sign_in_when_parameters_change(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    u = _active_ag_user(engine, s)
    pw = GOOD_PW[AG.id]
    weak = PasswordHasher(type=Type.ID, time_cost=1, memory_cost=512, parallelism=1).hash(pw)
    with write_session(engine) as ss:
        row = ss.get(User, u.id)
        row.password_hash = weak
        ss.add(row)
    assert passwords.verify_password(weak, pw) == (True, True)
    auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    new = _user(engine, u.login).password_hash
    assert new != weak and "m=1024,t=1,p=1" in new
    assert passwords.verify_password(new, pw) == (True, False)
    auth.sign_in(engine, AG, u.login, pw, now=NOW, settings=s)
    assert _user(engine, u.login).password_hash == new  # no needless rehash


# --- recovery -----------------------------------------------------------------------------------------


def test_recovery_by_sms_code_on_locked_account_clears_lock(engine, tmp_path):
    s = make_settings(tmp_path, KG)
    code = _kg_user(engine, s)
    auth.confirm_code(engine, KG, "+380675056312", code, now=NOW, settings=s)
    here = source(s, "203.0.113.5")
    for _ in range(KG.max_failed_logins):
        with pytest.raises(auth.SignInRefused):
            auth.sign_in(engine, KG, "+380675056312", "wrong-pass-1", now=NOW, settings=s, source=here)
    with pytest.raises(auth.SignInRefused) as e:
        auth.sign_in(engine, KG, "+380675056312", GOOD_PW[KG.id], now=NOW, settings=s, source=here)
    assert e.value.key == "errors.sign_in_locked"
    assert auth.request_reset(engine, KG, "+380675056312", now=NOW, settings=s) == "sms"
    reset_code = sms_code(wait_outbox(s, kind="sms", count=2)[-1].text)
    with pytest.raises(FormErrors) as fe:  # policy first, the code is not spent
        auth.reset_password_with_code(engine, KG, "+380675056312", reset_code, "12345", "12345", now=NOW, settings=s)
    assert set(fe.value.fields) == {"password"}
    auth.reset_password_with_code(engine, KG, "+380675056312", reset_code, "fresh-start-5", "fresh-start-5",
                                  now=NOW, settings=s)
    # the recovery ended the wait and the episode: no CAPTCHA either
    assert auth.sign_in(engine, KG, "+380675056312", "fresh-start-5", now=NOW, settings=s, source=here)


# --- profile -----------------------------------------------------------------------------------------


def test_profile_update_and_email_change_reconfirms(engine, tmp_path):
    s = make_settings(tmp_path, AG)
    u = _active_ag_user(engine, s)
    with pytest.raises(FormErrors) as e:
        auth.update_user_profile(engine, AG, u.id, {"surname": "Петрова", "birth_date": "2030-01-01",
                                                   "gender": "robot", "language": "uk"}, now=NOW, settings=s)
    assert set(e.value.fields) == {"birth_date", "gender", "language"}
    assert _user(engine, u.login).surname == "Иванова"  # nothing applied
    p = auth.update_user_profile(engine, AG, u.id, {"surname": "Петрова", "birth_date": "1990-05-17",
                                                   "gender": "female", "language": "kk",
                                                   "email": "New.Address@Example.kz"}, now=NOW, settings=s,
                                 current_password=GOOD_PW[AG.id])
    assert p.surname == "Петрова" and str(p.birth_date) == "1990-05-17" and p.language == "kk"
    assert p.email == "aigerim.ivanova@example.kz" and p.pending_email == "new.address@example.kz"
    (mail,) = wait_outbox(s, kind="mail", to="new.address@example.kz")
    token = link_token(mail.text, "/confirm-email")
    assert auth.confirm_email_change(engine, token, now=NOW, settings=s) == u.id
    with read_session(engine) as ss:
        p = auth.get_user_profile(ss, u.id, now=NOW)
    assert p.email == "new.address@example.kz" and p.email_verified and p.login == "new.address@example.kz"
    assert auth.sign_in(engine, AG, "new.address@example.kz", GOOD_PW[AG.id], now=NOW, settings=s)
    with read_session(engine) as ss:
        with pytest.raises(NotFound):
            auth.get_user_profile(ss, 999999)
