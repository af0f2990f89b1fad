"""Settings from the environment and the utility profile, as one typed object.

The profile is a TOML data file (``gazportal/profiles/<id>.toml`` or any path) chosen by the
``GAZPORTAL_PROFILE`` environment variable. It is validated at start-up; a bad file stops the
portal with an error that names the file and the bad field.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parent.parent
UTILITIES_DIR = Path(__file__).resolve().parent / "profiles"
LANGUAGES = ("kk", "ru", "uk", "en")

Service = Literal["gas", "water", "electricity"]
UNITS: dict[str, str] = {"gas": "m3", "water": "m3", "electricity": "kWh"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    """A text in each of the portal's languages."""

    kk: str
    ru: str
    uk: str
    en: str

    def get(self, lang: str) -> str:
        return getattr(self, lang if lang in LANGUAGES else "en")


class Colors(_Strict):
    primary: str
    accent: str

    @field_validator("primary", "accent")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", v):
            raise ValueError("must be a colour like #1a5fb4")
        return v


class Currency(_Strict):
    code: Literal["KZT", "UAH"]
    symbol: str
    minor_unit: str  # tiyn / kopiyka


class PasswordPolicy(_Strict):
    min_length: int = Field(ge=6, le=64)
    require_upper_and_lower: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    reject_common: bool = True


class ReadingWindow(_Strict):
    """Days of the month (in the profile's time zone) on which customers may submit readings, and
    the month (period) a reading counts for.

    ``from_day``..``to_day`` inclusive; a ``to_day`` beyond the month's length means "to its end".
    ``to_day < from_day`` is a window that spans the month's end (28 -> 3: from the 28th of one
    month to the 3rd of the next). ``previous_month_until`` (0: none): a reading taken on local
    days 1..N counts for the previous month, as the meter at that month's end (Ukraine's Gas
    Distribution Code ch. IX.4, Kremenchukgaz: "by the 5th inclusive" is N = 5). Every reading of
    one window counts for one month, so a window may not be split by N: for 1..5 N is 0 (the
    readings count for the month they are sent in) or at least 5; a window spanning the month's
    end counts for the month it opens in, so it needs ``to_day <= N < from_day``.
    """

    from_day: int = Field(ge=1, le=28)
    to_day: int = Field(ge=1, le=31)
    previous_month_until: int = Field(default=0, ge=0, le=28)

    @property
    def spans_month_end(self) -> bool:
        return self.to_day < self.from_day

    @model_validator(mode="after")
    def _one_period(self) -> "ReadingWindow":
        a, b, n = self.from_day, self.to_day, self.previous_month_until
        if self.spans_month_end:
            if not b <= n < a:
                raise ValueError(
                    f"the window from day {a} to day {b} of the next month spans the month's end; its readings "
                    f"count for the month it opens in only with previous_month_until from {b} to {a - 1} "
                    f"(e.g. previous_month_until = {b}); with {n} they would count for two months")
        elif a <= n < b:
            raise ValueError(
                f"previous_month_until = {n} splits the window {a}..{b} between two months (days {a}..{n} "
                f"would count for the previous month, {n + 1}..{b} for the current one); use "
                f"{'0 (none)' if a == 1 else f'a value below {a}'} or at least {b}")
        return self


class ReadingRules(_Strict):
    """How readings are judged (``[readings]`` of a profile; every field has a default).

    ``meter_digits``: a new meter's dial digits per service, when its record does not say
    (gas and water meters show 5 black drums, electricity 6). ``rollover_percent``: how near the
    top of the dial a meter must be for a smaller reading to be offered as having passed zero,
    in percent of the dial's range (1: a 5-digit meter from 99 000; the way back over zero may be
    at most as long). ``review_above``: the hard plausibility limit per service, units a month;
    a reading above it is not booked but goes to staff review (between the usual use times
    ``jump_warning_factor`` and this limit the customer confirms)."""

    meter_digits: dict[Service, int] = Field(default_factory=lambda: {"gas": 5, "water": 5, "electricity": 6})
    rollover_percent: Decimal = Field(default=Decimal("1"), gt=0, le=10)
    # The hard plausibility limit: units a month (times the months since the last reading, at least
    # one) above which a customer's reading is not booked but goes to staff review.
    review_above: dict[Service, int] = Field(
        default_factory=lambda: {"gas": 3000, "water": 300, "electricity": 10000})

    @field_validator("review_above")
    @classmethod
    def _limits(cls, v: dict[str, int]) -> dict[str, int]:
        for service, limit in v.items():
            if limit < 1:
                raise ValueError(f"{service}: the limit is a positive number of units a month")
        return v

    def review_limit(self, service: str) -> int | None:
        """Units a month above which a reading of ``service`` goes to review (None: no limit)."""
        return self.review_above.get(service)  # type: ignore[call-overload]

    @field_validator("meter_digits")
    @classmethod
    def _digits(cls, v: dict[str, int]) -> dict[str, int]:
        for service, digits in v.items():
            if not 3 <= digits <= 12:
                raise ValueError(f"{service}: a meter has 3 to 12 digits")
        return v

    def digits_for(self, service: str) -> int:
        """The dial digits of a new meter of ``service`` (6 for a service the profile does not name)."""
        return self.meter_digits.get(service, 6)  # type: ignore[call-overload]


