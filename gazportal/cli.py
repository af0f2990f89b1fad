"""Command line: demo data, billing CSV import and export.

    python -m gazportal.cli [--db-url URL] [--profile ID] demo [--accounts N] [--months M] [--seed S] [--if-empty]
    python -m gazportal.cli [--db-url URL] [--profile ID] import {accounts,charges,payments} FILE
    python -m gazportal.cli [--db-url URL] [--profile ID] export-readings --period YYYY-MM [--out FILE]
    python -m gazportal.cli [--db-url URL] purge-unconfirmed [--batch N]
    python -m gazportal.cli [--db-url URL] [--profile ID] demo-customer
    python -m gazportal.cli [--db-url URL] [--profile ID] payments {recheck,incidents} [--minutes N]
    python -m gazportal.cli [--db-url URL] [--profile ID] staff add --role {operator,supervisor,admin}
                            --login LOGIN --surname S --name N [--email E] [--password-stdin]
    python -m gazportal.cli [--db-url URL] [--profile ID] document {invoice,receipt,act,certificate}
                            --account N [--period YYYY-MM] [--to YYYY-MM] [--receipt NO] [--as-of YYYY-MM-DD]
                            [--lang kk|ru|uk|en] [--out FILE]

``document`` renders a PDF for staff and support (services/documents): ``invoice --period`` (a
month), ``act --period FIRST --to LAST`` (a reconciliation act; ``--to`` defaults to ``--period``),
``receipt --receipt NO`` (a payment of the account, by its receipt number), ``certificate
[--as-of DAY]`` (a certificate of no debt, default today; it is recorded and numbered, or refused
with the overdue amount). The language defaults to the profile's; the file to the document's name.

``staff add`` asks for the password twice at a prompt (not echoed), or reads one line from
standard input with ``--password-stdin``; a password is never an argument (it would stay in the
shell's history and in the process list).

The database comes from --db-url, else GAZPORTAL_DB_URL, else the SQLite file gazportal.db in the
project root; it must already be migrated (``reflex db migrate``). The profile comes from
--profile, else GAZPORTAL_PROFILE, else "default".

Exit codes: 0 done (or nothing to do with --if-empty), 1 refused or failed (bad rows, database
not empty, not migrated), 2 bad usage.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db-url", default=argparse.SUPPRESS,
                        help="database URL (default: $GAZPORTAL_DB_URL or sqlite:///<project>/gazportal.db)")
    common.add_argument("--profile", default=argparse.SUPPRESS,
                        help="utility profile id or TOML path (default: $GAZPORTAL_PROFILE or 'default')")

    p = argparse.ArgumentParser(prog="python -m gazportal.cli", description="gazportal command line",
                                parents=[common])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", parents=[common], help="generate demo data into an empty database")
    d.add_argument("--accounts", type=_int, default=200, help="number of accounts, 10..1000000 (200)")
    d.add_argument("--months", type=_int, default=24, help="months of readings and charges (24)")
    d.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data (1)")
    d.add_argument("--last-period", default=None, metavar="YYYY-MM",
                   help="last month with readings and charges (default: last month)")
    d.add_argument("--batch", type=_int, default=5000, help="accounts per transaction (5000)")
    d.add_argument("--if-empty", action="store_true",
                   help="do nothing (exit 0) when the database already has data")

    i = sub.add_parser("import", parents=[common], help="import accounts, charges or payments from CSV")
    i.add_argument("kind", choices=["accounts", "charges", "payments"])
    i.add_argument("file", help="UTF-8 CSV file with a header line")
    i.add_argument("--max-errors", type=_int, default=200, help="bad rows to list at most (200)")

    e = sub.add_parser("export-readings", parents=[common],
                       help="export customers' readings of a period as CSV for the billing system")
    e.add_argument("--period", required=True, metavar="YYYY-MM")
    e.add_argument("--out", default=None, help="output file (default: standard output)")

    u = sub.add_parser("purge-unconfirmed", parents=[common],
                       help="remove registrations never confirmed whose links and codes have all expired")
    u.add_argument("--batch", type=_int, default=1000, help="users removed per transaction (1000)")

    r = sub.add_parser("refile-reading-periods", parents=[common],
                       help="make each stored reading's period the profile's rule (after the rule changed)")
    r.add_argument("--apply", action="store_true", help="change the rows (default: only count them)")

    ro = sub.add_parser("rollups", parents=[common], help="the staff dashboard's monthly roll-ups")
    ro_sub = ro.add_subparsers(dest="rollups_command", required=True, metavar="ACTION")
    ro_sub.add_parser("rebuild", parents=[common], help="recompute every period's roll-ups from the raw rows")

    pa = sub.add_parser("payments", parents=[common], help="online payments (services/payments)")
    pa_sub = pa.add_subparsers(dest="payments_command", required=True, metavar="ACTION")
    prc = pa_sub.add_parser("recheck", parents=[common],
                            help="ask the provider about orders pending for more than --minutes (run every few minutes)")
    prc.add_argument("--minutes", type=_int, default=15)
    pa_sub.add_parser("incidents", parents=[common], help="callbacks refused or flagged for staff, newest first")

    sub.add_parser("demo-customer", parents=[common],
                   help="make the demo customer and the demo operator (once) and print how to sign in as them "
                        "(demo data first)")

    st = sub.add_parser("staff", parents=[common], help="staff users of the staff console")
    st_sub = st.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    sa_ = st_sub.add_parser("add", parents=[common], help="add a staff user (written to the audit log)")
    sa_.add_argument("--role", required=True, choices=["operator", "supervisor", "admin"])
    sa_.add_argument("--login", required=True, help="the login, as the profile's users sign in (e-mail, phone, ...)")
    sa_.add_argument("--surname", required=True)
    sa_.add_argument("--name", required=True)
    sa_.add_argument("--email", default=None, help="e-mail address (default: the login when it is one)")
    sa_.add_argument("--language", default=None, help="kk, ru, uk or en (default: the profile's)")
    sa_.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input instead of a prompt")

    doc = sub.add_parser("document", parents=[common], help="render a PDF: invoice, receipt, act or certificate")
    doc.add_argument("kind", choices=["invoice", "receipt", "act", "certificate"])
    doc.add_argument("--account", required=True, help="the personal account number")
    doc.add_argument("--period", default=None, metavar="YYYY-MM", help="invoice: the month; act: the first month")
    doc.add_argument("--to", default=None, metavar="YYYY-MM", help="act: the last month (default: --period)")
    doc.add_argument("--receipt", default=None, metavar="NO", help="receipt: the payment's receipt number")
    doc.add_argument("--as-of", default=None, metavar="YYYY-MM-DD", help="certificate: the day (default: today)")
    doc.add_argument("--lang", default=None, choices=["kk", "ru", "uk", "en"],
                     help="language (default: the profile's)")
    doc.add_argument("--out", default=None, help="output file (default: the document's own name)")
    return p


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _db_url(args) -> str:
    from gazportal.settings import default_db_url

    return getattr(args, "db_url", None) or os.environ.get("GAZPORTAL_DB_URL") or default_db_url()


def _utility(args):
    from gazportal.settings import load_utility

    return load_utility(getattr(args, "profile", None) or os.environ.get("GAZPORTAL_PROFILE") or "default")


def _hide_password(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _engine(url: str):
    from gazportal.db import make_engine

    engine = make_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    except Exception as e:  # cannot connect
        raise _Fail(f"cannot open the database {_hide_password(url)}: {e.__class__.__name__}: {e}") from None
    if "account" not in tables:
        raise _Fail(f"the database {_hide_password(url)} has no tables yet: migrate it first "
                    f"(reflex db migrate)")
    return engine


class _Fail(Exception):
    pass


def _domain_text(err) -> str:
    from gazportal.services import i18n

    return i18n.t(err.key, "en", **err.params)


def cmd_demo(args) -> int:
    from gazportal.demo import generate_demo
    from gazportal.services.periods import parse_period

    utility = _utility(args)
    if args.last_period:
        parse_period(args.last_period)
    url = _db_url(args)
    engine = _engine(url)
    big = args.accounts >= 50_000

    def progress(done: int, total: int) -> None:
        if big:
            _say(f"  {done:,}/{total:,} accounts")

    res = generate_demo(engine, utility, accounts=args.accounts, months=args.months, seed=args.seed,
                        if_empty=args.if_empty, last_period=args.last_period, batch_size=args.batch,
                        progress=progress)
    engine.dispose()
    if res.skipped:
        print(f"demo: the database {_hide_password(url)} already has data; nothing done (--if-empty)")
        return EXIT_OK
    c = res.counts
    print(f"demo: profile {utility.id}, seed {args.seed}, periods {res.first_period}..{res.last_period}: "
          f"{c['account']:,} accounts, {c['meter']:,} meters, {c['reading']:,} readings, "
          f"{c['charge']:,} charges, {c['payment']:,} payments, {c['house']:,} houses, "
          f"{c['building_meter']:,} building meters; {res.rows:,} rows in {res.elapsed:.1f} s "
          f"({res.rows / max(res.elapsed, 1e-9):,.0f} rows/s)")
    return EXIT_OK


def cmd_import(args) -> int:
    from gazportal.services.billing_io import ImportRejected, import_file

    utility = _utility(args)
    path = Path(args.file)
    if not path.is_file():
        raise _Fail(f"no such file: {path}")
    engine = _engine(_db_url(args))
    started = time.perf_counter()
    try:
        res = import_file(engine, utility, args.kind, path, max_errors=args.max_errors)
    except ImportRejected as e:
        for err in e.errors:
            print(f"{path}:{err.line}: {err.key}: {err.text}", file=sys.stderr)
        if e.count > len(e.errors):
            print(f"... and {e.count - len(e.errors)} more", file=sys.stderr)
        _say(f"import {args.kind}: nothing imported: {e.count} bad row(s) in {path}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(f"import {args.kind}: {res.rows:,} rows: {res.inserted:,} added, {res.updated:,} updated, "
          f"{res.unchanged:,} unchanged, in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def cmd_export(args) -> int:
    from gazportal.services.billing_io import export_readings
    from gazportal.services.periods import parse_period

    utility = _utility(args)
    parse_period(args.period)
    engine = _engine(_db_url(args))
    started = time.perf_counter()
    try:
        if args.out:
            with open(args.out, "w", encoding="utf-8", newline="") as f:
                n = export_readings(engine, utility, args.period, f)
        else:
            n = export_readings(engine, utility, args.period, sys.stdout)
            sys.stdout.flush()
    finally:
        engine.dispose()
    _say(f"export-readings: {n:,} readings for {args.period} to {args.out or 'standard output'} "
         f"in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def cmd_purge_unconfirmed(args) -> int:
    """Each registration already removes up to ``auth.PURGE_BATCH`` of them; this is for a
    scheduled job (e.g. daily) on a portal where few people register."""
    from gazportal.services import auth

    engine = _engine(_db_url(args))
    total = 0
    try:
        while (n := auth.purge_unconfirmed(engine, limit=args.batch)) > 0:
            total += n
            if n < args.batch:
                break
    finally:
        engine.dispose()
    print(f"purge-unconfirmed: {total:,} registrations never confirmed removed")
    return EXIT_OK


def cmd_demo_customer(args) -> int:
    """The demo customer of demo mode (``services/auth/demo.py``), made if missing; prints its
    sign-in details for the person who started the portal."""
    from datetime import UTC, datetime

    from gazportal.services.auth.demo import (ensure_demo_customer, ensure_demo_messages, ensure_demo_operator,
                                              ensure_demo_review)
    from gazportal.settings import get_settings

    engine = _engine(_db_url(args))
    utility = _utility(args)
    now = datetime.now(UTC)
    try:
        who = ensure_demo_customer(engine, utility, now=now)
        staff = ensure_demo_operator(engine, utility, now=now)
        ensure_demo_messages(engine, get_settings(), utility, now=now)
        ensure_demo_review(engine, utility, now=now)  # a held reading for the operator's queue
    finally:
        engine.dispose()
    print(f"demo customer: sign in as {who.login} with the password {who.password} "
          f"(accounts {', '.join(who.accounts)}), or press \"Try the demo\" on the start page")
    print(f"demo operator: sign in as {staff.login} with the password {staff.password} "
          f"(the staff console, /staff)")
    return EXIT_OK


def cmd_refile_periods(args) -> int:
    """Readings stored under another period than the profile's rule gives (docs/decisions.md 18:
    Kremenchukgaz's readings of the 1st-5th count for the previous month): counted, and moved
    with ``--apply``."""
    from gazportal.services import readings

    engine = _engine(_db_url(args))
    try:
        done = readings.refile_periods(engine, _utility(args), apply=args.apply)
    finally:
        engine.dispose()
    for (old, new), n in sorted(done.moves.items()):
        print(f"{old} -> {new}: {n:,} readings")
    verb = "moved" if done.applied else "to move (run again with --apply)"
    print(f"refile-reading-periods: {done.readings:,} readings and {done.reviews:,} reviews {verb}")
    return EXIT_OK


def cmd_rollups(args) -> int:
    """``rollups rebuild``: recompute the dashboard's roll-ups of every period (services/rollups.py),
    e.g. after rows were changed outside the portal."""
    import time

    from gazportal.services import rollups

    engine = _engine(_db_url(args))
    started = time.perf_counter()
    try:
        rows = rollups.rebuild(engine, _utility(args))
    finally:
        engine.dispose()
    print(f"rollups rebuild: {rows:,} monthly rows in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def cmd_payments(args) -> int:
    """``payments recheck``: the status call for every order open longer than ``--minutes``
    (``services.payments.recheck``); ``payments incidents``: what staff must look at."""
    from datetime import UTC, datetime, timedelta

    from gazportal.services import payments

    engine = _engine(_db_url(args))
    try:
        if args.payments_command == "recheck":
            counts = payments.recheck(engine, _utility(args), now=datetime.now(UTC),
                                      older_than=timedelta(minutes=args.minutes))
            done = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing open"
            print(f"payments recheck: {done}")
            return EXIT_FAILED if counts.get("unreachable") else EXIT_OK
        for i in payments.incidents(engine):
            print(f"{i.created_at:%Y-%m-%d %H:%M} {i.kind} {i.provider} order={i.order_id} tx={i.transaction_id} "
                  f"{i.amount} {i.currency} {i.detail}")
        return EXIT_OK
    finally:
        engine.dispose()


def _read_password(args) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != first:
        raise _Fail("the passwords differ")
    return first


def cmd_staff(args) -> int:
    """``staff add``: a confirmed staff user (``services/staff.add_staff``), logged as done by "cli"."""
    from datetime import UTC, datetime

    from gazportal.services.staff import add_staff

    utility = _utility(args)
    password = _read_password(args)
    engine = _engine(_db_url(args))
    try:
        who = add_staff(engine, utility, login=args.login, password=password, role=args.role, surname=args.surname,
                        name=args.name, email=args.email, language=args.language, now=datetime.now(UTC))
    finally:
        engine.dispose()
    print(f"staff add: {who.login} ({who.role}) can sign in on /signin; the staff console is /staff")
    return EXIT_OK


def _document(session, utility, args, account_id: int, lang: str, now):
    from gazportal.models import Payment
    from gazportal.services import documents
    from gazportal.settings import get_settings

    settings = get_settings()
    if args.kind in ("invoice", "act") and not args.period:
        raise _Fail(f"document {args.kind}: --period YYYY-MM is needed")
    if args.kind == "invoice":
        return documents.invoice(session, utility, account_id, args.period, lang, settings=settings, now=now)
    if args.kind == "act":
        return documents.act(session, utility, account_id, args.period, args.to or args.period, lang, now=now)
    if args.kind == "receipt":
        if not args.receipt:
            raise _Fail("document receipt: --receipt NO is needed")
        pay = session.execute(sa.select(Payment).where(Payment.receipt_no == args.receipt,
                                                       Payment.account_id == account_id)).scalar_one_or_none()
        if pay is None:
            raise _Fail(f"document receipt: account {args.account} has no payment with receipt {args.receipt!r}")
        return documents.receipt(session, utility, pay.id, lang, now=now)
    as_of = args.as_of or now.astimezone(utility.tz).date().isoformat()
    return documents.certificate(session, utility, account_id, as_of, lang, settings=settings, now=now)


def cmd_document(args) -> int:
    """``document KIND``: one PDF from services/documents, written to ``--out``."""
    from datetime import UTC, datetime

    from gazportal.db import write_session
    from gazportal.models import Account
    from gazportal.services import documents, i18n

    utility = _utility(args)
    lang = args.lang or utility.default_language
    engine = _engine(_db_url(args))
    started = time.perf_counter()
    try:
        with write_session(engine) as session:  # a certificate is recorded; the others only read
            account_id = session.execute(sa.select(Account.id).where(Account.number == args.account)).scalar()
            if account_id is None:
                raise _Fail(f"no account {args.account!r}")
            try:
                doc = _document(session, utility, args, account_id, lang, datetime.now(UTC))
            except documents.DebtOutstanding as e:
                raise _Fail(i18n.error_text(e, "en", currency=utility.currency.code)) from None
    finally:
        engine.dispose()
    out = Path(args.out or doc.filename)
    out.write_bytes(doc.data)
    number = f" No. {doc.number}" if doc.number else ""
    print(f"document {args.kind}{number}: {out} ({len(doc.data) / 1024:.1f} KB, {lang}) "
          f"in {(time.perf_counter() - started) * 1000:.0f} ms")
    return EXIT_OK


COMMANDS = {"document": cmd_document, "payments": cmd_payments,
            "demo": cmd_demo, "staff": cmd_staff, "rollups": cmd_rollups, "refile-reading-periods": cmd_refile_periods,
            "import": cmd_import, "export-readings": cmd_export,
            "purge-unconfirmed": cmd_purge_unconfirmed, "demo-customer": cmd_demo_customer}


def main(argv: list[str] | None = None) -> int:
    from gazportal.services.errors import DomainError
    from gazportal.settings import UtilityError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UtilityError as e:
        _say(f"error: {e}")
        return EXIT_USAGE
    except DomainError as e:
        _say(f"error: {e.key}: {_domain_text(e)}")
        return EXIT_USAGE if e.key in ("errors.bad_period", "errors.demo_bad_size", "errors.demo_bad_months") \
            else EXIT_FAILED
    except _Fail as e:
        _say(f"error: {e}")
        return EXIT_FAILED
    except BrokenPipeError:  # e.g. `export-readings | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except sa.exc.SQLAlchemyError as e:
        _say(f"error: database: {e.__class__.__name__}: {str(e).splitlines()[0]}")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
