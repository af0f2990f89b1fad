"""The payment providers end to end over HTTP (gazportal/web/payments_http.py): LiqPay and
CloudPayments against local stand-ins that speak their published protocols (tests/payment_providers.py),
the demo provider's own card page; forged and mutated callbacks are never booked (1,000 of them),
the amount cannot be changed from the browser, and stale orders are re-checked with the status APIs."""
from __future__ import annotations

import base64
import json
import random
import re
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from gazportal import settings as settings_mod
from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Payment, PaymentIncident, PaymentOrder, UserAccountLink
from gazportal.services import payments
from gazportal.services.payments import demo as demo_bank
from gazportal.web.payments_http import payment_routes
from tests.conftest import add_user
from tests.payment_providers import CloudPaymentsStandIn, LiqPayStandIn, cp_hmac, liqpay_sign

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.timeout(300)
NOW = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)


async def _not_found(scope, receive, send):
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _portal(app_db, monkeypatch, profile: str, **env: str) -> tuple[TestClient, int, int]:
    monkeypatch.setenv("GAZPORTAL_PROFILE", profile)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings_mod.get_settings.cache_clear()
    with write_session(app_db) as s:
        uid = add_user(s, f"payer-{profile}@example.com")
        acc = Account(number="0512345678", holder_name="Петренко Ґалина", address="Кременчук")
        s.add(acc)
        s.flush()
        s.add(UserAccountLink(user_id=uid, account_id=acc.id))
        s.add(Charge(account_id=acc.id, period="2026-10", service="gas", volume=Decimal("30.000"), amount=Decimal("250.40")))
    return TestClient(payment_routes(_not_found), follow_redirects=False), uid, acc.id


def _order(app_db, uid, acc, provider, amount="250.40", lang="uk"):
    utility = settings_mod.get_settings().utility
    return payments.create_order(app_db, utility, user_id=uid, account_id=acc, amount=amount, lang=lang,
                                 provider=provider, now=NOW)


def _payments(engine) -> list[Payment]:
    with read_session(engine) as s:
        return list(s.exec(select(Payment)).all())


def _status(engine, public_id) -> PaymentOrder:
    with read_session(engine) as s:
        return s.exec(select(PaymentOrder).where(PaymentOrder.public_id == public_id)).one()


@pytest.fixture
def liqpay(app_db, monkeypatch):
    stand_in = LiqPayStandIn("sandbox_i000", "sandbox_private_" + "k" * 24)
    client, uid, acc = _portal(app_db, monkeypatch, "kremenchukgaz", LIQPAY_PUBLIC_KEY=stand_in.public_key,
                               LIQPAY_PRIVATE_KEY=stand_in.private_key, LIQPAY_API_URL=stand_in.url + "/api/request",
                               LIQPAY_CHECKOUT_URL=stand_in.url + "/api/3/checkout")
    yield stand_in, client, uid, acc
    stand_in.close()


def _liqpay_checkout(client, stand_in, public_id):
    """The browser opens /_gp/pay/go/<order>: a form that posts itself to LiqPay; post it."""
    page = client.get(f"/_gp/pay/go/{public_id}")
    assert page.status_code == 200
    action = re.search(r'action="([^"]+)"', page.text)[1]
    fields = dict(re.findall(r'name="(data|signature)" value="([^"]+)"', page.text))
    assert action == stand_in.url + "/api/3/checkout"
    assert httpx.post(action, data=fields).json() == {"result": "ok"}  # the stand-in checked the signature
    return json.loads(base64.b64decode(fields["data"]))


def _deliver(client, message):
    url, body, headers = message
    return client.post(urlsplit(url).path, content=body, headers=headers)


def test_liqpay_pays_once_from_a_signed_callback(app_db, liqpay):
    stand_in, client, uid, acc = liqpay
    o = _order(app_db, uid, acc, "liqpay")
    sent = _liqpay_checkout(client, stand_in, o.public_id)
    assert (Decimal(str(sent["amount"])), sent["currency"], sent["order_id"], sent["action"]) == \
        (Decimal("250.40"), "UAH", o.public_id, "pay")
    assert sent["server_url"].endswith("/_gp/pay/callback/liqpay")
    assert _status(app_db, o.public_id).status == "pending"
    stand_in.pay(o.public_id)
    callback = stand_in.callback(o.public_id)
    for _ in range(3):  # LiqPay resends; one payment
        assert _deliver(client, callback).status_code == 200
    [p] = _payments(app_db)
    assert (p.amount, p.provider, p.transaction_id) == (Decimal("250.40"), "liqpay", str(stand_in.orders[o.public_id]["payment_id"]))
    page = client.get(f"/_gp/pay/result/{o.public_id}")
    assert 'data-status="paid"' in page.text and "250,40" in page.text and "refresh" not in page.text


