"""Which personal accounts a customer sees, how they add and remove them, and requests to
re-register an account to a new owner (with uploaded documents).

Rules (the tests pin each of them down):

* A **person** sees the accounts linked to them (``UserAccountLink``). A **legal entity** sees the
  fixed list of its company's accounts (``Account.bin == User.bin``) and can neither add nor
  remove one.
* Every function that takes an account id answers a missing id, another customer's id and an id
  that is not a plain positive integer (a string, a bool, a float, a number too big for the
  database) with the same ``NotFound("errors.account_not_found")``: existence is never revealed.
* **Adding by payment**: the account number and the exact amount of the account's *latest*
  payment (greatest ``paid_at``, then id), to the tiyn. "No such account", "wrong amount" and
  "not an account you may add" give the same message on both fields. **Adding by address**
  (branch -> settlement -> street -> house -> flat, then the number): the account must be at that
  house and flat.
* Failed proofs (by payment or by address) are limited per customer: after ``MAX_LINK_FAILURES``
  failures with less than an hour between one and the next, adding is refused for
  ``LINK_LOCK_MINUTES`` minutes, even with the right answer. The counter lives in
  ``LoginThrottle`` under an identifier of its own (sha256 of ``accounts.link:<user id>``), so it
  never mixes with sign-in throttling. The row is locked (``FOR UPDATE`` / ``BEGIN IMMEDIATE``)
  so parallel guesses cannot slip past the limit.
* **Re-registration** (draft -> submitted -> in_review -> done | rejected): a draft takes documents
  one by one; a document is recognised by its bytes (PDF, JPEG, PNG, HEIC), never by its name or
  the browser's type; at most ``MAX_DOCUMENT_BYTES`` each and ``MAX_DOCUMENTS`` a request. It is
  stored under the upload folder with a random name; the customer's file name is kept only for
  display, sanitised. A request is submitted with at least one document.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gazportal.db import write_session
from gazportal.models import (
    Account, Branch, Flat, House, Payment, RequestDocument, ReregistrationRequest,
    Settlement, Street, User, UserAccountLink,
)
from gazportal.models._base import money
from gazportal.services import throttle
from gazportal.services.errors import AccountNotFound, DomainError, FormErrors, InvalidInput, NotFound, Notice
from gazportal.services.identity import clean_text, normalize_account_number, validate_phone
from gazportal.services.ids import as_id
from gazportal.services.money import parse_amount
from gazportal.settings import Profile

MAX_LINK_FAILURES = 10
LINK_FAILURE_WINDOW = timedelta(hours=1)
LINK_LOCK_MINUTES = 60
LINK_POLICY = throttle.Policy(max_failures=MAX_LINK_FAILURES, lock=timedelta(minutes=LINK_LOCK_MINUTES),
                              window=LINK_FAILURE_WINDOW)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 20
MAX_OPEN_REQUESTS = 10
MAX_OWNER_NAME = 200
MAX_COMMENT = 2000
MAX_FILENAME = 120

REQUEST_STATUSES = ("draft", "submitted", "in_review", "done", "rejected")
# What staff may move a request to, from each status (the customer only submits a draft).
STAFF_TRANSITIONS = {"submitted": ("in_review", "rejected"), "in_review": ("done", "rejected")}

# --------------------------------------------------------------------------- errors


class AccountsFixed(DomainError):
    """A legal entity's list of accounts is set by the utility."""

    key = "errors.accounts_fixed_for_legal"


class LinkMethodUnavailable(DomainError):
    key = "errors.link_method_unavailable"


class AccountAlreadyLinked(DomainError):
    key = "errors.account_already_linked"


class LinkAttemptsExceeded(DomainError):
    """Too many failed proofs; ``params["minutes"]`` until the next try."""

    key = "errors.link_attempts_exceeded"


class RequestNotFound(NotFound):
    key = "errors.request_not_found"


class DocumentNotFound(NotFound):
    key = "errors.document_not_found"


class RequestNotEditable(DomainError):
    key = "errors.request_not_editable"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AccountCard:
    id: int
    number: str
    holder_name: str
    address: str
    kind: str  # person | legal


