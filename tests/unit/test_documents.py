"""The PDFs (gazportal.services.documents, issue 17 points 5-6): the text read back with pypdf has
the holder's name and address with every Kazakh (ә ғ қ ң ө ұ ү һ і) and Ukrainian (є ї ґ) letter
intact and the ledger's amounts to the tiyn/kopiyka; the NBU format-002 QR decodes to checked
fields; the Kazakh pay link is signed and expires; the certificate of no debt is refused with the
overdue amount and, once issued, is confirmed by a public check that names no person; any fpdf2
"missing glyphs" record fails the test (the autouse fixture, with its positive control)."""
from __future__ import annotations

import dataclasses
import io
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from pypdf import PdfReader

from gazportal.db import read_session, write_session
from gazportal.models import Account, Charge, Payment, Tariff, TariffStep, User, UserAccountLink
from gazportal.services import billing, documents, i18n
from gazportal.services.documents import qr
from gazportal.services.documents.pdf import Page
from gazportal.services.errors import AccountNotFound, InvalidInput
from gazportal.services.tariffs import Step, calculate
from gazportal.settings import load_utility
from test_auth_kit import make_settings

KZ = load_utility("default")  # KZT, all four languages, Asia/Almaty
UA = load_utility("kremenchukgaz")  # UAH, uk + en, Europe/Kyiv
NOW = datetime(2026, 11, 15, 6, 0, tzinfo=UTC)
KZ_HOLDER, KZ_ADDRESS = "Әсел Ғалымқызы Қоңырбаева", "Өскемен қ., Мәшһүр Жүсіп көшесі, 17, Ұлы Дала ғимараты, 4 пәтер"
UA_HOLDER, UA_ADDRESS = "Ґалина Євгенівна Їжакевич", "м. Кременчук, вул. Гаєвського, 5, під'їзд 2, ґанок зліва"
KZ_LETTERS, UA_LETTERS = "әғқңөұүһі", "єїґ"
assert set(KZ_LETTERS) <= set((KZ_HOLDER + KZ_ADDRESS).lower()) and set(UA_LETTERS) <= set(UA_HOLDER + UA_ADDRESS)
STEPS = [Step(D("100"), D("25.50")), Step(None, D("30.125"))]
MONTHS = [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(10, 23)]  # 2025-10 .. 2026-10


