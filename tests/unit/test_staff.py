"""The staff console's services (issue 16 points 1, 2 and 7; issue 14 point 2), on SQLite and
PostgreSQL: roles and the staff CLI, the append-only audit log (the ORM and the database refuse an
update or a delete; a write and its audit row commit together), and the inbox — replies e-mailed
over a real SMTP server (aiosmtpd), internal notes never shown to the customer, status moves with
reopen, per-kind SLA breaches."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from gazportal import cli
from gazportal.db import read_session, write_session
from gazportal.models import AuditEntry, CustomerMessage, MessageEvent, User
from gazportal.models.audit import AppendOnly
from gazportal.services import audit, inbox, messages, staff
from gazportal.services.audit import Actor, Change, NotAllowed
from gazportal.services.errors import FormErrors, InvalidInput, NotFound
from gazportal.settings import load_utility
from tests.conftest import add_user
from tests.unit.test_auth_kit import make_settings, smtp_server, smtp_to  # noqa: F401

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEFAULT = load_utility("default")
PW = "Quiet-Harbour-Lamp-71"

pytestmark = pytest.mark.usefixtures("fast_hashing")


def _operator(engine, role="operator", login="op@example.org") -> Actor:
    who = staff.add_staff(engine, DEFAULT, login=login, password=PW, role=role, surname="Operova", name="Olga",
                          now=NOW)
    return Actor(user_id=who.id, label=who.login, role=who.role)


def _audit(engine) -> list[AuditEntry]:
    with read_session(engine) as s:
        return list(s.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


# --- roles ---------------------------------------------------------------------------------------


def test_role_ranks():
    assert staff.has_role("admin", "operator") and staff.has_role("supervisor", "operator")
    assert staff.has_role("operator", "operator") and not staff.has_role("operator", "supervisor")
    assert not staff.has_role("supervisor", "admin")
    for nobody in ("customer", None, "", "root", 5):
        assert not staff.has_role(nobody, "operator") and not staff.is_staff(nobody)


def test_add_staff_makes_a_confirmed_user_and_an_audit_row(engine):
    actor = _operator(engine)
    with read_session(engine) as s:
        u = s.get(User, actor.user_id)
        assert (u.login, u.role, u.is_active) == ("op@example.org", "operator", True)
    [row] = _audit(engine)
    assert (row.actor, row.actor_id, row.action, row.object_type, row.object_id) == (
        "cli", None, "staff.add", "user", str(actor.user_id))
    assert json.loads(row.after) == {"login": "op@example.org", "role": "operator"} and row.at == NOW
    with pytest.raises(staff.LoginTaken):
        _operator(engine)
    with pytest.raises(InvalidInput):  # only staff roles
        staff.add_staff(engine, DEFAULT, login="c@example.org", password=PW, role="customer", surname="S", name="N",
                        now=NOW)
    with pytest.raises(InvalidInput):  # the profile's password policy
        staff.add_staff(engine, DEFAULT, login="d@example.org", password="password", role="admin", surname="S",
                        name="N", now=NOW)
    with pytest.raises(NotAllowed):  # an operator cannot make staff
        staff.add_staff(engine, DEFAULT, login="e@example.org", password=PW, role="admin", surname="S", name="N",
                        now=NOW, actor=actor)
    assert len(_audit(engine)) == 1


def test_cli_staff_add_reads_the_password_from_stdin(sqlite_engine, monkeypatch, capsys):
    url = str(sqlite_engine.url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    code = cli.main(["staff", "add", "--db-url", url, "--role", "supervisor", "--login", "Sup@Example.org",
                     "--surname", "Super", "--name", "Visor", "--password-stdin"])
    assert code == cli.EXIT_OK, capsys.readouterr()
    assert "sup@example.org (supervisor)" in capsys.readouterr().out
    from gazportal.services import auth

    assert auth.sign_in(sqlite_engine, DEFAULT, "sup@example.org", PW, now=NOW).token
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))  # the same login again: refused, exit 1
    assert cli.main(["staff", "add", "--db-url", url, "--role", "admin", "--login", "sup@example.org",
                     "--surname", "S", "--name", "N", "--password-stdin"]) == cli.EXIT_FAILED
    assert "errors.staff_login_taken" in capsys.readouterr().err


# --- the audit log -------------------------------------------------------------------------------


def test_a_write_and_its_audit_row_commit_together(engine):
    actor = _operator(engine)
    with write_session(engine) as s:
        uid = add_user(s, "anna@example.kz")

    def failing(s):
        s.get(User, uid).name = "Changed"
        raise NotFound()

    with pytest.raises(NotFound):
        audit.audited(engine, actor, "user.rename", failing, now=NOW)
    with read_session(engine) as s:
        assert s.get(User, uid).name == "Анна"
    assert len(_audit(engine)) == 1  # only the staff.add of the operator

    def rename(s):
        u = s.get(User, uid)
        before = {"name": u.name}
        u.name = "Ann"
        s.add(u)
        return Change("user", str(uid), before, {"name": "Ann"}), "done"

    assert audit.audited(engine, actor, "user.rename", rename, reason="typo", now=NOW) == "done"
    last = _audit(engine)[-1]
    assert (last.actor_id, last.actor, last.action, last.reason) == (actor.user_id, actor.label, "user.rename", "typo")
    assert (json.loads(last.before), json.loads(last.after)) == ({"name": "Анна"}, {"name": "Ann"})


def test_the_orm_refuses_to_change_or_delete_an_audit_row(engine):
    _operator(engine)
    with pytest.raises(AppendOnly):
        with write_session(engine) as s:
            row = s.exec(select(AuditEntry)).one()
            row.reason = "rewritten"
            s.add(row)
    with pytest.raises(AppendOnly):
        with write_session(engine) as s:
            s.delete(s.exec(select(AuditEntry)).one())
    [row] = _audit(engine)
    assert row.reason == ""


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_change_or_delete_an_audit_row(engine, sql):
    _operator(engine)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    assert len(_audit(engine)) == 1 and _audit(engine)[0].reason == ""


def test_pages_newest_first_and_csv_neutralises_formulas(engine):
    actor = _operator(engine, role="admin", login="admin@example.org")
    for i, reason in enumerate(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "plain"]):
        audit.audited(engine, actor, "note.test", lambda s, i=i: (Change("thing", str(i), {}, {"i": i}), None),
                      reason=reason, now=NOW + timedelta(minutes=i + 1))
    with read_session(engine) as s:
        rows, pages = audit.page_of(s, 1, per_page=4)
        assert pages == 2 and [r.reason for r in rows] == ["plain", "@SUM(A1)", "-2", "+1"]
        rows, _ = audit.page_of(s, 2, per_page=4)
        assert [r.action for r in rows] == ["note.test", "staff.add"]
        assert audit.page_of(s, 99, per_page=4)[0] == rows  # past the end: the last page
        out = io.StringIO()
        assert audit.export_csv(s, out) == 6
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == list(audit.CSV_COLUMNS)
    assert [r[-1] for r in table[1:5]] == ["plain", "'@SUM(A1)", "'-2", "'+1"]
    assert table[5][-1] == "'=HYPERLINK(\"http://x\")"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in table for cell in r)


# --- the inbox -----------------------------------------------------------------------------------


def _message(engine, *, login="anna@example.kz", kind="support", created=NOW - timedelta(hours=2)) -> tuple[int, int]:
    with write_session(engine) as s:
        uid = s.exec(select(User.id).where(User.login == login)).first() or add_user(s, login)
        m = CustomerMessage(user_id=uid, kind=kind, subject="Bill missing", body="My bill did not arrive.",
                            status="new", created_at=created)
        s.add(m)
        s.flush()
        return uid, m.id


def test_a_reply_is_mailed_over_smtp_and_shown_a_note_is_not(engine, tmp_path, smtp_server):  # noqa: F811
    box, port = smtp_server
    settings = make_settings(tmp_path, DEFAULT, smtp=smtp_to(port))
    actor = _operator(engine)
    uid, mid = _message(engine)
    note = inbox.add_event(engine, settings, DEFAULT, actor, mid, "note", "Called the bank; wait for them.", now=NOW)
    reply = inbox.add_event(engine, settings, DEFAULT, actor, mid, "reply", "We sent the bill again.", now=NOW)
    from gazportal.services import notify

    notify.wait_idle()
    assert len(box.messages) == 1  # the reply only
    rcpt, mail = box.messages[0]
    assert rcpt == ["anna@example.kz"] and "Bill missing" in mail["Subject"]
    assert "We sent the bill again." in mail.get_body().get_content()
    assert "Called the bank" not in mail.get_body().get_content()
    with read_session(engine) as s:
        m = s.get(CustomerMessage, mid)
        assert (m.status, m.answered_at, m.body) == ("answered", NOW, "My bill did not arrive.")  # never edited
        assert s.exec(select(func.count()).select_from(MessageEvent)).one() == 2
        [mine] = messages.list_messages(s, uid)
        assert [r.body for r in mine.replies] == ["We sent the bill again."]  # the note is staff-only
        detail = inbox.open_message(s, DEFAULT, mid, now=NOW)
        assert [(e.kind, e.author) for e in detail.events] == [("note", actor.label), ("reply", actor.label)]
        assert detail.customer_login == "anna@example.kz" and detail.moves == ("closed", "in_progress")
    assert (note.kind, reply.kind) == ("note", "reply")
    actions = [(a.action, json.loads(a.before), json.loads(a.after)["status"]) for a in _audit(engine)[1:]]
    assert actions == [("message.note", {"status": "new"}, "new"), ("message.reply", {"status": "new"}, "answered")]
    with pytest.raises(FormErrors):  # an empty reply
        inbox.add_event(engine, settings, DEFAULT, actor, mid, "reply", "  ", now=NOW)
    with pytest.raises(NotFound):
        inbox.add_event(engine, settings, DEFAULT, actor, 10**9, "reply", "Hello there", now=NOW)


def test_status_moves_and_reopen(engine, tmp_path):
    settings = make_settings(tmp_path, DEFAULT)
    actor = _operator(engine)
    _, mid = _message(engine)
    with pytest.raises(inbox.BadTransition):
        inbox.set_status(engine, actor, mid, "answered", now=NOW)  # new → answered: take it first
    for status in ("in_progress", "answered", "closed"):
        assert inbox.set_status(engine, actor, mid, status, now=NOW) == status
    with pytest.raises(inbox.ClosedMessage):  # no reply to a closed message
        inbox.add_event(engine, settings, DEFAULT, actor, mid, "reply", "Late answer", now=NOW)
    assert inbox.set_status(engine, actor, mid, "in_progress", now=NOW) == "in_progress"  # reopened
    for bad in ("new", "nonsense", None, 5):
        with pytest.raises(inbox.BadTransition):
            inbox.set_status(engine, actor, mid, bad, now=NOW)
    moves = [(json.loads(a.before)["status"], json.loads(a.after)["status"]) for a in _audit(engine)
             if a.action == "message.status"]
    assert moves == [("new", "in_progress"), ("in_progress", "answered"), ("answered", "closed"),
                     ("closed", "in_progress")]


def test_sla_breaches_per_kind_from_the_profile(engine, tmp_path):
    settings = make_settings(tmp_path, DEFAULT)
    actor = _operator(engine)
    fast = DEFAULT.model_copy(update={"staff": DEFAULT.staff.model_validate(
        {"sla": {"feedback": {"first_answer_hours": 2, "resolution_hours": 4}}})})
    _, young = _message(engine, created=NOW - timedelta(hours=3))  # support: 24 h, fine
    _, late = _message(engine, kind="feedback", created=NOW - timedelta(hours=3))  # feedback: 2 h, late
    _, old = _message(engine, kind="contact", created=NOW - timedelta(hours=30))  # the default 24 h
    with read_session(engine) as s:
        box = inbox.inbox(s, fast, now=NOW)
        assert box.breached == 2
        assert {i.id: i.first_breached for i in box.items} == {young: False, late: True, old: True}
        assert [i.id for i in inbox.inbox(s, fast, kind="feedback", now=NOW).items] == [late]
        assert inbox.inbox(s, fast, status="closed", now=NOW).items == []
        assert inbox.inbox(s, DEFAULT, now=NOW).breached == 1  # the default profile: 24 h for feedback too
    inbox.add_event(engine, settings, fast, actor, old, "reply", "Answered now", now=NOW)
    with read_session(engine) as s:  # answered: first answer given, resolved
        assert inbox.inbox(s, fast, now=NOW).breached == 1
        assert inbox.inbox(s, fast, now=NOW + timedelta(hours=2)).breached == 1  # the late feedback only


# --- the demo operator (issue 14 point 2) ----------------------------------------------------------


@pytest.mark.parametrize("utility_id", ["default", "kremenchukgaz", "shygysenergotrade"])
def test_the_demo_operator_and_the_demo_customers_answered_messages(sqlite_engine, tmp_path, utility_id):
    from gazportal.demo import generate_demo
    from gazportal.services import auth
    from gazportal.services.auth.demo import (
        DEMO_PASSWORD, ensure_demo_customer, ensure_demo_messages, ensure_demo_operator,
    )

    engine, utility = sqlite_engine, load_utility(utility_id)
    settings = make_settings(tmp_path, utility)
    generate_demo(engine, utility, accounts=30, months=3, seed=3, last_period="2026-10", batch_size=30)
    customer = ensure_demo_customer(engine, utility, now=NOW)
    op = ensure_demo_operator(engine, utility, now=NOW)
    assert ensure_demo_operator(engine, utility, now=NOW) == op  # once per database
    signed = auth.sign_in(engine, utility, op.login, DEMO_PASSWORD, now=NOW)
    who = auth.resolve_session(engine, signed.token, now=NOW)
    assert who.role == "operator" and who.login == op.login != customer.login
    assert ensure_demo_messages(engine, settings, utility, now=NOW) == 2
    assert ensure_demo_messages(engine, settings, utility, now=NOW) == 0
    with read_session(engine) as s:
        uid = s.exec(select(User.id).where(User.login == customer.login)).one()
        mine = messages.list_messages(s, uid)
        assert sorted(len(m.replies) for m in mine) == [0, 1]  # one answered, one waiting for the demo
        assert {m.status for m in mine} == {"answered", "new"}
        actions = s.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["staff.add", "message.reply"]


def test_the_demo_operator_has_a_held_reading_to_decide(sqlite_engine, tmp_path):
    """Demo mode: the demo customer's reading held for staff (once), shown in the operator's
    queue; accepted through the queue it is booked like any held reading."""
    from gazportal.demo import generate_demo
    from gazportal.services import reviews
    from gazportal.services.audit import Actor
    from gazportal.services.auth.demo import ensure_demo_customer, ensure_demo_operator, ensure_demo_review

    engine, utility = sqlite_engine, DEFAULT
    settings = make_settings(tmp_path, utility)
    generate_demo(engine, utility, accounts=30, months=3, seed=3, last_period="2026-10", batch_size=30)
    assert ensure_demo_review(engine, utility, now=NOW) is False  # no demo customer yet
    customer = ensure_demo_customer(engine, utility, now=NOW)
    op = ensure_demo_operator(engine, utility, now=NOW)
    assert ensure_demo_review(engine, utility, now=NOW) is True
    assert ensure_demo_review(engine, utility, now=NOW) is False  # once per database
    with read_session(engine) as s:
        held = reviews.queue(s, "held")
        operator = s.exec(select(User).where(User.login == op.login)).one()
    assert held.counts["held"] == 1 and len(held.items) == 1
    item = held.items[0]
    assert item.account_number in customer.accounts and item.volume == 3 * item.limit_volume
    assert item.value == item.base_value + item.volume and item.reason == "review.above_hard_limit"
    actor = Actor(user_id=operator.id, label=operator.login, role=operator.role)
    decided = reviews.accept(engine, settings, utility, actor, item.id, "", now=NOW)
    assert decided.status == "accepted" and decided.reading_id is not None


def test_cli_demo_customer_prints_the_operator_too(sqlite_engine, capsys, monkeypatch, tmp_path):
    from gazportal.demo import generate_demo

    monkeypatch.setenv("GAZPORTAL_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.delenv("GAZPORTAL_SMTP_HOST", raising=False)
    from gazportal.settings import get_settings

    get_settings.cache_clear()
    generate_demo(sqlite_engine, DEFAULT, accounts=30, months=3, seed=3, last_period="2026-10", batch_size=30)
    assert cli.main(["demo-customer", "--db-url", str(sqlite_engine.url), "--profile", "default"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "demo customer: sign in as demo@example.org" in out
    assert "demo operator: sign in as operator@example.org with the password" in out
    get_settings.cache_clear()


def test_cli_staff_add_asks_for_the_password_twice(sqlite_engine, monkeypatch, capsys):
    import getpass

    url = str(sqlite_engine.url)
    answers = iter([PW, PW + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    args = ["staff", "add", "--db-url", url, "--role", "operator", "--login", "op@example.org", "--surname", "O",
            "--name", "P"]
    assert cli.main(args) == cli.EXIT_FAILED  # the two differ: nothing made
    assert "the passwords differ" in capsys.readouterr().err
    answers = iter([PW, PW])
    assert cli.main(args) == cli.EXIT_OK
    with read_session(sqlite_engine) as s:
        assert s.exec(select(User.role).where(User.login == "op@example.org")).one() == "operator"


# --- what mutation testing found (docs/testing.md, "Mutation testing") ---------------------------


def test_add_staff_stores_each_field_as_the_profile_spells_it(engine):
    from gazportal.services import identity, passwords

    who = staff.add_staff(engine, DEFAULT, login=" Op@Example.ORG ", password=PW, role="supervisor",
                          surname="Operova", name="Olga", language="kk", now=NOW)
    assert (who.login, who.role) == ("op@example.org", "supervisor")
    with read_session(engine) as s:
        u = s.get(User, who.id)
        assert (u.login, u.email, u.email_verified, u.surname, u.name, u.role, u.language, u.is_active) == (
            "op@example.org", "op@example.org", True, "Operova", "Olga", "supervisor", "kk", True)
        assert u.login_skeleton == identity.login_skeleton("op@example.org")
        assert u.password_changed_at == NOW.replace(tzinfo=u.password_changed_at.tzinfo)
        assert u.created_at == NOW.replace(tzinfo=u.created_at.tzinfo)
        assert passwords.verify_password(u.password_hash, PW)[0]
    # a language the profile does not speak, or none: the profile's default
    for i, lang in enumerate(("de", None)):
        other = staff.add_staff(engine, DEFAULT, login=f"x{i}@example.org", password=PW, role="admin",
                                surname="S", name="N", language=lang, now=NOW)
        with read_session(engine) as s:
            assert s.get(User, other.id).language == DEFAULT.default_language == "en"
    # a phone login has no e-mail unless one is given, and an address given is taken as confirmed
    phone_profile = load_utility("kremenchukgaz")
    plain = staff.add_staff(engine, phone_profile, login="+380501234567", password=PW, role="operator",
                            surname="S", name="N", now=NOW)
    mailed = staff.add_staff(engine, phone_profile, login="+380501234568", password=PW, role="operator",
                             surname="S", name="N", email="m@example.org", now=NOW)
    with read_session(engine) as s:
        assert (s.get(User, plain.id).email, s.get(User, plain.id).email_verified) == (None, False)
        assert (s.get(User, mailed.id).email, s.get(User, mailed.id).email_verified) == ("m@example.org", True)
        assert s.get(User, plain.id).language == "uk"


def test_add_staff_refuses_a_look_alike_login_and_a_password_made_of_the_name(engine):
    staff.add_staff(engine, DEFAULT, login="victim@example.org", password=PW, role="operator", surname="S",
                    name="N", now=NOW)
    with pytest.raises(staff.LoginTaken) as taken:
        staff.add_staff(engine, DEFAULT, login="vi\u0441tim@example.org", password=PW, role="operator",  # Cyrillic с
                        surname="S", name="N", now=NOW)
    assert taken.value.key == "errors.staff_login_taken"
    with pytest.raises(InvalidInput) as bad_role:
        staff.add_staff(engine, DEFAULT, login="r@example.org", password=PW, role="root", surname="S", name="N",
                        now=NOW)
    assert bad_role.value.key == "errors.staff_role_invalid"
    for surname, name in (("Harbourmaster", "N"), ("S", "Harbourmaster")):
        with pytest.raises(InvalidInput):  # the password holds the surname or the name
            staff.add_staff(engine, DEFAULT, login="h@example.org", password="Harbourmaster-Quiet-71",
                            role="operator", surname=surname, name=name, now=NOW)
    staff.add_staff(engine, DEFAULT, login="h@example.org", password="Harbourmaster-Quiet-71", role="operator",
                    surname="S", name="N", now=NOW)  # the control: the same password with other names
    admin = staff.add_staff(engine, DEFAULT, login="a@example.org", password=PW, role="admin", surname="S",
                            name="N", now=NOW)
    made = staff.add_staff(engine, DEFAULT, login="z@example.org", password=PW, role="operator", surname="S",
                           name="N", now=NOW, actor=Actor(user_id=admin.id, label=admin.login, role="admin"))
    row = _audit(engine)[-1]
    assert (row.actor, row.actor_id, row.object_id, json.loads(row.before)) == (
        "a@example.org", admin.id, str(made.id), {})
    assert staff.ROLES == ("customer", "operator", "supervisor", "admin")
