"""A customer's own documents over HTTP (gazportal/web/documents.py): the session cookie names the
person; their own account's invoice, act and receipt come back as PDFs; another's account or
payment, a missing session and bad parameters get nothing (404 / 401 / 400), never a PDF."""
from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime
from decimal import Decimal as D

from pypdf import PdfReader

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what Reflex brings
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from gazportal.db import write_session
from gazportal.models import Account, Charge, Payment, UserAccountLink
from gazportal.models._base import utcnow
from gazportal.services import auth
from gazportal.settings import get_settings
from gazportal.web.documents import document_routes
from tests.conftest import make_user

PASSWORD = "Sturdy-Lantern-42"
HOLDER = "Әсел Ғалымқызы Қоңырбаева"


async def _app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page"})


def _seed(engine) -> dict:
    me = make_user(engine, "me@example.kz", password=PASSWORD, language="kk")
    with write_session(engine) as s:
        mine = Account(number="100013439", holder_name=HOLDER, address="Өскемен қ.", kind="person")
        other = Account(number="900013439", holder_name="Someone Else", address="Almaty", kind="person")
        s.add_all([mine, other])
        s.flush()
        s.add(UserAccountLink(user_id=me, account_id=mine.id))
        for acc in (mine, other):
            s.add(Charge(account_id=acc.id, period="2026-10", service="gas", volume=D("10"), amount=D("1000.00")))
        p1 = Payment(account_id=mine.id, paid_at=datetime(2026, 10, 12, 8, tzinfo=UTC), amount=D("700.00"),
                     receipt_no="MY-1", channel="card")
        p2 = Payment(account_id=other.id, paid_at=datetime(2026, 10, 12, 8, tzinfo=UTC), amount=D("5.00"),
                     receipt_no="THEIRS-1", channel="bank")
        s.add_all([p1, p2])
        s.flush()
        ids = dict(mine=mine.id, other=other.id, my_payment=p1.id, their_payment=p2.id)
    token = auth.sign_in(engine, get_settings().utility, "me@example.kz", PASSWORD, remember=False,
                         now=utcnow()).token
    return {**ids, "cookie": f"gp_session={token}"}


def _text(body: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def test_own_documents_and_nothing_of_anyone_elses(app_db, fast_hashing):
    ids = _seed(app_db)
    client = TestClient(document_routes(_app))
    mine = {"cookie": ids["cookie"]}
    r = client.get(f"/documents/invoice?account={ids['mine']}&period=2026-10", headers=mine)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store" and "invoice-100013439-2026-10.pdf" in r.headers["content-disposition"]
    assert HOLDER in _text(r.content) and "Төлем шоты" in _text(r.content)  # the customer's language
    r = client.get(f"/documents/act?account={ids['mine']}&period=2026-01&to=2026-10&lang=ru", headers=mine)
    assert r.status_code == 200 and "Акт сверки" in _text(r.content)
    r = client.get(f"/documents/receipt?account={ids['mine']}&payment={ids['my_payment']}", headers=mine)
    assert r.status_code == 200 and "MY-1" in _text(r.content)
    refused = [
        (f"/documents/invoice?account={ids['other']}&period=2026-10", mine, 404),
        (f"/documents/receipt?account={ids['mine']}&payment={ids['their_payment']}", mine, 404),
        (f"/documents/receipt?account={ids['other']}&payment={ids['their_payment']}", mine, 404),
        ("/documents/invoice?account=abc&period=2026-10", mine, 404),
        (f"/documents/invoice?account={ids['mine']}&period=2099-01", mine, 400),
        (f"/documents/invoice?account={ids['mine']}&period=2026-10", {}, 401),
        (f"/documents/invoice?account={ids['mine']}&period=2026-10", {"cookie": "gp_session=" + "x" * 43}, 401),
        (f"/documents/certificate?account={ids['mine']}", mine, 404),
        ("/documents/invoice?" + "a=1&" * 100, mine, 400),
    ]
    for url, headers, status in refused:
        r = client.get(url, headers=headers)
        assert r.status_code == status, (url, r.status_code)
        assert not r.content.startswith(b"%PDF") and b"Someone" not in r.content
    assert "2099" in client.get(f"/documents/invoice?account={ids['mine']}&period=2099-01", headers=mine).text
    assert client.post(f"/documents/invoice?account={ids['mine']}&period=2026-10", headers=mine).status_code == 405
    assert client.get("/documentsx").text == "page" and client.get("/").text == "page"
