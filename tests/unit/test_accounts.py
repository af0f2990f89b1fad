"""Accounts a customer sees, adding them (by last payment, by address) and removing them, on the
real database (SQLite and PostgreSQL), including what an attacker would try."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models import (
    Account, Branch, Flat, House, LoginThrottle, Payment, Settlement, Street, User, UserAccountLink,
)
from gazportal.services import accounts as acc_svc
from gazportal.services import throttle
from gazportal.services.accounts import (
    MAX_LINK_FAILURES, AccountAlreadyLinked, AccountNotFound, AccountsFixed, LinkAttemptsExceeded,
    LinkMethodUnavailable, branches, can_add_accounts, flats, houses, link_attempts_left, link_by_address,
    link_by_payment, list_accounts, require_account, settlements, streets, unlink,
)
from gazportal.services.errors import FormErrors, InvalidInput, Notice
from gazportal.services.money import parse_amount
from gazportal.settings import load_utility

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
DEFAULT = load_utility("default")  # \d{6,12}; payment proof and address picker
KREM = load_utility("kremenchukgaz")  # \d{10}; address picker only
SHYG = load_utility("shygysenergotrade")  # \d{8}; payment proof only
BIN_A = "180240012342"
BIN_B = "190540012347"


@dataclass
class World:
    alice: int
    bob: int
    corp: int  # legal entity with BIN_A
    nobin: int  # legal entity without a BIN
    a1: Account  # 100000001, house h10 flat 1, latest payment 1234.50
    a2: Account  # 100000002, two payments at the same instant: the greater id (600.00) is the latest
    a3: Account  # 100000003, no payments, house h5 flat 7
    a7: Account  # 100000007, house h2 (no flat), latest payment 99.99
    legal1: Account
    legal2: Account
    legal_other: Account
    ids: dict


def _user(s, login, kind="person", bin_=None) -> int:
    u = User(login=login, password_hash="x", surname="S", name=login, kind=kind, bin=bin_, is_active=True)
    s.add(u)
    s.flush()
    return u.id


_receipt = iter(range(1, 10_000))


def _pay(s, acc, amount, at):
    s.add(Payment(account_id=acc.id, paid_at=at, amount=D(amount), receipt_no=f"R-{next(_receipt)}", channel="bank"))
    s.flush()


@pytest.fixture
def world(engine) -> World:
    with write_session(engine) as s:
        b1, b2 = Branch(name="Центральный"), Branch(name="Восточный")
        s.add_all([b1, b2])
        s.flush()
        s1, s2 = Settlement(branch_id=b1.id, name="Алматы"), Settlement(branch_id=b2.id, name="Талгар")
        s.add_all([s1, s2])
        s.flush()
        st1, st2 = Street(settlement_id=s1.id, name="ул. Абая"), Street(settlement_id=s2.id, name="ул. Садовая")
        st3 = Street(settlement_id=s1.id, name="ул. Жамбыла")
        s.add_all([st1, st2, st3])
        s.flush()
        h10, h2, h10a = House(street_id=st1.id, number="10"), House(street_id=st1.id, number="2"), \
            House(street_id=st1.id, number="10а")
        h5 = House(street_id=st2.id, number="5")
        s.add_all([h10, h2, h10a, h5])
        s.flush()
        f1, f2, f7 = Flat(house_id=h10.id, number="1"), Flat(house_id=h10.id, number="12"), \
            Flat(house_id=h5.id, number="7")
        f3 = Flat(house_id=h10.id, number="3")
        s.add_all([f1, f2, f7, f3])
        s.flush()

        def account(number, kind="person", bin_=None, house=None, flat=None, holder="Иванов И. И."):
            a = Account(number=number, holder_name=holder, kind=kind, bin=bin_, address=f"адрес {number}",
                        house_id=house.id if house else None, flat_id=flat.id if flat else None)
            s.add(a)
            s.flush()
            return a

        a1 = account("100000001", house=h10, flat=f1)
        _pay(s, a1, "1000.00", datetime(2026, 1, 5, 10, tzinfo=UTC))
        _pay(s, a1, "1234.50", datetime(2026, 2, 5, 10, tzinfo=UTC))
        _pay(s, a1, "777.00", datetime(2025, 12, 5, 10, tzinfo=UTC))  # later id, earlier date
        a2 = account("100000002", house=h10, flat=f2)
        same = datetime(2026, 2, 1, 8, tzinfo=UTC)
        _pay(s, a2, "500.00", same)
        _pay(s, a2, "600.00", same)
        a3 = account("100000003", house=h5, flat=f7)
        a7 = account("100000007", house=h2)
        _pay(s, a7, "99.99", datetime(2026, 2, 20, tzinfo=UTC))
        legal1 = account("200000001", kind="legal", bin_=BIN_A, holder="ТОО «Алатау»", house=h10a)
        _pay(s, legal1, "50000.00", datetime(2026, 2, 10, tzinfo=UTC))
        legal2 = account("200000002", kind="legal", bin_=BIN_A, holder="ТОО «Алатау»")
        legal_other = account("200000009", kind="legal", bin_=BIN_B, holder="ТОО «Береке»")
        alice, bob = _user(s, "alice@example.kz"), _user(s, "bob@example.kz")
        corp = _user(s, "corp@example.kz", kind="legal", bin_=BIN_A)
        nobin = _user(s, "nobin@example.kz", kind="legal")
        ids = dict(b1=b1.id, b2=b2.id, s1=s1.id, s2=s2.id, st1=st1.id, st2=st2.id, st3=st3.id, h10=h10.id,
                   h2=h2.id, h10a=h10a.id, h5=h5.id, f1=f1.id, f2=f2.id, f3=f3.id, f7=f7.id)
    return World(alice, bob, corp, nobin, a1, a2, a3, a7, legal1, legal2, legal_other, ids)


def _numbers(engine, user_id):
    with read_session(engine) as s:
        return [c.number for c in list_accounts(s, user_id)]


def _left(engine, user_id, now=NOW):
    with read_session(engine) as s:
        return link_attempts_left(s, user_id, now=now)


def _form(exc_info) -> dict[str, Notice]:
    assert isinstance(exc_info.value, FormErrors)
    return exc_info.value.fields


PROOF_FAILED = {"number": Notice("errors.account_proof_failed"), "last_payment": Notice("errors.account_proof_failed")}

# --------------------------------------------------------------------------- list and link by payment


def test_new_customer_has_no_accounts_and_may_add(engine, world):
    assert _numbers(engine, world.alice) == []
    with read_session(engine) as s:
        assert can_add_accounts(s, world.alice) is True
        assert list_accounts(s, 10**6) == [] and can_add_accounts(s, 10**6) is False


def test_link_by_exact_latest_payment(engine, world):
    for typed in ["1234.5", "1 234,50", "1\u00a0234,5", " 1234.50 ", D("1234.5"), "+1234.50"]:
        for user in (world.alice, world.bob):
            card = link_by_payment(engine, DEFAULT, user, "100000001", typed, now=NOW)
            unlink(engine, user, card.id, now=NOW)
    card = link_by_payment(engine, DEFAULT, world.alice, "100000001", "1234.50", now=NOW)
    assert card == acc_svc.AccountCard(world.a1.id, "100000001", "Иванов И. И.", "адрес 100000001", "person")
    assert _numbers(engine, world.alice) == ["100000001"]
    assert _numbers(engine, world.bob) == []  # nobody else got it
    with read_session(engine) as s:
        assert require_account(s, world.alice, world.a1.id).number == "100000001"
        link = s.exec(select(UserAccountLink).where(UserAccountLink.user_id == world.alice)).one()
        assert link.created_at == NOW


def test_number_typed_with_spaces_and_an_integer_amount(engine, world):
    link_by_payment(engine, DEFAULT, world.alice, "1000 000 07", "99.99", now=NOW)
    with write_session(engine) as s:
        _pay(s, world.a3, "2500.00", NOW - timedelta(days=1))
    link_by_payment(engine, DEFAULT, world.alice, "100000003", 2500, now=NOW)
    assert _numbers(engine, world.alice) == ["100000003", "100000007"]


def test_only_the_latest_payment_proves(engine, world):
    for older in ("1000.00", "777.00"):  # an earlier payment, and the one with the greatest id
        with pytest.raises(FormErrors) as e:
            link_by_payment(engine, DEFAULT, world.alice, "100000001", older, now=NOW)
        assert _form(e) == PROOF_FAILED
    with pytest.raises(FormErrors):  # same instant: the greater id is the latest
        link_by_payment(engine, DEFAULT, world.alice, "100000002", "500.00", now=NOW)
    link_by_payment(engine, DEFAULT, world.alice, "100000002", "600", now=NOW)
    assert _numbers(engine, world.alice) == ["100000002"]


def test_to_the_tiyn(engine, world):
    for near in ("1234.49", "1234.51", "1234", "1235"):
        with pytest.raises(FormErrors) as e:
            link_by_payment(engine, DEFAULT, world.alice, "100000001", near, now=NOW)
        assert _form(e) == PROOF_FAILED


@pytest.mark.parametrize("number", ["100000001", "999999999", "100000003", "200000001"])
def test_same_answer_for_wrong_amount_unknown_account_no_payments_and_company_account(engine, world, number):
    """Wrong amount, no such account, an account with no payments, a legal entity's account
    (even with its right amount): one message, on both fields, and each counts as a failure."""
    amount = "50000.00" if number == "200000001" else "1.00"
    with pytest.raises(FormErrors) as e:
        link_by_payment(engine, DEFAULT, world.alice, number, amount, now=NOW)
    assert _form(e) == PROOF_FAILED
    assert e.value.key == "errors.form_invalid"
    assert _left(engine, world.alice) == MAX_LINK_FAILURES - 1
    assert _numbers(engine, world.alice) == []


MALFORMED_AMOUNTS = [
    (None, "errors.amount_invalid"),
    ("", "errors.amount_invalid"),
    ("   ", "errors.amount_invalid"),
    ("NaN", "errors.amount_invalid"),
    ("nan", "errors.amount_invalid"),
    ("inf", "errors.amount_invalid"),
    ("-Infinity", "errors.amount_invalid"),
    ("1e3", "errors.amount_invalid"),
    ("12,34.5", "errors.amount_invalid"),
    ("1,234.50", "errors.amount_invalid"),
    ("1.234.50", "errors.amount_invalid"),
    ("1234.", "errors.amount_invalid"),
    (".50", "errors.amount_invalid"),
    ("0x10", "errors.amount_invalid"),
    ("١٢٣٤.٥٠", "errors.amount_invalid"),  # Arabic-Indic digits: Decimal() would take them
    ("1" * 33, "errors.amount_invalid"),
    ("9" * 10_000, "errors.amount_invalid"),
    (1234.5, "errors.amount_invalid"),  # money is never a float
    (float("nan"), "errors.amount_invalid"),
    (float("inf"), "errors.amount_invalid"),
    (D("NaN"), "errors.amount_invalid"),
    (D("sNaN"), "errors.amount_invalid"),
    (D("-Infinity"), "errors.amount_invalid"),
    (True, "errors.amount_invalid"),
    ({"amount": "1234.50"}, "errors.amount_invalid"),
    (["1234.50"], "errors.amount_invalid"),
    (b"1234.50", "errors.amount_invalid"),
    ("-1234.50", "errors.amount_invalid"),
    ("0", "errors.amount_invalid"),
    ("0,00", "errors.amount_invalid"),
    (-5, "errors.amount_invalid"),
    (D("-0.01"), "errors.amount_invalid"),
    ("1234.567", "errors.amount_invalid"),
    ("1234.500", "errors.amount_invalid"),
    (D("0.001"), "errors.amount_invalid"),
    ("10000000000", "errors.amount_invalid"),
    ("99999999999999999999.99", "errors.amount_invalid"),
    (10**100, "errors.amount_invalid"),
    (D("1E+30"), "errors.amount_invalid"),
]


@pytest.mark.parametrize("value, key", MALFORMED_AMOUNTS)
def test_malformed_amounts_refused_cleanly(value, key):
    with pytest.raises(InvalidInput) as e:
        parse_amount(value, "ru")
    assert e.value.key == key


def test_malformed_amounts_are_field_errors_and_not_counted(engine, world):
    for value, key in MALFORMED_AMOUNTS:
        with pytest.raises(FormErrors) as e:
            link_by_payment(engine, DEFAULT, world.alice, "100000001", value, now=NOW, lang="ru")
        assert _form(e) == {"last_payment": Notice(key)}, value
    assert _left(engine, world.alice) == MAX_LINK_FAILURES
    assert _numbers(engine, world.alice) == []


def test_malformed_numbers_refused_on_their_field(engine, world):
    for number in [None, "", "12345", "1234567890123", "10000000a", 100000001, "١٠٠٠٠٠٠٠١", {"n": 1},
                   "1" * 10_000, "100000001\x00", "100000001; DROP TABLE account"]:
        with pytest.raises(FormErrors) as e:
            link_by_payment(engine, DEFAULT, world.alice, number, "1234.50", now=NOW)
        fields = _form(e)
        assert set(fields) == {"number"}, number
        assert fields["number"].key in ("errors.account_number_required", "errors.account_number_invalid")
    assert _left(engine, world.alice) == MAX_LINK_FAILURES


def test_both_fields_wrong_at_once(engine, world):
    with pytest.raises(FormErrors) as e:
        link_by_payment(engine, DEFAULT, world.alice, "12", "abc", now=NOW)
    assert set(_form(e)) == {"number", "last_payment"}


def test_parse_amount_normalises():
    assert parse_amount("1 234,5 ₸") == D("1234.50") and str(parse_amount("7")) == "7.00"
    assert parse_amount(D("12.3")) == D("12.30") and parse_amount(5) == D("5.00")
    assert str(parse_amount("9999999999.99")) == "9999999999.99"


def test_already_linked(engine, world):
    link_by_payment(engine, DEFAULT, world.alice, "100000001", "1234.50", now=NOW)
    for amount in ("1234.50", "1.00"):
        with pytest.raises(AccountAlreadyLinked) as e:
            link_by_payment(engine, DEFAULT, world.alice, "100000001", amount, now=NOW)
        assert e.value.key == "errors.account_already_linked"
    assert _left(engine, world.alice) == MAX_LINK_FAILURES
    link_by_payment(engine, DEFAULT, world.bob, "100000001", "1234.50", now=NOW)  # a relative may add it too
    assert _numbers(engine, world.bob) == ["100000001"]


# --------------------------------------------------------------------------- attempts are limited


_GUESSES = itertools.count(1)


def _fail(engine, world, user, now):
    """One wrong proof of a number nobody holds (the per-number limits stay out of the way: this
    part is about the customer's own limit)."""
    with pytest.raises(FormErrors):
        link_by_payment(engine, DEFAULT, user, f"9{next(_GUESSES):08d}", "1.11", now=now)


def test_eleventh_try_within_the_hour_refused_even_when_right(engine, world):
    for i in range(MAX_LINK_FAILURES):
        assert _left(engine, world.alice, NOW + timedelta(minutes=i)) == MAX_LINK_FAILURES - i
        _fail(engine, world, world.alice, NOW + timedelta(minutes=i))
    last = NOW + timedelta(minutes=MAX_LINK_FAILURES - 1)
    assert _left(engine, world.alice, last) == 0
    with pytest.raises(LinkAttemptsExceeded) as e:
        link_by_payment(engine, DEFAULT, world.alice, "100000001", "1234.50", now=last + timedelta(seconds=1))
    assert e.value.key == "errors.link_attempts_exceeded" and e.value.params == {"minutes": 60}
    with pytest.raises(LinkAttemptsExceeded) as e:  # also by address, and with a malformed amount
        link_by_address(engine, DEFAULT, world.alice, world.ids["h10"], world.ids["f1"], "100000001", "1234.50",
                        now=last + timedelta(minutes=59, seconds=30))
    assert e.value.params == {"minutes": 1}
    with pytest.raises(LinkAttemptsExceeded):
        link_by_payment(engine, DEFAULT, world.alice, "100000001", "NaN", now=last + timedelta(minutes=30))
    assert _numbers(engine, world.alice) == []
    # another customer is not affected
    link_by_payment(engine, DEFAULT, world.bob, "100000001", "1234.50", now=last)
    # an hour after the lock began, it is over and the counter starts again
    after = last + timedelta(hours=1)
    assert _left(engine, world.alice, after) == MAX_LINK_FAILURES
    link_by_payment(engine, DEFAULT, world.alice, "100000001", "1234.50", now=after)
    assert _numbers(engine, world.alice) == ["100000001"]
    assert _left(engine, world.alice, after) == MAX_LINK_FAILURES


def test_success_does_not_reset_the_counter(engine, world):
    """Otherwise unlinking and adding one's own account again would give unlimited guesses."""
    for _ in range(MAX_LINK_FAILURES - 1):
        _fail(engine, world, world.alice, NOW)
    link_by_payment(engine, DEFAULT, world.alice, "100000007", "99.99", now=NOW)
    unlink(engine, world.alice, world.a7.id, now=NOW)
    _fail(engine, world, world.alice, NOW)
    with pytest.raises(LinkAttemptsExceeded):
        link_by_payment(engine, DEFAULT, world.alice, "100000007", "99.99", now=NOW)


def test_failures_forgotten_after_a_quiet_hour(engine, world):
    for _ in range(MAX_LINK_FAILURES - 1):
        _fail(engine, world, world.alice, NOW)
    later = NOW + timedelta(hours=1)
    assert _left(engine, world.alice, later) == MAX_LINK_FAILURES
    for _ in range(MAX_LINK_FAILURES - 1):
        _fail(engine, world, world.alice, later)
    link_by_payment(engine, DEFAULT, world.alice, "100000001", "1234.50", now=later)


def test_parallel_guesses_cannot_pass_the_limit(engine, world):
    tries = MAX_LINK_FAILURES + 6
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(tries)

    def guess(i):
        barrier.wait()
        try:
            link_by_payment(engine, DEFAULT, world.alice, f"9{i:08d}", f"{1000 + i}.00", now=NOW)
            out = "linked"
        except FormErrors:
            out = "failed"
        except LinkAttemptsExceeded:
            out = "locked"
        with lock:
            results.append(out)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["failed"] * MAX_LINK_FAILURES + ["locked"] * 6
    with read_session(engine) as s:
        rows = s.exec(select(LoginThrottle).where(
            LoginThrottle.identifier_hash == throttle.plain_key("accounts.link", world.alice))).all()
    assert len(rows) == 1 and rows[0].failures == MAX_LINK_FAILURES and rows[0].locked_until is not None


def test_throttle_does_not_touch_sign_in_rows(engine, world):
    with write_session(engine) as s:
        s.add(LoginThrottle(identifier_hash="f" * 64, failures=2, last_failure_at=NOW))
    _fail(engine, world, world.alice, NOW)
    with read_session(engine) as s:
        assert s.exec(select(LoginThrottle).where(LoginThrottle.identifier_hash == "f" * 64)).one().failures == 2


# --------------------------------------------------------------------------- legal entities


def test_legal_entity_sees_its_company_list_and_cannot_change_it(engine, world):
    assert _numbers(engine, world.corp) == ["200000001", "200000002"]
    with read_session(engine) as s:
        assert can_add_accounts(s, world.corp) is False
        cards = list_accounts(s, world.corp)
        assert {c.kind for c in cards} == {"legal"} and cards[0].holder_name == "ТОО «Алатау»"
        assert require_account(s, world.corp, world.legal1.id).id == world.legal1.id
        for other in (world.legal_other.id, world.a1.id):
            with pytest.raises(AccountNotFound):
                require_account(s, world.corp, other)
    with pytest.raises(AccountsFixed) as e:
        link_by_payment(engine, DEFAULT, world.corp, "100000001", "1234.50", now=NOW)
    assert e.value.key == "errors.accounts_fixed_for_legal"
    with pytest.raises(AccountsFixed):
        link_by_payment(engine, DEFAULT, world.corp, "200000009", "1", now=NOW)
    with pytest.raises(AccountsFixed):
        link_by_address(engine, DEFAULT, world.corp, world.ids["h10"], world.ids["f1"], "100000001", "1234.50", now=NOW)
    with pytest.raises(AccountsFixed):
        unlink(engine, world.corp, world.legal1.id, now=NOW)
    with pytest.raises(AccountNotFound):  # not theirs: not found, as for anyone
        unlink(engine, world.corp, world.legal_other.id, now=NOW)
    # a link row left over (e.g. from registration) changes nothing: the list is the BIN's
    with write_session(engine) as s:
        s.add(UserAccountLink(user_id=world.corp, account_id=world.a1.id))
    assert _numbers(engine, world.corp) == ["200000001", "200000002"]
    # a new company account appears in the list by itself
    with write_session(engine) as s:
        s.add(Account(number="200000003", holder_name="ТОО «Алатау»", kind="legal", bin=BIN_A, address="x"))
    assert _numbers(engine, world.corp) == ["200000001", "200000002", "200000003"]


def test_legal_entity_without_bin_sees_nothing(engine, world):
    assert _numbers(engine, world.nobin) == []
    with read_session(engine) as s:
        with pytest.raises(AccountNotFound):
            require_account(s, world.nobin, world.legal_other.id)


# --------------------------------------------------------------------------- profiles


def test_profile_decides_how_accounts_are_added(engine, world):
    with pytest.raises(LinkMethodUnavailable) as e:
        link_by_payment(engine, KREM, world.alice, "1000000010", "1234.50", now=NOW)
    assert e.value.key == "errors.link_method_unavailable"
    with pytest.raises(LinkMethodUnavailable):
        link_by_address(engine, SHYG, world.alice, world.ids["h10"], world.ids["f1"], "10000001", "1234.50", now=NOW)
    with pytest.raises(FormErrors) as e:  # Shygysenergotrade numbers have 8 digits
        link_by_payment(engine, SHYG, world.alice, "100000001", "1234.50", now=NOW)
    assert e.value.fields["number"] == Notice("errors.account_number_invalid", {"example": "40012345"})


# --------------------------------------------------------------------------- address picker


def test_each_level_lists_only_the_children_of_its_parent(engine, world):
    i = world.ids
    with read_session(engine) as s:
        assert [o.name for o in branches(s)] == ["Восточный", "Центральный"]
        assert settlements(s, i["b1"]) == [acc_svc.Option(i["s1"], "Алматы")]
        assert settlements(s, i["b2"]) == [acc_svc.Option(i["s2"], "Талгар")]
        assert [o.name for o in streets(s, i["s1"])] == ["ул. Абая", "ул. Жамбыла"]
        assert [o.id for o in streets(s, i["s2"])] == [i["st2"]]
        assert [o.name for o in houses(s, i["st1"])] == ["2", "10", "10а"]  # natural order
        assert houses(s, i["st3"]) == []
        assert [o.name for o in flats(s, i["h10"])] == ["1", "3", "12"]
        assert [o.id for o in flats(s, i["h5"])] == [i["f7"]]
        assert flats(s, i["h2"]) == []
        for fn in (settlements, streets, houses, flats):
            for bad in (None, "1", str(i["b1"]), True, 1.0, -1, 0, 2**63, 2**200, {"id": 1}, [1], 987654):
                assert fn(s, bad) == []


def test_link_by_address(engine, world):
    i = world.ids
    with pytest.raises(FormErrors) as e:  # Kremenchukgaz numbers have 10 digits
        link_by_address(engine, KREM, world.alice, i["h10"], i["f1"], "100000001", "1234.50", now=NOW)
    assert set(_form(e)) == {"number"}
    card = link_by_address(engine, DEFAULT, world.alice, i["h10"], i["f1"], "100000001", "1234.50", now=NOW)
    assert card.id == world.a1.id
    card = link_by_address(engine, DEFAULT, world.alice, i["h2"], None, "100000007", "99.99", now=NOW)  # a house, no flat
    assert _numbers(engine, world.alice) == ["100000001", "100000007"]
    with pytest.raises(AccountAlreadyLinked):
        link_by_address(engine, DEFAULT, world.alice, i["h10"], i["f1"], "100000001", "1234.50", now=NOW)
    assert _left(engine, world.alice) == MAX_LINK_FAILURES


@pytest.mark.parametrize("case", [
    "other_flat", "other_house", "flat_missing", "flat_given_for_house", "unknown_number", "company_account",
])
def test_link_by_address_refuses_a_number_not_at_that_address(engine, world, case):
    i = world.ids
    house, flat, number = {
        "other_flat": (i["h10"], i["f2"], "100000001"),  # a1 is in flat 1, not 12
        "other_house": (i["h5"], i["f7"], "100000001"),
        "flat_missing": (i["h10"], None, "100000001"),
        "flat_given_for_house": (i["h2"], None, "100000001"),
        "unknown_number": (i["h10"], i["f1"], "100000099"),
        "company_account": (i["h10a"], None, "200000001"),
    }[case]
    with pytest.raises(FormErrors) as e:
        link_by_address(engine, DEFAULT, world.alice, house, flat, number, "1.00", now=NOW)
    wrong = Notice("errors.address_proof_failed")
    assert _form(e) == {"number": wrong, "last_payment": wrong}
    assert _left(engine, world.alice) == MAX_LINK_FAILURES - 1
    assert _numbers(engine, world.alice) == []


def test_link_by_address_flat_must_be_in_the_house(engine, world):
    i = world.ids
    with pytest.raises(FormErrors) as e:
        link_by_address(engine, DEFAULT, world.alice, i["h10"], i["f7"], "100000003", "1.00", now=NOW)
    assert _form(e) == {"flat": Notice("errors.flat_not_in_house")}
    for bad_flat in ("1", True, 1.5, 2**64, -3, 987654):
        with pytest.raises(FormErrors) as e:
            link_by_address(engine, DEFAULT, world.alice, i["h10"], bad_flat, "100000001", "1234.50", now=NOW)
        assert _form(e) == {"flat": Notice("errors.flat_not_in_house")}
    for bad_house in (None, str(i["h10"]), False, 10.0, 2**70, 987654, {"id": i["h10"]}):
        with pytest.raises(FormErrors) as e:
            link_by_address(engine, DEFAULT, world.alice, bad_house, i["f1"], "100000001", "1234.50", now=NOW)
        assert _form(e) == {"house": Notice("errors.house_not_found")}
    assert _left(engine, world.alice) == MAX_LINK_FAILURES  # input errors are not guesses
    assert _numbers(engine, world.alice) == []


# --------------------------------------------------------------------------- foreign and odd ids


def _odd_ids(world):
    return [world.a1.id, world.legal1.id, 987654, str(world.a1.id), "1", True, False, float(world.a1.id), 1.0,
            2**63, 2**200, -world.a1.id, 0, None, {"id": world.a1.id}, [world.a1.id], D(world.a1.id), b"1"]


def test_require_account_refuses_foreign_missing_and_odd_ids_alike(engine, world):
    link_by_payment(engine, DEFAULT, world.bob, "100000001", "1234.50", now=NOW)  # bob's, not alice's
    with read_session(engine) as s:
        for bad in _odd_ids(world):
            with pytest.raises(AccountNotFound) as e:
                require_account(s, world.alice, bad)
            assert e.value.key == "errors.account_not_found" and e.value.params == {}, bad
        for bad_user in (None, "1", True, 2**80, 987654):
            with pytest.raises(AccountNotFound):
                require_account(s, bad_user, world.a1.id)
        assert require_account(s, world.bob, world.a1.id).id == world.a1.id


def test_unlink(engine, world):
    link_by_payment(engine, DEFAULT, world.alice, "100000001", "1234.50", now=NOW)
    link_by_payment(engine, DEFAULT, world.bob, "100000001", "1234.50", now=NOW)
    link_by_payment(engine, DEFAULT, world.bob, "100000007", "99.99", now=NOW)
    for bad in _odd_ids(world)[1:] + [world.a7.id]:  # a7 is bob's only
        with pytest.raises(AccountNotFound) as e:
            unlink(engine, world.alice, bad, now=NOW)
        assert e.value.key == "errors.account_not_found" and e.value.params == {}, bad
    assert _numbers(engine, world.bob) == ["100000001", "100000007"]
    unlink(engine, world.alice, world.a1.id, now=NOW)
    assert _numbers(engine, world.alice) == []
    assert _numbers(engine, world.bob) == ["100000001", "100000007"]  # bob keeps his
    with pytest.raises(AccountNotFound):
        unlink(engine, world.alice, world.a1.id, now=NOW)
    with read_session(engine) as s:
        with pytest.raises(AccountNotFound):
            require_account(s, world.alice, world.a1.id)
    with pytest.raises(AccountNotFound):
        unlink(engine, 987654, world.a1.id, now=NOW)


# --------------------------------------------------------------------------- on demo data


def test_link_an_account_of_the_demo_data(engine):
    from gazportal.demo import generate_demo

    generate_demo(engine, DEFAULT, accounts=10, months=3, seed=7, last_period="2026-01")
    with write_session(engine) as s:
        uid = _user(s, "demo@example.kz")
        row = s.execute(sa.text(
            "SELECT a.number, p.amount FROM payment p JOIN account a ON a.id = p.account_id "
            "WHERE a.kind = 'person' ORDER BY p.paid_at DESC, p.id DESC LIMIT 1")).one()
        number, amount = row[0], D(str(row[1])).quantize(D("0.01"))
        earlier = s.execute(sa.text(
            "SELECT p.amount FROM payment p JOIN account a ON a.id = p.account_id WHERE a.number = :n "
            "ORDER BY p.paid_at DESC, p.id DESC"), {"n": number}).all()
    others = {D(str(r[0])).quantize(D("0.01")) for r in earlier[1:]} - {amount}
    for wrong in sorted(others)[:2]:
        with pytest.raises(FormErrors):
            link_by_payment(engine, DEFAULT, uid, number, str(wrong), now=NOW)
    card = link_by_payment(engine, DEFAULT, uid, number, str(amount).replace(".", ","), now=NOW)
    assert card.number == number and _numbers(engine, uid) == [number]
