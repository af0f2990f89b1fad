"""Issue 15 point 1: linking an account proves something; the holders are told and can take a later
user's access away; the number of portal users per account is capped; failed proofs are limited per
account number and across all numbers as well as per customer. Each attack is made by calling the
services directly, on SQLite and PostgreSQL."""
from __future__ import annotations

import inspect
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

import gazportal

from gazportal.db import read_session, write_session
from gazportal.models import (
    Account, AccountLinkRemoval, Branch, Flat, House, Settlement, Street, User, UserAccountLink,
)
from gazportal.services import auth, notify
from gazportal.services.accounts import (
    HolderNotRemovable, HoldersFull, RemovedByHolder, link_by_address, link_by_payment, list_accounts,
    other_holders, remove_holder, unlink,
)
from gazportal.services.accounts import holders
from gazportal.services.errors import AccountNotFound, FormErrors, Notice
from gazportal.settings import UtilityError, load_utility
from tests.conftest import add_user
from tests.unit.test_auth_kit import (
    DEFAULT, KG, NOW, cheap_argon2, form_for, make_settings, seed_account, solve_captcha, source,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")
_ = cheap_argon2  # the fixture, imported for pytest

NUMBER = "100200300"
PAID = "1234.50"


@pytest.fixture
def s(tmp_path):
    return make_settings(tmp_path, DEFAULT)


@pytest.fixture
def holder(engine, s):
    """An account with its holder (linked a day ago) and its latest payment of 1 234.50."""
    aid = seed_account(engine, NUMBER, ["1000.00", PAID])
    with write_session(engine) as ss:
        uid = add_user(ss, "holder@example.kz", name="Anna")
        ss.add(UserAccountLink(user_id=uid, account_id=aid, created_at=NOW - timedelta(days=1)))
    return uid, aid


def _users(engine, n, prefix="u"):
    with write_session(engine) as ss:
        return [add_user(ss, f"{prefix}{i}@example.kz") for i in range(n)]


def _numbers(engine, uid):
    with read_session(engine) as ss:
        return [c.number for c in list_accounts(ss, uid)]


def _mails(s, to):
    notify.wait_idle()
    return notify.read_outbox(kind="mail", to=to, settings=s)


def _add(engine, s, uid, amount=PAID, *, number=NUMBER, at="10.0.0.1", now=NOW, captcha=None):
    return link_by_payment(engine, DEFAULT, uid, number, amount, now=now, settings=s, source=source(s, at),
                           captcha_solution=captcha)


# --- the address proves nothing alone ------------------------------------------------------------


@pytest.fixture
def at_flat(engine):
    """A house with two flats; the account at flat 10 with its payment; returns the ids."""
    with write_session(engine) as ss:
        b = Branch(name="Кременчук")
        ss.add(b)
        ss.flush()
        st = Settlement(branch_id=b.id, name="Кременчук")
        ss.add(st)
        ss.flush()
        street = Street(settlement_id=st.id, name="вул. Соборна")
        ss.add(street)
        ss.flush()
        house = House(street_id=street.id, number="5")
        ss.add(house)
        ss.flush()
        f10, f11 = Flat(house_id=house.id, number="10"), Flat(house_id=house.id, number="11")
        ss.add_all([f10, f11])
        ss.flush()
        ids = {"house": house.id, "f10": f10.id, "f11": f11.id}
    aid = seed_account(engine, NUMBER, [PAID])
    with write_session(engine) as ss:
        acc = ss.get(Account, aid)
        acc.house_id, acc.flat_id = ids["house"], ids["f10"]
        ss.add(acc)
    return ids


def test_the_address_and_the_number_alone_add_nothing(engine, s, at_flat):
    """The reported attack: house, flat and number are printed on every bill — without the exact
    last payment the account is not added; with it, it is."""
    (attacker,) = _users(engine, 1)
    wrong = Notice("errors.address_proof_failed")
    for amount in ("", "1.00", "1234.49"):
        with pytest.raises(FormErrors) as e:
            link_by_address(engine, DEFAULT, attacker, at_flat["house"], at_flat["f10"], NUMBER, amount, now=NOW,
                            settings=s, source=source(s, "10.0.0.9"))
        if amount:  # a wrong amount: the same answer on both fields as a wrong address
            assert e.value.fields == {"number": wrong, "last_payment": wrong}
    with pytest.raises(FormErrors) as e:  # the right payment at the neighbour's flat
        link_by_address(engine, DEFAULT, attacker, at_flat["house"], at_flat["f11"], NUMBER, PAID, now=NOW,
                        settings=s, source=source(s, "10.0.0.8"))
    assert e.value.fields == {"number": wrong, "last_payment": wrong}
    assert _numbers(engine, attacker) == []
    card = link_by_address(engine, DEFAULT, attacker, at_flat["house"], at_flat["f10"], NUMBER, "1 234,50", now=NOW,
                           settings=s, source=source(s, "10.0.0.7"))
    assert card.number == NUMBER and _numbers(engine, attacker) == [NUMBER]


def test_every_profile_that_adds_by_address_asks_for_the_proof():
    """Kremenchukgaz adds only by address; the form (and the service) takes the last payment too."""
    assert KG.add_account_by == ["address_picker"]
    assert "last_payment" in inspect.signature(link_by_address).parameters


# --- failed proofs: per customer, per account number, across all numbers ---------------------------


def test_many_users_guessing_one_number_meet_the_captcha_and_the_holder_is_told(engine, s, holder):
    """Issue 15: 'any number of users can be registered with the attacker's own bill' — failures
    count per account number whoever makes them: after PROOF_CAPTCHA_AFTER wrong proofs from
    unknown sources the next one must solve the CAPTCHA, and the holder hears of it once."""
    guessers = _users(engine, holders.PROOF_CAPTCHA_AFTER + 2, prefix="g")
    for i, uid in enumerate(guessers[: holders.PROOF_CAPTCHA_AFTER]):
        with pytest.raises(FormErrors) as e:
            _add(engine, s, uid, f"{1000 + i}.00", at=f"10.1.0.{i}")
        assert e.value.fields["last_payment"] == Notice("errors.account_proof_failed")
    told = [m for m in _mails(s, "holder@example.kz") if NUMBER in m.subject or NUMBER in m.text]
    assert len(told) == 1 and str(holders.PROOF_CAPTCHA_AFTER) in told[0].text
    late = guessers[-1]
    with pytest.raises(FormErrors) as e:  # even the right amount: the CAPTCHA first
        _add(engine, s, late, PAID, at="10.2.0.1")
    assert e.value.fields == {"captcha": Notice("errors.captcha_required")}
    assert _numbers(engine, late) == []
    _add(engine, s, late, PAID, at="10.2.0.1", captcha=solve_captcha(s))  # solved: the right proof passes
    assert _numbers(engine, late) == [NUMBER]
    assert len([m for m in _mails(s, "holder@example.kz") if "was added" in m.subject]) == 1


def test_registration_and_adding_share_one_counter_per_number(engine, s, holder):
    """Switching between registering and adding gives no extra guesses."""
    half = holders.PROOF_CAPTCHA_AFTER // 2
    for i in range(half):
        with pytest.raises(FormErrors):
            auth.register(engine, DEFAULT, form_for(DEFAULT, s, login=f"r{i}@example.kz", account=NUMBER,
                                                    payment=f"{10 + i}.00"), now=NOW, settings=s,
                          source=source(s, f"10.3.0.{i}"))
    guessers = _users(engine, holders.PROOF_CAPTCHA_AFTER - half + 1, prefix="a")
    for i, uid in enumerate(guessers[:-1]):
        with pytest.raises(FormErrors):
            _add(engine, s, uid, f"{20 + i}.00", at=f"10.4.0.{i}")
    with pytest.raises(FormErrors) as e:
        _add(engine, s, guessers[-1], PAID, at="10.5.0.1")
    assert e.value.fields == {"captcha": Notice("errors.captcha_required")}


def test_one_source_waits_after_its_free_failures(engine, s, holder):
    (uid,) = _users(engine, 1)
    for i in range(holders.PROOF_FAILURES):
        with pytest.raises(FormErrors):
            _add(engine, s, uid, f"{1 + i}.00", at="10.6.0.1")
    with pytest.raises(FormErrors) as e:  # the right proof from that source: wait
        _add(engine, s, uid, PAID, at="10.6.0.1", now=NOW + timedelta(seconds=1))
    assert e.value.fields["number"].key == "errors.proof_locked"
    (other,) = _users(engine, 1, prefix="o")
    _add(engine, s, other, PAID, at="10.6.0.2")  # another source is not kept waiting
    assert _numbers(engine, other) == [NUMBER]


def test_across_all_numbers_the_captcha_comes_after_the_global_count(engine, s):
    """A guesser spreading over many numbers meets the CAPTCHA after PROOF_GLOBAL_CAPTCHA_AFTER
    wrong proofs within the hour, whoever makes them."""
    seed_account(engine, NUMBER, [PAID])
    guessers = _users(engine, 11, prefix="w")
    n = holders.PROOF_GLOBAL_CAPTCHA_AFTER
    for i in range(n):
        with pytest.raises(FormErrors):
            link_by_payment(engine, DEFAULT, guessers[i % 10], f"5{i:08d}", "1.00", now=NOW, settings=s,
                            source=source(s, f"10.7.{i // 200}.{i % 200}"))
    with pytest.raises(FormErrors) as e:
        _add(engine, s, guessers[-1], PAID, at="10.8.0.1")
    assert e.value.fields == {"captcha": Notice("errors.captcha_required")}


# --- the holders are told and can take a later user's access away -----------------------------------


def test_the_holder_is_told_and_sees_the_new_user(engine, s, holder):
    holder_id, aid = holder
    (newcomer,) = _users(engine, 1, prefix="relative")
    _add(engine, s, newcomer)
    mail = [m for m in _mails(s, "holder@example.kz") if "was added" in m.subject]
    assert len(mail) == 1 and NUMBER in mail[0].text and "re***e0@example.kz" in mail[0].text
    assert "https://portal.example/accounts" in mail[0].text
    assert _mails(s, "relative0@example.kz") == []  # the newcomer is not told of themselves
    with read_session(engine) as ss:
        seen_by_holder = other_holders(ss, DEFAULT, holder_id, aid)
        seen_by_newcomer = other_holders(ss, DEFAULT, newcomer, aid)
    assert [(h.who, h.removable) for h in seen_by_holder] == [("re***e0@example.kz", True)]
    assert [(h.who, h.removable) for h in seen_by_newcomer] == [("ho***er@example.kz", False)]


def test_a_holder_takes_a_later_users_access_away_for_good(engine, s, holder):
    holder_id, aid = holder
    (intruder,) = _users(engine, 1, prefix="intruder")
    _add(engine, s, intruder)
    with read_session(engine) as ss:
        (row,) = other_holders(ss, DEFAULT, holder_id, aid)
        (mine,) = other_holders(ss, DEFAULT, intruder, aid)
    with pytest.raises(HolderNotRemovable):  # the later user cannot remove the earlier holder
        remove_holder(engine, DEFAULT, intruder, aid, mine.link_id, now=NOW, settings=s)
    for uid, acc, link in ((intruder, aid, row.link_id), (holder_id, aid, 987654), (holder_id, 987654, row.link_id),
                           (holder_id, aid, "1"), (holder_id, aid, None)):
        with pytest.raises(AccountNotFound):  # not theirs, missing, malformed: one answer
            remove_holder(engine, DEFAULT, uid, acc, link, now=NOW, settings=s)
    remove_holder(engine, DEFAULT, holder_id, aid, row.link_id, now=NOW, settings=s)
    assert _numbers(engine, intruder) == [] and _numbers(engine, holder_id) == [NUMBER]
    told = [m for m in _mails(s, "intruder0@example.kz") if "removed" in m.subject]
    assert len(told) == 1 and NUMBER in told[0].text
    with pytest.raises(RemovedByHolder):  # the right proof again: refused
        _add(engine, s, intruder, at="10.9.0.1")
    with read_session(engine) as ss:
        assert ss.exec(select(AccountLinkRemoval.user_id)).all() == [intruder]
        assert other_holders(ss, DEFAULT, holder_id, aid) == []


def test_removing_ones_own_link_does_not_block_adding_it_again(engine, s, holder):
    holder_id, aid = holder
    unlink(engine, holder_id, aid, now=NOW)
    _add(engine, s, holder_id)
    assert _numbers(engine, holder_id) == [NUMBER]


# --- room for at most max_holders_per_account users ---------------------------------------------


def test_a_full_account_takes_no_more_users_by_adding_or_registering(engine, s, holder):
    cap = DEFAULT.max_holders_per_account
    more = _users(engine, cap, prefix="m")
    for uid in more[: cap - 1]:
        _add(engine, s, uid)
    with pytest.raises(HoldersFull) as e:
        _add(engine, s, more[-1])
    assert e.value.params == {"count": cap}
    with pytest.raises(HoldersFull):
        auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="late@example.kz", account=NUMBER, payment=PAID),
                      now=NOW, settings=s)
    with read_session(engine) as ss:
        assert len(ss.exec(select(UserAccountLink).where(UserAccountLink.account_id == holder[1])).all()) == cap
        assert ss.exec(select(User).where(User.login == "late@example.kz")).first() is None