class Sla(_Strict):
    """How soon staff answer a kind of customer message: hours to the first reply and to its
    resolution (answered or closed)."""

    first_answer_hours: int = Field(default=24, ge=1, le=24 * 60)
    resolution_hours: int = Field(default=72, ge=1, le=24 * 365)


class CollectionBands(_Strict):
    """The staff dashboard's collection-rate bands (``[staff.collection]``, issue 16 point 3): a
    rate (paid ÷ charged, per cent) at or above ``good`` is good, at or above ``fair`` fair, below
    it poor. ``0 <= fair < good <= 200`` (a month may collect more than it charged)."""

    good: Decimal = Field(default=Decimal(95), ge=0, le=200)
    fair: Decimal = Field(default=Decimal(85), ge=0, le=200)

    @model_validator(mode="after")
    def _ordered(self) -> CollectionBands:
        if not self.fair < self.good:
            raise ValueError("staff.collection: fair must be below good")
        return self

    def band(self, rate: Decimal | None) -> str | None:
        """'good', 'fair' or 'poor' for a rate in per cent; None when there is no rate."""
        if rate is None:
            return None
        return "good" if rate >= self.good else "fair" if rate >= self.fair else "poor"


class StaffRules(_Strict):
    """The staff console's rules (``[staff]`` of a profile; every field has a default).

    ``sla``: per message kind (contact, feedback, support); a kind not named gets 24 h to the first
    answer and 72 h to the resolution (issue 16 point 7). ``collection``: the dashboard's
    collection-rate bands."""

    sla: dict[Literal["contact", "feedback", "support"], Sla] = Field(default_factory=dict)
    collection: CollectionBands = Field(default_factory=CollectionBands)

    def sla_for(self, kind: str) -> Sla:
        """The SLA of a message kind (the defaults for a kind the profile does not name)."""
        return self.sla.get(kind, Sla())  # type: ignore[call-overload]


class Phone(_Strict):
    label: Localized
    number: str


class Contacts(_Strict):
    address: Localized
    phones: list[Phone] = Field(min_length=1)
    email: str
    website: str = ""
    opening_hours: Localized


def iban_valid(iban: str) -> bool:
    """ISO 13616: two letters, two check digits, the rest letters and digits; mod 97 == 1."""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}", iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


class Requisites(_Strict):
    """The utility's payment requisites printed on its documents (receipts, invoices, acts,
    certificates) and put in the Ukrainian payment QR: ``tax_id`` is the EDRPOU code (8 digits,
    Ukraine) or the BIN (12 digits, Kazakhstan); ``iban`` the account customers pay to (UA: 29
    characters, KZ: 20), checked by its check digits; ``bank`` the bank's name; ``bic`` the bank's
    BIC/BIK (optional); ``payment_due_day``: a month's bill is due on this day of the next month
    (after it an unpaid charge is overdue: the certificate of no debt is refused)."""

    tax_id: str = Field(pattern=r"^([0-9]{8}|[0-9]{10}|[0-9]{12})$")
    iban: str
    bank: Localized
    bic: str = Field(default="", pattern=r"^[A-Z0-9]{0,11}$")
    payment_due_day: int = Field(default=25, ge=1, le=28)

    @field_validator("iban")
    @classmethod
    def _iban(cls, v: str) -> str:
        if not iban_valid(v):
            raise ValueError(f"not a valid IBAN: {v!r}")
        return v


