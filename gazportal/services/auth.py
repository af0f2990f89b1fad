"""Registration, confirmation, sign-in, sessions, password recovery and the customer's profile.

Rules (OWASP ASVS level 2, see ENGINEERING.md "Security baseline"):

* Unknown identifiers behave exactly like known ones: registration of a taken identifier answers
  like a success (and tells the owner), sign-in gives the same ``errors.sign_in_failed`` and locks
  the same way, recovery answers the same. Messages that only a real account would get are sent
  in the background (:func:`notify.deliver_later`) so the SMTP server's latency does not show, and
  an unknown user's password is "verified" against a dummy argon2 hash.
* Lockout per login identifier (an HMAC of it, so the table does not list who tried): the attempt
  is *counted before* the password is checked, in a write transaction that locks the throttle row,
  so N parallel guesses get exactly ``max_failed_logins`` verifications and then the lock.
* Every link token (256 bits), session token (256 bits) and 6-digit code is stored only as
  HMAC-SHA256 keyed with ``settings.secret_key``. Links and codes are single use and expire;
  a code allows at most :data:`CODE_MAX_ATTEMPTS` tries.
* Sessions are opaque tokens checked against the database: absolute lifetime (``remember``: days,
  else hours), idle timeout, revocation on sign-out, password change (other sessions) and reset
  (all sessions).

Every public function takes plain values; whatever the browser sends (None, numbers, lists,
NaN, megabytes) ends in a :class:`DomainError`/:class:`FormErrors`, never a TypeError.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gazportal.db import is_sqlite, read_session, write_session
from gazportal.models.accounts import Account, UserAccountLink
from gazportal.models.auth import AuthSession, OneTimeSecret
from gazportal.models.billing import Payment
from gazportal.models.people import User
from gazportal.services import captcha, identity, money, notify, passwords, throttle
from gazportal.services.errors import DomainError, FormErrors, InvalidInput, NotFound, Notice
from gazportal.services.i18n import t
from gazportal.services.identifiers import bin_is_valid
from gazportal.services.ids import require_id

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Profile, Settings

log = logging.getLogger("gazportal.auth")

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CONFIRM_LINK_TTL = timedelta(hours=24)
RESET_LINK_TTL = timedelta(hours=1)
EMAIL_CHANGE_TTL = timedelta(hours=24)
SENDS_PER_HOUR = 5  # confirmation / reset messages per user and purpose
PROOF_FAILURES = 10  # wrong account+payment proofs per account number ...
PROOF_WINDOW = timedelta(hours=1)  # ... within this time
PROOF_POLICY = throttle.Policy(max_failures=PROOF_FAILURES, lock=PROOF_WINDOW, window=PROOF_WINDOW,
                               forget_on_lock=True)
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 200
MAX_USER_AGENT = 300
NAME_MAX = 100


class SignInRefused(DomainError):
    key = "errors.sign_in_failed"


class SecretRefused(DomainError):
    """A link or code that is unknown, used, expired, foreign or out of attempts."""

    key = "errors.link_invalid"


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationOutcome:
    """The same for a new and an already registered identifier (nothing here tells them apart)."""

    login: str
    confirmation: str  # email_link | sms_code | none
    sent_to: str  # masked destination of the link or code ('' for none)


@dataclass(frozen=True)
class SignIn:
    token: str
    user_id: int
    expires_at: datetime
    remember: bool


@dataclass(frozen=True)
class SessionUser:
    user_id: int
    session_id: int
    login: str
    display_name: str
    kind: str
    language: str
    remember: bool


@dataclass(frozen=True)
class UserProfile:
    user_id: int
    login: str
    surname: str
    name: str
    email: str | None
    email_verified: bool
    pending_email: str | None  # a new address waiting for its confirmation link
    phone: str | None
    phone_verified: bool
    birth_date: date | None
    gender: str | None
    language: str
    kind: str
    bin: str | None


# --- small helpers --------------------------------------------------------------------------------


def _settings(settings: "Settings | None") -> "Settings":
    if settings is not None:
        return settings
    from gazportal.settings import get_settings

    return get_settings()


def _now(now: Any) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidInput("errors.invalid_input")
    return now.astimezone(UTC)


def _mac(settings: "Settings", label: str, value: str) -> str:
    return hmac.new(settings.secret_key, f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _token_hash(settings: "Settings", kind: str, token: str) -> str:
    return _mac(settings, kind, token)


def _code_hash(settings: "Settings", user_id: int, purpose: str, code: str) -> str:
    return _mac(settings, "code", f"{user_id}:{purpose}:{code}")


def _identifier_hash(settings: "Settings", profile: "Profile", scope: str, login: str) -> str:
    return _mac(settings, f"throttle:{scope}", f"{profile.id}:{login}")


def _clean_token(token: Any) -> str | None:
    if not isinstance(token, str) or not 16 <= len(token) <= MAX_TOKEN:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", token):
        return None
    return token


def _mask_email(addr: str) -> str:
    local, _, domain = addr.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def _mask_phone(phone: str) -> str:
    return phone[:4] + "*" * max(0, len(phone) - 6) + phone[-2:] if len(phone) > 6 else "***"


def _lock_user(session: Session, user_id: int) -> User | None:
    stmt = select(User).where(User.id == user_id)
    if not is_sqlite(session):
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _user_by_login(session: Session, login: str) -> User | None:
    return session.exec(select(User).where(User.login == login)).first()


def _display_name(user: User) -> str:
    return f"{user.name} {user.surname}".strip()


def _lang(profile: "Profile", lang: Any) -> str:
    return lang if isinstance(lang, str) and lang in profile.languages else profile.default_language


# --- throttling (login lock, proof guessing, sends) ---------------------------------------------


# --- one-time secrets -----------------------------------------------------------------------------


def _sends_in_last_hour(session: Session, user_id: int, purpose: str, now: datetime) -> int:
    return session.exec(
        select(sa.func.count()).select_from(OneTimeSecret).where(
            OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == purpose,
            OneTimeSecret.created_at > now - timedelta(hours=1),
        )
    ).one()


def _retire(session: Session, user_id: int, purpose: str, now: datetime) -> None:
    """Earlier unused secrets of this purpose stop working when a new one is issued."""
    session.exec(
        sa.update(OneTimeSecret)
        .where(OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == purpose,
               OneTimeSecret.used_at.is_(None))
        .values(used_at=now)
    )


def _issue_link(session: Session, settings: "Settings", user_id: int, purpose: str, ttl: timedelta,
                now: datetime, target: str | None = None) -> str:
    _retire(session, user_id, purpose, now)
    token = secrets.token_urlsafe(32)  # 256 bits
    session.add(OneTimeSecret(
        user_id=user_id, purpose=purpose, channel="email", kind="link",
        secret_hash=_token_hash(settings, "link", token), target=target,
        created_at=now, expires_at=now + ttl,
    ))
    session.flush()
    return token


def _issue_code(session: Session, settings: "Settings", user_id: int, purpose: str, now: datetime) -> str:
    _retire(session, user_id, purpose, now)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(OneTimeSecret(
        user_id=user_id, purpose=purpose, channel="sms", kind="code",
        secret_hash=_code_hash(settings, user_id, purpose, code),
        created_at=now, expires_at=now + CODE_TTL,
    ))
    session.flush()
    return code


def _take_link(session: Session, settings: "Settings", token: Any, purpose: str, now: datetime) -> OneTimeSecret:
    """The valid link secret for ``token`` (locked), or SecretRefused. Does not mark it used."""
    clean = _clean_token(token)
    if clean is None:
        raise SecretRefused("errors.link_invalid")
    stmt = select(OneTimeSecret).where(
        OneTimeSecret.secret_hash == _token_hash(settings, "link", clean),
        OneTimeSecret.purpose == purpose, OneTimeSecret.kind == "link",
    )
    if not is_sqlite(session):
        stmt = stmt.with_for_update()
    row = session.exec(stmt).first()
    if row is None or row.used_at is not None:
        raise SecretRefused("errors.link_invalid")
    if row.expires_at <= now:
        raise SecretRefused("errors.link_expired")
    return row


def _clean_code(code: Any) -> str | None:
    if isinstance(code, bool) or not isinstance(code, str):
        return None
    code = code.strip()
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def _check_code(engine: "Engine", settings: "Settings", user_id: int | None, purpose: str, code: Any,
                now: datetime, on_success: Callable[[Session, User, OneTimeSecret], Any]) -> Any:
    """Count one attempt against the user's current code and, if it is right, run ``on_success``
    in the same transaction (the code is then used). Raises SecretRefused otherwise; a failed
    attempt is committed before the error is raised."""
    clean = _clean_code(code)
    refusal: str | None = None
    result: Any = None
    with write_session(engine) as session:
        if user_id is None:
            refusal = "errors.code_invalid"
        else:
            stmt = select(OneTimeSecret).where(
                OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == purpose,
                OneTimeSecret.kind == "code", OneTimeSecret.used_at.is_(None),
            ).order_by(OneTimeSecret.id.desc())
            if not is_sqlite(session):
                stmt = stmt.with_for_update()
            row = session.exec(stmt).first()
            if row is None:
                refusal = "errors.code_invalid"
            elif row.expires_at <= now:
                refusal = "errors.code_expired"
            elif row.attempts >= CODE_MAX_ATTEMPTS:
                refusal = "errors.code_attempts_exceeded"
            else:
                row.attempts += 1
                session.add(row)
                expected = _code_hash(settings, user_id, purpose, clean or "")
                if clean is not None and hmac.compare_digest(expected, row.secret_hash):
                    row.used_at = now
                    user = _lock_user(session, user_id)
                    result = on_success(session, user, row)
                else:
                    refusal = ("errors.code_attempts_exceeded" if row.attempts >= CODE_MAX_ATTEMPTS
                               else "errors.code_invalid")
    if refusal:
        raise SecretRefused(refusal)
    return result


def _queue(session: Session, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Send a message once this transaction has committed (see :func:`_send_queued`)."""
    session.info.setdefault("outgoing", []).append((fn, args, kwargs))