def test_fifty_parallel_right_proofs_link_at_most_the_cap(engine, s):
    aid = seed_account(engine, NUMBER, [PAID])
    users = _users(engine, 50, prefix="p")
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(users))

    def add(i, uid):
        barrier.wait()
        try:
            _add(engine, s, uid, at=f"10.10.0.{i}")
            out = "linked"
        except HoldersFull:
            out = "full"
        except Exception as e:  # noqa: BLE001 — anything else is a failure of the test
            out = repr(e)
        with lock:
            results.append(out)

    threads = [threading.Thread(target=add, args=(i, uid)) for i, uid in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    cap = DEFAULT.max_holders_per_account
    assert sorted(results) == ["full"] * (50 - cap) + ["linked"] * cap
    with read_session(engine) as ss:
        assert len(ss.exec(select(UserAccountLink).where(UserAccountLink.account_id == aid)).all()) == cap


def test_registering_tells_the_holders_of_the_account_once_it_is_confirmed(engine, s, holder):
    """A registration may never be confirmed (a look-alike, a stranger's): the holders hear of the
    new user when it is, and see it on the card only then (the new-customer test of issue 15)."""
    from tests.unit.test_auth_kit import link_token

    holder_id, aid = holder
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="sister@example.kz", account=NUMBER, payment=PAID),
                  now=NOW, settings=s)
    assert [m for m in _mails(s, "holder@example.kz") if "was added" in m.subject] == []
    with read_session(engine) as ss:
        assert other_holders(ss, DEFAULT, holder_id, aid) == []  # not confirmed: not shown
    auth.confirm_link(engine, link_token(_mails(s, "sister@example.kz")[-1].text), now=NOW, settings=s)
    mail = [m for m in _mails(s, "holder@example.kz") if "was added" in m.subject]
    assert len(mail) == 1 and "si***er@example.kz" in mail[0].text
    with read_session(engine) as ss:
        assert [h.who for h in other_holders(ss, DEFAULT, holder_id, aid)] == ["si***er@example.kz"]


