"""The signed-in pages' states (accounts, profile, password) called directly, as a browser (or an
attacker speaking Reflex's protocol) would call them, on a real SQLite database.

Every handler: refuses without a session; takes the user only from the session; refuses another
customer's account / document ids with the same answer as a missing one; and answers wrong
types, huge values, NaN and extra fields by doing nothing (no exception, no change in the DB).
"""
from __future__ import annotations

import dataclasses
import io
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models import (
    Account, Branch, Flat, House, Payment, RequestDocument, ReregistrationRequest, Settlement,
    Street, User, UserAccountLink,
)
from gazportal.services import auth, i18n
# The state classes are registered when the module is collected (Reflex keeps its registry in a
# context variable: one made inside a test's task would be gone in the next test).
from gazportal.state import accounts as _accounts, change_password as _password, user_profile as _utility  # noqa: F401
from gazportal.state.views import Option, ProfileValues
from tests.conftest import sign_in_token, state_of
from tests.conftest import add_user

PASSWORD = "Sturdy-Lantern-42"
NEW_PASSWORD = "Quiet-Harbour-77"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ODD = [None, True, 1.5, math.nan, math.inf, -1, 0, 2**70, "1e3", "abc", " 1", "", [1], {"id": 1}, "9" * 40]


CHECK_FORM = i18n.t("errors.form_invalid", "en")


pytestmark = pytest.mark.usefixtures("fast_hashing")  # cheap argon2 (tests/conftest.py)


def _user(s, login, *, kind="person", bin_=None, surname="Иванова", name="Анна") -> int:
    return add_user(s, login, password=PASSWORD, kind=kind, bin=bin_, surname=surname, name=name)


@pytest.fixture
def world(app_db):
    with write_session(app_db) as s:
        b = Branch(name="Central")
        s.add(b)
        s.flush()
        st = Settlement(branch_id=b.id, name="Almaty")
        s.add(st)
        s.flush()
        street = Street(settlement_id=st.id, name="Abai Ave")
        s.add(street)
        s.flush()
        h = House(street_id=street.id, number="10")
        s.add(h)
        s.flush()
        f1, f2 = Flat(house_id=h.id, number="1"), Flat(house_id=h.id, number="2")
        s.add_all([f1, f2])
        s.flush()

        def account(number, holder, flat=None, kind="person", bin_=None):
            a = Account(number=number, holder_name=holder, address=f"Almaty, Abai Ave 10, {number}", kind=kind,
                        bin=bin_, house_id=h.id, flat_id=flat.id if flat else None)
            s.add(a)
            s.flush()
            return a.id

        mine = account("100000001", "Ivanova A.", f1)
        bobs = account("100000002", "Bob B.", f2)
        free = account("100000003", "Free F.")
        s.add(Payment(account_id=free, paid_at=datetime(2026, 2, 5, tzinfo=UTC), amount=D("1234.50"),
                      receipt_no="R-1", channel="bank"))
        legal = account("200000001", "LLP Alatau", kind="legal", bin_="180240012342")
        alice = _user(s, "alice@example.kz")
        bob = _user(s, "bob@example.kz", surname="Brown", name="Bob")
        corp = _user(s, "corp@example.kz", kind="legal", bin_="180240012342")
        s.add_all([UserAccountLink(user_id=alice, account_id=mine), UserAccountLink(user_id=bob, account_id=bobs)])
        ids = dict(branch=b.id, settlement=st.id, street=street.id, house=h.id, f1=f1.id, f2=f2.id, mine=mine,
                   bobs=bobs, free=free, legal=legal, alice=alice, bob=bob, corp=corp)
    return ids


def _token(engine, login, password=PASSWORD) -> str:
    return sign_in_token(engine, login, password)


async def _root(token: str = ""):
    from gazportal.state.session import SessionState

    return (await state_of(SessionState, token or None))._get_root_state()


async def _state(cls, token=""):
    return await state_of(cls, token or None)


def _sub(s, form: dict) -> dict:
    """A create form as the page sends it: with the state's current submission id."""
    return {**form, "submission": s.submission}


def _send(s) -> dict:
    """The form that sends the draft shown."""
    return {"draft": s.draft_id, "submission": s.submission}


def _snapshot(engine) -> tuple:
    """Everything the handlers could change."""
    with read_session(engine) as s:
        links = sorted((link.user_id, link.account_id) for link in s.exec(select(UserAccountLink)).all())
        reqs = sorted((r.id, r.user_id, r.status) for r in s.exec(select(ReregistrationRequest)).all())
        docs = s.exec(select(func.count()).select_from(RequestDocument)).one()
        users = sorted((u.id, u.surname, u.name, u.phone, u.email, u.language, u.gender, str(u.birth_date),
                        u.password_hash) for u in s.exec(select(User)).all())
    return links, reqs, docs, users


def _is_signin_redirect(result) -> bool:
    return result is not None and "/signin" in repr(result)


# --- without a session --------------------------------------------------------------------------