class Utility(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Localized
    short_name: str
    logo: str  # path under assets/
    colors: Colors
    services: list[Service] = Field(min_length=1)
    login_identifier: Literal["email", "phone", "account"]
    confirmation: Literal["email_link", "sms_code", "none"]
    captcha: bool
    max_failed_logins: int = Field(ge=1, le=100)
    lockout_minutes: int = Field(ge=1, le=24 * 60)
    reading_window: ReadingWindow
    submissions_per_month: int = Field(ge=1, le=2)  # the schema has slots 1 and 2
    jump_warning_factor: Decimal = Field(gt=1)
    readings: ReadingRules = Field(default_factory=ReadingRules)
    staff: StaffRules = Field(default_factory=StaffRules)
    payment_from_day: int = Field(ge=1, le=28)
    # an online payment may exceed the debt (an advance) by at most this much (services/payments)
    payment_advance_limit: Decimal = Field(default=Decimal("100000.00"), ge=0, decimal_places=2)
    account_number_pattern: str
    account_number_example: str
    legal_entities: bool
    proof_by_last_payment: bool
    user_agreement: bool
    add_account_by: list[Literal["payment_proof", "address_picker"]] = Field(min_length=1)
    # portal users who may hold one personal account (registration and adding alike; issue 15)
    max_holders_per_account: int = Field(default=3, ge=1, le=50)
    common_house_meters: bool
    languages: list[Literal["kk", "ru", "uk", "en"]] = Field(min_length=1)
    default_language: Literal["kk", "ru", "uk", "en"]
    timezone: str
    currency: Currency
    phone_region: Literal["KZ", "UA"]
    password_policy: PasswordPolicy
    contacts: Contacts
    # printed on documents and in the payment QR (None: documents without requisites, no bank QR)
    requisites: Requisites | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("account_number_pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a regular expression: {e}") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Utility":
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of languages")
        if not re.fullmatch(self.account_number_pattern, self.account_number_example):
            raise ValueError("account_number_example does not match account_number_pattern")
        if self.login_identifier == "phone" and self.confirmation == "email_link":
            raise ValueError("confirmation: a phone login is confirmed by sms_code or none")
        if self.legal_entities and not self.proof_by_last_payment:
            # a legal entity sees every account of its BIN: registering one must prove one of them
            raise ValueError("legal_entities needs proof_by_last_payment")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def valid_account_number(self, number: str) -> bool:
        return bool(re.fullmatch(self.account_number_pattern, number))


class UtilityError(RuntimeError):
    """A utility profile that cannot be used; the message names the file and the field."""


def load_utility(name_or_path: str) -> Utility:
    path = Path(name_or_path)
    if not path.suffix:
        path = UTILITIES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in UTILITIES_DIR.glob("*.toml")))
        raise UtilityError(f"utility profile {name_or_path!r} not found (known: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise UtilityError(f"{path}: not valid TOML: {e}") from None
    try:
        return Utility.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc']) or '(profile)'}': {err['msg']}" for err in e.errors()
        )
        raise UtilityError(f"{path}: invalid utility profile: {problems}") from None


def available_utilities() -> list[str]:
    return sorted(p.stem for p in UTILITIES_DIR.glob("*.toml"))


@dataclass(frozen=True)
class Smtp:
    """Outgoing mail. Without a host, messages are written to the outbox folder and the log."""

    host: str | None
    port: int
    username: str | None
    password: str | None
    starttls: bool
    use_tls: bool
    sender: str


@dataclass(frozen=True)
class Oidc:
    """Optional single sign-on through an OpenID Connect provider (off without an issuer)."""

    issuer: str | None
    client_id: str | None
    client_secret: str | None
    scopes: str


@dataclass(frozen=True)
class Web:
    """Limits and origins of the web server (``gazportal/web/guard.py``, ``rxconfig.py``)."""

    # Origins allowed besides the public URL (GAZPORTAL_ALLOWED_ORIGINS, e.g. the www. host).
    extra_origins: tuple[str, ...] = ()
    # Reverse proxies in front of the portal that append to X-Forwarded-For (0: use the peer).
    trusted_proxy_hops: int = 0
    # Largest request body; a document is at most 10 MiB (services.accounts.MAX_DOCUMENT_BYTES),
    # one a request, plus the multipart envelope.
    max_request_bytes: int = 11 * 2**20
    # Open websockets per client address, and new client tokens per address per window.
    connections_per_client: int = 20
    new_clients_per_window: int = 60
    new_clients_window_seconds: int = 600
    # How long Reflex keeps an untouched client state (rx.Config.redis_token_expiration, used by
    # every state manager: memory, disk and Redis).
    state_ttl_minutes: int = 30