def test_liqpay_a_changed_amount_is_refused_and_shown_to_staff(app_db, liqpay):
    stand_in, client, uid, acc = liqpay
    o = _order(app_db, uid, acc, "liqpay")
    _liqpay_checkout(client, stand_in, o.public_id)
    stand_in.pay(o.public_id)
    # the browser (or anyone) had LiqPay charge 1.00 instead: a signed callback, but not the order's amount
    assert _deliver(client, stand_in.callback(o.public_id, amount=1.0)).status_code == 200
    assert _deliver(client, stand_in.callback(o.public_id, currency="USD")).status_code == 200
    assert _payments(app_db) == []
    with read_session(app_db) as s:
        assert {i.kind for i in s.exec(select(PaymentIncident)).all()} == {"mismatch"}


def test_liqpay_recheck_uses_the_status_api(app_db, liqpay):
    stand_in, client, uid, acc = liqpay
    paid, failed, never = (_order(app_db, uid, acc, "liqpay", "100") for _ in range(3))
    for o in (paid, failed):
        _liqpay_checkout(client, stand_in, o.public_id)
    stand_in.pay(paid.public_id)  # the callback got lost
    stand_in.pay(failed.public_id, "failure")
    utility = settings_mod.get_settings().utility
    assert payments.recheck(app_db, utility, now=NOW + timedelta(minutes=5)) == {}  # not yet 15 minutes
    counts = payments.recheck(app_db, utility, now=NOW + timedelta(minutes=16))
    assert counts == {"booked": 1, "updated": 1, "expired": 1}
    assert [s for s in stand_in.requests if s == "/api/request"] == ["/api/request"] * 3
    assert [_status(app_db, o.public_id).status for o in (paid, failed, never)] == ["paid", "failed", "expired"]
    assert len(_payments(app_db)) == 1


@pytest.fixture
def cloudpayments(app_db, monkeypatch):
    stand_in = CloudPaymentsStandIn("pk_test_0000", "api_secret_" + "s" * 24)
    client, uid, acc = _portal(app_db, monkeypatch, "almaty_gas", CLOUDPAYMENTS_PUBLIC_ID=stand_in.public_id,
                               CLOUDPAYMENTS_API_SECRET=stand_in.api_secret, CLOUDPAYMENTS_API_URL=stand_in.url)
    yield stand_in, client, uid, acc
    stand_in.close()


def _widget(client, public_id) -> dict:
    go = client.get(f"/_gp/pay/go/{public_id}")
    assert go.status_code == 303 and go.headers["location"].endswith(f"/_gp/pay/cloudpayments/{public_id}")
    page = client.get(urlsplit(go.headers["location"]).path)
    return json.loads(re.search(r'pay\("charge",(\{.*?\}),\{onComplete', page.text)[1])


def _notify(client, message):
    kind, body, headers = message
    return client.post(f"/_gp/pay/callback/cloudpayments/{kind}", content=body, headers=headers)


def test_cloudpayments_check_then_pay_once(app_db, cloudpayments):
    stand_in, client, uid, acc = cloudpayments
    o = _order(app_db, uid, acc, "cloudpayments", "250.40", lang="kk")
    options = _widget(client, o.public_id)
    assert (options["publicId"], options["amount"], options["currency"], options["invoiceId"], options["accountId"]) == \
        (stand_in.public_id, 250.4, "KZT", o.public_id, "0512345678")
    stand_in.charge(options)
    check = _notify(client, stand_in.notification(o.public_id, "check"))
    assert check.json() == {"code": 0}
    assert _notify(client, stand_in.notification(o.public_id, "check", Amount="25.04")).json() == {"code": 12}
    assert _notify(client, stand_in.notification(o.public_id, "check", InvoiceId="x" * 22)).json() == {"code": 10}
    for _ in range(3):
        assert _notify(client, stand_in.notification(o.public_id, "pay")).json() == {"code": 0}
    [p] = _payments(app_db)
    assert (p.amount, p.provider) == (Decimal("250.40"), "cloudpayments")
    assert _notify(client, stand_in.notification(o.public_id, "check")).json() == {"code": 20}  # no longer open