def _send_queued(session: Session) -> None:
    """Hand the committed transaction's messages to the background sender."""
    for fn, args, kwargs in session.info.pop("outgoing", []):
        notify.deliver_later(fn, *args, **kwargs)


# --- messages ---------------------------------------------------------------------------------------


def _send_confirmation(session: Session, settings: "Settings", profile: "Profile", user: User,
                       now: datetime) -> str:
    """Issue and (in the background) send the confirmation link or code. Returns the masked
    destination."""
    lang = _lang(profile, user.language)
    if profile.confirmation == "sms_code":
        phone = user.phone or user.login
        if _sends_in_last_hour(session, user.id, "confirm", now) < SENDS_PER_HOUR:
            code = _issue_code(session, settings, user.id, "confirm", now)
            text = t("sms.confirm_code", lang, code=code, minutes=int(CODE_TTL.total_seconds() // 60),
                     portal=profile.short_name)
            _queue(session, notify.send_sms, phone, text, settings=settings)
        return _mask_phone(phone)
    address = user.email or ""
    if _sends_in_last_hour(session, user.id, "confirm", now) < SENDS_PER_HOUR and address:
        token = _issue_link(session, settings, user.id, "confirm", CONFIRM_LINK_TTL, now)
        link = notify.public_link("/confirm", settings=settings, token=token)
        _queue(
            session, notify.send_mail, address,
            t("mail.confirm_subject", lang, portal=profile.short_name),
            t("mail.confirm_body", lang, name=user.name, link=link,
              hours=int(CONFIRM_LINK_TTL.total_seconds() // 3600), portal=profile.short_name),
            settings=settings,
        )
    return _mask_email(address)


def _tell_owner_already_registered(session: Session, settings: "Settings", profile: "Profile", user: User) -> None:
    lang = _lang(profile, user.language)
    signin = notify.public_link("/signin", settings=settings)
    recover = notify.public_link("/recover", settings=settings)
    if profile.login_identifier == "phone" or (not user.email and user.phone):
        _queue(session, notify.send_sms, user.phone or user.login,
               t("sms.already_registered", lang, portal=profile.short_name), settings=settings)
    elif user.email:
        _queue(
            session, notify.send_mail, user.email,
            t("mail.already_registered_subject", lang, portal=profile.short_name),
            t("mail.already_registered_body", lang, name=user.name, signin=signin, recover=recover,
              portal=profile.short_name),
            settings=settings,
        )


def _destination(profile: "Profile", login: str, email: str | None, phone: str | None) -> str:
    if profile.confirmation == "sms_code":
        return _mask_phone(phone or login)
    if profile.confirmation == "email_link":
        return _mask_email(email or "")
    return ""


# --- registration --------------------------------------------------------------------------------

def _field(errors: dict[str, Notice], name: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except InvalidInput as e:
        errors[name] = Notice(e.key, dict(e.params))
        return None


def _require_dict(form: Any) -> dict:
    if not isinstance(form, dict):
        raise InvalidInput("errors.invalid_input")
    return form


def _bool_field(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "on", "1", "yes"))


def _latest_payment(session: Session, account_id: int) -> Decimal | None:
    row = session.exec(
        select(Payment.amount).where(Payment.account_id == account_id)
        .order_by(Payment.paid_at.desc(), Payment.id.desc()).limit(1)
    ).first()
    return None if row is None else Decimal(row)


def register(engine: "Engine", profile: "Profile", form: Any, *, now: datetime | None = None,
             settings: "Settings | None" = None) -> RegistrationOutcome:
    """Register a customer. Raises FormErrors naming every wrong field (the others are fine)."""
    s = _settings(settings)
    now = _now(now)
    form = _require_dict(form)
    errors: dict[str, Notice] = {}

    login = _field(errors, "login", lambda: identity.normalize_login(profile, form.get("login")))
    surname = _field(errors, "surname", lambda: identity.clean_text(form.get("surname"), max_len=NAME_MAX))
    name = _field(errors, "name", lambda: identity.clean_text(form.get("name"), max_len=NAME_MAX))
    raw_phone = form.get("phone")
    if profile.login_identifier == "phone" and (raw_phone is None or raw_phone == "") and login:
        raw_phone = login
    phone = _field(errors, "phone", lambda: identity.validate_phone(profile, raw_phone))

    email: str | None = None
    if profile.login_identifier == "email":
        email = login
    elif profile.confirmation == "email_link" or form.get("email") not in (None, ""):
        email = _field(errors, "email", lambda: identity.validate_email(form.get("email")))

    password = form.get("password")
    related = [v for v in (login, surname, name, phone, email) if v]
    _field(errors, "password", lambda: passwords.check_password_policy(profile, password, related))
    if "password" not in errors and form.get("password2") != password:
        errors["password2"] = Notice("errors.password_mismatch")

    kind = form.get("kind", "person")
    if kind in (None, ""):
        kind = "person"
    bin_value: str | None = None
    if kind not in ("person", "legal") or (kind == "legal" and not profile.legal_entities):
        errors["kind"] = Notice("errors.kind_invalid")
    elif kind == "legal":
        raw_bin = form.get("bin")
        if raw_bin is None or raw_bin == "":
            errors["bin"] = Notice("errors.bin_required")
        elif not isinstance(raw_bin, str) or not bin_is_valid(re.sub(r"\s", "", raw_bin[:40])):
            errors["bin"] = Notice("errors.bin_invalid")
        else:
            bin_value = re.sub(r"\s", "", raw_bin)

    language = _lang(profile, form.get("language"))
    number = amount = None
    if profile.proof_by_last_payment:
        number = _field(errors, "account_number",
                        lambda: identity.normalize_account_number(profile, form.get("account_number")))
        amount = _field(errors, "last_payment", lambda: money.parse_amount(form.get("last_payment"), language))

    if profile.user_agreement and not _bool_field(form.get("agreement")):
        errors["agreement"] = Notice("errors.agreement_required")

    if profile.captcha and not errors.get("captcha"):
        if not captcha.verify_solution(form.get("captcha"), settings=s, now=now):
            errors["captcha"] = Notice("errors.captcha_failed")

    if errors:
        raise FormErrors(errors)

    password_hash = passwords.hash_password(password)  # both paths spend this time

    proof_refused = False
    proof_locked: int | None = None
    with write_session(engine) as session:
        accounts: list[Account] = []
        if profile.proof_by_last_payment:
            row = throttle.row(session, _identifier_hash(s, profile, "proof", number))
            proof_locked = throttle.check(row, PROOF_POLICY, now)
            if not proof_locked:
                account = session.exec(select(Account).where(Account.number == number)).first()
                ok = (
                    account is not None
                    and _latest_payment(session, account.id) == amount
                    and (account.kind == kind)
                    and (kind != "legal" or account.bin == bin_value)
                )
                if not ok:
                    throttle.fail(session, row, PROOF_POLICY, now)
                    proof_refused = True
                elif kind == "legal":
                    accounts = list(session.exec(
                        select(Account).where(Account.bin == bin_value, Account.kind == "legal")
                        .order_by(Account.id)).all())
                else:
                    accounts = [account]
        if not proof_refused and not proof_locked:
            existing = _user_by_login(session, login)
            if existing is not None:
                if not existing.is_active and profile.confirmation != "none":
                    _send_confirmation(session, s, profile, existing, now)
                else:
                    _tell_owner_already_registered(session, s, profile, existing)
            else:
                user = User(
                    login=login, password_hash=password_hash, surname=surname, name=name,
                    email=email, phone=phone, kind=kind, bin=bin_value, language=language,
                    is_active=profile.confirmation == "none", password_changed_at=now, created_at=now,
                )
                try:
                    with session.begin_nested():
                        session.add(user)
                        session.flush()
                except IntegrityError:  # registered at the same moment by someone else
                    user = None
                if user is not None:
                    for acc in accounts:
                        session.add(UserAccountLink(user_id=user.id, account_id=acc.id, created_at=now))
                    if profile.confirmation != "none":
                        _send_confirmation(session, s, profile, user, now)
    _send_queued(session)
    if proof_locked:
        raise FormErrors({"account_number": Notice("errors.proof_locked", {"minutes": proof_locked})})
    if proof_refused:
        notice = Notice("errors.proof_mismatch")
        raise FormErrors({"account_number": notice, "last_payment": notice})
    return RegistrationOutcome(login=login, confirmation=profile.confirmation,
                               sent_to=_destination(profile, login, email, phone))


def _activate(user: User, channel: str) -> None:
    user.is_active = True
    if channel == "email":
        user.email_verified = True
    else:
        user.phone_verified = True


def confirm_link(engine: "Engine", token: Any, *, now: datetime | None = None,
                 settings: "Settings | None" = None) -> int:
    """Activate the account of a confirmation link; returns the user id."""
    s = _settings(settings)
    now = _now(now)
    with write_session(engine) as session:
        row = _take_link(session, s, token, "confirm", now)
        row.used_at = now
        session.add(row)
        user = _lock_user(session, row.user_id)
        _activate(user, "email")
        session.add(user)
        return user.id


def _user_id_for(engine: "Engine", profile: "Profile", login: Any) -> int | None:
    try:
        norm = identity.normalize_login(profile, login)
    except InvalidInput:
        return None
    with read_session(engine) as session:
        user = _user_by_login(session, norm)
        return user.id if user is not None else None


def confirm_code(engine: "Engine", profile: "Profile", login: Any, code: Any, *, now: datetime | None = None,
                 settings: "Settings | None" = None) -> int:
    """Activate an account with the SMS code; returns the user id. Raises SecretRefused with
    errors.code_invalid / code_expired / code_attempts_exceeded."""
    s = _settings(settings)
    now = _now(now)
    user_id = _user_id_for(engine, profile, login)

    def ok(session: Session, user: User, row: OneTimeSecret) -> int:
        _activate(user, row.channel)
        session.add(user)
        return user.id

    return _check_code(engine, s, user_id, "confirm", code, now, ok)


def resend_confirmation(engine: "Engine", profile: "Profile", login: Any, *, now: datetime | None = None,
                        settings: "Settings | None" = None) -> RegistrationOutcome:
    """Send a new link or code to a registered, not yet confirmed identifier. The answer is the
    same for unknown and already confirmed identifiers (nothing is sent then)."""
    s = _settings(settings)
    now = _now(now)
    norm = identity.normalize_login(profile, login)  # a malformed identifier is a field error
    sent_to = ""
    with write_session(engine) as session:
        user = _user_by_login(session, norm)
        if user is not None and not user.is_active and profile.confirmation != "none":
            sent_to = _send_confirmation(session, s, profile, user, now)
    _send_queued(session)
    if not sent_to:
        sent_to = _destination(profile, norm, norm if profile.login_identifier == "email" else None,
                               norm if profile.login_identifier == "phone" else None)
    return RegistrationOutcome(login=norm, confirmation=profile.confirmation,
                               sent_to=sent_to if profile.login_identifier != "account" else "")


# --- sign-in and sessions ---------------------------------------------------------------------------


def _throttle_key(s: "Settings", profile: "Profile", login: Any) -> tuple[str, str | None]:
    """(identifier hash, normalised login or None when it is not even well-formed)."""
    try:
        norm = identity.normalize_login(profile, login)
    except InvalidInput:
        text = login if isinstance(login, str) else repr(type(login))
        return _identifier_hash(s, profile, "login", "raw:" + text[:300].strip().lower()), None
    return _identifier_hash(s, profile, "login", norm), norm


def sign_in_policy(profile: "Profile") -> throttle.Policy:
    """The sign-in lock of ``profile``: ``max_failed_logins`` failures in a row (never forgotten
    until a success, a recovery or the end of the lock) lock for ``lockout_minutes``."""
    return throttle.Policy(max_failures=profile.max_failed_logins, lock=timedelta(minutes=profile.lockout_minutes))


def sign_in(engine: "Engine", profile: "Profile", login: Any, password: Any, *, remember: Any = False,
            now: datetime | None = None, user_agent: Any = "", settings: "Settings | None" = None) -> SignIn:
    s = _settings(settings)
    now = _now(now)
    remember = remember is True
    ident, norm = _throttle_key(s, profile, login)
    locked_minutes: int | None = None
    just_locked = False
    user_id: int | None = None
    stored_hash: str | None = None
    policy = sign_in_policy(profile)
    with write_session(engine) as session:
        row = throttle.row(session, ident)
        locked_minutes = throttle.check(row, policy, now)  # an ended lock starts afresh
        if locked_minutes is None:
            # counted before the check: parallel guesses cannot overtake it
            just_locked = throttle.fail(session, row, policy, now)
            if norm is not None:
                user = _user_by_login(session, norm)
                if user is not None:
                    user_id, stored_hash = user.id, user.password_hash
    if locked_minutes is not None:
        raise SignInRefused("errors.sign_in_locked", minutes=locked_minutes)

    if stored_hash is not None:
        ok, needs_rehash = passwords.verify_password(stored_hash, password)
    else:
        passwords.dummy_verify(password)
        ok = needs_rehash = False
    if not ok:
        if just_locked:
            raise SignInRefused("errors.sign_in_locked", minutes=profile.lockout_minutes)
        raise SignInRefused("errors.sign_in_failed")

    new_hash = passwords.hash_password(password) if needs_rehash else None
    with write_session(engine) as session:
        throttle.clear(session, throttle.row(session, ident))
        user = _lock_user(session, user_id)
        if user is None:  # removed meanwhile
            raise SignInRefused("errors.sign_in_failed")
        if new_hash is not None and user.password_hash == stored_hash:
            user.password_hash = new_hash
        inactive = not user.is_active
        session.add(user)
        if not inactive:
            signed = open_session(session, user, remember=remember, now=now, user_agent=user_agent, settings=s)
    if inactive:
        raise SignInRefused("errors.sign_in_not_confirmed")
    return signed


def session_token_hash(token: str, *, settings: "Settings | None" = None) -> str:
    """What the database keeps of a session token (HMAC-SHA256 with the secret key)."""
    return _token_hash(_settings(settings), "session", token)


def open_session(session: Session, user: User, *, remember: bool = False, now: datetime | None = None,
                 user_agent: Any = "", settings: "Settings | None" = None) -> SignIn:
    """Start a portal session for an already authenticated, active ``user`` in the caller's
    transaction (sign-in, single sign-on). Returns the token for the browser."""
    s = _settings(settings)
    now = _now(now)
    remember = remember is True
    token = secrets.token_urlsafe(32)  # 256 bits
    lifetime = timedelta(days=s.session_remember_days) if remember else timedelta(hours=s.session_absolute_hours)
    user.last_login_at = now
    session.add(user)
    session.add(AuthSession(
        user_id=user.id, token_hash=_token_hash(s, "session", token), remember=remember, created_at=now,
        last_seen_at=now, expires_at=now + lifetime,
        user_agent=user_agent[:MAX_USER_AGENT] if isinstance(user_agent, str) else "",
    ))
    session.flush()
    return SignIn(token=token, user_id=user.id, expires_at=now + lifetime, remember=remember)


def _session_row(session: Session, s: "Settings", token: Any) -> AuthSession | None:
    clean = _clean_token(token)
    if clean is None:
        return None
    return session.exec(
        select(AuthSession).where(AuthSession.token_hash == _token_hash(s, "session", clean))
    ).first()


def resolve_session(engine: "Engine", token: Any, *, now: datetime | None = None,
                    settings: "Settings | None" = None) -> SessionUser | None:
    """The signed-in user of a session token, or None (unknown, revoked, expired, idle)."""
    s = _settings(settings)
    now = _now(now)
    with read_session(engine) as session:
        row = _session_row(session, s, token)
        if row is None or row.revoked_at is not None or now >= row.expires_at:
            return None
        idle = timedelta(days=s.session_remember_days) if row.remember else timedelta(minutes=s.session_idle_minutes)
        if now - row.last_seen_at > idle:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        result = SessionUser(user_id=user.id, session_id=row.id, login=user.login,
                             display_name=_display_name(user), kind=user.kind,
                             language=user.language, remember=row.remember)
        touch = now - row.last_seen_at >= TOUCH_EVERY
        session_id = row.id
    if touch:
        with write_session(engine) as session:
            session.execute(sa.update(AuthSession).where(
                AuthSession.id == session_id, AuthSession.last_seen_at < now).values(last_seen_at=now))
    return result


def sign_out(engine: "Engine", token: Any, *, now: datetime | None = None,
             settings: "Settings | None" = None) -> None:
    s = _settings(settings)
    now = _now(now)
    clean = _clean_token(token)
    if clean is None:
        return
    with write_session(engine) as session:
        session.execute(sa.update(AuthSession).where(
            AuthSession.token_hash == _token_hash(s, "session", clean), AuthSession.revoked_at.is_(None),
        ).values(revoked_at=now))


def revoke_other_sessions(engine: "Engine", user_id: Any, keep_session_id: Any, *,
                          now: datetime | None = None) -> int:
    """Revoke every live session of the user but ``keep_session_id``; returns how many."""
    now = _now(now)
    user_id = require_id(user_id)
    keep = keep_session_id if isinstance(keep_session_id, int) and not isinstance(keep_session_id, bool) else -1
    with write_session(engine) as session:
        return _revoke(session, user_id, now, keep)


def _revoke(session: Session, user_id: int, now: datetime, keep: int = -1) -> int:
    result = session.execute(sa.update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.id != keep,
    ).values(revoked_at=now))
    return result.rowcount or 0


# --- password recovery and change ---------------------------------------------------------------


def _recovery_channel(profile: "Profile") -> str:
    return "sms" if profile.login_identifier == "phone" or profile.confirmation == "sms_code" else "email"


def request_reset(engine: "Engine", profile: "Profile", login: Any, *, now: datetime | None = None,
                  settings: "Settings | None" = None) -> str:
    """Send a reset link (e-mail) or code (SMS) if the identifier is registered. Returns the
    channel ("email" | "sms"), the same whether or not it is. Works on a locked account.

    The lookup, the new secret and the message are all done in the background
    (:func:`notify.deliver_later`): the answer takes the same time for every identifier."""
    s = _settings(settings)
    now = _now(now)
    norm = identity.normalize_login(profile, login)  # a malformed identifier is a field error
    notify.deliver_later(_reset_job, engine, profile, norm, now, s)
    return _recovery_channel(profile)


def _reset_job(engine: "Engine", profile: "Profile", norm: str, now: datetime, s: "Settings") -> None:
    channel = _recovery_channel(profile)
    with write_session(engine) as session:
        user = _user_by_login(session, norm)
        if user is None or _sends_in_last_hour(session, user.id, "reset", now) >= SENDS_PER_HOUR:
            return
        lang = _lang(profile, user.language)
        if channel == "sms":
            code = _issue_code(session, s, user.id, "reset", now)
            message: tuple = (notify.send_sms, user.phone or user.login,
                              t("sms.reset_code", lang, code=code, portal=profile.short_name,
                                minutes=int(CODE_TTL.total_seconds() // 60)))
        elif user.email:
            token = _issue_link(session, s, user.id, "reset", RESET_LINK_TTL, now)
            link = notify.public_link("/reset", settings=s, token=token)
            message = (notify.send_mail, user.email, t("mail.reset_subject", lang, portal=profile.short_name),
                       t("mail.reset_body", lang, name=user.name, link=link, portal=profile.short_name,
                         minutes=int(RESET_LINK_TTL.total_seconds() // 60)))
        else:
            return
    # sent after the commit: the secret exists before the customer can use it
    message[0](*message[1:], settings=s)


def _new_password_errors(profile: "Profile", password: Any, password2: Any, related=()) -> dict[str, Notice]:
    errors: dict[str, Notice] = {}
    _field(errors, "password", lambda: passwords.check_password_policy(profile, password, related))
    if "password" not in errors and password2 != password:
        errors["password2"] = Notice("errors.password_mismatch")
    return errors


def _set_password(session: Session, s: "Settings", profile: "Profile", user: User, new_hash: str,
                  now: datetime) -> None:
    user.password_hash = new_hash
    user.password_changed_at = now
    session.add(user)
    # the lock on the user's identifier ends with a successful recovery
    throttle.clear(session, throttle.row(session, _identifier_hash(s, profile, "login", user.login)))


def reset_password_with_link(engine: "Engine", profile: "Profile", token: Any, password: Any, password2: Any, *,
                             now: datetime | None = None, settings: "Settings | None" = None) -> int:
    """Set a new password with a reset link: clears the lock, ends every session, returns the
    user id. The link is used only when the new password is acceptable."""
    s = _settings(settings)
    now = _now(now)
    with read_session(engine) as session:
        row = _take_link(session, s, token, "reset", now)  # refuse a bad link before anything else
        user = session.get(User, row.user_id)
        related = [user.login, user.name, user.surname, user.email or "", user.phone or ""]
    errors = _new_password_errors(profile, password, password2, related)
    if errors:
        raise FormErrors(errors)
    new_hash = passwords.hash_password(password)
    with write_session(engine) as session:
        row = _take_link(session, s, token, "reset", now)
        row.used_at = now
        session.add(row)
        user = _lock_user(session, row.user_id)
        _set_password(session, s, profile, user, new_hash, now)
        if not user.is_active:  # the link proves the address like a confirmation link
            _activate(user, "email")
        _revoke(session, user.id, now)
        return user.id


def reset_password_with_code(engine: "Engine", profile: "Profile", login: Any, code: Any, password: Any,
                             password2: Any, *, now: datetime | None = None,
                             settings: "Settings | None" = None) -> int:
    """Set a new password with an SMS reset code (same rules as the link)."""
    s = _settings(settings)
    now = _now(now)
    errors = _new_password_errors(profile, password, password2, [login] if isinstance(login, str) else [])
    if errors:
        raise FormErrors(errors)
    new_hash = passwords.hash_password(password)
    user_id = _user_id_for(engine, profile, login)

    def ok(session: Session, user: User, row: OneTimeSecret) -> int:
        _set_password(session, s, profile, user, new_hash, now)
        if not user.is_active:
            _activate(user, "sms")
        _revoke(session, user.id, now)
        return user.id

    return _check_code(engine, s, user_id, "reset", code, now, ok)


def change_password(engine: "Engine", profile: "Profile", user_id: Any, current: Any, password: Any,
                    password2: Any, *, now: datetime | None = None, keep_session_id: Any = None,
                    settings: "Settings | None" = None) -> None:
    """Change the password (the current one is needed); ends the user's other sessions."""
    s = _settings(settings)
    now = _now(now)
    user_id = require_id(user_id)
    with read_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("errors.not_found")
        stored = user.password_hash
        related = [user.login, user.name, user.surname, user.email or "", user.phone or ""]
    errors: dict[str, Notice] = {}
    if current is None or current == "":
        errors["current"] = Notice("errors.password_required")
        passwords.dummy_verify("")
    elif not passwords.verify_password(stored, current)[0]:
        errors["current"] = Notice("errors.current_password_wrong")
    errors.update(_new_password_errors(profile, password, password2, related))
    if "password" not in errors and "current" not in errors and password == current:
        errors["password"] = Notice("errors.password_same_as_current")
    if errors:
        raise FormErrors(errors)
    new_hash = passwords.hash_password(password)
    keep = keep_session_id if isinstance(keep_session_id, int) and not isinstance(keep_session_id, bool) else -1
    with write_session(engine) as session:
        user = _lock_user(session, user_id)
        if user.password_hash != stored:  # changed meanwhile by another session
            raise FormErrors({"current": Notice("errors.current_password_wrong")})
        _set_password(session, s, profile, user, new_hash, now)
        _revoke(session, user_id, now, keep)


# --- profile ---------------------------------------------------------------------------------------


def _pending_email(session: Session, user_id: int, now: datetime) -> str | None:
    return session.exec(
        select(OneTimeSecret.target).where(
            OneTimeSecret.user_id == user_id, OneTimeSecret.purpose == "email_change",
            OneTimeSecret.used_at.is_(None), OneTimeSecret.expires_at > now,
        ).order_by(OneTimeSecret.id.desc()).limit(1)
    ).first()


def get_user_profile(session: Session, user_id: Any, *, now: datetime | None = None) -> UserProfile:
    user_id = require_id(user_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("errors.not_found")
    return UserProfile(
        user_id=user.id, login=user.login, surname=user.surname, name=user.name, email=user.email,
        email_verified=user.email_verified, pending_email=_pending_email(session, user.id, _now(now)),
        phone=user.phone, phone_verified=user.phone_verified, birth_date=user.birth_date,
        gender=user.gender, language=user.language, kind=user.kind, bin=user.bin,
    )


def _birth_date(raw: Any, now: datetime) -> date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 10:
        raise InvalidInput("errors.bad_date")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("errors.bad_date") from None
    if not date(1900, 1, 1) <= value <= now.date():
        raise InvalidInput("errors.birth_date_out_of_range")
    return value


PROFILE_FIELDS = ("surname", "name", "phone", "email", "birth_date", "gender", "language")


def update_user_profile(engine: "Engine", profile: "Profile", user_id: Any, data: Any, *,
                        now: datetime | None = None, settings: "Settings | None" = None) -> UserProfile:
    """Change the fields present in ``data``. A new e-mail is not set here: a confirmation link
    goes to the new address (see :func:`confirm_email_change`)."""
    s = _settings(settings)
    now = _now(now)
    user_id = require_id(user_id)
    data = _require_dict(data)
    errors: dict[str, Notice] = {}
    values: dict[str, Any] = {}
    if "surname" in data:
        values["surname"] = _field(errors, "surname", lambda: identity.clean_text(data["surname"], max_len=NAME_MAX))
    if "name" in data:
        values["name"] = _field(errors, "name", lambda: identity.clean_text(data["name"], max_len=NAME_MAX))
    if "phone" in data:
        values["phone"] = _field(errors, "phone", lambda: identity.validate_phone(profile, data["phone"]))
    new_email = None
    if "email" in data:
        new_email = _field(errors, "email", lambda: identity.validate_email(data["email"]))
    if "birth_date" in data:
        values["birth_date"] = _field(errors, "birth_date", lambda: _birth_date(data["birth_date"], now))
    if "gender" in data:
        g = data["gender"]
        if g in (None, ""):
            values["gender"] = None
        elif g in ("female", "male"):
            values["gender"] = g
        else:
            errors["gender"] = Notice("errors.gender_invalid")
    if "language" in data:
        if isinstance(data["language"], str) and data["language"] in profile.languages:
            values["language"] = data["language"]
        else:
            errors["language"] = Notice("errors.language_invalid")
    with read_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("errors.not_found")
        if (profile.login_identifier == "phone" and "phone" in values and values["phone"]
                and values["phone"] != user.phone):
            errors["phone"] = Notice("errors.phone_is_login")
    if errors:
        raise FormErrors(errors)
    with write_session(engine) as session:
        user = _lock_user(session, user_id)
        for key, value in values.items():
            if key == "phone" and value != user.phone:
                user.phone_verified = False
            setattr(user, key, value)
        session.add(user)
        if new_email and new_email != user.email:
            _request_email_change(session, s, profile, user, new_email, now)
        session.flush()
        result = get_user_profile(session, user_id, now=now)
    _send_queued(session)
    return result


def _request_email_change(session: Session, s: "Settings", profile: "Profile", user: User, new_email: str,
                          now: datetime) -> None:
    if _sends_in_last_hour(session, user.id, "email_change", now) >= SENDS_PER_HOUR:
        raise InvalidInput("errors.too_many_requests")
    token = _issue_link(session, s, user.id, "email_change", EMAIL_CHANGE_TTL, now, target=new_email)
    lang = _lang(profile, user.language)
    link = notify.public_link("/confirm-email", settings=s, token=token)
    _queue(
        session, notify.send_mail, new_email, t("mail.email_change_subject", lang, portal=profile.short_name),
        t("mail.email_change_body", lang, name=user.name, link=link, portal=profile.short_name,
          hours=int(EMAIL_CHANGE_TTL.total_seconds() // 3600)),
        settings=s,
    )


def confirm_email_change(engine: "Engine", token: Any, *, now: datetime | None = None,
                         settings: "Settings | None" = None) -> int:
    """Set the new e-mail address of a change link; returns the user id. If the e-mail is also the
    login and the new address is taken meanwhile, the link is refused."""
    s = _settings(settings)
    now = _now(now)
    taken = False
    with write_session(engine) as session:
        row = _take_link(session, s, token, "email_change", now)
        row.used_at = now
        session.add(row)
        user = _lock_user(session, row.user_id)
        new_email = row.target
        login_is_email = user.login == user.email and "@" in user.login
        if login_is_email and new_email != user.login:
            other = _user_by_login(session, new_email)
            if other is not None:
                taken = True
            else:
                user.login = new_email
        if not taken:
            user.email = new_email
            user.email_verified = True
            session.add(user)
        user_id = user.id
    if taken:
        raise SecretRefused("errors.email_taken")
    return user_id