@dataclass(frozen=True)
class Payments:
    """Online payments (``services/payments``): which provider takes the customer's card, and its
    credentials. ``demo`` (the default) is the portal's own test checkout; ``liqpay`` (Ukraine) and
    ``cloudpayments`` (Kazakhstan) need their keys. The API URLs are overridable for tests."""

    provider: str = "demo"  # GAZPORTAL_PAYMENT_PROVIDER
    liqpay_public_key: str = ""  # LIQPAY_PUBLIC_KEY
    liqpay_private_key: str = ""  # LIQPAY_PRIVATE_KEY
    liqpay_api_url: str = "https://www.liqpay.ua/api/request"
    liqpay_checkout_url: str = "https://www.liqpay.ua/api/3/checkout"
    cloudpayments_public_id: str = ""  # CLOUDPAYMENTS_PUBLIC_ID
    cloudpayments_api_secret: str = ""  # CLOUDPAYMENTS_API_SECRET
    cloudpayments_api_url: str = "https://api.cloudpayments.kz"
    cloudpayments_widget_url: str = "https://widget.cloudpayments.kz/bundles/cloudpayments.js"


def _payments() -> Payments:
    env = os.environ.get
    provider = env("GAZPORTAL_PAYMENT_PROVIDER", "demo")
    if provider not in ("demo", "liqpay", "cloudpayments"):
        raise UtilityError(f"environment variable GAZPORTAL_PAYMENT_PROVIDER={provider!r}: use demo, liqpay or cloudpayments")
    d = Payments()
    return Payments(
        provider=provider,
        liqpay_public_key=env("LIQPAY_PUBLIC_KEY", ""),
        liqpay_private_key=env("LIQPAY_PRIVATE_KEY", ""),
        liqpay_api_url=env("LIQPAY_API_URL", d.liqpay_api_url),
        liqpay_checkout_url=env("LIQPAY_CHECKOUT_URL", d.liqpay_checkout_url),
        cloudpayments_public_id=env("CLOUDPAYMENTS_PUBLIC_ID", ""),
        cloudpayments_api_secret=env("CLOUDPAYMENTS_API_SECRET", ""),
        cloudpayments_api_url=env("CLOUDPAYMENTS_API_URL", d.cloudpayments_api_url),
        cloudpayments_widget_url=env("CLOUDPAYMENTS_WIDGET_URL", d.cloudpayments_widget_url),
    )


@dataclass(frozen=True)
class Settings:
    utility: Utility
    db_url: str
    redis_url: str | None
    public_url: str
    outbox_dir: Path
    upload_dir: Path
    secret_key: bytes  # HMAC key for one-time codes and identifiers at rest
    smtp: Smtp
    sms_provider: str  # "outbox" (local default) or a registered provider name
    oidc: Oidc
    session_idle_minutes: int
    session_absolute_hours: int  # without "remember me"
    session_remember_days: int  # with "remember me"
    web: Web = Web()
    # demo mode (GAZPORTAL_DEMO=1; ./run.sh turns it on): the start page offers the demo customer
    demo: bool = False
    payments: Payments = Payments()


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0")