ACCOUNT_CALLS = [
    ("load", ()), ("add_by_payment", ({"number": "100000003", "last_payment": "1234.50"},)),
    ("pick", ("branch", "1")), ("add_by_address", ({"number": "100000003", "last_payment": "1234.50"},)), ("ask_unlink", ("1",)),
    ("confirm_unlink", ()), ("start_request", ({"account_number": "100000001", "new_owner_name": "X Y",
                                                "phone": "+77011234567", "comment": ""},)),
    ("upload_document", "file"), ("remove_document", ("1",)), ("submit_request", ({"draft": "1"},)),
]
CREATES = ("add_by_payment", "add_by_address", "start_request", "submit_request")


@pytest.mark.parametrize("token", ["", "not-a-token", "A" * 43])
async def test_nothing_runs_without_a_valid_session(world, app_db, token):
    from gazportal.state.accounts import AccountsState
    from gazportal.state.change_password import PasswordState
    from gazportal.state.user_profile import ProfileState

    before = _snapshot(app_db)
    for name, args in ACCOUNT_CALLS:
        s = await _state(AccountsState, token)
        s.unlink_id, s.draft_id = str(world["bobs"]), "1"  # even with ids planted in the state
        if args == "file":
            args = ([_upload(PDF)],)
        elif name in CREATES:
            args = (_sub(s, args[0]),)  # well-formed, so that only the session is missing
        assert _is_signin_redirect(await getattr(s, name)(*args)), name
        assert s.cards == [] and s.notice == ""
    p = await _state(ProfileState, token)
    assert _is_signin_redirect(await p.load())
    assert _is_signin_redirect(await p.save({"surname": "X", "name": "Y", "phone": "", "email": "",
                                             "birth_date": "", "gender": "", "language": "ru"}))
    assert p.values == ProfileValues()
    pw = await _state(PasswordState, token)
    assert _is_signin_redirect(await pw.change(_sub(pw, {"current": PASSWORD, "password": NEW_PASSWORD,
                                                         "password2": NEW_PASSWORD})))
    assert _snapshot(app_db) == before


async def test_a_revoked_session_is_refused(world, app_db):
    from gazportal.state.accounts import AccountsState

    token = _token(app_db, "alice@example.kz")
    auth.sign_out(app_db, token, now=datetime.now(UTC))
    s = await _state(AccountsState, token)
    assert _is_signin_redirect(await s.load())
    assert s.cards == []


# --- accounts -----------------------------------------------------------------------------------


async def test_load_shows_only_the_users_own_cards(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    assert await s.load() is None
    assert [c.number for c in s.cards] == ["100000001"]
    assert s.cards[0].holder == "Ivanova A." and "Abai" in s.cards[0].address
    assert s.can_add is True and s.add_mode == "payment_proof"
    assert s.branches == [Option(str(world["branch"]), "Central")]


async def test_cards_show_each_accounts_balance(world, app_db):
    """Issue 14 point 18: a card says the account's balance today in the dashboard's words — a
    debt in red (``in_debt``), a credit, or nothing owed — and follows a language switch."""
    from gazportal.models import Charge
    from gazportal.state.accounts import AccountsState
    from gazportal.state.i18n import I18nState

    with write_session(app_db) as db:
        db.add(Charge(account_id=world["mine"], period="2026-10", service="gas", volume=D("50"), amount=D("1275.00")))
        db.add(Charge(account_id=world["bobs"], period="2026-10", service="gas", volume=D("9"), amount=D("999.99")))
    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    [card] = s.cards
    assert (card.balance, card.in_debt) == ("Debt: ₸1,275.00", True)
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))  # paid, nothing charged
    assert [(c.number, c.balance, c.in_debt) for c in s.cards] == [
        ("100000001", "Debt: ₸1,275.00", True), ("100000003", "Overpaid: ₸1,234.50", False)]
    assert "999.99" not in repr(s.cards)  # Bob's account is not hers
    (await s.get_state(I18nState)).lang_pref = "ru"
    await s.relang()
    assert s.cards[0].balance == i18n.t("dashboard.balance.debt", "ru", amount=i18n.format_money(D("1275.00"), "KZT", "ru"))
    b = await _state(AccountsState, _token(app_db, "bob@example.kz"))
    await b.load()
    assert [(c.balance, c.in_debt) for c in b.cards] == [("Debt: ₸999.99", True)]


async def test_a_refusal_raises_the_count_the_error_summary_follows(world, app_db):
    """Issue 14 point 16: each refused submit (even with the same messages as the last) raises
    ``refusals``, which moves the focus to the form's error summary; an accepted one does not."""
    from gazportal.state.accounts import AccountsState
    from gazportal.state.change_password import PasswordState
    from gazportal.state.user_profile import ProfileState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    for n in (1, 2):
        await s.add_by_payment(_sub(s, {"number": "12", "last_payment": "abc"}))
        assert s.refusals == n and set(s.add_errors) == {"number", "last_payment"}
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    assert s.refusals == 2 and s.add_errors == {}
    token = _token(app_db, "alice@example.kz")
    p = await _state(PasswordState, token)
    await p.change(_sub(p, {"current": "wrong-one-12345", "password": NEW_PASSWORD, "password2": NEW_PASSWORD}))
    assert p.refusals == 1 and p.errors
    prof = await _state(ProfileState, token)
    await prof.load()
    await prof.save({**PROFILE, "phone": "12"})
    assert prof.refusals == 1 and set(prof.errors) == {"phone"}


