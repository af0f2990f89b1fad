"""Billing CSV import/export on real databases, and the CLI end to end."""
import csv
import inspect
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Meter, Payment, Reading
from gazportal.services.billing_io import (
    EXPORT_COLUMNS, ImportRejected, export_readings, import_csv, import_file, import_text, iter_readings,
)
from gazportal.services.errors import InvalidInput
from gazportal.settings import load_utility

ROOT = Path(__file__).resolve().parents[2]
AG = load_utility("almaty_gas")  # 10-digit numbers, legal entities, gas, Asia/Almaty (UTC+5)

ACCOUNTS = """number,holder_name,kind,bin,address
1000000001,Ахметов Ерлан Серикович,person,,"г. Алматы, ул. Жандосова, д. 6, кв. 1"
1000000002,ТОО «Береке»,legal,971240001315,"г. Алматы, пр. Достык, д. 12"
1000000003,Иванова Ольга Петровна,,,"г. Алматы, ул. Абая, д. 3, кв. 7"
"""
CHARGES = """account_number,period,service,volume,amount
1000000001,2025-01,gas,120.5,4398.25
1000000001,2025-02,gas,98,3577
1000000002,2025-01,gas,0,0.00
"""
PAYMENTS = """account_number,paid_at,amount,receipt_no,channel
1000000001,2025-02-15T10:30:00+05:00,4398.25,KSP-1,kaspi
1000000001,2025-03-14 09:05,3577.00,BNK-2,BANK
1000000002,2025-03-01,100,CSH-3,cash
"""


def _file(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def _count(engine, model):
    with read_session(engine) as s:
        return s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _load_all(engine, tmp_path):
    r1 = import_file(engine, AG, "accounts", _file(tmp_path, "a.csv", ACCOUNTS))
    r2 = import_file(engine, AG, "charges", _file(tmp_path, "c.csv", CHARGES))
    r3 = import_file(engine, AG, "payments", _file(tmp_path, "p.csv", PAYMENTS))
    return r1, r2, r3


def test_import_happy_path(engine, tmp_path):
    r1, r2, r3 = _load_all(engine, tmp_path)
    assert (r1.rows, r1.inserted, r2.inserted, r3.inserted) == (3, 3, 3, 3)
    with read_session(engine) as s:
        accs = {a.number: a for a in s.execute(sa.select(Account)).scalars()}
        assert accs["1000000002"].kind == "legal" and accs["1000000002"].bin == "971240001315"
        assert accs["1000000003"].kind == "person" and accs["1000000003"].bin is None
        assert accs["1000000001"].address == "г. Алматы, ул. Жандосова, д. 6, кв. 1"
        ch = {(c.account_id, c.period): c for c in s.execute(sa.select(Charge)).scalars()}
        c = ch[(accs["1000000001"].id, "2025-01")]
        assert (c.volume, c.amount, c.service) == (D("120.500"), D("4398.25"), "gas")
        pays = {p.receipt_no: p for p in s.execute(sa.select(Payment)).scalars()}
        assert pays["KSP-1"].paid_at == datetime(2025, 2, 15, 5, 30, tzinfo=UTC)
        assert pays["BNK-2"].paid_at == datetime(2025, 3, 14, 4, 5, tzinfo=UTC)  # local time, UTC+5
        assert pays["BNK-2"].channel == "bank" and pays["BNK-2"].amount == D("3577.00")
        assert pays["CSH-3"].paid_at == datetime(2025, 2, 28, 19, 0, tzinfo=UTC)  # local midnight


def test_reimport_is_idempotent_and_upserts(engine, tmp_path):
    _load_all(engine, tmp_path)
    r1, r2, r3 = _load_all(engine, tmp_path)
    assert (r1.inserted, r1.updated, r1.unchanged) == (0, 0, 3)
    assert (r2.inserted, r2.updated, r2.unchanged) == (0, 0, 3)
    assert (r3.inserted, r3.unchanged) == (0, 3)
    assert (_count(engine, Account), _count(engine, Charge), _count(engine, Payment)) == (3, 3, 3)
    # a changed holder and a recalculated charge are updated in place, a new row is added
    r = import_text(engine, AG, "accounts", ACCOUNTS.replace("Иванова Ольга Петровна", "Иванова Ольга"))
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 2)
    r = import_text(engine, AG, "charges", CHARGES.replace("98,3577", "99,3613.50")
                    + "1000000003,2025-01,gas,10,365\n")
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 2)
    with read_session(engine) as s:
        assert s.execute(sa.select(Account.holder_name).where(Account.number == "1000000003")).scalar_one() \
            == "Иванова Ольга"
        assert s.execute(sa.select(Charge.amount).where(Charge.period == "2025-02")).scalar_one() == D("3613.50")
    assert _count(engine, Charge) == 4


def _rejected(engine, kind, text):
    with pytest.raises(ImportRejected) as e:
        import_text(engine, AG, kind, text)
    return [(x.line, x.key) for x in e.value.errors], e.value


