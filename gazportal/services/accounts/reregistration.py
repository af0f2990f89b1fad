"""Requests to re-register an account to a new owner, with uploaded documents.

A request goes draft -> submitted -> in_review -> done | rejected; a draft takes documents one by
one. A document is recognised by its bytes (PDF, JPEG, PNG, HEIC), never by its name or the
browser's type; at most ``MAX_DOCUMENT_BYTES`` each and ``MAX_DOCUMENTS`` a request. It is stored
under the upload folder with a random name; the customer's file name is kept only for display,
sanitised. A request is submitted with at least one document.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gazportal.db import write_session
from gazportal.models import Account, RequestDocument, ReregistrationRequest
from gazportal.models._base import stored_id
from gazportal.services.accounts._base import _field_error, _is_postgres, _user, _visible
from gazportal.services.errors import DomainError, FormErrors, InvalidInput, NotFound, Notice
from gazportal.services.identity import clean_text, normalize_account_number, validate_phone
from gazportal.services.ids import as_id
from gazportal.settings import Utility

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 20
MAX_OPEN_REQUESTS = 10
MAX_OWNER_NAME = 200
MAX_COMMENT = 2000
MAX_FILENAME = 120

REQUEST_STATUSES = ("draft", "submitted", "in_review", "done", "rejected")
# What staff may move a request to, from each status (the customer only submits a draft).
STAFF_TRANSITIONS = {"submitted": ("in_review", "rejected"), "in_review": ("done", "rejected")}


class RequestNotFound(NotFound):
    key = "errors.request_not_found"


class DocumentNotFound(NotFound):
    key = "errors.document_not_found"


class RequestNotEditable(DomainError):
    key = "errors.request_not_editable"


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


def _draft(session: Session, user_id: Any, request_id: Any) -> tuple[ReregistrationRequest, int]:
    """The customer's draft request (locked) and how many documents it has; RequestNotFound,
    RequestNotEditable once it is submitted."""
    req = _own_request(session, user_id, request_id, lock=True)
    if req.status != "draft":
        raise RequestNotEditable()
    count = session.exec(select(sa.func.count()).select_from(RequestDocument).where(
        RequestDocument.request_id == req.id)).one()
    return req, count


def create_request(engine: Engine, utility: Utility, user_id: int, account_number: Any, new_owner_name: Any,
                   phone: Any, comment: Any = "", *, now: datetime) -> int:
    """A draft request to re-register an account to a new owner; returns its id.

    Field errors on ``account_number``, ``new_owner_name``, ``phone``, ``comment``. The account
    need not be one of the customer's (the new owner may ask); staff check it.
    """
    fields: dict[str, Notice] = {}
    number_s = _field_error(fields, "account_number", normalize_account_number, utility, account_number)
    name = _field_error(fields, "new_owner_name", lambda v: clean_text(v, max_len=MAX_OWNER_NAME), new_owner_name)
    phone_s = _field_error(fields, "phone", validate_phone, utility, phone)
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
            col(ReregistrationRequest.status).in_(("draft", "submitted", "in_review")))).one()
        if open_count >= MAX_OPEN_REQUESTS:
            raise DomainError("errors.request_limit", max=MAX_OPEN_REQUESTS)
        acc = session.exec(_visible(user).where(Account.number == number_s)).first()
        req = ReregistrationRequest(user_id=stored_id(user), account_number=number_s,
                                    account_id=acc.id if acc else None, new_owner_name=name, phone=phone_s,
                                    comment=comment_s, status="draft", created_at=now)
        session.add(req)
        session.flush()
        return stored_id(req)


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
            req, count = _draft(session, user_id, request_id)
            if count >= MAX_DOCUMENTS:
                raise FormErrors({"file": Notice("errors.document_limit", {"max": MAX_DOCUMENTS})})
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            written = True
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            doc = RequestDocument(request_id=stored_id(req), filename=sanitize_filename(filename, ext),
                                  stored_name=stored, content_type=content_type, size=len(data),
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
    return DocumentInfo(id=stored_id(doc), filename=doc.filename, content_type=doc.content_type, size=doc.size,
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
        req, count = _draft(session, user_id, request_id)
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
                        .order_by(col(ReregistrationRequest.created_at).desc(),
                                  col(ReregistrationRequest.id).desc())).all()
    if not reqs:
        return []
    docs = session.exec(select(RequestDocument).where(col(RequestDocument.request_id).in_([r.id for r in reqs]))
                        .order_by(col(RequestDocument.id))).all()
    by_req: dict[int, list[DocumentInfo]] = {}
    for d in docs:
        by_req.setdefault(d.request_id, []).append(_doc_info(d))
    return [RequestInfo(id=stored_id(r), account_number=r.account_number, new_owner_name=r.new_owner_name,
                        phone=r.phone, comment=r.comment, status=r.status, created_at=r.created_at,
                        submitted_at=r.submitted_at, documents=by_req.get(stored_id(r), [])) for r in reqs]