async def test_legal_entity_sees_its_company_list_and_cannot_add_or_unlink(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "corp@example.kz"))
    await s.load()
    assert [c.number for c in s.cards] == ["200000001"] and s.can_add is False
    before = _snapshot(app_db)
    await s.ask_unlink(str(world["legal"]))
    assert s.unlink_id == "" and s.error  # the service refuses (fixed list)
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    assert _snapshot(app_db) == before


async def test_add_by_payment_and_field_errors(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.49"}))
    assert set(s.add_errors) == {"number", "last_payment"} and s.cards[-1].number == "100000001"
    await s.add_by_payment(_sub(s, {"number": "12", "last_payment": "abc"}))
    assert set(s.add_errors) == {"number", "last_payment"}
    key = s.add_form_key
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    assert s.add_errors == {} and s.add_form_key == key + 1
    assert [c.number for c in s.cards] == ["100000001", "100000003"]
    assert "100000003" in s.notice


async def test_form_copies_under_the_input_ids_are_accepted(world, app_db):
    """The browser sends each input twice: by name and by id (Reflex's refs)."""
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    before = _snapshot(app_db)
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50", "add_number": "100000003",
                            "add_last_payment": {"x": 1}}))  # a copy that is not a string: refused
    assert _snapshot(app_db) == before
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50", "add_number": "100000003",
                            "add_last_payment": "1234.50"}))
    assert [c.number for c in s.cards] == ["100000001", "100000003"]


@pytest.mark.parametrize(
    "payload",
    [
        None, "100000003", 5, [], {"number": "100000003"},
        {"number": "100000003", "last_payment": "1234.50", "pick_number": "1"},  # another form's copy
        {"number": "100000003", "last_payment": "1234.50", "user_id": 2},  # an extra field
        {"number": 100000003, "last_payment": 1234.5},
        {"number": "100000003", "last_payment": math.nan},
        {"number": "100000003", "last_payment": {"$gt": 0}},
        {"number": "1" * 100_000, "last_payment": "1234.50"},
        {"number": "100000003", "last_payment": "9" * 5000},
        {"number": "100000003\x00", "last_payment": "1234.50"},
    ],
)
async def test_add_by_payment_refuses_junk_cleanly(world, app_db, payload):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    before = _snapshot(app_db)
    if isinstance(payload, dict):
        payload = _sub(s, payload)  # only the junk is wrong
    assert await s.add_by_payment(payload) is None
    assert _snapshot(app_db) == before
    assert [c.number for c in s.cards] == ["100000001"]