class GlyphWatch(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.missing: list[str] = []

    def emit(self, record):
        if "missing" in record.getMessage().lower() and "glyph" in record.getMessage().lower():
            self.missing.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_missing_glyphs():
    """Fails the test on any fpdf2 log record about missing glyphs (a letter the font lacks would
    print as an empty box)."""
    watch = GlyphWatch()
    logger = logging.getLogger("fpdf")
    logger.addHandler(watch)
    yield watch
    logger.removeHandler(watch)
    assert not watch.missing, watch.missing


def test_the_glyph_watch_sees_a_missing_glyph(no_missing_glyphs):
    page = Page(KZ, "kk", "x", created=NOW)
    page.font()
    page.cell(text="漢字")  # no CJK in DejaVu Sans
    page.output()
    assert no_missing_glyphs.missing
    no_missing_glyphs.missing.clear()  # the positive control must not fail itself


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def plain(s: str) -> str:
    return s.replace("\u00a0", " ").replace("\u202f", " ")


def money(amount, utility, lang) -> str:
    return plain(i18n.format_money(amount, utility.currency.code, lang))


def seed(engine, holder: str, address: str, number: str, *, pay_all: bool = False) -> dict:
    """An account with 13 months of gas charges under a two-step tariff and a payment most months."""
    with write_session(engine) as s:
        t = Tariff(service="gas", name="Gas", valid_from=date(2020, 1, 1))
        s.add(t)
        s.flush()
        s.add_all([TariffStep(tariff_id=t.id, position=i, up_to=st.up_to, price=st.price)
                   for i, st in enumerate(STEPS)])
        acc = Account(number=number, holder_name=holder, address=address, kind="person")
        other = Account(number="9" + number[1:], holder_name="Other", address="Elsewhere", kind="person")
        s.add_all([acc, other])
        s.flush()
        charges, pays = {}, []
        for i, p in enumerate(MONTHS):
            volume = D("70.5") + 7 * i
            amount = calculate(STEPS, volume).amount
            charges[p] = amount
            s.add(Charge(account_id=acc.id, period=p, service="gas", volume=volume, amount=amount))
            s.add(Charge(account_id=other.id, period=p, service="gas", volume=D("1"), amount=D("25.50")))
            if pay_all or i % 4 != 3:
                y, m = map(int, p.split("-"))
                nxt = date(y + (m == 12), m % 12 + 1, 12)
                paid = amount if pay_all else (amount - D("0.01") * i).quantize(D("0.01"))
                pays.append((datetime(nxt.year, nxt.month, nxt.day, 8, 30, tzinfo=UTC), paid))
        for n, (when, amount) in enumerate(pays):
            if when <= NOW:
                s.add(Payment(account_id=acc.id, paid_at=when, amount=amount, receipt_no=f"{number}-R{n}",
                              channel="card" if n % 2 else "bank"))
        user = User(login=f"{number}@example.kz", email=f"{number}@example.kz", password_hash="x", surname="S",
                    name="N", is_active=True, email_verified=True, language="kk")
        s.add(user)
        s.flush()
        s.add(UserAccountLink(user_id=user.id, account_id=acc.id))
        return {"account": acc.id, "other": other.id, "user": user.id, "charges": charges}


def ledger_sums(engine, account_id, first, last, tz):
    """Charged and paid straight from the rows, in Python (not through billing)."""
    with read_session(engine) as s:
        charged = sum((c.amount for c in s.query(Charge).filter(Charge.account_id == account_id)
                       if first <= c.period <= last), D("0"))
        paid = sum((p.amount for p in s.query(Payment).filter(Payment.account_id == account_id)
                    if first <= f"{p.paid_at.astimezone(tz):%Y-%m}" <= last), D("0"))
    return D(charged).quantize(D("0.01")), D(paid).quantize(D("0.01"))


# --------------------------------------------------------------------------- invoice


@pytest.mark.parametrize("lang", ["kk", "ru", "uk", "en"])
def test_kazakh_invoice_has_the_holder_the_ledger_and_the_steps(engine, tmp_path, lang):
    ids = seed(engine, KZ_HOLDER, KZ_ADDRESS, "100013439")
    settings = make_settings(tmp_path, utility=KZ)
    with read_session(engine) as s:
        doc = documents.invoice(s, KZ, ids["account"], "2026-10", lang, settings=settings, now=NOW)
        st = billing.account_state(s, ids["account"], "2026-10", KZ.tz)
    assert doc.data.startswith(b"%PDF") and len(doc.data) < 100_000
    text = text_of(doc.data)
    assert KZ_HOLDER in text and KZ_ADDRESS in text
    for letter in KZ_LETTERS:
        assert letter in text.lower()
    assert KZ.name.get(lang) in text and KZ.requisites.iban in text
    assert st.charged == ids["charges"]["2026-10"] and st.in_debt
    for amount in (st.opening, st.charged, st.closing, st.debt):
        assert money(amount, KZ, lang) in text
    calc = calculate(STEPS, st.charges[0].volume)
    assert len(calc.parts) == 2
    for part in calc.parts:
        assert money(part.amount, KZ, lang) in text
    assert plain(i18n.format_number(D("30.125"), lang, places=3)) in text  # the second step's price
    due = documents.due_date(KZ, "2026-10")
    assert due == date(2026, 11, 25) and plain(i18n.format_date(due, lang)) in text


def test_a_charge_the_tariff_does_not_give_back_shows_no_steps(engine, tmp_path):
    ids = seed(engine, KZ_HOLDER, KZ_ADDRESS, "100013439")
    with write_session(engine) as s:
        c = s.query(Charge).filter(Charge.account_id == ids["account"], Charge.period == "2026-10").one()
        c.amount = c.amount + D("0.01")  # the billing system's own rounding
    with read_session(engine) as s:
        doc = documents.invoice(s, KZ, ids["account"], "2026-10", "en", settings=make_settings(tmp_path), now=NOW)
    text = text_of(doc.data)
    assert "as billed" in text and "up to" not in text
    assert money(ids["charges"]["2026-10"] + D("0.01"), KZ, "en") in text


def test_ukrainian_invoice_letters_and_nbu_qr(engine, tmp_path):
    ids = seed(engine, UA_HOLDER, UA_ADDRESS, "0512345678")
    settings = make_settings(tmp_path, utility=UA)
    with read_session(engine) as s:
        doc = documents.invoice(s, UA, ids["account"], "2026-10", "uk", settings=settings, now=NOW)
        st = billing.account_state(s, ids["account"], "2026-10", UA.tz)
        acc = s.get(Account, ids["account"])
        url, caption = documents.invoice_qr(settings, UA, acc, "2026-10", st.debt, "uk", now=NOW)
    text = text_of(doc.data)
    assert UA_HOLDER in text and UA_ADDRESS in text
    for letter in UA_LETTERS + "ЄҐЇ":
        assert letter in text
    assert "₴" in text and money(st.debt, UA, "uk") in text and "QR НБУ" in caption
    assert url.startswith("https://qr.bank.gov.ua/") and "=" not in url
    fields = qr.nbu_decode(url)
    assert fields[:5] == ["BCD", "002", "1", "UCT", ""]
    assert fields[5] == "ТОВ «Кременчукгаз-постачання»" and fields[6] == "UA753314010000026003300312345"
    assert fields[7] == f"UAH{st.debt:.2f}" and fields[8] == "03351234" and fields[9:11] == ["", ""]
    assert "0512345678" in fields[11] and "жовтень 2026" in fields[11] and len(fields[11]) <= 140
    assert len(fields) == 13


def test_nbu_fields_are_checked():
    good = qr.NbuTransfer(recipient="ТОВ «Газ»", iban="UA753314010000026003300312345", recipient_code="03351234",
                          purpose="Оплата за газ", amount=D("1234.50"))
    assert qr.nbu_fields(good)[7] == "UAH1234.50"
    assert qr.nbu_fields(good.__class__(**{**good.__dict__, "amount": None}))[7] == ""
    bad = {"recipient": "Ї" * 71, "iban": "UA753314010000026003300312346", "recipient_code": "1234567",
           "purpose": "є" * 141, "display": "x" * 71, "amount": D("0.001")}
    for field, value in bad.items():
        with pytest.raises(qr.QrFieldInvalid) as e:
            qr.nbu_fields(good.__class__(**{**good.__dict__, field: value}))
        assert e.value.params["field"] == field
    assert qr.nbu_fields(good.__class__(**{**good.__dict__, "recipient": "Ї" * 70, "purpose": "є" * 140}))
    url = qr.nbu_url(good)
    assert qr.nbu_decode(url)[5] == "ТОВ «Газ»"  # UTF-8, not cp1251


def test_kazakh_pay_link_is_signed_and_expires(engine, tmp_path):
    settings = make_settings(tmp_path)
    url = qr.pay_link(settings, "100013439", "2026-10", D("1234.56"), NOW + timedelta(days=45))
    assert url.startswith("https://portal.example/pay?t=")
    token = url.split("t=", 1)[1]
    link = qr.read_pay_link(settings, token, NOW)
    assert (link.account_number, link.period, link.amount) == ("100013439", "2026-10", D("1234.56"))
    with pytest.raises(InvalidInput) as e:
        qr.read_pay_link(settings, token, NOW + timedelta(days=45))
    assert e.value.key == "errors.pay_link_expired"
    tampered = [token[:-1] + ("A" if token[-1] != "A" else "B"), token.replace(".", "x", 1), "", 5, "a" * 500]
    other_key = dataclasses.replace(settings, secret_key=b"z" * 40)
    for t in tampered:
        with pytest.raises(InvalidInput) as e:
            qr.read_pay_link(settings, t, NOW)
        assert e.value.key == "errors.pay_link_invalid"
    with pytest.raises(InvalidInput):
        qr.read_pay_link(other_key, token, NOW)


# --------------------------------------------------------------------------- act


@pytest.mark.parametrize("utility,holder,address,number,lang", [
    (KZ, KZ_HOLDER, KZ_ADDRESS, "100013439", "kk"), (UA, UA_HOLDER, UA_ADDRESS, "0512345678", "uk"),
    (KZ, KZ_HOLDER, KZ_ADDRESS, "100013439", "ru"), (KZ, KZ_HOLDER, KZ_ADDRESS, "100013439", "en")])
def test_a_twelve_month_act_equals_the_ledger(engine, tmp_path, utility, holder, address, number, lang):
    ids = seed(engine, holder, address, number)
    first, last = "2025-11", "2026-10"
    with read_session(engine) as s:
        doc = documents.act(s, utility, ids["account"], first, last, lang, now=NOW)
        opening = billing.balance_at(s, ids["account"], date(2025, 10, 31), utility.tz)
        closing = billing.balance_at(s, ids["account"], date(2026, 10, 31), utility.tz)
        rows = billing.monthly_statement(s, ids["account"], first, last, utility.tz)
    charged, paid = ledger_sums(engine, ids["account"], first, last, utility.tz)
    assert closing == opening + paid - charged  # the ledger's own arithmetic, to the tiyn
    text = text_of(doc.data)
    assert holder in text and address in text and len(doc.data) < 100_000
    for amount in (opening, closing, charged, paid):
        assert money(amount, utility, lang) in text
    assert len(rows) == 12
    for r in rows:
        assert plain(i18n.format_period(r.period, lang)) in text
        assert money(r.closing, utility, lang) in text


def test_act_range_is_checked(engine, tmp_path):
    ids = seed(engine, KZ_HOLDER, KZ_ADDRESS, "100013439")
    with read_session(engine) as s:
        for first, last in [("2026-10", "2026-01"), ("2026-01", "2027-01"), ("2026-1", "2026-10")]:
            with pytest.raises(InvalidInput):
                documents.act(s, KZ, ids["account"], first, last, "en", now=NOW)
        with pytest.raises(AccountNotFound):
            documents.act(s, KZ, 999_999, "2026-01", "2026-02", "en", now=NOW)


# --------------------------------------------------------------------------- receipt


def test_receipt_of_a_payment(engine, tmp_path):
    ids = seed(engine, UA_HOLDER, UA_ADDRESS, "0512345678")
    with read_session(engine) as s:
        pay = s.query(Payment).filter(Payment.account_id == ids["account"]).order_by(Payment.id).first()
        doc = documents.receipt(s, UA, pay.id, "uk", now=NOW)
        with pytest.raises(documents.PaymentNotFound):
            documents.receipt(s, UA, 10**9, "uk", now=NOW)
    text = text_of(doc.data)
    local = pay.paid_at.astimezone(UA.tz)
    assert UA_HOLDER in text and pay.receipt_no in text and money(pay.amount, UA, "uk") in text
    assert f"{local:%H:%M}" in text and "Банківська картка" in text or "Банк" in text
    assert len(doc.data) < 100_000


# --------------------------------------------------------------------------- certificate


def test_overdue_debt_starts_the_day_after_the_due_day(engine):
    ids = seed(engine, KZ_HOLDER, KZ_ADDRESS, "100013439", pay_all=True)
    with write_session(engine) as s:  # October's charge is unpaid: due on 25 November
        s.query(Payment).filter(Payment.account_id == ids["account"], Payment.paid_at >= datetime(2026, 11, 1, tzinfo=UTC)
                                ).delete()
    oct_charge = ids["charges"]["2026-10"]
    with read_session(engine) as s:
        assert billing.overdue_at(s, ids["account"], date(2026, 11, 25), KZ.tz, 25) == D("0.00")
        assert billing.overdue_at(s, ids["account"], date(2026, 11, 26), KZ.tz, 25) == oct_charge
        assert billing.overdue_at(s, ids["account"], date(2026, 11, 26), KZ.tz, 28) == D("0.00")


def test_certificate_refused_with_the_overdue_amount_then_issued_and_verified(engine, tmp_path):
    ids = seed(engine, KZ_HOLDER, KZ_ADDRESS, "100013439")
    settings = make_settings(tmp_path)
    with read_session(engine) as s:
        expected = billing.overdue_at(s, ids["account"], date(2026, 11, 14), KZ.tz, 25)
    assert expected > 0
    with write_session(engine) as s:
        with pytest.raises(documents.DebtOutstanding) as e:
            documents.certificate(s, KZ, ids["account"], date(2026, 11, 14), "kk", settings=settings, now=NOW)
    assert e.value.params["amount"] == expected
    assert money(expected, KZ, "ru") in plain(i18n.error_text(e.value, "ru", currency="KZT"))
    with write_session(engine) as s:
        s.add(Payment(account_id=ids["account"], paid_at=datetime(2026, 11, 14, 5, tzinfo=UTC), amount=expected,
                      receipt_no="CLEAR-1", channel="bank"))
    with write_session(engine) as s:
        with pytest.raises(InvalidInput) as e:
            documents.certificate(s, KZ, ids["account"], date(2026, 11, 16), "kk", settings=settings, now=NOW)
        assert e.value.key == "errors.certificate_future_date"
        doc = documents.certificate(s, KZ, ids["account"], date(2026, 11, 14), "kk", settings=settings, now=NOW)
    assert doc.number.startswith("2026-") and len(doc.number) == 11
    text = text_of(doc.data)
    assert KZ_HOLDER in text and KZ_ADDRESS in text and doc.number in text and "/verify?c=" in text
    code = text.split("/verify?c=", 1)[1].split()[0]
    with read_session(engine) as s:
        check = documents.check_certificate(s, KZ, code)
        assert documents.check_certificate(s, KZ, code[:-1] + ("A" if code[-1] != "A" else "B")) is None
        assert documents.check_certificate(s, KZ, "../../etc") is None
        assert documents.check_certificate(s, KZ, {"c": 1}) is None
    assert check == documents.CertificateCheck(doc.number, date(2026, 11, 14), date(2026, 11, 15))
    assert set(check.__dataclass_fields__) == {"number", "as_of", "issued_on"}  # nothing personal


def test_customer_downloads_check_ownership(engine, tmp_path):
    ids = seed(engine, KZ_HOLDER, KZ_ADDRESS, "100013439")
    settings = make_settings(tmp_path)
    with read_session(engine) as s:
        mine = documents.for_customer(s, KZ, ids["user"], ids["account"], "invoice", "kk", settings=settings,
                                      now=NOW, period="2026-10")
        assert mine.kind == "invoice"
        with pytest.raises(AccountNotFound):
            documents.for_customer(s, KZ, ids["user"], ids["other"], "invoice", "kk", settings=settings, now=NOW,
                                   period="2026-10")
        theirs = Payment(account_id=ids["other"], paid_at=NOW, amount=D("1.00"), receipt_no="X-1", channel="bank")
        s.add(theirs)
        s.flush()
        with pytest.raises(documents.PaymentNotFound):
            documents.for_customer(s, KZ, ids["user"], ids["account"], "receipt", "kk", settings=settings, now=NOW,
                                   payment_id=theirs.id)
        with pytest.raises(InvalidInput):
            documents.for_customer(s, KZ, ids["user"], ids["account"], "passport", "kk", settings=settings, now=NOW)


# --------------------------------------------------------------------------- fonts


def test_every_locale_text_of_a_document_is_in_the_cut_fonts():
    """The fast path never drops a letter of our own texts: every string a document takes from the
    locales, and the dates, months and amounts Babel writes, are in the cut fonts."""
    from gazportal.services.documents.pdf import cut_fonts

    covered = cut_fonts()[2]
    for lang in ("kk", "ru", "uk", "en"):
        texts = [v for k, v in i18n.messages(lang).items()
                 if k.split(".")[0] in ("documents", "statement", "services", "units")]
        texts += [i18n.format_period(f"2026-{m:02d}", lang) for m in range(1, 13)]
        texts += [i18n.format_date(date(2026, m, 28), lang) for m in range(1, 13)]
        texts += [i18n.format_money(D("-1234567.89"), code, lang) for code in ("KZT", "UAH")]
        for profile in (KZ, UA, load_utility("almaty_gas"), load_utility("karaganda_su"),
                        load_utility("shygysenergotrade")):
            texts += [profile.name.get(lang), profile.contacts.address.get(lang), profile.requisites.bank.get(lang)]
        missing = {ch for text in texts for ch in text if ord(ch) not in covered}
        assert not missing, (lang, missing)
    for letter in KZ_LETTERS + UA_LETTERS + "ӘҒҚҢӨҰҮҺІЄЇҐ₸₴№":
        assert ord(letter) in covered


def test_a_name_in_another_script_takes_the_full_fonts(engine, tmp_path):
    from gazportal.services.documents.pdf import FONT_REGULAR, fonts_for

    holder = "ნინო ბერიძე (Nino Beridze)"  # Georgian: in DejaVu Sans, not in the cut copy
    assert fonts_for([holder])[0] == FONT_REGULAR
    assert fonts_for([KZ_HOLDER, UA_HOLDER])[0] != FONT_REGULAR
    ids = seed(engine, holder, KZ_ADDRESS, "100013439")
    with read_session(engine) as s:
        doc = documents.act(s, KZ, ids["account"], "2026-01", "2026-10", "en", now=NOW)
    assert holder in text_of(doc.data)  # and the autouse watch saw no missing glyph


# --------------------------------------------------------------------------- the command line


def _cli(*args):
    import os
    import subprocess
    import sys

    from gazportal.settings import ROOT

    env = {k: v for k, v in os.environ.items() if k != "GAZPORTAL_PROFILE"}
    return subprocess.run([sys.executable, "-m", "gazportal.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


def test_cli_renders_each_document(sqlite_engine, tmp_path):
    ids = seed(sqlite_engine, KZ_HOLDER, KZ_ADDRESS, "100013439")
    db = ["--db-url", str(sqlite_engine.url)]
    out = tmp_path / "f.pdf"
    p = _cli(*db, "document", "invoice", "--account", "100013439", "--period", "2026-10", "--lang", "kk",
             "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "document invoice" in p.stdout and KZ_HOLDER in text_of(out.read_bytes())
    p = _cli(*db, "document", "act", "--account", "100013439", "--period", "2025-11", "--to", "2026-10",
             "--lang", "ru", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "Акт сверки" in text_of(out.read_bytes())
    p = _cli(*db, "document", "receipt", "--account", "100013439", "--receipt", "100013439-R0", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "100013439-R0" in text_of(out.read_bytes())
    with read_session(sqlite_engine) as s:
        today = datetime.now(UTC).astimezone(KZ.tz).date()
        overdue = billing.overdue_at(s, ids["account"], today, KZ.tz, 25)
    p = _cli(*db, "document", "certificate", "--account", "100013439", "--out", str(out))
    assert p.returncode == 1 and money(overdue, KZ, "en") in plain(p.stderr)
    with write_session(sqlite_engine) as s:
        s.add(Payment(account_id=ids["account"], paid_at=datetime.now(UTC) - timedelta(hours=1), amount=overdue,
                      receipt_no="CLEAR-2", channel="cash"))
    p = _cli(*db, "document", "certificate", "--account", "100013439", "--lang", "en", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "No. 20" in p.stdout and "Certificate of no debt" in text_of(out.read_bytes())
    for bad in (["invoice", "--account", "404"], ["invoice", "--account", "100013439"],
                ["receipt", "--account", "100013439", "--receipt", "nope"],
                ["invoice", "--account", "100013439", "--period", "2099-01"]):
        p = _cli(*db, "document", *bad, "--out", str(tmp_path / "x.pdf"))
        assert p.returncode in (1, 2) and "Traceback" not in p.stderr and p.stderr.startswith("error:"), p.stderr
