"""Requests to re-register an account to a new owner, with documents recognised by their bytes,
on the real database (SQLite and PostgreSQL) and a real upload folder."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fpdf import FPDF
from PIL import Image
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.models import Account, RequestDocument, ReregistrationRequest, User, UserAccountLink
from gazportal.services.accounts import (
    MAX_DOCUMENTS, MAX_OPEN_REQUESTS, DocumentNotFound, RequestNotEditable, RequestNotFound, add_document,
    create_request, detect_document_type, document_path, list_requests, remove_document, sanitize_filename,
    set_request_status, submit_request,
)
from gazportal.services.errors import DomainError, FormErrors, InvalidInput, Notice
from gazportal.settings import load_utility

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
KZ = load_utility("shygysenergotrade")  # 8-digit numbers, phones in KZ
UA = load_utility("kremenchukgaz")  # 10-digit numbers, phones in UA


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Dogovor kupli-prodazhi")
    return bytes(pdf.output())


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


PDF, JPEG, PNG = _pdf(), _image("JPEG"), _image("PNG")
# An ISO-BMFF 'ftyp' box as an iPhone writes it (major brand heic, compatible mif1 heic), then 'meta'.
HEIC = (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x0cmeta\x00\x00\x00\x00")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def uploads(tmp_path):
    return tmp_path / "var" / "uploads"


@pytest.fixture
def users(engine):
    with write_session(engine) as s:
        ids = []
        for login in ("alice@example.kz", "bob@example.kz"):
            u = User(login=login, password_hash="x", surname="S", name="N", is_active=True)
            s.add(u)
            s.flush()
            ids.append(u.id)
        acc = Account(number="40012345", holder_name="Иванов И. И.", address="ул. Абая, 1")
        s.add(acc)
        s.flush()
        s.add(UserAccountLink(user_id=ids[0], account_id=acc.id))
        return ids[0], ids[1], acc.id


def _new(engine, user, number="40012345", **kw):
    args = dict(new_owner_name="Петров Пётр Петрович", phone="+7 701 123 45 67", comment="Продажа квартиры")
    args.update(kw)
    return create_request(engine, KZ, user, number, args["new_owner_name"], args["phone"], args["comment"], now=NOW)


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- content recognition


def test_documents_recognised_by_content():
    assert detect_document_type(PDF) == ("application/pdf", ".pdf")
    assert detect_document_type(JPEG) == ("image/jpeg", ".jpg")
    assert detect_document_type(PNG) == ("image/png", ".png")
    assert detect_document_type(HEIC) == ("image/heic", ".heic")
    for bad in (EXE, HTML, b"", b"%PDF-1.7\nno end", PNG[:8], PNG[:40], JPEG[:3], JPEG[:20], b"GIF89a" + b"\x00" * 20,
                b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41", b"PK\x03\x04" + b"\x00" * 30,
                b"%!PS-Adobe-3.0\n%%EOF", "%PDF-1.4 %%EOF".encode("utf-16")):
        assert detect_document_type(bad) is None, bad[:20]


@pytest.mark.parametrize("name, ext, expected", [
    ("scan.pdf", ".pdf", "scan.pdf"),
    ("../../etc/passwd.pdf", ".pdf", "passwd.pdf"),
    ("..\\..\\windows\\system32\\x.pdf", ".pdf", "x.pdf"),
    ("C:\\Users\\Ivan\\Desktop\\Договор купли.jpg", ".jpg", "Договор купли.jpg"),
    ("photo.PDF", ".png", "photo.png"),  # the type comes from the bytes
    ("invoice.pdf.exe", ".pdf", "invoice.pdf"),
    ("..", ".pdf", "document.pdf"),
    ("", ".pdf", "document.pdf"),
    (None, ".jpg", "document.jpg"),
    ({"name": "x"}, ".jpg", "document.jpg"),
    (".htaccess", ".png", "htaccess.png"),
    ("a\x00b\r\nc<script>.pdf", ".pdf", "a_b_c_script.pdf"),
    ("a" * 500 + ".pdf", ".pdf", "a" * 116 + ".pdf"),
])
def test_file_names_are_sanitised(name, ext, expected):
    got = sanitize_filename(name, ext)
    assert got == expected
    assert "/" not in got and "\\" not in got and not got.startswith(".") and len(got) <= 120


# --------------------------------------------------------------------------- the request


def test_create_request(engine, users):
    alice, bob, acc_id = users
    rid = _new(engine, alice)
    other = create_request(engine, KZ, bob, "4001 2345", "Сидорова Анна", "87011234567", None, now=NOW)
    with read_session(engine) as s:
        [req] = list_requests(s, alice)
        assert (req.id, req.account_number, req.new_owner_name, req.phone, req.comment, req.status) == (
            rid, "40012345", "Петров Пётр Петрович", "+77011234567", "Продажа квартиры", "draft")
        assert req.created_at == NOW and req.submitted_at is None and req.documents == []
        assert s.get(ReregistrationRequest, rid).account_id == acc_id  # alice's own account
        assert s.get(ReregistrationRequest, other).account_id is None  # bob does not see it
        assert [r.id for r in list_requests(s, bob)] == [other]
        for odd in (None, "1", True, 2**70, 987654):
            assert list_requests(s, odd) == []


def test_create_request_field_errors(engine, users):
    alice = users[0]
    with pytest.raises(FormErrors) as e:
        create_request(engine, KZ, alice, "123", "   ", "12345", "x" * 2001, now=NOW)
    assert set(e.value.fields) == {"account_number", "new_owner_name", "phone", "comment"}
    assert e.value.fields["account_number"] == Notice("errors.account_number_invalid", {"example": "40012345"})
    assert e.value.fields["phone"].key == "errors.phone_invalid"
    for odd in ({"x": 1}, ["a"], 5, b"x"):
        with pytest.raises(FormErrors) as e:
            create_request(engine, KZ, alice, odd, odd, odd, odd, now=NOW)
        assert set(e.value.fields) == {"account_number", "new_owner_name", "phone", "comment"}
    with pytest.raises(FormErrors) as e:
        create_request(engine, KZ, alice, "40012345", "Пётр\x00", "+77011234567", "ok\x07", now=NOW)
    assert set(e.value.fields) == {"new_owner_name", "comment"}
    with pytest.raises(FormErrors) as e:  # a Ukrainian number is not a phone in Kazakhstan
        create_request(engine, KZ, alice, "40012345", "Пётр", "050 123 4567", "", now=NOW)
    assert set(e.value.fields) == {"phone"}
    rid = create_request(engine, UA, alice, "0512345678", "Коваленко Олена", "050 123 4567", "a\nb", now=NOW)
    with read_session(engine) as s:
        r = s.get(ReregistrationRequest, rid)
        assert (r.phone, r.comment) == ("+380501234567", "a\nb")
        assert s.exec(select(ReregistrationRequest)).all() == [r]  # nothing saved by the refused ones


def test_open_requests_are_limited(engine, users):
    alice = users[0]
    for _ in range(MAX_OPEN_REQUESTS):
        _new(engine, alice)
    with pytest.raises(DomainError) as e:
        _new(engine, alice)
    assert e.value.key == "errors.request_limit" and e.value.params == {"max": MAX_OPEN_REQUESTS}
    _new(engine, users[1])  # per customer


# --------------------------------------------------------------------------- documents


def test_documents_stored_with_random_names(engine, users, uploads):
    alice = users[0]
    rid = _new(engine, alice)
    kinds = []
    for name, data in (("договор.pdf", PDF), ("паспорт.jpg", JPEG), ("../../etc/passwd.pdf", PNG),
                       ("IMG_0001.HEIC", HEIC)):
        info = add_document(engine, alice, rid, name, data, now=NOW, upload_dir=uploads)
        kinds.append((info.filename, info.content_type, info.size))
    assert kinds == [("договор.pdf", "application/pdf", len(PDF)), ("паспорт.jpg", "image/jpeg", len(JPEG)),
                     ("passwd.png", "image/png", len(PNG)), ("IMG_0001.heic", "image/heic", len(HEIC))]
    names = _files(uploads)
    assert len(names) == 4 and all(re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg|png|heic)", n) for n in names)
    assert not (uploads.parent.parent / "etc").exists() and list(uploads.parent.iterdir()) == [uploads]
    with read_session(engine) as s:
        docs = s.exec(select(RequestDocument).order_by(RequestDocument.id)).all()
        assert [document_path(d, uploads).read_bytes() for d in docs] == [PDF, JPEG, PNG, HEIC]
        assert all(len(d.sha256) == 64 and d.uploaded_at == NOW for d in docs)
        [req] = list_requests(s, alice)
        assert [d.filename for d in req.documents] == ["договор.pdf", "паспорт.jpg", "passwd.png", "IMG_0001.heic"]
    assert (uploads.stat().st_mode & 0o777) == 0o700
    assert all((uploads / n).stat().st_mode & 0o777 == 0o600 for n in names)


@pytest.mark.parametrize("name, data, key", [
    ("setup.pdf", EXE, "errors.document_bad_type"),
    ("page.pdf", HTML, "errors.document_bad_type"),
    ("empty.pdf", b"", "errors.document_empty"),
    ("big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024) + b"\n%%EOF", "errors.document_too_large"),
    ("broken.png", PNG[:30], "errors.document_bad_type"),
    ("text.jpg", "скан".encode(), "errors.document_bad_type"),
    ("str.pdf", "%PDF-1.4 %%EOF", "errors.document_bad_type"),
    ("none.pdf", None, "errors.document_bad_type"),
    ("dict.pdf", {"data": PDF.decode("latin-1")}, "errors.document_bad_type"),
])
def test_bad_documents_refused(engine, users, uploads, name, data, key):
    alice = users[0]
    rid = _new(engine, alice)
    with pytest.raises(FormErrors) as e:
        add_document(engine, alice, rid, name, data, now=NOW, upload_dir=uploads)
    assert set(e.value.fields) == {"file"} and e.value.fields["file"].key == key
    if key == "errors.document_too_large":
        assert e.value.fields["file"].params == {"max_mb": 10}
    assert _files(uploads) == []
    with read_session(engine) as s:
        assert s.exec(select(RequestDocument)).all() == []


def test_exactly_ten_megabytes_is_accepted(engine, users, uploads):
    alice = users[0]
    rid = _new(engine, alice)
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 - 16) + b"\n%%EOF\n"
    assert len(big) == 10 * 1024 * 1024
    assert add_document(engine, alice, rid, "big.pdf", bytearray(big), now=NOW, upload_dir=uploads).size == len(big)


def test_twenty_first_document_refused(engine, users, uploads):
    alice = users[0]
    rid = _new(engine, alice)
    for i in range(MAX_DOCUMENTS):
        add_document(engine, alice, rid, f"page{i}.png", PNG, now=NOW, upload_dir=uploads)
    with pytest.raises(FormErrors) as e:
        add_document(engine, alice, rid, "page21.png", PNG, now=NOW, upload_dir=uploads)
    assert e.value.fields == {"file": Notice("errors.document_limit", {"max": MAX_DOCUMENTS})}
    assert len(_files(uploads)) == MAX_DOCUMENTS  # the refused one left no file
    other = _new(engine, alice)  # the limit is per request
    add_document(engine, alice, other, "x.png", PNG, now=NOW, upload_dir=uploads)


def test_remove_document(engine, users, uploads):
    alice, bob, _ = users
    rid = _new(engine, alice)
    keep = add_document(engine, alice, rid, "a.pdf", PDF, now=NOW, upload_dir=uploads)
    gone = add_document(engine, alice, rid, "b.jpg", JPEG, now=NOW, upload_dir=uploads)
    for odd in (gone.id, str(gone.id), True, 2**64, None, 987654):
        with pytest.raises(DocumentNotFound) as e:
            remove_document(engine, bob, odd, now=NOW, upload_dir=uploads)
        assert e.value.key == "errors.document_not_found"
    assert len(_files(uploads)) == 2
    remove_document(engine, alice, gone.id, now=NOW, upload_dir=uploads)
    assert _files(uploads) == [n for n in _files(uploads) if n.endswith(".pdf")] and len(_files(uploads)) == 1
    with read_session(engine) as s:
        assert [d.id for d in list_requests(s, alice)[0].documents] == [keep.id]
    with pytest.raises(DocumentNotFound):
        remove_document(engine, alice, gone.id, now=NOW, upload_dir=uploads)


def test_another_customers_request_is_refused(engine, users, uploads):
    alice, bob, _ = users
    rid = _new(engine, alice)
    for odd in (rid, str(rid), True, float(rid), 2**63, -rid, None, {"id": rid}, 987654):
        with pytest.raises(RequestNotFound) as e:
            add_document(engine, bob, odd, "a.pdf", PDF, now=NOW, upload_dir=uploads)
        assert e.value.key == "errors.request_not_found"
        with pytest.raises(RequestNotFound):
            submit_request(engine, bob, odd, now=NOW)
    assert _files(uploads) == []
    with read_session(engine) as s:
        assert list_requests(s, bob) == [] and list_requests(s, alice)[0].status == "draft"


# --------------------------------------------------------------------------- status flow


def test_submit_needs_a_document_then_the_request_is_frozen(engine, users, uploads):
    alice = users[0]
    rid = _new(engine, alice)
    with pytest.raises(FormErrors) as e:
        submit_request(engine, alice, rid, now=NOW)
    assert e.value.fields == {"file": Notice("errors.request_needs_document")}
    doc = add_document(engine, alice, rid, "a.pdf", PDF, now=NOW, upload_dir=uploads)
    later = NOW + timedelta(minutes=5)
    submit_request(engine, alice, rid, now=later)
    with read_session(engine) as s:
        [req] = list_requests(s, alice)
        assert (req.status, req.submitted_at) == ("submitted", later)
    with pytest.raises(RequestNotEditable) as e:
        add_document(engine, alice, rid, "b.pdf", PDF, now=NOW, upload_dir=uploads)
    assert e.value.key == "errors.request_not_editable"
    with pytest.raises(RequestNotEditable):
        remove_document(engine, alice, doc.id, now=NOW, upload_dir=uploads)
    with pytest.raises(RequestNotEditable):
        submit_request(engine, alice, rid, now=NOW)
    assert len(_files(uploads)) == 1


def test_staff_status_flow(engine, users, uploads):
    alice = users[0]
    rid = _new(engine, alice)
    with pytest.raises(InvalidInput) as e:  # a draft is the customer's
        set_request_status(engine, rid, "in_review", now=NOW)
    assert e.value.key == "errors.request_bad_status"
    add_document(engine, alice, rid, "a.pdf", PDF, now=NOW, upload_dir=uploads)
    submit_request(engine, alice, rid, now=NOW)
    for bad in ("done", "draft", "submitted", "weird", None, 5):
        with pytest.raises(InvalidInput):
            set_request_status(engine, rid, bad, now=NOW)
    set_request_status(engine, rid, "in_review", now=NOW)
    set_request_status(engine, rid, "done", now=NOW)
    with pytest.raises(InvalidInput):
        set_request_status(engine, rid, "rejected", now=NOW)
    with pytest.raises(RequestNotFound):
        set_request_status(engine, 987654, "done", now=NOW)
    with read_session(engine) as s:
        assert list_requests(s, alice)[0].status == "done"
    # a finished request no longer counts against the open-request limit
    for _ in range(MAX_OPEN_REQUESTS):
        _new(engine, alice)