@dataclass(frozen=True)
class Option:
    id: int
    name: str


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    filename: str  # sanitised, for display
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True)
class RequestInfo:
    id: int
    account_number: str
    new_owner_name: str
    phone: str
    comment: str
    status: str
    created_at: datetime
    submitted_at: datetime | None
    documents: list[DocumentInfo] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _user(session: Session, user_id: Any) -> User:
    uid = as_id(user_id)
    user = session.get(User, uid) if uid is not None else None
    if user is None:
        raise NotFound("errors.not_found")
    return user


def _card(acc: Account) -> AccountCard:
    return AccountCard(id=acc.id, number=acc.number, holder_name=acc.holder_name, address=acc.address,
                       kind=acc.kind)


def _visible(user: User):
    """A select of the accounts ``user`` may see."""
    if user.kind == "legal":
        if not user.bin:
            return select(Account).where(sa.false())
        return select(Account).where(Account.bin == user.bin)
    return (select(Account).join(UserAccountLink, UserAccountLink.account_id == Account.id)
            .where(UserAccountLink.user_id == user.id))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _natural(text: str) -> tuple:
    """Sort key so that house 2 comes before house 10 and 10а after 10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
                 for p in re.split(r"(\d+)", text) if p)


# --------------------------------------------------------------------------- the list


def list_accounts(session: Session, user_id: int) -> list[AccountCard]:
    """The accounts the customer sees, by number (empty for an unknown user)."""
    try:
        user = _user(session, user_id)
    except NotFound:
        return []
    rows = session.exec(_visible(user).order_by(Account.number)).all()
    return [_card(a) for a in rows]


def require_account(session: Session, user_id: int, account_id: Any) -> Account:
    """The account if the customer may see it; NotFound("errors.account_not_found") for a missing
    or foreign id and for anything that is not a positive int (the same answer every time)."""
    aid = as_id(account_id)
    if aid is None:
        raise AccountNotFound()
    try:
        user = _user(session, user_id)
    except NotFound:
        raise AccountNotFound() from None
    acc = session.exec(_visible(user).where(Account.id == aid)).first()
    if acc is None:
        raise AccountNotFound()
    return acc


def can_add_accounts(session: Session, user_id: int) -> bool:
    """False for legal entities (their company's list is fixed) and for unknown users."""
    try:
        user = _user(session, user_id)
    except NotFound:
        return False
    return user.kind != "legal"


# --------------------------------------------------------------------------- parsing


def _field_error(fields: dict[str, Notice], name: str, fn, *args) -> Any:
    try:
        return fn(*args)
    except InvalidInput as e:
        fields[name] = Notice(e.key, dict(e.params))
        return None


# --------------------------------------------------------------------------- throttling


def _throttle_id(user_id: int) -> str:
    return throttle.plain_key("accounts.link", user_id)


def link_attempts_left(session: Session, user_id: int, *, now: datetime) -> int:
    """How many failed proofs the customer may still make before adding is locked."""
    uid = as_id(user_id)
    if uid is None:
        return 0
    return throttle.attempts_left(throttle.peek(session, _throttle_id(uid)), LINK_POLICY, now)


# --------------------------------------------------------------------------- adding and removing


def _start_link(session: Session, profile: Profile, user_id: int, method: str, now: datetime):
    user = _user(session, user_id)
    if user.kind == "legal":
        raise AccountsFixed()
    if method not in profile.add_account_by:
        raise LinkMethodUnavailable()
    row = throttle.row(session, _throttle_id(user.id))
    minutes = throttle.check(row, LINK_POLICY, now)
    if minutes is not None:
        raise LinkAttemptsExceeded(minutes=minutes)
    return user, row


def _language(profile: Profile, lang: Any) -> str:
    return lang if isinstance(lang, str) and lang in profile.languages else profile.default_language


def _linked(session: Session, user: User, acc: Account) -> bool:
    return session.exec(select(UserAccountLink.id).where(
        UserAccountLink.user_id == user.id, UserAccountLink.account_id == acc.id)).first() is not None


def latest_payment(session: Session, account_id: int) -> Payment | None:
    """The account's latest payment: the greatest ``paid_at``, then the greatest id."""
    return session.exec(select(Payment).where(Payment.account_id == account_id)
                        .order_by(Payment.paid_at.desc(), Payment.id.desc()).limit(1)).first()


def link_by_payment(engine: Engine, profile: Profile, user_id: int, number: Any, last_payment: Any, *,
                    now: datetime, lang: str | None = None) -> AccountCard:
    """Add an account by its number and the exact amount of its latest payment.

    ``last_payment`` is read by :func:`gazportal.services.money.parse_amount` in ``lang`` (by
    default the customer's own language, else the profile's default).

    Field errors (FormErrors on ``number`` / ``last_payment``): a malformed number or amount,
    and, the same message on both fields, a number that is not an account, an account with no
    payments or another amount, or a legal entity's account. Raises AccountsFixed for a legal
    entity, LinkMethodUnavailable when the profile does not add accounts this way,
    AccountAlreadyLinked, LinkAttemptsExceeded after too many failures.
    """
    fields: dict[str, Notice] = {}
    number_s = _field_error(fields, "number", normalize_account_number, profile, number)
    failure: FormErrors | None = None
    with write_session(engine) as session:
        user, row = _start_link(session, profile, user_id, "payment_proof", now)
        amount = _field_error(fields, "last_payment", parse_amount, last_payment,
                              _language(profile, lang if lang is not None else user.language))
        if fields:
            raise FormErrors(fields)
        acc = session.exec(select(Account).where(Account.number == number_s)).first()
        if acc is not None and _linked(session, user, acc):
            raise AccountAlreadyLinked()
        latest = latest_payment(session, acc.id) if acc is not None else None
        if acc is None or acc.kind != "person" or latest is None or money(latest.amount) != amount:
            throttle.fail(session, row, LINK_POLICY, now)
            notice = Notice("errors.account_proof_failed")
            failure = FormErrors({"number": notice, "last_payment": notice})
        else:
            session.add(UserAccountLink(user_id=user.id, account_id=acc.id, created_at=now))
            card = _card(acc)
    if failure is not None:
        raise failure  # raised after the commit, so the failure is counted
    return card


def link_by_address(engine: Engine, profile: Profile, user_id: int, house_id: Any, flat_id: Any, number: Any,
                    *, now: datetime) -> AccountCard:
    """Add an account chosen through the address picker: it must be at that house (and flat).

    Field errors: ``house`` (no such house), ``flat`` (not a flat of that house), ``number``
    (malformed, or no such account at this address — counted as a failed proof).
    """
    fields: dict[str, Notice] = {}
    number_s = _field_error(fields, "number", normalize_account_number, profile, number)
    hid = as_id(house_id)
    fid = None if flat_id is None else as_id(flat_id)
    failure: FormErrors | None = None
    with write_session(engine) as session:
        user, row = _start_link(session, profile, user_id, "address_picker", now)
        house = session.get(House, hid) if hid is not None else None
        if house is None:
            fields["house"] = Notice("errors.house_not_found")
        elif flat_id is not None:
            flat = session.get(Flat, fid) if fid is not None else None
            if flat is None or flat.house_id != house.id:
                fields["flat"] = Notice("errors.flat_not_in_house")
        if fields:
            raise FormErrors(fields)
        acc = session.exec(select(Account).where(Account.number == number_s)).first()
        if acc is not None and acc.house_id == house.id and acc.flat_id == fid and _linked(session, user, acc):
            raise AccountAlreadyLinked()
        if acc is None or acc.kind != "person" or acc.house_id != house.id or acc.flat_id != fid:
            throttle.fail(session, row, LINK_POLICY, now)
            failure = FormErrors({"number": Notice("errors.account_not_at_address")})
        else:
            session.add(UserAccountLink(user_id=user.id, account_id=acc.id, created_at=now))
            card = _card(acc)
    if failure is not None:
        raise failure
    return card


def unlink(engine: Engine, user_id: int, account_id: Any, *, now: datetime) -> None:
    """Remove an account from the customer's list (AccountsFixed for a legal entity)."""
    aid = as_id(account_id)
    with write_session(engine) as session:
        try:
            user = _user(session, user_id)
        except NotFound:
            raise AccountNotFound() from None
        if user.kind == "legal":
            if aid is not None and session.exec(_visible(user).where(Account.id == aid)).first() is not None:
                raise AccountsFixed()
            raise AccountNotFound()
        link = None
        if aid is not None:
            link = session.exec(select(UserAccountLink).where(
                UserAccountLink.user_id == user.id, UserAccountLink.account_id == aid)).first()
        if link is None:
            raise AccountNotFound()
        session.delete(link)


# --------------------------------------------------------------------------- address directory


def _options(session: Session, model, label: str, parent=None, parent_id: Any = None) -> list[Option]:
    """One level of the directory: the children of ``parent_id`` (all rows when no parent), in
    natural order of their names; a bad parent id gives an empty list."""
    query = select(model)
    if parent is not None:
        pid = as_id(parent_id)
        if pid is None:
            return []
        query = query.where(parent == pid)
    rows = session.exec(query).all()
    return sorted((Option(r.id, getattr(r, label)) for r in rows), key=lambda o: _natural(o.name))


def branches(session: Session) -> list[Option]:
    return _options(session, Branch, "name")


def settlements(session: Session, branch_id: Any) -> list[Option]:
    return _options(session, Settlement, "name", Settlement.branch_id, branch_id)


def streets(session: Session, settlement_id: Any) -> list[Option]:
    return _options(session, Street, "name", Street.settlement_id, settlement_id)


def houses(session: Session, street_id: Any) -> list[Option]:
    return _options(session, House, "number", House.street_id, street_id)


def flats(session: Session, house_id: Any) -> list[Option]:
    return _options(session, Flat, "number", Flat.house_id, house_id)


# --------------------------------------------------------------------------- documents


_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")


def _image_ok(data: bytes, fmt: str) -> bool:
    from PIL import Image  # Pillow (a dependency of fpdf2)

    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            im.verify()
        return True
    except Exception:  # noqa: BLE001 - any parse failure (or a decompression bomb) means "not an image"
        return False


def detect_document_type(data: bytes) -> tuple[str, str] | None:
    """(content type, file extension) recognised from the bytes, or None.

    PDF: the ``%PDF-1.x`` / ``%PDF-2.x`` header at the start and ``%%EOF`` near the end. JPEG and
    PNG: Pillow parses the file structure. HEIC/HEIF: an ISO-BMFF ``ftyp`` box with a HEIF brand.
    """
    if _PDF_HEADER.match(data[:8]) and b"%%EOF" in data[-2048:]:
        return "application/pdf", ".pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and _image_ok(data, "PNG"):
        return "image/png", ".png"
    if data.startswith(b"\xff\xd8\xff") and _image_ok(data, "JPEG"):
        return "image/jpeg", ".jpg"
    if len(data) >= 16 and data[4:8] == b"ftyp":
        box = int.from_bytes(data[:4], "big")
        brands = {data[8:12]} | {data[i:i + 4] for i in range(16, min(box, len(data), 64), 4)}
        if 16 <= box <= 4096 and brands & _HEIF_BRANDS:
            return "image/heic", ".heic"
    return None


def sanitize_filename(name: Any, ext: str) -> str:
    """A display name: the last path component, letters/digits/space/._()- only, no leading
    dots, at most MAX_FILENAME characters, with the extension of the detected type."""
    raw = name if isinstance(name, str) else ""
    raw = unicodedata.normalize("NFC", raw[:1000]).replace("\\", "/").rsplit("/", 1)[-1]
    stem = raw.rsplit(".", 1)[0] if "." in raw.lstrip(".") else raw
    stem = "".join(c if (c.isalnum() or c in " ._()-") else "_" for c in stem)
    stem = re.sub(r"[._ ]{2,}", "_", stem).strip(" ._-")
    if stem.lower().endswith(ext):  # "invoice.pdf.exe" -> "invoice", not "invoice.pdf.pdf"
        stem = stem[: -len(ext)].strip(" ._-")
    stem = stem[: MAX_FILENAME - len(ext)] or "document"
    return stem + ext


def _upload_dir(upload_dir: Path | str | None) -> Path:
    if upload_dir is None:
        from gazportal.settings import get_settings

        upload_dir = get_settings().upload_dir
    path = Path(upload_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def document_path(doc: RequestDocument, upload_dir: Path | str | None = None) -> Path:
    """Where the document's bytes are (for staff screens)."""
    return _upload_dir(upload_dir) / doc.stored_name


# --------------------------------------------------------------------------- re-registration


def _own_request(session: Session, user_id: Any, request_id: Any, *, lock: bool = False) -> ReregistrationRequest:
    rid, uid = as_id(request_id), as_id(user_id)
    if rid is None or uid is None:
        raise RequestNotFound()
    stmt = select(ReregistrationRequest).where(ReregistrationRequest.id == rid,
                                               ReregistrationRequest.user_id == uid)
    if lock and _is_postgres(session):
        stmt = stmt.with_for_update()
    req = session.exec(stmt).first()
    if req is None:
        raise RequestNotFound()
    return req


def create_request(engine: Engine, profile: Profile, user_id: int, account_number: Any, new_owner_name: Any,
                   phone: Any, comment: Any = "", *, now: datetime) -> int:
    """A draft request to re-register an account to a new owner; returns its id.

    Field errors on ``account_number``, ``new_owner_name``, ``phone``, ``comment``. The account
    need not be one of the customer's (the new owner may ask); staff check it.
    """
    fields: dict[str, Notice] = {}
    number_s = _field_error(fields, "account_number", normalize_account_number, profile, account_number)
    name = _field_error(fields, "new_owner_name", lambda v: clean_text(v, max_len=MAX_OWNER_NAME), new_owner_name)
    phone_s = _field_error(fields, "phone", validate_phone, profile, phone)
    if comment is None or (isinstance(comment, str) and not comment.strip()):
        comment_s = ""
    else:
        comment_s = _field_error(fields, "comment", _clean_comment, comment)
    with write_session(engine) as session:
        user = _user(session, user_id)
        if fields:
            raise FormErrors(fields)
        open_count = session.exec(select(sa.func.count()).select_from(ReregistrationRequest).where(
            ReregistrationRequest.user_id == user.id,
            ReregistrationRequest.status.in_(("draft", "submitted", "in_review")))).one()
        if open_count >= MAX_OPEN_REQUESTS:
            raise DomainError("errors.request_limit", max=MAX_OPEN_REQUESTS)
        acc = session.exec(_visible(user).where(Account.number == number_s)).first()
        req = ReregistrationRequest(user_id=user.id, account_number=number_s, account_id=acc.id if acc else None,
                                    new_owner_name=name, phone=phone_s, comment=comment_s, status="draft",
                                    created_at=now)
        session.add(req)
        session.flush()
        return req.id


def _clean_comment(value: Any) -> str:
    """Free text of several lines: like clean_text, but line breaks and tabs are allowed."""
    if not isinstance(value, str):
        raise InvalidInput("errors.invalid_input")
    if len(value) > MAX_COMMENT * 4:
        raise InvalidInput("errors.field_too_long", max=MAX_COMMENT)
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") and c not in "\n\t" for c in text):
        raise InvalidInput("errors.invalid_characters")
    if len(text) > MAX_COMMENT:
        raise InvalidInput("errors.field_too_long", max=MAX_COMMENT)
    return text


def add_document(engine: Engine, user_id: int, request_id: Any, filename: Any, data: Any, *, now: datetime,
                 upload_dir: Path | str | None = None) -> DocumentInfo:
    """Attach one document to the customer's draft request.

    FormErrors on ``file``: empty, larger than 10 MB, not a PDF / JPEG / PNG / HEIC by its bytes,
    or the request already has 20 documents. RequestNotFound for another customer's (or a
    missing) request; RequestNotEditable once it is submitted.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise FormErrors({"file": Notice("errors.document_bad_type")})
    if not data:
        raise FormErrors({"file": Notice("errors.document_empty")})
    if len(data) > MAX_DOCUMENT_BYTES:
        raise FormErrors({"file": Notice("errors.document_too_large", {"max_mb": MAX_DOCUMENT_BYTES // 2**20})})
    kind = detect_document_type(data)
    if kind is None:
        raise FormErrors({"file": Notice("errors.document_bad_type")})
    content_type, ext = kind
    folder = _upload_dir(upload_dir)
    stored = secrets.token_hex(16) + ext
    path = folder / stored
    written = False
    try:
        with write_session(engine) as session:
            req = _own_request(session, user_id, request_id, lock=True)
            if req.status != "draft":
                raise RequestNotEditable()
            count = session.exec(select(sa.func.count()).select_from(RequestDocument).where(
                RequestDocument.request_id == req.id)).one()
            if count >= MAX_DOCUMENTS:
                raise FormErrors({"file": Notice("errors.document_limit", {"max": MAX_DOCUMENTS})})
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            written = True
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            doc = RequestDocument(request_id=req.id, filename=sanitize_filename(filename, ext), stored_name=stored,
                                  content_type=content_type, size=len(data),
                                  sha256=hashlib.sha256(data).hexdigest(), uploaded_at=now)
            session.add(doc)
            session.flush()
            info = _doc_info(doc)
    except BaseException:
        if written:
            path.unlink(missing_ok=True)
        raise
    return info


def _doc_info(doc: RequestDocument) -> DocumentInfo:
    return DocumentInfo(id=doc.id, filename=doc.filename, content_type=doc.content_type, size=doc.size,
                        uploaded_at=doc.uploaded_at)


def remove_document(engine: Engine, user_id: int, document_id: Any, *, now: datetime,
                    upload_dir: Path | str | None = None) -> None:
    """Remove a document from the customer's draft request (and its file)."""
    did = as_id(document_id)
    with write_session(engine) as session:
        doc = session.get(RequestDocument, did) if did is not None else None
        if doc is None:
            raise DocumentNotFound()
        try:
            req = _own_request(session, user_id, doc.request_id, lock=True)
        except RequestNotFound:
            raise DocumentNotFound() from None
        if req.status != "draft":
            raise RequestNotEditable()
        stored = doc.stored_name
        session.delete(doc)
    (_upload_dir(upload_dir) / stored).unlink(missing_ok=True)


def submit_request(engine: Engine, user_id: int, request_id: Any, *, now: datetime) -> None:
    """Send a draft to staff; it needs at least one document (FormErrors on ``file``)."""
    with write_session(engine) as session:
        req = _own_request(session, user_id, request_id, lock=True)
        if req.status != "draft":
            raise RequestNotEditable()
        count = session.exec(select(sa.func.count()).select_from(RequestDocument).where(
            RequestDocument.request_id == req.id)).one()
        if count < 1:
            raise FormErrors({"file": Notice("errors.request_needs_document")})
        req.status = "submitted"
        req.submitted_at = now
        session.add(req)


def set_request_status(engine: Engine, request_id: Any, status: str, *, now: datetime) -> None:
    """Staff move a submitted request on: submitted -> in_review | rejected, in_review -> done |
    rejected. Anything else is refused with errors.request_bad_status."""
    rid = as_id(request_id)
    with write_session(engine) as session:
        stmt = select(ReregistrationRequest).where(ReregistrationRequest.id == (rid or 0))
        if _is_postgres(session):
            stmt = stmt.with_for_update()
        req = session.exec(stmt).first()
        if req is None:
            raise RequestNotFound()
        if status not in STAFF_TRANSITIONS.get(req.status, ()):
            raise InvalidInput("errors.request_bad_status", status=str(status)[:20])
        req.status = status
        session.add(req)


def list_requests(session: Session, user_id: int) -> list[RequestInfo]:
    """The customer's requests, newest first, each with its documents in upload order."""
    uid = as_id(user_id)
    if uid is None:
        return []
    reqs = session.exec(select(ReregistrationRequest).where(ReregistrationRequest.user_id == uid)
                        .order_by(ReregistrationRequest.created_at.desc(), ReregistrationRequest.id.desc())).all()
    if not reqs:
        return []
    docs = session.exec(select(RequestDocument).where(RequestDocument.request_id.in_([r.id for r in reqs]))
                        .order_by(RequestDocument.id)).all()
    by_req: dict[int, list[DocumentInfo]] = {}
    for d in docs:
        by_req.setdefault(d.request_id, []).append(_doc_info(d))
    return [RequestInfo(id=r.id, account_number=r.account_number, new_owner_name=r.new_owner_name, phone=r.phone,
                        comment=r.comment, status=r.status, created_at=r.created_at, submitted_at=r.submitted_at,
                        documents=by_req.get(r.id, [])) for r in reqs]