async def test_address_picker_cascades_and_links(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.pick("settlement", str(world["settlement"]))  # parent not chosen yet: ignored
    assert s.sel_settlement == ""
    await s.pick("branch", str(world["branch"]))
    assert s.settlements == [Option(str(world["settlement"]), "Almaty")]
    await s.pick("settlement", str(world["settlement"]))
    await s.pick("street", str(world["street"]))
    await s.pick("house", str(world["house"]))
    assert [f.name for f in s.flats] == ["1", "2"]
    # The free account has no flat: with flats listed, a flat must be chosen first.
    await s.add_by_address(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    assert "flat" in s.add_errors
    await s.pick("flat", str(world["f2"]))
    await s.add_by_address(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))  # not at flat 2
    assert "number" in s.add_errors
    # Changing a level clears everything below it.
    await s.pick("street", str(world["street"]))
    assert s.sel_house == "" and s.flats == [] and s.sel_flat == ""
    before = _snapshot(app_db)
    await s.add_by_address(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    assert "house" in s.add_errors and _snapshot(app_db) == before


async def test_address_picker_links_an_account_at_the_chosen_flat(world, app_db):
    from gazportal.state.accounts import AccountsState

    with write_session(app_db) as ses:  # a free account at flat 2
        a = Account(number="100000009", holder_name="Z", address="x", house_id=world["house"], flat_id=world["f2"])
        ses.add(a)
        ses.flush()
        ses.add(Payment(account_id=a.id, paid_at=datetime(2026, 2, 5, tzinfo=UTC), amount=D("10.00"),
                        receipt_no="R-9", channel="bank"))
    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    for level, key in (("branch", "branch"), ("settlement", "settlement"), ("street", "street"),
                       ("house", "house"), ("flat", "f2")):
        await s.pick(level, str(world[key]))
    await s.add_by_address(_sub(s, {"number": "100000009", "last_payment": "10.00"}))
    assert s.add_errors == {} and "100000009" in [c.number for c in s.cards]


@pytest.mark.parametrize("value", ODD + ["999999"])
async def test_picker_ignores_odd_and_unlisted_values(world, app_db, value):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.pick("branch", value)
    assert s.sel_branch == "" and s.settlements == []
    await s.pick("country", str(world["branch"]))  # not a level of the picker: refused
    assert s.sel_branch == "" and s.settlements == []


async def test_unlink_own_account_after_confirmation(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.ask_unlink(str(world["mine"]))
    assert s.unlink_id == str(world["mine"]) and s.unlink_number == "100000001"
    await s.cancel_unlink()
    assert s.unlink_id == ""
    await s.ask_unlink(world["mine"])  # an int works too
    await s.confirm_unlink()
    assert s.cards == [] and "100000001" in s.notice and s.unlink_id == ""


@pytest.mark.parametrize("which", ["bobs", "free", "legal", "missing"])
async def test_another_users_account_is_refused_like_a_missing_one(world, app_db, which):
    from gazportal.state.accounts import AccountsState

    account_id = world.get(which, 10_000)
    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    before = _snapshot(app_db)
    await s.ask_unlink(str(account_id))
    assert s.unlink_id == "" and s.unlink_number == ""
    assert s.error == "Account not found."
    # A state var forced to a foreign id (not possible through the gate, which blocks setvar)
    # still does not unlink it: the service checks the owner.
    s.unlink_id = str(account_id)
    await s.confirm_unlink()
    assert s.error == "Account not found."
    assert _snapshot(app_db) == before


@pytest.mark.parametrize("value", ODD)
async def test_ask_unlink_with_odd_ids_changes_nothing(world, app_db, value):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    before = _snapshot(app_db)
    await s.ask_unlink(value)
    await s.remove_document(value)
    assert s.unlink_id == "" and _snapshot(app_db) == before


# --- re-registration ----------------------------------------------------------------------------


def _upload(data: bytes, name: str = "passport.pdf"):
    from reflex.app import UploadFile

    return UploadFile(file=io.BytesIO(data), path=Path(name), size=len(data))


REQUEST = {"account_number": "100000001", "new_owner_name": "Petrov Petr", "phone": "+7 701 123 45 67",
           "comment": "Sold the flat"}


async def test_request_with_documents_one_by_one(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.start_request(_sub(s, {**REQUEST, "phone": "12"}))
    assert "phone" in s.req_errors and s.draft_id == ""
    await s.start_request(_sub(s, REQUEST))
    assert s.req_errors == {} and s.draft_id and s.draft_owner == "Petrov Petr"
    await s.submit_request(_send(s))  # no document yet
    assert "file" in s.req_errors
    await s.upload_document([_upload(b"MZ\x90\x00 not a document", "evil.pdf")])
    assert "file" in s.req_errors and s.docs == []
    await s.upload_document([_upload(PDF), _upload(PDF, "b.pdf")])  # two at once: refused
    assert s.docs == []
    await s.upload_document([_upload(PDF, "../../etc/passwd.pdf")])
    await s.upload_document([_upload(PDF + b"% page 2\n", "second.pdf")])  # another file (other bytes)
    assert len(s.docs) == 2 and s.docs[0].type == "application/pdf"
    assert "/" not in s.docs[0].name
    await s.remove_document(s.docs[0].id)
    assert [d.name for d in s.docs] == ["second.pdf"]
    await s.submit_request(_send(s))
    assert s.draft_id == "" and s.docs == [] and s.req_notice
    assert [(r.number, r.status) for r in s.requests] == [("100000001", "submitted")]
    # A new load keeps showing it.
    s2 = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s2.load()
    assert s2.requests[0].status_text == "Sent"


async def test_too_large_document_is_refused_without_reading_it_all(world, app_db):
    from gazportal.services.accounts import MAX_DOCUMENT_BYTES
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.start_request(_sub(s, REQUEST))
    await s.upload_document([_upload(PDF + b"0" * MAX_DOCUMENT_BYTES)])
    assert "file" in s.req_errors and s.docs == []


async def test_another_users_document_and_request_are_refused(world, app_db):
    from gazportal.state.accounts import AccountsState

    bob = await _state(AccountsState, _token(app_db, "bob@example.kz"))
    await bob.load()
    await bob.start_request(_sub(bob, REQUEST))
    await bob.upload_document([_upload(PDF)])
    bobs_doc, bobs_draft = bob.docs[0].id, bob.draft_id

    alice = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await alice.load()
    assert alice.draft_id == "" and alice.docs == []
    before = _snapshot(app_db)
    await alice.remove_document(bobs_doc)
    assert alice.req_error
    alice.draft_id = bobs_draft  # forced (the gate blocks setvar); the service still refuses
    await alice.upload_document([_upload(PDF)])
    await alice.submit_request(_send(alice))
    assert _snapshot(app_db) == before


@pytest.mark.parametrize(
    "payload",
    [None, "x", {**REQUEST, "extra": "1"}, {k: v for k, v in REQUEST.items() if k != "comment"},
     {**REQUEST, "phone": 77011234567}, {**REQUEST, "comment": "x" * 10_000}, {**REQUEST, "new_owner_name": math.nan}],
)
async def test_start_request_refuses_junk(world, app_db, payload):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    before = _snapshot(app_db)
    if isinstance(payload, dict):
        payload = _sub(s, payload)
    await s.start_request(payload)
    assert _snapshot(app_db) == before and s.draft_id == ""


@pytest.mark.parametrize("files", [None, "x", [None], [{"filename": "a.pdf"}], [b"%PDF"], {"a": 1}])
async def test_upload_refuses_what_is_not_one_file(world, app_db, files):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.start_request(_sub(s, REQUEST))
    before = _snapshot(app_db)
    await s.upload_document(files)
    assert _snapshot(app_db) == before and s.docs == []


# --- profile ------------------------------------------------------------------------------------

PROFILE = {"surname": "Ivanova", "name": "Anna", "phone": "+7 701 111 22 33", "email": "alice@example.kz",
           "birth_date": "1990-05-17", "gender": "female", "language": "ru",
           "current": PASSWORD}  # a new phone or e-mail needs the current password


async def test_profile_loads_and_saves_and_switches_the_language(world, app_db):
    from gazportal.state.i18n import I18nState
    from gazportal.state.user_profile import ProfileState

    root = await _root(_token(app_db, "alice@example.kz"))
    p = await root.get_state(ProfileState)
    await p.load()
    assert p.values.surname == "Иванова" and p.values.email == "alice@example.kz"
    assert p.values.language == "en"
    result = await p.save(PROFILE)
    assert p.errors == {} and p.values.phone == "+77011112233" and p.values.birth_date == "1990-05-17"
    assert p.notice == "Профиль сохранён."  # already in the new language
    i18n_state = await root.get_state(I18nState)
    assert i18n_state.lang == "ru" and result is not None  # <html lang> script
    with read_session(app_db) as s:
        u = s.get(User, world["alice"])
        assert (u.surname, u.language, u.gender, str(u.birth_date)) == ("Ivanova", "ru", "female", "1990-05-17")


async def test_profile_field_errors_keep_the_rest(world, app_db):
    from gazportal.state.user_profile import ProfileState

    p = await _state(ProfileState, _token(app_db, "alice@example.kz"))
    await p.load()
    before = _snapshot(app_db)
    key = p.form_key
    await p.save({**PROFILE, "phone": "12", "birth_date": "2999-01-01", "gender": "robot"})
    assert set(p.errors) == {"phone", "birth_date", "gender"}
    assert p.form_key == key  # the form is not re-drawn: what the user typed stays
    assert _snapshot(app_db) == before


async def test_email_change_needs_the_link(world, app_db):
    from gazportal.state.user_profile import ConfirmEmailState, ProfileState

    p = await _state(ProfileState, _token(app_db, "alice@example.kz"))
    await p.load()
    await p.save({**PROFILE, "email": "anna.new@example.kz", "language": "en"})
    assert p.pending_email == "anna.new@example.kz" and "anna.new@example.kz" in p.notice
    assert p.values.email == "alice@example.kz"  # unchanged until the link is opened
    # The confirmation page refuses a made-up token.
    c = await _state(ConfirmEmailState)
    await c.confirm()
    assert c.status == "failed"


@pytest.mark.parametrize(
    "payload",
    [None, [], "x", {**PROFILE, "role": "operator"}, {**PROFILE, "user_id": 2},
     {k: v for k, v in PROFILE.items() if k != "gender"}, {**PROFILE, "surname": 5},
     {**PROFILE, "language": math.nan}, {**PROFILE, "name": "x" * 100_000}, {**PROFILE, "email": ["a@b.kz"]}],
)
async def test_profile_save_refuses_junk(world, app_db, payload):
    from gazportal.state.user_profile import ProfileState

    p = await _state(ProfileState, _token(app_db, "alice@example.kz"))
    await p.load()
    before = _snapshot(app_db)
    assert await p.save(payload) is None
    assert _snapshot(app_db) == before


async def test_profile_is_always_the_session_users(world, app_db):
    from gazportal.state.user_profile import ProfileState

    p = await _state(ProfileState, _token(app_db, "bob@example.kz"))
    await p.load()
    assert p.values.surname == "Brown"
    await p.save({**PROFILE, "email": "bob@example.kz", "language": "en"})
    with read_session(app_db) as s:
        assert s.get(User, world["alice"]).surname == "Иванова"
        assert s.get(User, world["bob"]).surname == "Ivanova"


# --- password -----------------------------------------------------------------------------------


async def test_change_password_ends_other_sessions_and_keeps_this_one(world, app_db):
    from gazportal.state.change_password import PasswordState

    other = _token(app_db, "alice@example.kz")
    mine = _token(app_db, "alice@example.kz")
    pw = await _state(PasswordState, mine)
    await pw.change(_sub(pw, {"current": "wrong-one-123", "password": NEW_PASSWORD, "password2": NEW_PASSWORD}))
    assert "current" in pw.errors and pw.notice == ""
    await pw.change(_sub(pw, {"current": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}))
    assert "password2" in pw.errors
    await pw.change(_sub(pw, {"current": PASSWORD, "password": "short", "password2": "short"}))
    assert "password" in pw.errors
    key = pw.form_key
    await pw.change(_sub(pw, {"current": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}))
    assert pw.errors == {} and "signed out" in pw.notice and pw.form_key == key + 1
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert auth.resolve_session(app_db, other, now=now) is None
    assert auth.resolve_session(app_db, mine, now=now) is not None
    assert _token(app_db, "alice@example.kz", NEW_PASSWORD)


@pytest.mark.parametrize(
    "payload",
    [None, "x", {"current": PASSWORD, "password": NEW_PASSWORD},
     {"current": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "user_id": 2},
     {"current": PASSWORD, "password": math.nan, "password2": math.nan},
     {"current": PASSWORD, "password": "p" * 100_000, "password2": "p" * 100_000},
     {"current": [PASSWORD], "password": NEW_PASSWORD, "password2": NEW_PASSWORD}],
)
async def test_change_password_refuses_junk(world, app_db, payload):
    from gazportal.state.change_password import PasswordState

    pw = await _state(PasswordState, _token(app_db, "alice@example.kz"))
    before = _snapshot(app_db)
    if isinstance(payload, dict):
        payload = _sub(pw, payload)
    assert await pw.change(payload) is None
    assert _snapshot(app_db) == before and pw.notice == ""


# --- the gate knows every handler -----------------------------------------------------------------


def test_every_handler_is_declared_in_the_gate():
    from gazportal.state import gate
    from gazportal.state.accounts import AccountsState
    from gazportal.state.change_password import PasswordState
    from gazportal.state.contract import CUSTOMER, PUBLIC, declared_handlers
    from gazportal.state.user_profile import ConfirmEmailState, ProfileState

    for cls in (AccountsState, ProfileState, PasswordState):
        for name, decl in declared_handlers(cls).items():
            full = f"{cls.get_full_name()}.{name}"
            if decl is None:  # Reflex's setvar / setters: never through the gate
                assert gate.access_of(full) is None, name
            else:
                assert gate.access_of(full) == (PUBLIC if name == "begin" else CUSTOMER), name
    creates = {n for n, d in declared_handlers(AccountsState).items() if d is not None and d.creates}
    assert creates == {"add_by_payment", "add_by_address", "start_request", "submit_request"}
    assert declared_handlers(PasswordState)["change"].creates
    assert gate.access_of(f"{ConfirmEmailState.get_full_name()}.confirm") == PUBLIC
    assert gate.access_of(f"{AccountsState.get_full_name()}.setvar") is None


# --- creates count once ---------------------------------------------------------------------------


def _requests(engine) -> list[tuple]:
    with read_session(engine) as s:
        return sorted((r.user_id, r.status) for r in s.exec(select(ReregistrationRequest)).all())


def _shown(s) -> tuple:
    return (s.cards, s.notice, s.error, s.add_errors, s.add_form_key, s.requests, s.draft_id, s.docs, s.req_errors,
            s.req_notice, s.req_error, s.req_form_key, s.submission)


async def _to_the_house(s, world, flat="f1"):
    for level, key in (("branch", "branch"), ("settlement", "settlement"), ("street", "street"),
                       ("house", "house"), ("flat", flat)):
        await s.pick(level, str(world[key]))


async def test_each_create_form_sent_twice_stores_once(world, app_db):
    """A double click / a replayed event of every create form on /accounts: the submission id is
    used once; the repeat stores nothing and changes nothing on the page."""
    from gazportal.state.accounts import AccountsState

    with write_session(app_db) as ses:  # a free account at flat 2, for the address picker
        a = Account(number="100000009", holder_name="Z", address="x", house_id=world["house"], flat_id=world["f2"])
        ses.add(a)
        ses.flush()
        ses.add(Payment(account_id=a.id, paid_at=datetime(2026, 2, 5, tzinfo=UTC), amount=D("10.00"),
                        receipt_no="R-9", channel="bank"))
    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()

    async def twice(handler, form):
        await getattr(s, handler)(dict(form))
        after, snap = _shown(s), _snapshot(app_db)
        assert after[-1] != form["submission"], handler  # a fresh id for the next form
        assert await getattr(s, handler)(dict(form)) is None
        assert _shown(s) == after and _snapshot(app_db) == snap, handler

    await twice("add_by_payment", _sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    await _to_the_house(s, world, "f2")
    await twice("add_by_address", _sub(s, {"number": "100000009", "last_payment": "10.00"}))
    with read_session(app_db) as ses:
        links = ses.exec(select(UserAccountLink.account_id).where(UserAccountLink.user_id == world["alice"])).all()
    assert sorted(links) == sorted([world["mine"], world["free"]] + [links[-1]]) and len(links) == 3
    await twice("start_request", _sub(s, REQUEST))
    assert _requests(app_db) == [(world["alice"], "draft")]
    await s.upload_document([_upload(PDF)])
    await twice("submit_request", _send(s))
    assert _requests(app_db) == [(world["alice"], "submitted")]


@pytest.mark.parametrize("submission", ["x" * 15, "stale-id", None, 7])
async def test_a_wrong_or_missing_submission_id_creates_nothing(world, app_db, submission):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await _to_the_house(s, world)

    def forged(form: dict) -> dict:
        form = dict(form)
        if submission is None:
            form.pop("submission", None)
        else:
            form["submission"] = submission
        return form

    before, current = _snapshot(app_db), s.submission
    assert await s.add_by_payment(forged(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))) is None
    assert await s.add_by_address(forged(_sub(s, {"number": "100000001", "last_payment": "1.00"}))) is None
    assert await s.start_request(forged(_sub(s, REQUEST))) is None
    assert _snapshot(app_db) == before and s.notice == "" and s.draft_id == "" and s.submission == current
    await s.start_request(_sub(s, REQUEST))  # a real draft, with a document, sent with a forged id
    await s.upload_document([_upload(PDF)])
    before = _snapshot(app_db)
    assert await s.submit_request(forged(_send(s))) is None
    assert _snapshot(app_db) == before and _requests(app_db) == [(world["alice"], "draft")]


async def test_sending_another_draft_than_the_one_shown_sends_nothing(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.start_request(_sub(s, REQUEST))
    await s.upload_document([_upload(PDF)])
    await s.submit_request({"draft": str(int(s.draft_id) + 1), "submission": s.submission})
    assert _requests(app_db) == [(world["alice"], "draft")] and s.req_notice == ""


async def test_the_same_document_uploaded_twice_is_stored_once(world, app_db):
    from gazportal.state.accounts import AccountsState

    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    await s.start_request(_sub(s, REQUEST))
    await s.upload_document([_upload(PDF)])
    assert len(s.docs) == 1 and s.req_notice
    await s.upload_document([_upload(PDF, "again.pdf")])  # the same bytes: stored once
    assert len(s.docs) == 1 and s.req_notice and s.req_errors == {}
    assert _snapshot(app_db)[2] == 1
    await s.upload_document([_upload(PDF + b"\n% another", "other.pdf")])  # other bytes: a second one
    assert len(s.docs) == 2
    await s.remove_document(s.docs[0].id)  # removed: the same file may be uploaded again
    await s.upload_document([_upload(PDF)])
    assert len(s.docs) == 2 and _snapshot(app_db)[2] == 2
    # Another draft starts fresh: the same file goes to it.
    await s.submit_request(_send(s))
    await s.start_request(_sub(s, {**REQUEST, "new_owner_name": "Sidorov Ivan"}))
    await s.upload_document([_upload(PDF)])
    assert len(s.docs) == 1 and _snapshot(app_db)[2] == 3


async def test_the_password_form_sent_twice_changes_it_once(world, app_db):
    from gazportal.state.change_password import PasswordState

    pw = await _state(PasswordState, _token(app_db, "alice@example.kz"))
    form = _sub(pw, {"current": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    await pw.change(dict(form))
    after = (pw.errors, pw.notice, pw.error, pw.form_key, pw.submission, _snapshot(app_db))
    assert pw.notice and after[4] != form["submission"]
    # Run again it would say "the current password is wrong": a repeat changes nothing.
    assert await pw.change(dict(form)) is None
    assert (pw.errors, pw.notice, pw.error, pw.form_key, pw.submission, _snapshot(app_db)) == after


@pytest.mark.parametrize("submission", ["x" * 15, "stale-id", None])
async def test_the_password_form_without_its_submission_id_changes_nothing(world, app_db, submission):
    from gazportal.state.change_password import PasswordState

    pw = await _state(PasswordState, _token(app_db, "alice@example.kz"))
    form = {"current": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    if submission is not None:
        form["submission"] = submission
    before = _snapshot(app_db)
    assert await pw.change(form) is None
    assert _snapshot(app_db) == before and pw.notice == ""


# --- "please wait": the busy flag of the forms ----------------------------------------------------


async def test_begin_marks_only_a_known_form_busy_and_every_ending_lowers_it(world, app_db):
    """``begin`` (the first event of a form's submit chain) raises the flag the page's button shows
    as a spinner; the handler that follows lowers it whether it succeeds, is refused, gets junk
    or finds no session."""
    from gazportal.state.accounts import AccountsState
    from gazportal.state.change_password import PasswordState
    from gazportal.state.user_profile import ProfileState

    token = _token(app_db, "alice@example.kz")
    acc = await _state(AccountsState, token)
    for odd in ("unknown", "", None, 1, ["add_payment"], {"x": 1}, "add_payment " * 100):
        await acc.begin(odd)
        assert acc.busy == "", odd

    async def ends(state, name: str, call) -> None:
        await state.begin(name)
        assert state.busy == name
        await call()
        assert state.busy == "", name

    # accounts: refused (a wrong payment), accepted, junk
    await ends(acc, "add_payment", lambda: acc.add_by_payment(_sub(acc, {"number": "100000003", "last_payment": "1.00"})))
    assert "last_payment" in acc.add_errors
    await ends(acc, "add_payment", lambda: acc.add_by_payment(_sub(acc, {"number": "100000003", "last_payment": "1234.50"})))
    assert "100000003" in acc.notice
    await ends(acc, "add_payment", lambda: acc.add_by_payment(_sub(acc, {"number": math.nan})))
    await ends(acc, "request", lambda: acc.start_request(_sub(acc, {"account_number": "100000001", "new_owner_name": "",
                                                          "phone": "", "comment": ""})))
    assert acc.req_errors
    await ends(acc, "submit_request", lambda: acc.submit_request(_send(acc)))

    prof = await _state(ProfileState, token)
    await prof.load()
    await ends(prof, "save", lambda: prof.save({**dataclasses.asdict(prof.values), "surname": ""}))
    assert "surname" in prof.errors
    await ends(prof, "save", lambda: prof.save({**dataclasses.asdict(prof.values), "surname": "Петрова"}))
    assert prof.notice and not prof.errors

    pw = await _state(PasswordState, token)
    await ends(pw, "change", lambda: pw.change(_sub(pw, {"current": "wrong-one-123", "password": NEW_PASSWORD,
                                                 "password2": NEW_PASSWORD})))
    assert "current" in pw.errors
    await ends(pw, "change", lambda: pw.change("junk"))

    # the session ends meanwhile: sent to sign in, the flag lowered all the same
    auth.sign_out(app_db, token, now=datetime.now(UTC))
    await pw.begin("change")
    assert _is_signin_redirect(await pw.change(_sub(pw, {"current": PASSWORD, "password": NEW_PASSWORD,
                                                "password2": NEW_PASSWORD})))
    assert pw.busy == ""


async def test_a_language_switch_on_the_profile_page_updates_its_language_field(world, app_db):
    """Switched in the header, the language is the user's; the profile form must say so, or "Save"
    would switch it back."""
    from gazportal.state.i18n import I18nState
    from gazportal.state.user_profile import ProfileState

    prof = await _state(ProfileState, _token(app_db, "alice@example.kz"))
    await prof.load()
    assert prof.values.language == "en"
    key = prof.form_key
    (await prof.get_state(I18nState)).lang_pref = "ru"
    await prof.relang()
    assert prof.values.language == "ru" and prof.form_key == key + 1
    await prof.relang()  # already so: the form is left alone
    assert prof.form_key == key + 1


# --- issue 15 point 1: other holders on the card, taking access away, the CAPTCHA when asked ------


async def test_the_card_lists_the_other_holders_and_the_earlier_one_removes_a_later_one(world, app_db):
    from gazportal.state.accounts import AccountsState

    with write_session(app_db) as ses:
        # bob added alice's account after her (alice's link was made by the fixture, earlier)
        ses.add(UserAccountLink(user_id=world["bob"], account_id=world["mine"],
                                created_at=datetime.now(UTC) + timedelta(minutes=1)))
    alice = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await alice.load()
    card = next(c for c in alice.cards if c.number == "100000001")
    assert [(h.who, h.removable) for h in card.others] == [("b***@example.kz", True)]
    assert card.others[0].since.startswith("since ")
    bob = await _state(AccountsState, _token(app_db, "bob@example.kz"))
    await bob.load()
    bob_card = next(c for c in bob.cards if c.number == "100000001")
    assert [(h.who, h.removable) for h in bob_card.others] == [("a***@example.kz", False)]
    # bob cannot open the removal of alice, nor of a link id the page does not show
    await bob.ask_remove_holder(bob_card.id, bob_card.others[0].link_id)
    await bob.ask_remove_holder(bob_card.id, "987654")
    assert bob.drop_link == ""
    await alice.ask_remove_holder(card.id, card.others[0].link_id)
    assert alice.drop_who == "b***@example.kz"
    await alice.confirm_remove_holder()
    assert alice.notice == "b***@example.kz no longer has access to the account."
    assert next(c for c in alice.cards if c.number == "100000001").others == []
    await bob.load()
    assert "100000001" not in [c.number for c in bob.cards]


async def test_the_add_form_shows_the_captcha_when_the_server_asks(world, app_db):
    from gazportal.services import accounts as svc, throttle
    from gazportal.services.accounts import holders
    from gazportal.services.errors import FormErrors
    from gazportal.settings import get_settings
    from gazportal.state.accounts import AccountsState

    # the number is being guessed from elsewhere (other users, other addresses)
    for i in range(holders.PROOF_CAPTCHA_AFTER):
        with pytest.raises(FormErrors):
            svc.link_by_payment(app_db, get_settings().utility, world["bob"], "100000003", f"{i + 1}.00",
                                now=datetime.now(UTC), source=throttle.Source(address=f"10.0.0.{i}"))
    s = await _state(AccountsState, _token(app_db, "alice@example.kz"))
    await s.load()
    assert s.captcha_required is False and s.challenge == ""
    before = _snapshot(app_db)
    await s.add_by_payment(_sub(s, {"number": "100000003", "last_payment": "1234.50"}))
    assert s.captcha_required is True and s.challenge.startswith("{")
    assert s.add_errors == {"captcha": i18n.t("errors.captcha_required", "en")}
    assert _snapshot(app_db) == before