def _origin(url: str, name: str) -> str:
    """scheme://host[:port] of an absolute http(s) URL, lower case; ProfileError otherwise."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UtilityError(f"{name}: {url!r} is not an http(s) address")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def allowed_origins(settings: "Settings") -> list[str]:
    """The origins a browser may load the portal from (rxconfig's ``cors_allowed_origins``; Reflex
    also refuses a websocket from any other origin with 403): the public URL, the configured
    aliases and, when the public URL is a loopback address, every loopback name on the same port
    (Reflex prints "App running at: http://0.0.0.0:3000/"; people open 127.0.0.1 or localhost)."""
    from urllib.parse import urlsplit

    public = _origin(settings.public_url, "GAZPORTAL_PUBLIC_URL")
    origins = [public]
    parts = urlsplit(public)
    if is_loopback_url(public):
        port = f":{parts.port}" if parts.port else ""
        origins += [f"{parts.scheme}://{name}{port}" for name in LOOPBACK_HOSTS]
    origins += [_origin(o, "GAZPORTAL_ALLOWED_ORIGINS") for o in settings.web.extra_origins]
    return list(dict.fromkeys(origins))


# Per-client caps when the portal runs on a loopback address (one person, or a test suite whose
# browsers all come from 127.0.0.1): high enough never to refuse them.
LOCAL_CONNECTIONS_PER_CLIENT = 1_000
LOCAL_NEW_CLIENTS_PER_WINDOW = 100_000


def is_loopback_url(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def _web(public_url: str) -> Web:
    env = os.environ.get
    extra = tuple(o.strip().rstrip("/") for o in env("GAZPORTAL_ALLOWED_ORIGINS", "").split(",") if o.strip())
    for o in extra:
        _origin(o, "GAZPORTAL_ALLOWED_ORIGINS")
    local = is_loopback_url(public_url)
    return Web(
        extra_origins=extra,
        trusted_proxy_hops=_int("GAZPORTAL_TRUSTED_PROXY_HOPS", 0, 0, 10),
        max_request_bytes=_int("GAZPORTAL_MAX_REQUEST_BYTES", Web.max_request_bytes, 64 * 1024, 2**30),
        connections_per_client=_int("GAZPORTAL_CONNECTIONS_PER_CLIENT",
                                    LOCAL_CONNECTIONS_PER_CLIENT if local else Web.connections_per_client, 1, 10_000),
        new_clients_per_window=_int("GAZPORTAL_NEW_CLIENTS_PER_WINDOW",
                                    LOCAL_NEW_CLIENTS_PER_WINDOW if local else Web.new_clients_per_window, 1, 1_000_000),
        new_clients_window_seconds=_int("GAZPORTAL_NEW_CLIENTS_WINDOW_SECONDS", Web.new_clients_window_seconds,
                                        1, 24 * 3600),
        state_ttl_minutes=_int("GAZPORTAL_STATE_TTL_MINUTES", Web.state_ttl_minutes, 5, 24 * 60),
    )


def default_db_url() -> str:
    return f"sqlite:///{ROOT / 'gazportal.db'}"


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UtilityError(f"environment variable {name}={raw!r}: not a whole number") from None
    if not low <= value <= high:
        raise UtilityError(f"environment variable {name}={value}: must be from {low} to {high}")
    return value


def _flag(name: str) -> bool:
    """An on/off environment variable: 1/true/yes/on, 0/false/no/off or unset (off)."""
    raw = (os.environ.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise UtilityError(f"environment variable {name}={raw!r}: use 1 or 0")


def _secret_key() -> bytes:
    """GAZPORTAL_SECRET_KEY (hex or text), else a random key kept in var/secret_key."""
    raw = os.environ.get("GAZPORTAL_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise UtilityError("environment variable GAZPORTAL_SECRET_KEY: use at least 32 characters")
        return raw.encode()
    path = Path(os.environ.get("GAZPORTAL_VAR", ROOT / "var")) / "secret_key"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once. Raises ProfileError on a bad profile or setting."""
    env = os.environ.get
    var = Path(env("GAZPORTAL_VAR", ROOT / "var"))
    return Settings(
        utility=load_utility(env("GAZPORTAL_PROFILE", "default")),
        db_url=env("GAZPORTAL_DB_URL") or default_db_url(),
        redis_url=env("REFLEX_REDIS_URL") or None,
        public_url=env("GAZPORTAL_PUBLIC_URL", "http://localhost:3000").rstrip("/"),
        outbox_dir=Path(env("GAZPORTAL_OUTBOX", ROOT / "outbox")),
        upload_dir=Path(env("GAZPORTAL_UPLOAD_DIR", var / "uploads")),
        secret_key=_secret_key(),
        smtp=Smtp(
            host=env("GAZPORTAL_SMTP_HOST") or None,
            port=_int("GAZPORTAL_SMTP_PORT", 587, 1, 65535),
            username=env("GAZPORTAL_SMTP_USER") or None,
            password=env("GAZPORTAL_SMTP_PASSWORD") or None,
            starttls=env("GAZPORTAL_SMTP_STARTTLS", "1") not in ("0", "false", "no"),
            use_tls=env("GAZPORTAL_SMTP_TLS", "0") in ("1", "true", "yes"),
            sender=env("GAZPORTAL_MAIL_FROM", "no-reply@localhost"),
        ),
        sms_provider=env("GAZPORTAL_SMS_PROVIDER", "outbox"),
        oidc=Oidc(
            issuer=(env("GAZPORTAL_OIDC_ISSUER") or "").rstrip("/") or None,
            client_id=env("GAZPORTAL_OIDC_CLIENT_ID") or None,
            client_secret=env("GAZPORTAL_OIDC_CLIENT_SECRET") or None,
            scopes=env("GAZPORTAL_OIDC_SCOPES", "openid email profile"),
        ),
        session_idle_minutes=_int("GAZPORTAL_SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
        session_absolute_hours=_int("GAZPORTAL_SESSION_ABSOLUTE_HOURS", 12, 1, 24 * 7),
        session_remember_days=_int("GAZPORTAL_SESSION_REMEMBER_DAYS", 30, 1, 365),
        web=_web(env("GAZPORTAL_PUBLIC_URL", "http://localhost:3000")),
        demo=_flag("GAZPORTAL_DEMO"),
        payments=_payments(),
    )