# --- the profile's rules -------------------------------------------------------------------------


PROFILES = Path(gazportal.__file__).parent / "profiles"


def test_a_profile_with_legal_entities_must_ask_for_the_proof(tmp_path):
    text = (PROFILES / "default.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("proof_by_last_payment = true", "proof_by_last_payment = false"))
    with pytest.raises(UtilityError) as e:
        load_utility(str(bad))
    assert "legal_entities needs proof_by_last_payment" in str(e.value)


def test_max_holders_is_a_profile_setting(tmp_path):
    text = (PROFILES / "default.toml").read_text()
    two = tmp_path / "two.toml"
    two.write_text(text.replace("max_holders_per_account = 3", "max_holders_per_account = 2"))
    assert load_utility(str(two)).max_holders_per_account == 2
    zero = tmp_path / "zero.toml"
    zero.write_text(text.replace("max_holders_per_account = 3", "max_holders_per_account = 0"))
    with pytest.raises(UtilityError):
        load_utility(str(zero))


# --- found by the attacker test: no silent right proof, no coming back under another e-mail ------


def _known(s, to):
    return [m for m in _mails(s, to) if "last payment" in m.subject]


def test_a_right_proof_that_gets_no_access_is_never_silent(engine, s, holder):
    """Registering a taken login with the right proof (no user made), or a full account: the
    holders hear that the proof is known — at most once a day."""
    with write_session(engine) as ss:
        add_user(ss, "taken@example.kz")
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="taken@example.kz", account=NUMBER, payment=PAID),
                  now=NOW, settings=s)
    told = _known(s, "holder@example.kz")
    assert len(told) == 1 and NUMBER in told[0].text and "https://portal.example/accounts" in told[0].text
    auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="taken@example.kz", account=NUMBER, payment=PAID),
                  now=NOW + timedelta(hours=1), settings=s)
    assert len(_known(s, "holder@example.kz")) == 1  # once a day
    with pytest.raises(FormErrors):  # a wrong proof is not "known"
        auth.register(engine, DEFAULT, form_for(DEFAULT, s, login="taken@example.kz", account=NUMBER, payment="1.00"),
                      now=NOW + timedelta(days=2), settings=s)
    assert len(_known(s, "holder@example.kz")) == 1
    more = _users(engine, DEFAULT.max_holders_per_account, prefix="f")
    for uid in more[:-1]:
        _add(engine, s, uid, now=NOW + timedelta(days=2))
    with pytest.raises(HoldersFull):
        _add(engine, s, more[-1], now=NOW + timedelta(days=2))
    assert len(_known(s, "holder@example.kz")) == 2  # the full account: told the next day


