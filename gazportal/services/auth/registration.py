"""Registration and its confirmation (link or SMS code).

Unknown identifiers behave exactly like known ones: registering a taken identifier answers like
a success (and tells the owner in the background, at most once a day). A login that looks like a
taken one (:func:`identity.login_skeleton`: ``viсtim@`` with a Cyrillic ``с``) is taken. Where the
profile asks for it, registration needs the proof of an account (its number and the exact last
payment); wrong proofs are bound to their source per account number by :data:`PROOF_LIMITS`
(:mod:`gazportal.services.throttle`).

A registration that is not confirmed yet is one *attempt*: its password, its details and the
accounts its proof gave. A new registration of the same login (or of a look-alike) replaces the
pending attempt: the earlier links and codes stop working, and the one sent now activates only
the new password and accounts (each confirmation secret carries its attempt's mark, checked when
it is used). So whoever registers someone else's address first gains nothing when its owner
registers: the owner's link is the owner's attempt.

Messages that anyone can trigger are limited per destination and per source
(:func:`_base._may_send`); users who never confirmed and whose secrets have all expired are
removed (:func:`purge_unconfirmed`, after each registration and by ``python -m gazportal.cli
purge-unconfirmed``)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

import sqlalchemy as sa
from gazportal.db import is_sqlite, write_session
from gazportal.models.accounts import Account, UserAccountLink
from gazportal.models.auth import OneTimeSecret
from gazportal.models.people import User
from gazportal.models._base import stored_id
from gazportal.services import captcha, identity, money, notify, passwords, throttle
from gazportal.services.accounts import holders
from gazportal.services.auth._base import (
    ALREADY_REGISTERED_EVERY, CODE_TTL, CONFIRM_LINK_TTL, NAME_MAX, SENDS_PER_HOUR, SecretRefused, _attempt_mark,
    _bool_field, _confirm, _delete_user, _field, _greeting, _identifier_hash, _lang, _lock_user, _mask_email,
    _mask_phone, _may_send, _new_password_errors, _now, _queue, _require_dict, _send_queued, _settings,
    _user_by_login, _user_by_look, _user_id_for,
)
from gazportal.services.auth.secrets import (
    _check_code, _issue_code, _issue_link, _link_owner, _retire_all, _sends_in_last_hour, _take_link,
)
from gazportal.services.errors import DomainError, FormErrors, Notice
from gazportal.services.i18n import t
from gazportal.services.identifiers import bin_is_valid

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility, Settings


# Wrong proofs (account number + last payment): the one counter of every way to prove an account
PROOF_FAILURES, PROOF_CAPTCHA_AFTER, PROOF_LIMITS = holders.PROOF_FAILURES, holders.PROOF_CAPTCHA_AFTER, holders.PROOF_LIMITS
PURGE_BATCH = 200  # unconfirmed users removed at most per run (after each registration)


@dataclass(frozen=True)
class RegistrationOutcome:
    """The same for a new and an already registered identifier (nothing here tells them apart)."""

    login: str
    confirmation: str  # email_link | sms_code | none
    sent_to: str  # masked destination of the link or code ('' for none)


def _send_confirmation(session: Session, settings: "Settings", utility: "Utility", user: User,
                       now: datetime, source: Any = throttle.ANONYMOUS) -> str:
    """Issue and (after the commit, in the background) send the confirmation link or code of the
    user's pending attempt, within the message limits. Returns the masked destination."""
    assert user.id is not None  # a stored user
    lang = _lang(utility, user.language)
    mark = _attempt_mark(settings, user.password_hash)
    if utility.confirmation == "sms_code":
        phone = user.phone or user.login
        if (_sends_in_last_hour(session, user.id, "confirm", now) < SENDS_PER_HOUR
                and _may_send(session, settings, utility, phone, source, now)):
            code = _issue_code(session, settings, user.id, "confirm", now, target=mark)
            text = t("sms.confirm_code", lang, code=code, minutes=int(CODE_TTL.total_seconds() // 60),
                     portal=utility.short_name)
            _queue(session, notify.send_sms, phone, text, settings=settings)
        return _mask_phone(phone)
    address = user.email or ""
    if (address and _sends_in_last_hour(session, user.id, "confirm", now) < SENDS_PER_HOUR
            and _may_send(session, settings, utility, address, source, now)):
        token = _issue_link(session, settings, user.id, "confirm", CONFIRM_LINK_TTL, now, target=mark)
        link = notify.public_link("/confirm", settings=settings, token=token)
        # no name: the address has not proved yet that it wants our mail (see _greeting)
        _queue(
            session, notify.send_mail, address,
            t("mail.confirm_subject", lang, portal=utility.short_name),
            t("mail.confirm_body", lang, greeting=t("mail.hello", lang), link=link,
              hours=int(CONFIRM_LINK_TTL.total_seconds() // 3600), portal=utility.short_name),
            settings=settings,
        )
    return _mask_email(address)


def _tell_owner_already_registered(session: Session, settings: "Settings", utility: "Utility", user: User,
                                   now: datetime, source: Any) -> None:
    """"Someone tried to register with your login": at most once per
    :data:`ALREADY_REGISTERED_EVERY` per login, within the message limits."""
    told = throttle.row(session, _identifier_hash(settings, utility, "already_registered", user.login))
    if throttle.count_in_window(session, told, 1, ALREADY_REGISTERED_EVERY, now) is not None:
        return
    lang = _lang(utility, user.language)
    signin = notify.public_link("/signin", settings=settings)
    recover = notify.public_link("/recover", settings=settings)
    if utility.login_identifier == "phone" or (not user.email and user.phone):
        phone = user.phone or user.login
        if _may_send(session, settings, utility, phone, source, now):
            _queue(session, notify.send_sms, phone, t("sms.already_registered", lang, portal=utility.short_name),
                   settings=settings)
    elif user.email and _may_send(session, settings, utility, user.email, source, now):
        _queue(
            session, notify.send_mail, user.email,
            t("mail.already_registered_subject", lang, portal=utility.short_name),
            t("mail.already_registered_body", lang, greeting=_greeting(utility, user, lang), signin=signin,
              recover=recover, portal=utility.short_name),
            settings=settings,
        )


def _destination(utility: "Utility", login: str, email: str | None, phone: str | None) -> str:
    if utility.confirmation == "sms_code":
        return _mask_phone(phone or login)
    if utility.confirmation == "email_link":
        return _mask_email(email or "")
    return ""


@dataclass(frozen=True)
class _Applicant:
    """A registration form whose every field is acceptable."""

    login: str
    surname: str
    name: str
    phone: str | None
    email: str | None
    password: str
    kind: str  # person | legal
    bin: str | None
    language: str
    number: str | None  # the proof's account number and last payment (profiles that ask for it)
    amount: Decimal | None


def _read_contacts(utility: "Utility", form: dict, errors: dict[str, Notice]) -> tuple:
    """(login, surname, name, phone, email) as far as they are right; errors for the others."""
    login = _field(errors, "login", lambda: identity.normalize_login(utility, form.get("login")))
    surname = _field(errors, "surname", lambda: identity.clean_text(form.get("surname"), max_len=NAME_MAX))
    name = _field(errors, "name", lambda: identity.clean_text(form.get("name"), max_len=NAME_MAX))
    raw_phone = form.get("phone")
    if utility.login_identifier == "phone" and (raw_phone is None or raw_phone == "") and login:
        raw_phone = login
    phone = _field(errors, "phone", lambda: identity.validate_phone(utility, raw_phone))
    email: str | None = None
    if utility.login_identifier == "email":
        email = login
    elif utility.confirmation == "email_link" or form.get("email") not in (None, ""):
        email = _field(errors, "email", lambda: identity.validate_email(form.get("email")))
    return login, surname, name, phone, email


def _read_kind(utility: "Utility", form: dict, errors: dict[str, Notice]) -> tuple[str, str | None]:
    """(person | legal, the legal entity's BIN or None)."""
    kind = form.get("kind", "person")
    if kind in (None, ""):
        kind = "person"
    if kind not in ("person", "legal") or (kind == "legal" and not utility.legal_entities):
        errors["kind"] = Notice("errors.kind_invalid")
        return kind, None
    if kind == "person":
        return kind, None
    raw_bin = form.get("bin")
    if raw_bin is None or raw_bin == "":
        errors["bin"] = Notice("errors.bin_required")
    elif not isinstance(raw_bin, str) or not bin_is_valid(re.sub(r"\s", "", raw_bin[:40])):
        errors["bin"] = Notice("errors.bin_invalid")
    else:
        return kind, re.sub(r"\s", "", raw_bin)
    return kind, None


def _read_proof(utility: "Utility", form: dict, language: str, errors: dict[str, Notice]) -> tuple:
    """(account number, last payment) when the profile asks for the proof, else (None, None)."""
    if not utility.proof_by_last_payment:
        return None, None
    number = _field(errors, "account_number",
                    lambda: identity.normalize_account_number(utility, form.get("account_number")))
    amount = _field(errors, "last_payment", lambda: money.parse_amount(form.get("last_payment"), language))
    return number, amount


def _check_consents(utility: "Utility", form: dict, errors: dict[str, Notice], s: "Settings",
                    now: datetime) -> None:
    """The user agreement and the CAPTCHA, where the profile has them."""
    if utility.user_agreement and not _bool_field(form.get("agreement")):
        errors["agreement"] = Notice("errors.agreement_required")
    if utility.captcha and not captcha.verify_solution(form.get("captcha"), settings=s, now=now):
        errors["captcha"] = Notice("errors.captcha_failed")


def _read_form(utility: "Utility", form: dict, s: "Settings", now: datetime) -> _Applicant:
    """The registration form checked field by field; FormErrors names every wrong field."""
    errors: dict[str, Notice] = {}
    login, surname, name, phone, email = _read_contacts(utility, form, errors)
    password = form.get("password")
    related = [v for v in (login, surname, name, phone, email) if v]
    errors.update(_new_password_errors(utility, password, form.get("password2"), related))
    kind, bin_value = _read_kind(utility, form, errors)
    language = _lang(utility, form.get("language"))
    number, amount = _read_proof(utility, form, language, errors)
    _check_consents(utility, form, errors, s, now)
    if errors:
        raise FormErrors(errors)
    assert isinstance(password, str)  # check_password_policy refuses anything else
    return _Applicant(login=login, surname=surname, name=name, phone=phone, email=email, password=password,
                      kind=kind, bin=bin_value, language=language, number=number, amount=amount)


def _prove_account(session: Session, s: "Settings", utility: "Utility", a: _Applicant, now: datetime, *,
                   source: throttle.Source = throttle.ANONYMOUS,
                   solved: Any = lambda: False) -> tuple[list[Account], FormErrors | None]:
    """(the accounts the new user gets, None) or ([], the refusal): :func:`holders.prove` (its
    limits, the CAPTCHA — ``solved()`` checks it — and the holders told); a legal entity's proof
    of one of its company's accounts gives all of them."""
    if not utility.proof_by_last_payment:
        return [], None
    assert a.number is not None  # read (or refused) when the profile asks for the proof
    proof = holders.prove(session, s, utility, a.number, a.amount, source=source, solved=solved, now=now,
                          kind=a.kind, bin=a.bin)
    if proof.refusal is not None:
        return [], holders.proof_errors(proof.refusal, number="account_number")
    if a.kind == "legal":
        return list(session.exec(select(Account).where(Account.bin == a.bin, Account.kind == "legal")
                                 .order_by(col(Account.id))).all()), None
    assert proof.account is not None  # proved
    return [proof.account], None


def _check_room(session: Session, utility: "Utility", a: _Applicant, accounts: list[Account], now: datetime) -> None:
    """holders.HoldersFull when a proved account has no room for one more portal user — the same
    for a new, a taken and a pending login (a pending attempt's own link does not count)."""
    found = _user_by_look(session, a.login)
    pending = found.id if found is not None and not found.is_active else None
    for acc in accounts:
        holders.check_room(session, utility, acc, pending, now=now)


def _link_accounts(session: Session, s: "Settings", utility: "Utility", user: User, accounts: list[Account],
                   now: datetime, *, had: frozenset[int] = frozenset()) -> None:
    """Link the proved accounts; the earlier holders of each are told (not again for an account
    in ``had``, which the replaced attempt held already)."""
    for acc in accounts:
        if acc.id in had or acc.kind != "person":
            session.add(UserAccountLink(user_id=stored_id(user), account_id=stored_id(acc), created_at=now))
        else:
            holders.add_holder(session, s, utility, user, acc, now)


def _replace_pending(session: Session, s: "Settings", utility: "Utility", pending: User, a: _Applicant,
                     password_hash: str, accounts: list[Account], now: datetime, source: Any) -> None:
    """The pending (unconfirmed) registration ``pending`` (locked) becomes the attempt ``a``: its
    earlier links and codes stop working, its password, details and accounts are the new ones,
    and a confirmation of the new attempt is sent."""
    assert pending.id is not None  # a stored user
    try:
        with session.begin_nested():
            _retire_all(session, pending.id, now)
            pending.login, pending.login_skeleton = a.login, identity.login_skeleton(a.login)
            pending.password_hash, pending.password_changed_at, pending.created_at = password_hash, now, now
            pending.surname, pending.name, pending.email, pending.phone = a.surname, a.name, a.email, a.phone
            pending.kind, pending.bin, pending.language = a.kind, a.bin, a.language
            pending.email_verified = pending.phone_verified = False
            session.add(pending)
            had = frozenset(session.exec(select(UserAccountLink.account_id)
                                         .where(UserAccountLink.user_id == pending.id)).all())
            session.execute(sa.delete(UserAccountLink).where(col(UserAccountLink.user_id) == pending.id))
            _link_accounts(session, s, utility, pending, accounts, now, had=had)
            session.flush()
    except IntegrityError:  # the new login was registered at the same moment by someone else
        session.refresh(pending)
        return
    _send_confirmation(session, s, utility, pending, now, source)


def _create_user(session: Session, s: "Settings", utility: "Utility", a: _Applicant, password_hash: str,
                 accounts: list[Account], now: datetime, source: Any = throttle.ANONYMOUS) -> None:
    """The new user with their accounts; for a login that is taken (or looks like a taken one) a
    message to its owner, or — when it is not confirmed yet — the new attempt in place of the
    pending one. The caller cannot tell which happened."""
    found = _user_by_look(session, a.login)
    existing = _lock_user(session, found.id) if found is not None and found.id is not None else None
    if existing is not None:
        if not existing.is_active and utility.confirmation != "none":
            _replace_pending(session, s, utility, existing, a, password_hash, accounts, now, source)
        elif existing.login == a.login:
            _tell_owner_already_registered(session, s, utility, existing, now, source)
        # a look-alike of a confirmed login: the same answer, nothing sent to its owner; either
        # way the accounts' holders hear that their proof was given (it must not be checkable
        # in silence by registering a taken login)
        if existing.is_active or utility.confirmation == "none":
            for acc in accounts:
                holders.tell_proved(session, s, utility, acc, now)
        return
    user = User(
        login=a.login, login_skeleton=identity.login_skeleton(a.login), password_hash=password_hash,
        surname=a.surname, name=a.name, email=a.email, phone=a.phone, kind=a.kind, bin=a.bin, language=a.language,
        is_active=utility.confirmation == "none", password_changed_at=now, created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:  # registered (or a look-alike) at the same moment by someone else
        return
    assert user.id is not None  # flushed
    _link_accounts(session, s, utility, user, accounts, now)
    if utility.confirmation != "none":
        _send_confirmation(session, s, utility, user, now, source)


def register(engine: "Engine", utility: "Utility", form: Any, *, now: datetime | None = None,
             settings: "Settings | None" = None, source: Any = throttle.ANONYMOUS) -> RegistrationOutcome:
    """Register a customer from the sign-up form (a dict of strings: login, surname, name, phone,
    email, password, password2, kind, bin, account_number, last_payment, agreement, language,
    captcha — as the profile asks). The answer is the same for a new and a taken login (and a
    login that looks like a taken one); a new registration of a login that is not confirmed yet
    replaces the pending one. ``source``: the client address or device, for the message limits.

    Raises FormErrors naming every wrong field (the others are fine), and, where the profile asks
    for the proof of an account (tried from ``source``, a :class:`throttle.Source`),
    ``errors.proof_mismatch`` on the number and the payment, ``errors.proof_locked`` (``wait``,
    a timedelta) when this source has made :data:`PROOF_FAILURES` wrong proofs of the number, or
    ``errors.captcha_required`` on ``captcha`` when the number is being guessed from elsewhere
    (:data:`PROOF_LIMITS`)."""
    s = _settings(settings)
    now = _now(now)
    form = _require_dict(form)
    applicant = _read_form(utility, form, s, now)
    password_hash = passwords.hash_password(applicant.password)  # both paths spend this time
    # where the profile always asks for the CAPTCHA, _read_form has checked it (single use)
    solved = (lambda: True) if utility.captcha else (
        lambda: captcha.verify_solution(form.get("captcha"), settings=s, now=now))
    with write_session(engine) as session:
        refusal: DomainError | None
        accounts, refusal = _prove_account(session, s, utility, applicant, now, source=throttle.as_source(source),
                                           solved=solved)
        if refusal is None:
            try:
                _check_room(session, utility, applicant, accounts, now)
            except holders.HoldersFull as e:
                for acc in accounts:
                    holders.tell_proved(session, s, utility, acc, now)  # a right proof is never silent
                refusal = e
            else:
                _create_user(session, s, utility, applicant, password_hash, accounts, now, source)
    _send_queued(session)
    if refusal is not None:
        raise refusal  # after the commit: the failure is counted
    notify.deliver_later(_purge_job, engine, now)
    return RegistrationOutcome(login=applicant.login, confirmation=utility.confirmation,
                               sent_to=_destination(utility, applicant.login, applicant.email, applicant.phone))


def _check_attempt(s: "Settings", session: Session, user: User, row: OneTimeSecret, key: str,
                   password: Any) -> None:
    """SecretRefused(``key``) unless the secret belongs to the user's current attempt. When the
    login had more than one attempt (someone else may have registered it too), the secret alone
    does not choose: ``password`` must be the current attempt's (``errors.confirm_needs_password``
    without one, ``errors.confirm_password_mismatch`` for another) — else whoever registered the
    address after its owner would have the owner activate *their* attempt by clicking the newest
    link."""
    if user.is_active:
        return  # confirmed already (by another link, or a password reset): nothing to choose
    if row.target is None or row.target != _attempt_mark(s, user.password_hash):
        raise SecretRefused(key)
    contested = session.exec(select(OneTimeSecret.id).where(
        OneTimeSecret.user_id == user.id, OneTimeSecret.purpose == "confirm",
        col(OneTimeSecret.target).is_not(None), OneTimeSecret.target != row.target).limit(1)).first()
    if contested is None:
        return
    if password is None or password == "":
        raise SecretRefused("errors.confirm_needs_password")
    if not passwords.verify_password(user.password_hash, password)[0]:
        raise SecretRefused("errors.confirm_password_mismatch")


@contextmanager
def _one_look() -> Iterator[None]:
    """A look-alike login confirmed at the same moment by another registration: the database's
    unique key among confirmed users refuses the second; it is said as such, not as a crash."""
    try:
        yield
    except IntegrityError:
        raise SecretRefused("errors.login_taken") from None


def confirm_link(engine: "Engine", token: Any, *, now: datetime | None = None,
                 settings: "Settings | None" = None, password: Any = None) -> int:
    """Activate the registration attempt of a confirmation link; returns the user id. Raises
    SecretRefused (``errors.link_invalid`` / ``errors.link_expired``) for an unknown, used,
    expired link, and for the link of an attempt that a newer registration replaced; where the
    login had several attempts, ``errors.confirm_needs_password`` / ``_password_mismatch`` unless
    ``password`` is the one chosen with this attempt (the link stays usable)."""
    s = _settings(settings)
    now = _now(now)
    owner = _link_owner(engine, s, token, "confirm", now)
    with _one_look(), write_session(engine) as session:
        user = _lock_user(session, owner)
        if user is None:  # removed meanwhile (never confirmed, expired)
            raise SecretRefused("errors.link_invalid")
        row = _take_link(session, s, token, "confirm", now)
        _check_attempt(s, session, user, row, "errors.link_invalid", password)
        row.used_at = now
        session.add(row)
        assert user.id is not None  # read from the database
        _confirm(session, s, user, "email", now)
        confirmed = user.id
    _send_queued(session)
    return confirmed


def confirm_code(engine: "Engine", utility: "Utility", login: Any, code: Any, *, now: datetime | None = None,
                 settings: "Settings | None" = None, password: Any = None) -> int:
    """Activate a registration attempt with its SMS code; returns the user id. Raises
    SecretRefused with errors.code_invalid / code_expired / code_attempts_exceeded, and as
    :func:`confirm_link` where the login had several attempts (the code is then not used up)."""
    s = _settings(settings)
    now = _now(now)
    user_id = _user_id_for(engine, utility, login)

    def ok(session: Session, user: User, row: OneTimeSecret) -> int:
        _check_attempt(s, session, user, row, "errors.code_invalid", password)
        _confirm(session, s, user, row.channel, now)
        assert user.id is not None  # a stored user
        return user.id

    with _one_look():
        return _check_code(engine, s, user_id, "confirm", code, now, ok)


def resend_confirmation(engine: "Engine", utility: "Utility", login: Any, *, now: datetime | None = None,
                        settings: "Settings | None" = None, source: Any = throttle.ANONYMOUS) -> RegistrationOutcome:
    """Send a new link or code to a registered, not yet confirmed identifier. The answer is the
    same, in the same time, for unknown and already confirmed identifiers: the lookup and the
    message are made in the background (:func:`notify.deliver_later`), as for a password reset.
    Raises InvalidInput for a malformed identifier (a field error)."""
    s = _settings(settings)
    now = _now(now)
    norm = identity.normalize_login(utility, login)  # a malformed identifier is a field error
    if utility.confirmation != "none":
        notify.deliver_later(_resend_job, engine, utility, norm, now, s, source)
    sent_to = _destination(utility, norm, norm if utility.login_identifier == "email" else None,
                           norm if utility.login_identifier == "phone" else None)
    return RegistrationOutcome(login=norm, confirmation=utility.confirmation,
                               sent_to=sent_to if utility.login_identifier != "account" else "")


def _resend_job(engine: "Engine", utility: "Utility", norm: str, now: datetime, s: "Settings",
                source: Any) -> None:
    with write_session(engine) as session:
        found = _user_by_login(session, norm)
        user = _lock_user(session, found.id) if found is not None and found.id is not None else None
        if user is not None and not user.is_active:
            _send_confirmation(session, s, utility, user, now, source)
    _send_queued(session)


def _purge_job(engine: "Engine", now: datetime) -> None:
    purge_unconfirmed(engine, now=now)


def purge_unconfirmed(engine: "Engine", *, now: datetime | None = None, limit: int = PURGE_BATCH) -> int:
    """Remove at most ``limit`` users who never confirmed their registration, registered (or
    last replaced their attempt) more than :data:`CONFIRM_LINK_TTL` ago and hold no live link or
    code, with their secrets, sessions and account links (their login is free again). A user that
    anything else still refers to is kept. Returns how many were removed. Runs after each
    registration and as ``python -m gazportal.cli purge-unconfirmed``."""
    now = _now(now)
    live = sa.exists().where(col(OneTimeSecret.user_id) == col(User.id), col(OneTimeSecret.used_at).is_(None),
                             col(OneTimeSecret.expires_at) > now)
    removed = 0
    with write_session(engine) as session:
        stmt = (select(User.id).where(col(User.is_active).is_(False), col(User.created_at) < now - CONFIRM_LINK_TTL,
                                      ~live).order_by(col(User.id)).limit(limit))
        if not is_sqlite(session):
            stmt = stmt.with_for_update(skip_locked=True)  # a user being replaced or confirmed is left alone
        for user_id in session.exec(stmt).all():
            assert user_id is not None  # read from the database
            try:
                with session.begin_nested():
                    _delete_user(session, user_id)
                removed += 1
            except IntegrityError:
                pass  # something else refers to this user: kept
    return removed