def test_cloudpayments_fail_and_status_api(app_db, cloudpayments):
    stand_in, client, uid, acc = cloudpayments
    declined, lost = (_order(app_db, uid, acc, "cloudpayments", "50") for _ in range(2))
    stand_in.charge(_widget(client, declined.public_id), status="Declined")
    assert _notify(client, stand_in.notification(declined.public_id, "fail")).json() == {"code": 0}
    assert _status(app_db, declined.public_id).status == "failed"
    stand_in.charge(_widget(client, lost.public_id))  # paid; the Pay notification never came
    counts = payments.recheck(app_db, settings_mod.get_settings().utility, now=NOW + timedelta(minutes=16))
    assert counts == {"booked": 1}
    assert _status(app_db, lost.public_id).status == "paid"


def _liqpay_forgeries(rng, stand_in, genuine) -> list[tuple[bytes, dict]]:
    url, body, headers = genuine
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    data, sig = form["data"], form["signature"]
    payload = json.loads(base64.b64decode(data))
    out = []
    for i in range(500):
        kind = i % 7
        if kind == 0:  # signed with another key
            d = data
            s = liqpay_sign("someone_else_" + str(rng.random()), d)
        elif kind == 1:  # amount raised, old signature
            d = base64.b64encode(json.dumps({**payload, "amount": payload["amount"] + rng.randint(1, 99)}).encode()).decode()
            s = sig
        elif kind == 2:  # a byte of the data flipped
            b = bytearray(base64.b64decode(data))
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            d, s = base64.b64encode(bytes(b)).decode(), sig
        elif kind == 3:  # a character of the signature changed
            j = rng.randrange(len(sig) - 2)
            d, s = data, sig[:j] + ("A" if sig[j] != "A" else "B") + sig[j + 1:]
        elif kind == 4:  # no signature / empty
            d, s = data, ""
        elif kind == 5:  # another order's id, old signature
            d = base64.b64encode(json.dumps({**payload, "order_id": "z" * 22}).encode()).decode()
            s = sig
        else:  # sha1 without the key, or the key once
            d = data
            import hashlib
            s = base64.b64encode(hashlib.sha1((d + stand_in.private_key).encode()).digest()).decode()
        out.append((urlencode({"data": d, "signature": s}).encode(), headers))
    return out


def _cp_forgeries(rng, stand_in, genuine) -> list[tuple[bytes, dict]]:
    _kind, body, headers = genuine
    out = []
    for i in range(500):
        kind = i % 5
        h = dict(headers)
        b = body
        if kind == 0:  # amount changed, old HMAC
            assert b"Amount=250.4&" in body
            b = body.replace(b"Amount=250.4&", b"Amount=" + str(rng.randint(1, 9999)).encode() + b".00&")
        elif kind == 1:  # HMAC with another secret
            h["X-Content-HMAC"] = cp_hmac("other" + str(rng.random()), body)
        elif kind == 2:  # a byte of the body flipped
            ba = bytearray(body)
            ba[rng.randrange(len(ba))] ^= 1 << rng.randrange(7)
            b = bytes(ba)
        elif kind == 3:  # no HMAC headers at all
            h.pop("X-Content-HMAC")
            h.pop("Content-HMAC")
        else:  # hex instead of base64
            import hashlib
            import hmac as _hmac
            h["X-Content-HMAC"] = _hmac.new(stand_in.api_secret.encode(), body, hashlib.sha256).hexdigest()
        out.append((b, h))
    return out


def test_1000_forged_or_mutated_callbacks_book_nothing(app_db, monkeypatch):
    rng = random.Random(17)
    lp = LiqPayStandIn("pub", "priv_" + "p" * 30)
    cp = CloudPaymentsStandIn("pk", "sec_" + "s" * 30)
    try:
        client, uid, acc = _portal(app_db, monkeypatch, "default", LIQPAY_PUBLIC_KEY=lp.public_key,
                                   LIQPAY_PRIVATE_KEY=lp.private_key, LIQPAY_API_URL=lp.url + "/api/request",
                                   LIQPAY_CHECKOUT_URL=lp.url + "/api/3/checkout", CLOUDPAYMENTS_PUBLIC_ID=cp.public_id,
                                   CLOUDPAYMENTS_API_SECRET=cp.api_secret, CLOUDPAYMENTS_API_URL=cp.url)
        o1 = _order(app_db, uid, acc, "liqpay")
        _liqpay_checkout(client, lp, o1.public_id)
        lp.pay(o1.public_id)
        o2 = _order(app_db, uid, acc, "cloudpayments")
        cp.charge(_widget(client, o2.public_id))
        forged = [("/_gp/pay/callback/liqpay", b, h) for b, h in _liqpay_forgeries(rng, lp, lp.callback(o1.public_id))]
        forged += [("/_gp/pay/callback/cloudpayments/pay", b, h)
                   for b, h in _cp_forgeries(rng, cp, cp.notification(o2.public_id, "pay"))]
        assert len(forged) == 1000
        accepted = 0
        for path, body, headers in forged:
            r = client.post(path, content=body, headers=headers)
            accepted += r.status_code == 200 and r.json() == {"code": 0} if "cloudpayments" in path else r.status_code == 200
        assert _payments(app_db) == []
        with read_session(app_db) as s:
            assert s.exec(select(sa.func.count()).select_from(PaymentIncident)).one() == 0  # forgeries store nothing
        assert accepted == 0
        # and the genuine ones still book, once each
        assert _deliver(client, lp.callback(o1.public_id)).status_code == 200
        assert _notify(client, cp.notification(o2.public_id, "pay")).json() == {"code": 0}
        assert len(_payments(app_db)) == 2
    finally:
        lp.close()
        cp.close()


