"""The public verification page of a certificate of no debt (gazportal/web/verify.py): GET
/verify?c=<code> confirms the number and dates of a real certificate and shows no personal data;
an unknown, altered or malformed code gets 404 "no certificate"; other paths pass through."""
from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what Reflex brings
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from gazportal.db import write_session
from gazportal.models import Account, Charge, Payment
from gazportal.services import documents
from gazportal.settings import get_settings
from gazportal.web.verify import verify_route

HOLDER, ADDRESS, NUMBER = "Әсел Ғалымқызы Қоңырбаева", "Өскемен қ., Мәшһүр Жүсіп көшесі, 17", "100013439"


async def _app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page"})


def _issue(engine) -> tuple[str, str]:
    utility = get_settings().utility
    now = datetime.now(UTC)
    with write_session(engine) as s:
        acc = Account(number=NUMBER, holder_name=HOLDER, address=ADDRESS, kind="person")
        s.add(acc)
        s.flush()
        s.add(Charge(account_id=acc.id, period="2020-01", service="gas", volume=D("10"), amount=D("100.00")))
        s.add(Payment(account_id=acc.id, paid_at=now - timedelta(days=1000), amount=D("100.00"), receipt_no="R1",
                      channel="bank"))
        row = documents.issue_certificate(s, utility, acc.id, now.astimezone(utility.tz).date() - timedelta(days=1),
                                          now=now)
        return row.code, documents.certificate_number(row)


def test_a_real_code_is_confirmed_without_personal_data(app_db):
    code, number = _issue(app_db)
    client = TestClient(verify_route(_app))
    r = client.get(f"/verify?c={code}&lang=ru")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith("text/html") and "noindex" in r.headers["x-robots-tag"]
    assert number in r.text and "Справка" in r.text and 'lang="ru"' in r.text
    for personal in (HOLDER, ADDRESS, NUMBER, "Әсел", "Қоңырбаева"):
        assert personal not in r.text
    assert "<script" not in r.text.lower()
    assert client.head(f"/verify?c={code}").text == ""


def test_unknown_altered_and_malformed_codes_are_not_found(app_db):
    code, number = _issue(app_db)
    client = TestClient(verify_route(_app))
    assert client.get(f"/verify?c={code}").status_code == 200  # positive control
    altered = code[:-1] + ("A" if code[-1] != "A" else "B")
    for query in (f"c={altered}", "c=", "", "c=%3Cscript%3E", "c=" + "a" * 300, f"c={code}&c=x" + "&x=1" * 60,
                  "lang=kk"):
        r = client.get(f"/verify?{query}")
        assert r.status_code == 404, query
        assert number not in r.text and "<script>" not in r.text
    assert client.post(f"/verify?c={code}").status_code == 405
    assert client.get("/verify-something").text == "page"  # not ours: passes through
    assert client.get("/").text == "page"


def test_a_pay_link_goes_to_the_dashboard_and_a_bad_one_says_why():
    """GET /pay?t=... (a Kazakh invoice's QR): valid → 303 to /dashboard (the session decides the
    account, the dashboard the amount); forged or altered → 400, expired → 410, each with its reason
    in the asked language and a link to the dashboard; nothing else of the link is shown."""
    from gazportal.services.documents.qr import pay_link
    from gazportal.web.verify import pay_link_route

    settings = get_settings()
    now = datetime.now(UTC)
    live = pay_link(settings, NUMBER, "2026-10", D("1234.56"), now + timedelta(days=45))
    token = live.split("?t=", 1)[1]
    client = TestClient(pay_link_route(_app))
    r = client.get(f"/pay?t={token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard", r.text
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (altered, "", "x" * 500):
        r = client.get(f"/pay?t={bad}&lang=ru", follow_redirects=False)
        assert r.status_code == 400 and "Ссылка на оплату недействительна." in r.text, r.text
        assert 'href="/dashboard"' in r.text and "location" not in r.headers and NUMBER not in r.text
    assert client.get("/pay", follow_redirects=False).status_code == 400
    expired = pay_link(settings, NUMBER, "2026-10", D("1.00"), now - timedelta(seconds=1)).split("?t=", 1)[1]
    r = client.get(f"/pay?t={expired}&lang=kk", follow_redirects=False)
    assert r.status_code == 410 and 'lang="kk"' in r.text and "мерзімі өтті" in r.text and NUMBER not in r.text
    assert client.post(f"/pay?t={token}").status_code == 405
    assert client.get("/other").text == "page"  # other paths pass through