def test_a_removed_users_place_stays_taken(engine, s, holder):
    """The attacker test: a removed intruder came straight back under another e-mail with the same
    receipt. Removed users keep their place for REMOVAL_HOLDS, so the room runs out."""
    holder_id, aid = holder
    cap = DEFAULT.max_holders_per_account
    intruders = _users(engine, cap, prefix="i")
    for i, uid in enumerate(intruders[: cap - 1]):
        _add(engine, s, uid, at=f"10.20.0.{i}")
        with read_session(engine) as ss:
            (row,) = [h for h in other_holders(ss, DEFAULT, holder_id, aid) if h.removable]
        remove_holder(engine, DEFAULT, holder_id, aid, row.link_id, now=NOW, settings=s)
    with pytest.raises(HoldersFull):  # holder + cap-1 removed: no place for the next e-mail
        _add(engine, s, intruders[-1], at="10.20.1.1")
    later = NOW + holders.REMOVAL_HOLDS + timedelta(days=1)
    _add(engine, s, intruders[-1], at="10.20.1.2", now=later)  # the places come back in time
    assert _numbers(engine, intruders[-1]) == [NUMBER]


def test_the_holder_hears_again_when_the_guessing_grows_tenfold(engine, s, holder):
    """The attacker test: with the CAPTCHA solved by a script, guessing went on (60 guesses) while
    the holder had been told once, of 10. Now they hear again at 100 (then 1,000, ...), with the
    real count."""
    guessers = _users(engine, 20, prefix="t")
    n = holders.PROOF_CAPTCHA_AFTER * 10
    for i in range(n):
        solved = solve_captcha(s) if i >= holders.PROOF_CAPTCHA_AFTER else None
        with pytest.raises(FormErrors):
            _add(engine, s, guessers[i % 20], f"{1 + i}.00", at=f"10.30.{i // 200}.{i % 200}", captcha=solved,
                 now=NOW + timedelta(minutes=i))  # spread over hours: the global window stays quiet
    told = [m for m in _mails(s, "holder@example.kz") if "wrong proofs" in m.subject]
    assert [str(c) in m.text for m, c in zip(told, (holders.PROOF_CAPTCHA_AFTER, n))] == [True, True]
    assert len(told) == 2