def test_malformed_accounts_are_reported_by_line_and_nothing_is_imported(engine):
    text = (ACCOUNTS
            + "12345,Short Number,person,,addr\n"                         # 5
            + "1000000005,,person,,addr\n"                                # 6
            + "1000000006,X,company,,addr\n"                              # 7
            + "1000000007,ТОО «Ромашка»,legal,971240001316,addr\n"        # 8 bad check digit
            + "1000000008,ТОО «Ромашка»,legal,,addr\n"                    # 9 no BIN
            + "1000000009,Person,person,971240001315,addr\n"              # 10 BIN for a person
            + "1000000001,Again,person,,addr\n"                           # 11 duplicate of line 2
            + "1000000010,Too,many,fields,here,extra\n"                   # 12
            + '1000000011,"Multi\nline",person,,""\n'                     # 13-14: empty address
            + "1000000012,Fine,person,,addr\n")                           # 15 good
    errors, exc = _rejected(engine, "accounts", text)
    assert errors == [
        (5, "errors.csv_bad_account_number"), (6, "errors.csv_required"), (7, "errors.csv_bad_kind"),
        (8, "errors.csv_bad_bin"), (9, "errors.csv_required"), (10, "errors.csv_bin_for_person"),
        (11, "errors.csv_duplicate"), (12, "errors.csv_field_count"), (13, "errors.csv_required"),
    ]
    assert exc.count == 9 and exc.key == "errors.import_rejected"
    assert exc.errors[6].params == {"value": "1000000001", "first_line": 2}
    assert "1000000001 is already on line 2" in exc.errors[6].text
    assert "12345" in exc.errors[0].text and "1000234567" in exc.errors[0].text
    assert _count(engine, Account) == 0


def test_legal_entities_refused_where_the_profile_has_none(engine):
    ks = load_utility("karaganda_su")
    with pytest.raises(ImportRejected) as e:
        import_text(engine, ks, "accounts", "number,holder_name,kind,bin,address\n"
                                            "300000001,ТОО «Су»,legal,971240001315,addr\n")
    assert [(x.line, x.key) for x in e.value.errors] == [(2, "errors.csv_legal_not_allowed")]


