"""Payment QR codes on invoices, and the QR drawn into a PDF.

* **Ukraine** — the National Bank of Ukraine's QR code for credit transfers, **format 002**: the
  data are 13 lines joined by LF, encoded in UTF-8 (encoding code ``1``), Base64URL without padding
  after ``https://qr.bank.gov.ua/``; error correction M, at most QR version 15. Lines: ``BCD``,
  ``002``, ``1``, ``UCT``, BIC (empty, reserved), recipient (≤ 70 characters), IBAN (UA, 29
  characters, check digits right), amount (``UAH`` + the amount with a dot, optional), recipient
  code (EDRPOU 8 digits or RNOKPP 10), purpose code (empty), reference (empty), purpose of payment
  (≤ 140 characters), display text (≤ 70, optional). Source: NBU rules on the structure of the QR
  code data for credit transfers (Resolution No. 97 of 19 Aug 2025, which keeps format 002 next to
  003); the field lengths were checked against the independent implementation qr_nbu_ex
  (hexdocs.pm/qr_nbu_ex, validators for version 2), not against the PDF itself.
* **Kazakhstan** — there is no national bill QR in use by our utilities, so the invoice carries a
  QR of a **signed, expiring pay link** to the portal: ``<public URL>/pay?t=<token>``, the token
  an itsdangerous ``URLSafeSerializer`` signature (HMAC-SHA1 over the JSON, key derived from
  ``settings.secret_key`` with its own salt) of the account number, the period, the suggested
  amount and the expiry (Unix seconds). :func:`read_pay_link` checks signature and expiry; the
  page it opens is the payment flow's, which must still show the live debt (the amount is a
  suggestion printed on paper, the order is fixed on the server).
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import segno
from itsdangerous import BadSignature, URLSafeSerializer

from gazportal.services.errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from fpdf import FPDF

    from gazportal.settings import Settings

NBU_PREFIX = "https://qr.bank.gov.ua/"
NBU_MAX_VERSION = 15
RECIPIENT_MAX = 70
PURPOSE_MAX = 140
DISPLAY_MAX = 70
AMOUNT_MAX = Decimal("999999999.99")
PAY_LINK_SALT = "gazportal.pay-link.v1"


class QrFieldInvalid(InvalidInput):
    """A field of the payment QR breaks the format (``params['field']`` names it)."""

    key = "errors.qr_field_invalid"


@dataclass(frozen=True)
class NbuTransfer:
    recipient: str
    iban: str
    recipient_code: str
    purpose: str
    amount: Decimal | None = None  # None or 0: the payer types it
    display: str = ""


def _iban_ok(iban: str) -> bool:
    from gazportal.settings import iban_valid

    return len(iban) == 29 and iban.startswith("UA") and iban_valid(iban)


def nbu_fields(t: NbuTransfer) -> list[str]:
    """The 13 lines of format 002, every field checked; QrFieldInvalid names the first bad one."""
    def bad(field: str) -> QrFieldInvalid:
        return QrFieldInvalid(field=field)

    if not (0 < len(t.recipient.strip()) <= RECIPIENT_MAX) or "\n" in t.recipient:
        raise bad("recipient")
    if not _iban_ok(t.iban):
        raise bad("iban")
    if not re.fullmatch(r"[0-9]{8}|[0-9]{10}", t.recipient_code):
        raise bad("recipient_code")
    if not (0 < len(t.purpose.strip()) <= PURPOSE_MAX) or "\n" in t.purpose:
        raise bad("purpose")
    if len(t.display) > DISPLAY_MAX or "\n" in t.display:
        raise bad("display")
    amount = ""
    if t.amount is not None and t.amount != 0:
        if not (Decimal("0.01") <= t.amount <= AMOUNT_MAX) or t.amount != t.amount.quantize(Decimal("0.01")):
            raise bad("amount")
        amount = f"UAH{t.amount:.2f}"
    return ["BCD", "002", "1", "UCT", "", t.recipient.strip(), t.iban, amount, t.recipient_code, "", "",
            t.purpose.strip(), t.display]


def nbu_url(t: NbuTransfer) -> str:
    """``https://qr.bank.gov.ua/<Base64URL of the UTF-8 lines, no padding>``."""
    data = "\n".join(nbu_fields(t)).encode("utf-8")
    return NBU_PREFIX + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def nbu_decode(url: str) -> list[str]:
    """The lines of a format-002 URL (for tests and support): the inverse of :func:`nbu_url`."""
    if not url.startswith(NBU_PREFIX):
        raise QrFieldInvalid(field="prefix")
    body = url[len(NBU_PREFIX):]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8").split("\n")


# --------------------------------------------------------------------------- Kazakh pay link


@dataclass(frozen=True)
class PayLink:
    account_number: str
    period: str
    amount: Decimal
    expires_at: datetime  # aware UTC


def _serializer(settings: "Settings") -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=PAY_LINK_SALT)


def pay_link(settings: "Settings", account_number: str, period: str, amount: Decimal, expires_at: datetime) -> str:
    """The absolute pay link put in a Kazakh invoice's QR (see the module's docstring)."""
    token = _serializer(settings).dumps(
        {"a": account_number, "p": period, "s": f"{amount:.2f}", "e": int(expires_at.timestamp())})
    return f"{settings.public_url.rstrip('/')}/pay?t={token}"


def read_pay_link(settings: "Settings", token: Any, now: datetime) -> PayLink:
    """The link's content when its signature is right and it has not expired at ``now``.

    Raises InvalidInput("errors.pay_link_invalid") for a forged, altered or malformed token and
    InvalidInput("errors.pay_link_expired") after its expiry."""
    if not isinstance(token, str) or len(token) > 400:
        raise InvalidInput("errors.pay_link_invalid")
    try:
        data = _serializer(settings).loads(token)
        link = PayLink(str(data["a"]), str(data["p"]), Decimal(str(data["s"])),
                       datetime.fromtimestamp(int(data["e"]), UTC))
    except (BadSignature, KeyError, TypeError, ValueError, ArithmeticError):
        raise InvalidInput("errors.pay_link_invalid") from None
    if now >= link.expires_at:
        raise InvalidInput("errors.pay_link_expired")
    return link


# --------------------------------------------------------------------------- drawing


def draw(pdf: "FPDF", data: str, x: float, y: float, size: float, *, max_version: int | None = None) -> int:
    """Draw ``data`` as a QR code (error correction M, quiet zone 4 modules) of ``size`` mm at
    (x, y) as vector rectangles, one per horizontal run of dark modules; returns the QR version.
    Raises QrFieldInvalid("version") when it needs a version above ``max_version``."""
    qr = segno.make(data, error="m", micro=False, boost_error=False)
    if max_version is not None and isinstance(qr.version, int) and qr.version > max_version:
        raise QrFieldInvalid(field="version")
    rows = [list(r) for r in qr.matrix]
    border = 4
    module = size / (len(rows) + 2 * border)
    pdf.set_fill_color(0, 0, 0)
    for j, row in enumerate(rows):
        i = 0
        while i < len(row):
            if row[i]:
                start = i
                while i < len(row) and row[i]:
                    i += 1
                pdf.rect(x + (border + start) * module, y + (border + j) * module, (i - start) * module, module,
                         style="F")
            else:
                i += 1
    return int(qr.version) if isinstance(qr.version, int) else 0
