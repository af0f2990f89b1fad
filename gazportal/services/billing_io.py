"""CSV exchange with the utility's billing system.

Import (UTF-8, a header on line 1, comma-separated):

- ``accounts``: number,holder_name,kind,bin,address — upserted by number;
- ``charges``: account_number,period,service,volume,amount — upserted by (account, period, service);
- ``payments``: account_number,paid_at,amount,receipt_no,channel — a payment already recorded
  with the same receipt number and the same details is skipped; different details are an error.
  ``paid_at`` is ISO 8601 with an offset (``2025-01-31T14:05:00+05:00``) or a local date/time
  (``2025-01-31 14:05``), read in the profile's time zone.

Every row is checked; a bad row is reported by its line number (the header is line 1) with a
message key and its values, and if any row is bad nothing is imported: the whole file is one
transaction, rolled back. Rows are read and written in chunks, so a large file does not sit in
memory (only the keys already seen, to catch duplicates within the file).

Export: the customers' effective reading (the latest slot) of each meter for a period, as rows
for the billing system, streamed from the database.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Meter, Payment, Reading
from gazportal.models._base import table_of, utcnow
from gazportal.services import i18n, rollups
from gazportal.services.errors import InvalidInput
from gazportal.services.identifiers import bin_is_valid
from gazportal.services.periods import parse_period, period_of
from gazportal.settings import Utility

COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("number", "holder_name", "kind", "bin", "address"),
    "charges": ("account_number", "period", "service", "volume", "amount"),
    "payments": ("account_number", "paid_at", "amount", "receipt_no", "channel"),
}
KINDS = tuple(COLUMNS)
CHANNELS = ("bank", "kaspi", "card", "cash", "post", "portal")
# digits and rollovers: the counter's position is rollovers * 10**digits + value, so a reading
# after the dial passed zero (99986, then 11 with one more rollover) has its real volume (25).
EXPORT_COLUMNS = ("account_number", "meter_serial", "service", "period", "value", "taken_at", "source", "slot",
                  "digits", "rollovers")
MAX_MONEY = Decimal("10000000000")  # Numeric(12, 2)
MAX_VOLUME = Decimal("100000000000")  # Numeric(14, 3)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

def message_text(key: str, params: dict[str, Any]) -> str:
    """The English text of a key (from locales/) with its values filled in."""
    return i18n.t(key, "en", **params)


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based physical line where the record starts; the header is line 1
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return message_text(self.key, self.params)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0  # data rows read
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # already present with the same content (skipped)


class ImportRejected(InvalidInput):
    """Some rows are bad, so nothing was imported. ``errors`` lists them (at most max_errors)."""

    key = "errors.import_rejected"

    def __init__(self, errors: list[RowError], count: int) -> None:
        super().__init__(self.key, count=count)
        self.errors = errors
        self.count = count


class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _decoded_lines(binary: Iterable[bytes]) -> Iterator[str]:
    """Lines of a binary file decoded one by one, so that bad UTF-8 is reported on its line."""
    for n, raw in enumerate(binary, 1):
        if n == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8(n) from None


class _Bad(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params


# --------------------------------------------------------------------------------------------
# Field parsers (raise _Bad)
# --------------------------------------------------------------------------------------------

def _text(row: dict, name: str, max_len: int, required: bool = True) -> str:
    v = row[name].strip()
    if required and not v:
        raise _Bad("errors.csv_required", field=name)
    if len(v) > max_len:
        raise _Bad("errors.csv_too_long", field=name, max=max_len)
    return v


def _decimal(raw: str, name: str, places: int, limit: Decimal) -> Decimal:
    s = raw.strip()
    if not s:
        raise _Bad("errors.csv_required", field=name)
    if not _NUMBER.fullmatch(s):
        raise _Bad("errors.csv_bad_number", field=name, value=s[:30])
    try:
        d = Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        raise _Bad("errors.csv_bad_number", field=name, value=s[:30]) from None
    if "." in s and len(s.split(".", 1)[1]) > places:
        raise _Bad("errors.csv_too_many_decimals", field=name, places=places, value=s[:30])
    if abs(d) >= limit:
        raise _Bad("errors.csv_too_large", field=name, value=s[:30])
    return d.quantize(Decimal(1).scaleb(-places))


def _account_number(utility: Utility, row: dict, name: str) -> str:
    v = row[name].strip()
    if not v:
        raise _Bad("errors.csv_required", field=name)
    if not utility.valid_account_number(v):
        raise _Bad("errors.csv_bad_account_number", value=v[:30], example=utility.account_number_example)
    return v


def _paid_at(utility: Utility, raw: str, now: datetime) -> datetime:
    s = raw.strip()
    if not s:
        raise _Bad("errors.csv_required", field="paid_at")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise _Bad("errors.csv_bad_datetime", value=s[:40]) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=utility.tz)
    dt = dt.astimezone(UTC)
    if dt > now + timedelta(days=1):
        raise _Bad("errors.csv_future", value=s[:40])
    return dt


def _parse_account(utility: Utility, row: dict, now: datetime) -> dict:
    number = _account_number(utility, row, "number")
    holder = _text(row, "holder_name", 200)
    kind = row["kind"].strip().lower() or "person"
    if kind not in ("person", "legal"):
        raise _Bad("errors.csv_bad_kind", value=row["kind"].strip()[:20])
    bin_ = row["bin"].strip()
    if kind == "legal":
        if not utility.legal_entities:
            raise _Bad("errors.csv_legal_not_allowed")
        if not bin_:
            raise _Bad("errors.csv_required", field="bin")
        if not bin_is_valid(bin_):
            raise _Bad("errors.csv_bad_bin", value=bin_[:20])
    elif bin_:
        raise _Bad("errors.csv_bin_for_person")
    address = _text(row, "address", 300)
    return {"number": number, "holder_name": holder, "kind": kind, "bin": bin_ or None, "address": address}


def _parse_charge(utility: Utility, row: dict, now: datetime) -> dict:
    number = _account_number(utility, row, "account_number")
    period = row["period"].strip()
    try:
        parse_period(period)
    except InvalidInput:
        raise _Bad("errors.csv_bad_period", value=period[:20]) from None
    service = row["service"].strip().lower()
    if service not in utility.services:
        raise _Bad("errors.csv_bad_service", value=row["service"].strip()[:20], services=", ".join(utility.services))
    volume = _decimal(row["volume"], "volume", 3, MAX_VOLUME)
    if volume < 0:
        raise _Bad("errors.csv_negative", field="volume", value=row["volume"].strip())
    amount = _decimal(row["amount"], "amount", 2, MAX_MONEY)  # a recalculation may be negative
    return {"account_number": number, "period": period, "service": service, "volume": volume, "amount": amount}


def _parse_payment(utility: Utility, row: dict, now: datetime) -> dict:
    number = _account_number(utility, row, "account_number")
    paid_at = _paid_at(utility, row["paid_at"], now)
    amount = _decimal(row["amount"], "amount", 2, MAX_MONEY)
    if amount <= 0:
        raise _Bad("errors.csv_not_positive", field="amount", value=row["amount"].strip())
    receipt = _text(row, "receipt_no", 40)
    channel = row["channel"].strip().lower()
    if channel not in CHANNELS:
        raise _Bad("errors.csv_bad_channel", value=row["channel"].strip()[:20], channels=", ".join(CHANNELS))
    return {"account_number": number, "paid_at": paid_at, "amount": amount, "receipt_no": receipt, "channel": channel}


_PARSERS = {"accounts": _parse_account, "charges": _parse_charge, "payments": _parse_payment}


def _dup_key(kind: str, rec: dict) -> tuple[str, str]:
    """(key within the file, how to show it)"""
    if kind == "accounts":
        return rec["number"], rec["number"]
    if kind == "charges":
        k = f"{rec['account_number']} {rec['period']} {rec['service']}"
        return k, k
    return rec["receipt_no"], rec["receipt_no"]


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------

class _Importer:
    def __init__(self, session: Session, utility: Utility, kind: str, max_errors: int, chunk: int) -> None:
        self.s, self.utility, self.kind = session, utility, kind
        self.max_errors, self.chunk = max_errors, chunk
        self.errors: list[RowError] = []
        self.error_count = 0
        self.result = ImportResult(kind)
        self.seen: dict[str, int] = {}
        self.pending: list[tuple[int, dict]] = []
        self.periods: set[str] = set()  # periods whose charges or payments were written (roll-ups)
        self.accounts: set[int] = set()  # accounts whose charges or payments were written (roll-ups)

    def error(self, line: int, key: str, **params: Any) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(RowError(line, key, params))

    def add(self, line: int, rec: dict) -> None:
        key, shown = _dup_key(self.kind, rec)
        first = self.seen.get(key)
        if first is not None:
            self.error(line, "errors.csv_duplicate", value=shown, first_line=first)
            return
        self.seen[key] = line
        self.pending.append((line, rec))
        if len(self.pending) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            getattr(self, f"_apply_{self.kind}")(self.pending)
            self.pending = []

    @property
    def writing(self) -> bool:
        return self.error_count == 0

    def _account_ids(self, numbers: Iterable[str]) -> dict[str, int]:
        t = table_of(Account)
        rows = self.s.execute(sa.select(t.c.number, t.c.id).where(t.c.number.in_(set(numbers))))
        return {n: i for n, i in rows}

    def _apply_accounts(self, recs: list[tuple[int, dict]]) -> None:
        t = table_of(Account)
        existing = {r.number: r for r in self.s.execute(
            sa.select(t.c.id, t.c.number, t.c.holder_name, t.c.kind, t.c.bin, t.c.address)
            .where(t.c.number.in_([r["number"] for _, r in recs])))}
        inserts, updates = [], []
        now = utcnow()
        for _, r in recs:
            old = existing.get(r["number"])
            if old is None:
                inserts.append({**r, "created_at": now})
            elif (old.holder_name, old.kind, old.bin, old.address) != (r["holder_name"], r["kind"], r["bin"], r["address"]):
                updates.append({"b_id": old.id, "b_holder_name": r["holder_name"], "b_kind": r["kind"],
                                "b_bin": r["bin"], "b_address": r["address"]})
            else:
                self.result.unchanged += 1
        self._write(t, inserts, updates, ("holder_name", "kind", "bin", "address"))

    def _resolve(self, recs: list[tuple[int, dict]]) -> list[tuple[int, dict, int]]:
        ids = self._account_ids(r["account_number"] for _, r in recs)
        out = []
        for line, r in recs:
            acc = ids.get(r["account_number"])
            if acc is None:
                self.error(line, "errors.csv_unknown_account", value=r["account_number"])
            else:
                out.append((line, r, acc))
        return out

    def _apply_charges(self, recs: list[tuple[int, dict]]) -> None:
        t = table_of(Charge)
        resolved = self._resolve(recs)
        if not resolved:
            return
        existing = {(r.account_id, r.period, r.service): r for r in self.s.execute(
            sa.select(t.c.id, t.c.account_id, t.c.period, t.c.service, t.c.volume, t.c.amount)
            .where(t.c.account_id.in_({a for _, _, a in resolved}),
                   t.c.period.in_({r["period"] for _, r, _ in resolved})))}
        inserts, updates = [], []
        periods_of: dict[int, str] = {}
        now = utcnow()
        for _, r, acc in resolved:
            old = existing.get((acc, r["period"], r["service"]))
            if old is None:
                inserts.append({"account_id": acc, "period": r["period"], "service": r["service"],
                                "volume": r["volume"], "amount": r["amount"], "created_at": now})
            elif (Decimal(old.volume), Decimal(old.amount)) != (r["volume"], r["amount"]):
                periods_of[old.id] = old.period
                updates.append({"b_id": old.id, "b_volume": r["volume"], "b_amount": r["amount"]})
            else:
                self.result.unchanged += 1
        self._write(t, inserts, updates, ("volume", "amount"))
        if self.writing:
            self.periods |= {r["period"] for r in inserts}
            self.periods |= {periods_of[u["b_id"]] for u in updates}
            self.accounts |= {r["account_id"] for r in inserts}
            self.accounts |= {acc for _, r, acc in resolved if (acc, r["period"], r["service"]) in existing}

    def _write(self, t, inserts: list[dict], updates: list[dict], columns: tuple[str, ...]) -> None:
        """Insert new rows and update changed ones (``b_id`` + ``b_<column>`` per update)."""
        if not self.writing:
            return
        if inserts:
            self.s.execute(sa.insert(t), inserts)
        if updates:
            self.s.execute(
                sa.update(t).where(t.c.id == sa.bindparam("b_id")).values(
                    **{c: sa.bindparam(f"b_{c}") for c in columns}),
                updates, execution_options={"synchronize_session": False})
        self.result.inserted += len(inserts)
        self.result.updated += len(updates)

    def _apply_payments(self, recs: list[tuple[int, dict]]) -> None:
        t = table_of(Payment)
        resolved = self._resolve(recs)
        if not resolved:
            return
        a = table_of(Account)
        existing = {r.receipt_no: r for r in self.s.execute(
            sa.select(t.c.receipt_no, t.c.account_id, t.c.paid_at, t.c.amount, t.c.channel, a.c.number)
            .join(a, a.c.id == t.c.account_id)
            .where(t.c.receipt_no.in_([r["receipt_no"] for _, r, _ in resolved])))}
        inserts = []
        for line, r, acc in resolved:
            old = existing.get(r["receipt_no"])
            if old is None:
                inserts.append({"account_id": acc, "paid_at": r["paid_at"], "amount": r["amount"],
                                "receipt_no": r["receipt_no"], "channel": r["channel"]})
            elif (old.account_id, old.paid_at, Decimal(old.amount).quantize(Decimal("0.01")), old.channel) == (
                    acc, r["paid_at"], r["amount"], r["channel"]):
                self.result.unchanged += 1
            else:
                self.error(line, "errors.csv_receipt_conflict", value=r["receipt_no"], account=old.number,
                           amount=f"{Decimal(old.amount):.2f}", paid_at=old.paid_at.isoformat())
        if self.writing and inserts:
            self.s.execute(sa.insert(t), inserts)
            self.result.inserted += len(inserts)
            self.periods |= {period_of(r["paid_at"], self.utility.tz) for r in inserts}
            self.accounts |= {r["account_id"] for r in inserts}


def import_csv(
    session: Session,
    utility: Utility,
    kind: str,
    source: TextIO | Iterable[str],
    *,
    max_errors: int = 1000,
    chunk: int = 2000,
    now: datetime | None = None,
) -> ImportResult:
    """Import one CSV (a text stream opened with ``newline=''``) in the caller's transaction.

    Raises :class:`ImportRejected` listing the bad rows if any row is bad; the caller's
    transaction must then be rolled back (``write_session`` does that), so nothing stays.
    """
    if kind not in COLUMNS:
        raise InvalidInput("errors.import_unknown_kind", kind=str(kind)[:20], kinds=", ".join(KINDS))
    imp = _Importer(session, utility, kind, max_errors, chunk)
    parse = _PARSERS[kind]
    now = now or datetime.now(UTC)
    reader = csv.reader(source, strict=True)
    expected = COLUMNS[kind]
    line_done = 0
    header = None
    while True:
        start = line_done + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except _NotUtf8 as e:
            imp.error(e.line, "errors.csv_not_utf8")
            break
        except UnicodeDecodeError:  # a text stream that was opened by the caller
            imp.error(start, "errors.csv_not_utf8")
            break
        except csv.Error as e:
            imp.error(start, "errors.csv_malformed", detail=str(e)[:100])
            break
        line_done = reader.line_num
        if header is None:
            names = [f.strip().lstrip("\ufeff").lower() for f in fields]
            missing = [c for c in expected if c not in names]
            unknown = [c for c in names if c not in expected]
            if missing or unknown or len(names) != len(set(names)):
                imp.error(1, "errors.csv_bad_header", expected=",".join(expected),
                          missing=",".join(missing) or "-", unknown=",".join(unknown) or "-")
                break
            header = names
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        imp.result.rows += 1
        if len(fields) != len(header):
            imp.error(start, "errors.csv_field_count", expected=len(header), found=len(fields))
            continue
        try:
            rec = parse(utility, dict(zip(header, fields)), now)
        except _Bad as e:
            imp.error(start, e.key, **e.params)
            continue
        imp.add(start, rec)
    if header is None and not imp.errors:
        imp.error(1, "errors.csv_empty")
    imp.flush()
    if imp.error_count:
        raise ImportRejected(imp.errors, imp.error_count)
    rollups.changed(session, utility, periods=imp.periods, accounts=imp.accounts)
    return imp.result


def import_file(engine: Engine, utility: Utility, kind: str, path: str | Path, **kw: Any) -> ImportResult:
    """Import a CSV file in one write transaction: all rows or none."""
    with open(path, "rb") as f, write_session(engine) as session:
        return import_csv(session, utility, kind, _decoded_lines(f), **kw)


def import_text(engine: Engine, utility: Utility, kind: str, text: str, **kw: Any) -> ImportResult:
    """Import CSV given as a string (an uploaded file) in one write transaction."""
    with write_session(engine) as session:
        return import_csv(session, utility, kind, io.StringIO(text.lstrip("\ufeff"), newline=""), **kw)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------

def iter_readings(session: Session, utility: Utility, period: str, *, batch: int = 5000) -> Iterator[tuple]:
    """The effective customer reading of each meter for ``period``, as tuples in EXPORT_COLUMNS
    order, sorted by account number then meter serial; streamed from the database.

    A customer's reading held for review and accepted by staff (``reading.review_id``, source
    ``controller``, no slot) is the customer's reading too: the latest of a meter's customer
    readings and accepted ones is exported.

    A staff correction (``reading.corrects_id``, issue 16 point 6) takes the place of the reading
    it corrects: the corrected row is never exported, the correction is (unless a later customer
    reading of the period is the latest)."""
    parse_period(period)  # raises errors.bad_period
    r, m, a = table_of(Reading), table_of(Meter), table_of(Account)
    fix = table_of(Reading).alias("fix")
    ranked = (
        sa.select(r.c.id, sa.func.row_number().over(
            partition_by=r.c.meter_id,
            order_by=(r.c.taken_at.desc(), sa.func.coalesce(r.c.slot, 0).desc(), r.c.id.desc())).label("rn"))
        .where(r.c.period == period,
               sa.or_(r.c.source == "customer", r.c.review_id.is_not(None), r.c.corrects_id.is_not(None)),
               ~sa.exists().where(fix.c.corrects_id == r.c.id))
        .subquery()
    )
    stmt = (
        sa.select(a.c.number, m.c.serial, m.c.service, r.c.period, r.c.value, r.c.taken_at, r.c.source, r.c.slot,
                  m.c.digits, r.c.rollovers)
        .select_from(ranked)
        .join(r, r.c.id == ranked.c.id)
        .join(m, m.c.id == r.c.meter_id)
        .join(a, a.c.id == m.c.account_id)
        .where(ranked.c.rn == 1)
        .order_by(a.c.number, m.c.serial)
    )
    tz = utility.tz
    result = session.execute(stmt, execution_options={"yield_per": batch})
    for number, serial, service, per, value, taken_at, source, slot, digits, rollovers in result:
        yield (number, serial, service, per, value, taken_at.astimezone(tz).isoformat(timespec="seconds"),
               source, slot, digits, rollovers)


def write_readings_csv(session: Session, utility: Utility, period: str, out: TextIO) -> int:
    """Write the period's export (header + rows) to a text stream; returns the number of rows."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    n = 0
    for row in iter_readings(session, utility, period):
        w.writerow(row)
        n += 1
    return n


def export_readings(engine: Engine, utility: Utility, period: str, out: TextIO) -> int:
    with read_session(engine) as session:
        return write_readings_csv(session, utility, period, out)