@pytest.fixture
def demo(app_db, monkeypatch):
    client, uid, acc = _portal(app_db, monkeypatch, "default")
    return client, uid, acc


def _card(client, public_id, card, expiry="12/30", cvc="123", **extra):
    return client.post(f"/_gp/pay/demo/{public_id}", data={"card": card, "expiry": expiry, "cvc": cvc, **extra})


def test_demo_checkout_cards(app_db, demo):
    client, uid, acc = demo
    ok, declined, secure, timeout, bad = (_order(app_db, uid, acc, "demo", "100", lang="en") for _ in range(5))
    page = client.get(f"/_gp/pay/demo/{ok.public_id}")
    assert page.status_code == 200 and "4242 4242 4242 4242" in page.text and 'name="amount"' not in page.text
    # the browser cannot change the amount: an extra field is ignored, the order's amount is charged
    r = _card(client, ok.public_id, "4242 4242 4242 4242", amount="1.00")
    assert r.status_code == 303 and r.headers["location"] == f"/_gp/pay/result/{ok.public_id}"
    assert [p.amount for p in _payments(app_db)] == [Decimal("100.00")]
    assert 'data-status="paid"' in client.get(r.headers["location"]).text
    assert client.get(f"/_gp/pay/demo/{ok.public_id}").status_code == 303  # closed: to the result
    _card(client, declined.public_id, "4000000000000002")
    assert _status(app_db, declined.public_id).status == "failed"
    assert "declined" in client.get(f"/_gp/pay/result/{declined.public_id}").text
    step = _card(client, secure.public_id, "4000 0000 0000 3220")
    assert step.status_code == 200 and "3-D Secure" in step.text
    token = re.search(r'name="t" value="([0-9a-f]+)"', step.text)[1]
    assert client.post(f"/_gp/pay/demo/{secure.public_id}/3ds", data={"t": "0" * 64, "answer": "confirm"}).status_code == 403
    client.post(f"/_gp/pay/demo/{secure.public_id}/3ds", data={"t": token, "answer": "confirm"})
    assert _status(app_db, secure.public_id).status == "paid"
    _card(client, timeout.public_id, "4000000000000119")
    page = client.get(f"/_gp/pay/result/{timeout.public_id}")
    assert 'data-status="pending"' in page.text and 'http-equiv="refresh"' in page.text
    for card, expiry, cvc, field in (("4242424242424241", "12/30", "123", "card"), ("4242424242424242", "13/30", "123", "expiry"),
                                     ("4242424242424242", "01/20", "123", "expiry"), ("4242424242424242", "12/30", "12", "cvc")):
        r = _card(client, bad.public_id, card, expiry, cvc)
        assert r.status_code == 422 and f'id="{field}-err"' in r.text
    assert _status(app_db, bad.public_id).status == "created"
    assert len(_payments(app_db)) == 2


def test_demo_callbacks_need_the_demo_banks_key(app_db, demo):
    client, uid, acc = demo
    o = _order(app_db, uid, acc, "demo", "100")
    body = json.dumps({"order": o.public_id, "status": "success", "amount": "100.00", "currency": "KZT",
                       "transaction": "demo-x"}).encode()
    forged_key = demo_bank.DemoProvider(b"another portal's secret", "http://x").sign(body)
    assert client.post("/_gp/pay/callback/demo", content=body, headers={demo_bank.HEADER: forged_key}).status_code == 400
    assert client.post("/_gp/pay/callback/nobody", content=body).status_code == 404
    assert client.get("/_gp/pay/result/" + "x" * 22).status_code == 404
    assert _payments(app_db) == []


def test_luhn():
    assert demo_bank.luhn_ok("4242424242424242") and demo_bank.luhn_ok("5555555555554444")
    assert demo_bank.luhn_ok("4000000000003220") and not demo_bank.luhn_ok("4000000000003221")
    assert not demo_bank.luhn_ok("42424242") and not demo_bank.luhn_ok("4242 4242 4242 4242")