def test_malformed_charges_and_payments(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    errors, _ = _rejected(engine, "charges", CHARGES
                          + "1000000009,2025-01,gas,1,1\n"           # 5 unknown account
                          + "1000000001,2025-13,gas,1,1\n"           # 6
                          + "1000000001,2025-03,water,1,1\n"         # 7 not a service of the profile
                          + "1000000001,2025-03,gas,-1,1\n"          # 8
                          + "1000000001,2025-03,gas,1,1.005\n"       # 9 three places of money
                          + "1000000001,2025-03,gas,1.2345,1\n"      # 10 four places of volume
                          + "1000000001,2025-03,gas,1,\"1,5\"\n"     # 11 comma decimal
                          + "1000000001,2025-03,gas,1,1e3\n"         # 12
                          + "1000000001,2025-01,gas,1,1\n"           # 13 duplicate of line 2
                          + "1000000001,2025-03,gas,1,99999999999\n")  # 14 too large
    assert errors == [
        (6, "errors.csv_bad_period"), (7, "errors.csv_bad_service"), (8, "errors.csv_negative"),
        (9, "errors.csv_too_many_decimals"), (10, "errors.csv_too_many_decimals"), (11, "errors.csv_bad_number"),
        (12, "errors.csv_bad_number"), (13, "errors.csv_duplicate"), (14, "errors.csv_too_large"),
        (5, "errors.csv_unknown_account"),  # references are checked per chunk, after the fields
    ]
    assert _count(engine, Charge) == 0

    errors, _ = _rejected(engine, "payments", PAYMENTS
                          + "1000000001,yesterday,1,R5,bank\n"                   # 5
                          + "1000000001,2025-03-01,0,R6,bank\n"                  # 6
                          + "1000000001,2025-03-01,1,R7,barter\n"                # 7
                          + "1000000001,2025-03-01,1,,bank\n"                    # 8
                          + "1000000001,2025-03-01,1,KSP-1,kaspi\n"              # 9 duplicate receipt
                          + "1000000001,2999-03-01,1,R10,bank\n"                 # 10 future
                          + "1000000001,2025-03-01,-5,R11,bank\n")               # 11
    assert errors == [
        (5, "errors.csv_bad_datetime"), (6, "errors.csv_not_positive"), (7, "errors.csv_bad_channel"),
        (8, "errors.csv_required"), (9, "errors.csv_duplicate"), (10, "errors.csv_future"),
        (11, "errors.csv_not_positive"),
    ]
    assert _count(engine, Payment) == 0


def test_a_conflicting_receipt_is_an_error_and_nothing_is_imported(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    import_text(engine, AG, "payments", PAYMENTS)
    text = ("account_number,paid_at,amount,receipt_no,channel\n"
            "1000000003,2025-04-01 10:00,50,NEW-1,card\n"
            "1000000001,2025-02-15T10:30:00+05:00,4398.26,KSP-1,kaspi\n")
    errors, exc = _rejected(engine, "payments", text)
    assert errors == [(3, "errors.csv_receipt_conflict")]
    assert exc.errors[0].params["account"] == "1000000001" and exc.errors[0].params["amount"] == "4398.25"
    assert _count(engine, Payment) == 3  # NEW-1 was not kept either


@pytest.mark.parametrize("raw,line,key", [
    (b"", 1, "errors.csv_empty"),
    (b"number,holder,kind,bin,address\n", 1, "errors.csv_bad_header"),
    ("number,holder_name,kind,bin,address\n1000000001,Ахметов,person,,addr\n".encode("cp1251"), 2,
     "errors.csv_not_utf8"),
    (b'number,holder_name,kind,bin,address\n1000000001,"open quote,person,,addr\n', 2, "errors.csv_malformed"),
])
def test_unreadable_files(engine, tmp_path, raw, line, key):
    with pytest.raises(ImportRejected) as e:
        import_file(engine, AG, "accounts", _file(tmp_path, "x.csv", raw))
    assert [(x.line, x.key) for x in e.value.errors] == [(line, key)]


def test_a_bom_and_blank_lines_are_fine(engine, tmp_path):
    r = import_file(engine, AG, "accounts", _file(tmp_path, "x.csv", "\ufeff" + ACCOUNTS.replace("\n1000000003", "\n\n1000000003")))
    assert r.inserted == 3


def test_unknown_kind(engine):
    with pytest.raises(InvalidInput):
        import_text(engine, AG, "meters", "a\n")


def _meter_with_readings(s, number, serial, readings):
    acc = s.execute(sa.select(Account).where(Account.number == number)).scalar_one_or_none()
    if acc is None:
        acc = Account(number=number, holder_name="H", address="A")
        s.add(acc)
        s.flush()
    m = Meter(account_id=acc.id, service="gas", serial=serial, unit="m3", digits=6, installed_on=date(2020, 1, 1))
    s.add(m)
    s.flush()
    for value, taken_at, period, source, slot, *turns in readings:
        s.add(Reading(meter_id=m.id, value=value, taken_at=taken_at, period=period, source=source, slot=slot,
                      rollovers=turns[0] if turns else 0))


def test_export_gives_the_latest_customer_slot_per_meter(engine):
    t = lambda d, h: datetime(2025, 3, d, h, tzinfo=UTC)  # noqa: E731
    with write_session(engine) as s:
        _meter_with_readings(s, "1000000002", "B-2", [(100, t(21, 4), "2025-03", "customer", 1),
                                                      (105, t(21, 6), "2025-03", "customer", 2, 1),
                                                      (110, t(25, 8), "2025-03", "inspector", None)])
        _meter_with_readings(s, "1000000002", "A-1", [(50, t(22, 19), "2025-03", "customer", 1),
                                                      (40, datetime(2025, 2, 21, tzinfo=UTC), "2025-02", "customer", 1)])
        _meter_with_readings(s, "1000000001", "Z-9", [(7, t(20, 0), "2025-03", "customer", 1)])
        _meter_with_readings(s, "1000000001", "Y-8", [(9, t(20, 0), "2025-03", "estimate", None)])
    out = io.StringIO()
    n = export_readings(engine, AG, "2025-03", out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert n == 3 and rows[0] == list(EXPORT_COLUMNS)
    assert rows[1:] == [
        ["1000000001", "Z-9", "gas", "2025-03", "7", "2025-03-20T05:00:00+05:00", "customer", "1", "6", "0"],
        ["1000000002", "A-1", "gas", "2025-03", "50", "2025-03-23T00:00:00+05:00", "customer", "1", "6", "0"],
        ["1000000002", "B-2", "gas", "2025-03", "105", "2025-03-21T11:00:00+05:00", "customer", "2", "6", "1"],
    ]
    with read_session(engine) as s:
        assert list(iter_readings(s, AG, "2025-04")) == []
        with pytest.raises(InvalidInput):
            list(iter_readings(s, AG, "2025-3"))


def test_export_of_demo_data_has_one_row_per_meter_read_by_its_customer(sqlite_engine):
    from gazportal.demo import generate_demo

    generate_demo(sqlite_engine, AG, accounts=50, months=3, seed=2, last_period="2025-06")
    with read_session(sqlite_engine) as s:
        rows = list(iter_readings(s, AG, "2025-05"))
        expected = s.execute(sa.select(sa.func.count(sa.distinct(Reading.meter_id)))
                             .where(Reading.period == "2025-05", Reading.source == "customer")).scalar_one()
    assert len(rows) == expected > 30
    assert rows == sorted(rows, key=lambda r: (r[0], r[1]))
    assert all(r[5].endswith("+05:00") and r[6] == "customer" for r in rows)


# ---------------------------------------------------------------------------------------------
# The CLI, end to end in a subprocess
# ---------------------------------------------------------------------------------------------

def _cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    env.pop("GAZPORTAL_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "gazportal.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_end_to_end(sqlite_engine, tmp_path):
    url = f"sqlite:///{tmp_path / 'test.db'}"
    p = _cli("--db-url", url, "demo", "--if-empty", "--accounts", "30", "--seed", "1", "--months", "3")
    assert p.returncode == 0, p.stderr
    assert "30 accounts" in p.stdout
    assert _count(sqlite_engine, Account) == 30

    p = _cli("--db-url", url, "demo", "--if-empty", "--accounts", "30")
    assert p.returncode == 0 and "nothing done" in p.stdout
    p = _cli("--db-url", url, "demo", "--accounts", "30")
    assert p.returncode == 1 and "errors.demo_database_not_empty" in p.stderr
    p = _cli("--db-url", url, "demo", "--accounts", "3")
    assert p.returncode == 2 and "errors.demo_bad_size" in p.stderr
    assert _count(sqlite_engine, Account) == 30

    bad = _file(tmp_path, "bad.csv", "number,holder_name,kind,bin,address\n1,X,person,,a\n")
    p = _cli("--db-url", url, "import", "accounts", str(bad))
    assert p.returncode == 1 and f"{bad}:2: errors.csv_bad_account_number" in p.stderr
    good = _file(tmp_path, "good.csv", "number,holder_name,kind,bin,address\n999999999,X,person,,a\n")
    p = _cli("--db-url", url, "import", "accounts", str(good))
    assert p.returncode == 0 and "1 added" in p.stdout, p.stderr
    assert _count(sqlite_engine, Account) == 31

    with read_session(sqlite_engine) as s:
        period = s.execute(sa.select(sa.func.max(Reading.period))).scalar_one()
    out = tmp_path / "r.csv"
    p = _cli("--db-url", url, "export-readings", "--period", period, "--out", str(out))
    assert p.returncode == 0, p.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(EXPORT_COLUMNS) and len(lines) > 20
    p = _cli("--db-url", url, "export-readings", "--period", period)
    assert p.returncode == 0 and p.stdout.splitlines() == lines
    p = _cli("--db-url", url, "export-readings", "--period", "2025/01")
    assert p.returncode == 2 and "errors.bad_period" in p.stderr


def test_cli_refuses_an_unmigrated_database_and_an_unknown_profile(tmp_path):
    p = _cli("--db-url", f"sqlite:///{tmp_path / 'empty.db'}", "demo")
    assert p.returncode == 1 and "migrate" in p.stderr
    p = _cli("--db-url", f"sqlite:///{tmp_path / 'empty.db'}", "--profile", "nope", "demo")
    assert p.returncode == 2 and "nope" in p.stderr


# A file longer than a chunk: the first chunk is written (inside the file's one transaction)
# before the rows of the next chunk are read, so "nothing is imported" holds only if no chunk is
# committed on its own. 3- to 15-row files never reach a second chunk; these do.
CHUNK = inspect.signature(import_csv).parameters["chunk"].default
LONG = CHUNK + CHUNK // 2 + 1  # data rows: one full chunk written, the bad one in the next


def _accounts_text(n, holder="Holder"):
    rows = [f"{1000000001 + i},{holder} {i},person,,addr {i}" for i in range(n)]
    return "number,holder_name,kind,bin,address\n" + "\n".join(rows) + "\n"


def test_a_file_longer_than_a_chunk_whose_last_row_is_bad_imports_nothing(engine, tmp_path):
    text = _accounts_text(LONG - 1) + "1000999999,Last,company,,addr\n"  # bad kind, last line
    with pytest.raises(ImportRejected) as e:
        import_file(engine, AG, "accounts", _file(tmp_path, "long.csv", text))
    assert [(x.line, x.key) for x in e.value.errors] == [(LONG + 1, "errors.csv_bad_kind")]
    assert _count(engine, Account) == 0


def test_updates_of_an_earlier_chunk_are_undone_when_a_later_row_is_bad(engine):
    import_text(engine, AG, "accounts", _accounts_text(LONG))
    text = _accounts_text(LONG, holder="Renamed") + "12345,Bad Number,person,,addr\n"
    with pytest.raises(ImportRejected):
        import_text(engine, AG, "accounts", text)
    with read_session(engine) as s:
        names = set(s.execute(sa.select(Account.holder_name)).scalars())
    assert len(names) == LONG and not any(n.startswith("Renamed") for n in names)


def test_a_receipt_conflict_found_while_writing_a_later_chunk_undoes_the_earlier_ones(engine):
    """The conflict is only seen against the database, when the last chunk is applied."""
    import_text(engine, AG, "accounts", ACCOUNTS)
    import_text(engine, AG, "payments", PAYMENTS)
    rows = [f"1000000003,2025-04-01 10:00,1,N-{i},card" for i in range(LONG - 1)]
    rows.append("1000000001,2025-02-15T10:30:00+05:00,1.00,KSP-1,kaspi")  # KSP-1 was 4398.25
    with pytest.raises(ImportRejected) as e:
        import_text(engine, AG, "payments", "account_number,paid_at,amount,receipt_no,channel\n"
                    + "\n".join(rows) + "\n")
    assert [(x.line, x.key) for x in e.value.errors] == [(LONG + 1, "errors.csv_receipt_conflict")]
    assert _count(engine, Payment) == 3


def test_cli_refile_reading_periods_counts_then_moves(sqlite_engine, tmp_path):
    """Kremenchukgaz rows stored under the old rule (the month they were sent in) are counted, and
    moved to the previous month only with --apply (docs/decisions.md 18)."""
    from datetime import UTC, date, datetime

    from gazportal.db import write_session
    from gazportal.models import Meter

    url = f"sqlite:///{tmp_path / 'test.db'}"
    with write_session(sqlite_engine) as s:
        acc = Account(number="0512345678", holder_name="X", address="a")
        s.add(acc)
        s.flush()
        m = Meter(account_id=acc.id, service="gas", serial="S", unit="m3", digits=5, installed_on=date(2020, 1, 1))
        s.add(m)
        s.flush()
        s.add(Reading(meter_id=m.id, value=5, taken_at=datetime(2026, 12, 3, 9, tzinfo=UTC), period="2026-12",
                      source="customer", slot=1))
    p = _cli("--db-url", url, "--profile", "kremenchukgaz", "refile-reading-periods")
    assert p.returncode == 0, p.stderr
    assert "2026-12 -> 2026-11: 1 readings" in p.stdout and "to move (run again with --apply)" in p.stdout
    p = _cli("--db-url", url, "--profile", "kremenchukgaz", "refile-reading-periods", "--apply")
    assert p.returncode == 0 and "1 readings and 0 reviews moved" in p.stdout, p.stderr
    with read_session(sqlite_engine) as s:
        assert s.execute(sa.select(Reading.period)).scalar_one() == "2026-11"


# ---------------------------------------------------------------------------------------------
# What mutation testing found (issue 19 point 7; docs/testing.md "Mutation testing"): the
# per-line report names the field, the value as written (cut to its shown length), the limits;
# boundaries (a value exactly at its maximum length or size, a payment exactly a day ahead);
# the chunk boundary and the error cap; the BOM only on line 1; export line ends.
# ---------------------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _report(engine, kind, text, utility=AG, **kw):
    """The per-line report of a refused file: [(line, key, params)]."""
    with pytest.raises(ImportRejected) as e:
        import_text(engine, utility, kind, text, **kw)
    return [(x.line, x.key, x.params) for x in e.value.errors]


def test_account_fields_are_reported_with_their_names_values_and_limits(engine):
    long_number = "1" * 35
    text = ("number,holder_name,kind,bin,address\n"
            f"1000000001,{'Х' * 200},person,,{'a' * 300}\n"          # 2: exactly at both maxima: fine
            f"1000000002,{'Х' * 201},person,,addr\n"                  # 3
            f"1000000003,X,person,,{'a' * 301}\n"                     # 4
            f"{long_number},X,person,,addr\n"                         # 5
            ",X,person,,addr\n"                                       # 6: blank first field, not a blank line
            "1000000006,X,corporation-of-the-future,,addr\n"          # 7
            "1000000007,ТОО,legal,,addr\n"                            # 8
            "1000000008,ТОО,legal,9712400013159712400013,addr\n"      # 9
            "1000000009,X,person,,addr,extra\n"                      # 10
            "1000000010,  ,person,,addr\n")                          # 11
    assert _report(engine, "accounts", text) == [
        (3, "errors.csv_too_long", {"field": "holder_name", "max": 200}),
        (4, "errors.csv_too_long", {"field": "address", "max": 300}),
        (5, "errors.csv_bad_account_number", {"value": "1" * 30, "example": "1000234567"}),
        (6, "errors.csv_required", {"field": "number"}),
        (7, "errors.csv_bad_kind", {"value": "corporation-of-the-f"}),
        (8, "errors.csv_required", {"field": "bin"}),
        (9, "errors.csv_bad_bin", {"value": "97124000131597124000"}),
        (10, "errors.csv_field_count", {"expected": 5, "found": 6}),
        (11, "errors.csv_required", {"field": "holder_name"}),
    ]
    assert _count(engine, Account) == 0
    r = import_text(engine, AG, "accounts", "number,holder_name,kind,bin,address\n"
                    f"1000000001,{'Х' * 200},person,,{'a' * 300}\n")
    assert (r.kind, r.inserted) == ("accounts", 1)


def test_charge_fields_are_reported_with_their_names_values_and_limits(engine):
    du = load_utility("default")  # three services: the report lists them all
    import_text(engine, du, "accounts", "number,holder_name,kind,bin,address\n100200300,X,person,,a\n")
    big = "9" * 40
    text = ("account_number,period,service,volume,amount\n"
            ",2025-01,gas,1,1\n"                                          # 2
            "100200300,2025-01-01T00:00:00+05:00,gas,1,1\n"               # 3
            "100200300,2025-01,heating-and-hot-water,1,1\n"               # 4
            "100200300,2025-02,gas,,1\n"                                  # 5
            f"100200300,2025-02,water,1x{big},1\n"                        # 6
            "100200300,2025-02,electricity,1.0001,1\n"                   # 7
            "100200300,2025-03,gas,100000000000,1\n"                      # 8 exactly the limit
            "100200300,2025-03,water, -2.5 ,1\n"                         # 9
            "100200300,2025-03,electricity,1,\n"                          # 10
            f"100200300,2025-04,gas,1,{big}x\n"                           # 11
            "100200300,2025-04,water,1,1.001\n"                           # 12
            "100200300,2025-04,electricity,1,10000000000\n"               # 13 exactly the limit
            "100200300,2025-05,gas,99999999999.999,-9999999999.99\n")     # 14 just below both: fine
    assert _report(engine, "charges", text, du) == [
        (2, "errors.csv_required", {"field": "account_number"}),
        (3, "errors.csv_bad_period", {"value": "2025-01-01T00:00:00+"}),
        (4, "errors.csv_bad_service", {"value": "heating-and-hot-wate", "services": "gas, water, electricity"}),
        (5, "errors.csv_required", {"field": "volume"}),
        (6, "errors.csv_bad_number", {"field": "volume", "value": ("1x" + big)[:30]}),
        (7, "errors.csv_too_many_decimals", {"field": "volume", "places": 3, "value": "1.0001"}),
        (8, "errors.csv_too_large", {"field": "volume", "value": "100000000000"}),
        (9, "errors.csv_negative", {"field": "volume", "value": "-2.5"}),
        (10, "errors.csv_required", {"field": "amount"}),
        (11, "errors.csv_bad_number", {"field": "amount", "value": big[:30]}),
        (12, "errors.csv_too_many_decimals", {"field": "amount", "places": 2, "value": "1.001"}),
        (13, "errors.csv_too_large", {"field": "amount", "value": "10000000000"}),
    ]
    r = import_text(engine, du, "charges", "account_number,period,service,volume,amount\n"
                    "100200300,2025-05,gas,99999999999.999,-9999999999.99\n")
    assert r.inserted == 1
    with read_session(engine) as s:
        c = s.execute(sa.select(Charge)).scalar_one()
    assert (c.volume, c.amount) == (D("99999999999.999"), D("-9999999999.99"))


def test_number_too_long_to_show_is_cut_at_thirty_characters(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    v = "1." + "0" * 29 + "1"  # 32 characters, too many places
    assert _report(engine, "charges", f"account_number,period,service,volume,amount\n1000000001,2025-01,gas,{v},1\n") \
        == [(2, "errors.csv_too_many_decimals", {"field": "volume", "places": 3, "value": v[:30]})]
    v = "1" * 31  # too large
    assert _report(engine, "charges", f"account_number,period,service,volume,amount\n1000000001,2025-01,gas,1,{v}\n") \
        == [(2, "errors.csv_too_large", {"field": "amount", "value": v[:30]})]


def test_payment_fields_are_reported_with_their_names_values_and_limits(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    junk = "the fifteenth of February at half past ten"  # 42 characters
    text = ("account_number,paid_at,amount,receipt_no,channel\n"
            "1000000001,,1,R2,bank\n"                                     # 2
            f"1000000001,{junk},1,R3,bank\n"                              # 3
            "1000000001,2025-03-02T12:00:01+00:00,1,R4,bank\n"            # 4 a day and a second ahead
            "1000000001,2025-03-01,1.005,R5,bank\n"                       # 5
            "1000000001,2025-03-01, 0.00 ,R6,bank\n"                      # 6
            f"1000000001,2025-03-01,1,{'R' * 41},bank\n"                  # 7
            "1000000001,2025-03-01,1,R8,western-union-transfer\n"         # 8
            "1000000001,2025-03-01,,R9,bank\n"                            # 9
            f"1000000001,2025-03-01,1,{'R' * 40},bank\n"                  # 10 fine
            "1000000001,2025-03-02T12:00:00+00:00,1,R11,card\n"           # 11 exactly a day ahead: fine
            "1000000001,2025-03-01T11:00:00+00:00,1,R12,card\n"           # 12 an hour ago: fine
            "1000000002,2025-02-28,1,R13,card\n")                         # 13 fine
    assert _report(engine, "payments", text, now=NOW) == [
        (2, "errors.csv_required", {"field": "paid_at"}),
        (3, "errors.csv_bad_datetime", {"value": junk[:40]}),
        (4, "errors.csv_future", {"value": "2025-03-02T12:00:01+00:00"}),
        (5, "errors.csv_too_many_decimals", {"field": "amount", "places": 2, "value": "1.005"}),
        (6, "errors.csv_not_positive", {"field": "amount", "value": "0.00"}),
        (7, "errors.csv_too_long", {"field": "receipt_no", "max": 40}),
        (8, "errors.csv_bad_channel", {"value": "western-union-transf",
                                       "channels": "bank, kaspi, card, cash, post, portal"}),
        (9, "errors.csv_required", {"field": "amount"}),
    ]
    good = "\n".join(text.splitlines()[i] for i in (0, 9, 10, 11, 12)) + "\n"
    r = import_text(engine, AG, "payments", good, now=NOW)
    assert (r.kind, r.inserted) == ("payments", 4)
    with read_session(engine) as s:
        paid = {p.receipt_no: p.paid_at for p in s.execute(sa.select(Payment)).scalars()}
    assert paid["R11"] == datetime(2025, 3, 2, 12, tzinfo=UTC)
    assert paid["R13"] == datetime(2025, 2, 27, 19, tzinfo=UTC)  # local midnight, UTC+5


def test_a_future_payment_is_shown_as_written_cut_at_forty(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    v = "2999-03-01T10:00:00.123456+05:00:00.000000"  # 42 characters, still ISO 8601 for Python
    rows = f"1000000001,{v},1,R2,bank\n"
    assert _report(engine, "payments", "account_number,paid_at,amount,receipt_no,channel\n" + rows, now=NOW) \
        == [(2, "errors.csv_future", {"value": v[:40]})]


def test_the_paid_time_is_kept_in_utc():
    from gazportal.services.billing_io import _paid_at

    dt = _paid_at(AG, "2025-01-31 14:05", NOW)
    assert dt == datetime(2025, 1, 31, 9, 5, tzinfo=UTC) and dt.utcoffset().total_seconds() == 0
    assert dt.tzinfo is UTC


def test_unknown_accounts_and_receipt_conflicts_name_what_they_found(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    import_text(engine, AG, "payments", PAYMENTS)
    assert _report(engine, "charges", "account_number,period,service,volume,amount\n1000000099,2025-01,gas,1,1\n") \
        == [(2, "errors.csv_unknown_account", {"value": "1000000099"})]
    text = ("account_number,paid_at,amount,receipt_no,channel\n"
            "1000000002,2025-02-15T10:30:00+05:00,4398.25,KSP-1,kaspi\n")
    assert _report(engine, "payments", text) == [(2, "errors.csv_receipt_conflict", {
        "value": "KSP-1", "account": "1000000001", "amount": "4398.25",
        "paid_at": "2025-02-15T05:30:00+00:00"})]


@pytest.mark.parametrize("header,missing,unknown", [
    ("number,holder,kind,bin,address", "holder_name", "holder"),
    ("number,holder_name,kind,bin", "address", "-"),
    ("number,holder_name,kind,bin,address,phone", "-", "phone"),
    ("number,holder_name,kind,bin,address,number", "-", "-"),  # a column twice
    ("number,kind,bin,phone,email", "holder_name,address", "phone,email"),
])
def test_a_bad_header_says_what_is_missing_and_unknown(engine, header, missing, unknown):
    assert _report(engine, "accounts", header + "\n1000000001,X,person,,a,b\n") == [
        (1, "errors.csv_bad_header", {"expected": "number,holder_name,kind,bin,address",
                                      "missing": missing, "unknown": unknown})]


def test_unknown_kind_names_the_kinds(engine):
    with pytest.raises(InvalidInput) as e:
        import_text(engine, AG, "meters-and-readings-2025", "a\n")
    assert e.value.key == "errors.import_unknown_kind"
    assert e.value.params == {"kind": "meters-and-readings-", "kinds": "accounts, charges, payments"}


def test_the_rejection_carries_the_count(engine):
    with pytest.raises(ImportRejected) as e:
        import_text(engine, AG, "accounts", "number,holder_name,kind,bin,address\n1,X,person,,a\n2,X,person,,a\n")
    assert (e.value.key, e.value.params, e.value.count) == ("errors.import_rejected", {"count": 2}, 2)


def test_only_blank_lines_are_skipped(engine):
    text = ("number,holder_name,kind,bin,address\n"
            "   \n"                                   # 2 blank (spaces only): skipped
            "1000000001,X,person,,a\n"
            "just-one-field\n"                        # 4 one field that is not blank: a row
            "\n"
            "1000000002,X,person,,a\n")
    assert _report(engine, "accounts", text) == [(4, "errors.csv_field_count", {"expected": 5, "found": 1})]
    r = import_text(engine, AG, "accounts", text.replace("just-one-field\n", ""))
    assert (r.rows, r.inserted) == (2, 2)


def test_the_error_list_is_capped_but_the_count_is_not(engine):
    bad = "".join(f"{i},X,person,,a\n" for i in range(1, 4))
    with pytest.raises(ImportRejected) as e:
        import_text(engine, AG, "accounts", "number,holder_name,kind,bin,address\n" + bad, max_errors=2)
    assert ([x.line for x in e.value.errors], e.value.count) == ([2, 3], 3)
    default = inspect.signature(import_csv).parameters["max_errors"].default
    assert default == 1000  # documented cap
    bad = "".join(f"{i},X,person,,a\n" for i in range(1, default + 2))
    with pytest.raises(ImportRejected) as e:
        import_text(engine, AG, "accounts", "number,holder_name,kind,bin,address\n" + bad)
    assert (len(e.value.errors), e.value.count, e.value.errors[-1].line) == (1000, 1001, 1001)


def test_import_file_passes_its_options_on(engine, tmp_path):
    p = _file(tmp_path, "x.csv", "number,holder_name,kind,bin,address\n1,X,person,,a\n2,X,person,,a\n")
    with pytest.raises(ImportRejected) as e:
        import_file(engine, AG, "accounts", p, max_errors=1)
    assert (len(e.value.errors), e.value.count) == (1, 2)


def test_a_chunk_is_applied_when_it_is_full(engine):
    """References are checked when a chunk is applied: the report's order shows where the chunk ends."""
    import_text(engine, AG, "accounts", ACCOUNTS)
    text = ("account_number,period,service,volume,amount\n"
            "1000000077,2025-01,gas,1,1\n"          # 2 unknown account
            "1000000001,2025-01,gas,1,1\n"          # 3: the chunk of 2 is full: applied
            "1000000088,2025-02,gas,1,1\n"          # 4 unknown account, next chunk
            "1000000001,2025-13,gas,1,1\n")         # 5 bad field, reported at once
    assert [x[:2] for x in _report(engine, "charges", text, chunk=2)] == [
        (2, "errors.csv_unknown_account"), (5, "errors.csv_bad_period"), (4, "errors.csv_unknown_account")]


def test_the_default_chunk_is_two_thousand_rows(engine):
    import_text(engine, AG, "accounts", ACCOUNTS)
    rows = ["1000000077,2025-01,gas,1,1"] + [f"1000000001,{2000 + i // 12:04d}-{i % 12 + 1:02d},gas,1,1"
                                           for i in range(1, 2000)]
    rows.append("1000000001,2025-13,gas,1,1")  # line 2002, the first row after a full chunk
    errors = _report(engine, "charges", "account_number,period,service,volume,amount\n" + "\n".join(rows) + "\n")
    assert [x[:2] for x in errors] == [(2, "errors.csv_unknown_account"), (2002, "errors.csv_bad_period")]


def test_counts_add_up_over_chunks(engine):
    r = import_text(engine, AG, "accounts", _accounts_text(5), chunk=2)
    assert (r.rows, r.inserted) == (5, 5)
    r = import_text(engine, AG, "accounts", _accounts_text(5, holder="Renamed"), chunk=2)
    assert (r.inserted, r.updated, r.unchanged) == (0, 5, 0)
    import_text(engine, AG, "payments", "account_number,paid_at,amount,receipt_no,channel\n" + "".join(
        f"1000000001,2025-03-01,1,P-{i},cash\n" for i in range(5)), chunk=2)
    assert _count(engine, Payment) == 5
    r = import_text(engine, AG, "payments", "account_number,paid_at,amount,receipt_no,channel\n" + "".join(
        f"1000000001,2025-03-01,1,Q-{i},cash\n" for i in range(5)), chunk=2)
    assert r.inserted == 5


def test_a_bom_is_stripped_from_line_one_only(engine, tmp_path):
    bom = "\ufeff"
    r = import_file(engine, AG, "accounts", _file(tmp_path, "a.csv", bom + "number,holder_name,kind,bin,address\n"
                                                                    "1000000001,X,person,,a\n"))
    assert r.inserted == 1
    p = _file(tmp_path, "b.csv", "number,holder_name,kind,bin,address\n" + bom + "1000000002,X,person,,a\n")
    with pytest.raises(ImportRejected) as e:
        import_file(engine, AG, "accounts", p)
    assert [(x.line, x.key) for x in e.value.errors] == [(2, "errors.csv_bad_account_number")]
    # a caller's own text stream with a BOM: the header still reads
    with write_session(engine) as s:
        r = import_csv(s, AG, "accounts", io.StringIO(bom + "number,holder_name,kind,bin,address\n"
                                                      "1000000003,X,person,,a\n", newline=""))
    assert r.inserted == 1


def test_a_text_stream_that_is_not_utf8_is_reported_on_line_one(engine):
    raw = "number,holder_name,kind,bin,address\n1000000001,Ахметов,person,,a\n".encode("cp1251")
    with pytest.raises(ImportRejected) as e, write_session(engine) as s:
        import_csv(s, AG, "accounts", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline=""))
    assert [(x.line, x.key, x.params) for x in e.value.errors] == [(1, "errors.csv_not_utf8", {})]


def test_a_malformed_header_is_reported_on_line_one_with_the_reader_detail(engine):
    errors = _report(engine, "accounts", '"number,holder_name,kind,bin,address\n')
    assert errors == [(1, "errors.csv_malformed", {"detail": "unexpected end of data"})]


def test_a_line_break_inside_a_quoted_field_is_kept_as_written(engine, tmp_path):
    text = 'number,holder_name,kind,bin,address\r\n1000000001,X,person,,"ул. Абая, 3\r\nкв. 7"\r\n'
    import_text(engine, AG, "accounts", text)
    import_file(engine, AG, "accounts", _file(tmp_path, "a.csv", text.replace("1000000001", "1000000002")))
    with read_session(engine) as s:
        assert set(s.execute(sa.select(Account.address)).scalars()) == {"ул. Абая, 3\r\nкв. 7"}


def test_export_lines_end_with_a_line_feed(engine):
    with write_session(engine) as s:
        _meter_with_readings(s, "1000000001", "Z-9", [(7, datetime(2025, 3, 20, tzinfo=UTC), "2025-03", "customer", 1)])
    out = io.StringIO()
    assert export_readings(engine, AG, "2025-03", out) == 1
    assert "\r" not in out.getvalue() and out.getvalue().count("\n") == 2


def test_the_header_is_line_one_even_after_a_bom(engine):
    """Only a BOM is dropped before the header: a file that starts with a blank line has no header
    on line 1 (docs/billing-csv.md), whichever way it comes in."""
    for start in ("\n", "\ufeff\n", " \n"):
        errors = _report(engine, "accounts", start + "number,holder_name,kind,bin,address\n1000000001,X,person,,a\n")
        assert [x[:2] for x in errors] == [(1, "errors.csv_bad_header")], repr(start)
