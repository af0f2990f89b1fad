"""Which personal accounts a customer sees, and how they add and remove them.

* A **person** sees the accounts linked to them (``UserAccountLink``). A **legal entity** sees the
  fixed list of its company's accounts (``Account.bin == User.bin``) and can neither add nor
  remove one.
* Every function that takes an account id answers a missing id, another customer's id and an id
  that is not a plain positive integer (:func:`gazportal.services.ids.as_id`) with the same
  ``AccountNotFound``: existence is never revealed.
* **Adding** by payment or through the address picker needs the same proof as registration:
  the account number and the exact amount of its *latest* payment (greatest ``paid_at``, then
  id), typed as the bill prints it (:func:`gazportal.services.money.parse_amount`); the address
  picker (branch -> settlement -> street -> house -> flat) also requires the account to be at
  that address. "No such account", "wrong amount", "not at this address" and "not an account
  you may add" give the same message on both fields. The proof, its limits (per number and
  source, per number, across all numbers: :mod:`.holders`), the room for one more holder and
  the message to the earlier holders are :mod:`.holders`'; a customer's failed proofs are also
  limited per customer by :data:`LINK_POLICY` (:mod:`gazportal.services.throttle`): after
  ``MAX_LINK_FAILURES`` failures with less than an hour between one and the next, adding is
  refused for ``LINK_LOCK_MINUTES`` minutes, even with the right answer. The counter's
  identifier is sha256 of ``accounts.link:<user id>``.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gazportal.db import write_session
from gazportal.models import Account, Flat, House, LoginThrottle, User, UserAccountLink
from gazportal.models._base import stored_id
from gazportal.services import captcha, notify, throttle
from gazportal.services.accounts import holders
from gazportal.services.accounts._base import AccountCard, _card, _field_error, _user, _visible
from gazportal.services.errors import AccountNotFound, DomainError, FormErrors, NotFound, Notice
from gazportal.services.identity import normalize_account_number
from gazportal.services.ids import as_id
from gazportal.services.money import parse_amount
from gazportal.settings import Settings, Utility, get_settings

MAX_LINK_FAILURES = 10
LINK_FAILURE_WINDOW = timedelta(hours=1)
LINK_LOCK_MINUTES = 60
LINK_POLICY = throttle.Policy(max_failures=MAX_LINK_FAILURES, lock=timedelta(minutes=LINK_LOCK_MINUTES),
                              window=LINK_FAILURE_WINDOW)


class AccountsFixed(DomainError):
    """A legal entity's list of accounts is set by the utility."""

    key = "errors.accounts_fixed_for_legal"


class LinkMethodUnavailable(DomainError):
    key = "errors.link_method_unavailable"


class AccountAlreadyLinked(DomainError):
    key = "errors.account_already_linked"


class LinkAttemptsExceeded(DomainError):
    """Too many failed proofs; ``params["minutes"]`` until the next try."""

    key = "errors.link_attempts_exceeded"


# --------------------------------------------------------------------------- the list


def list_accounts(session: Session, user_id: int) -> list[AccountCard]:
    """The accounts the customer sees, by number (empty for an unknown user)."""
    try:
        user = _user(session, user_id)
    except NotFound:
        return []
    rows = session.exec(_visible(user).order_by(Account.number)).all()
    return [_card(a) for a in rows]


def require_account(session: Session, user_id: int, account_id: Any) -> Account:
    """The account if the customer may see it; NotFound("errors.account_not_found") for a missing
    or foreign id and for anything that is not a positive int (the same answer every time)."""
    aid = as_id(account_id)
    if aid is None:
        raise AccountNotFound()
    try:
        user = _user(session, user_id)
    except NotFound:
        raise AccountNotFound() from None
    acc = session.exec(_visible(user).where(Account.id == aid)).first()
    if acc is None:
        raise AccountNotFound()
    return acc


def can_add_accounts(session: Session, user_id: int) -> bool:
    """False for legal entities (their company's list is fixed) and for unknown users."""
    try:
        user = _user(session, user_id)
    except NotFound:
        return False
    return user.kind != "legal"


# --------------------------------------------------------------------------- throttling


def _throttle_id(user_id: int) -> str:
    return throttle.plain_key("accounts.link", user_id)


def link_attempts_left(session: Session, user_id: int, *, now: datetime) -> int:
    """How many failed proofs the customer may still make before adding is locked."""
    uid = as_id(user_id)
    if uid is None:
        return 0
    return throttle.attempts_left(throttle.peek(session, _throttle_id(uid)), LINK_POLICY, now)


# --------------------------------------------------------------------------- adding and removing


def _start_link(session: Session, utility: Utility, user_id: int, method: str, now: datetime):
    user = _user(session, user_id)
    if user.kind == "legal":
        raise AccountsFixed()
    if method not in utility.add_account_by:
        raise LinkMethodUnavailable()
    _user_lock(session, user, now, lock=False)
    return user


def _user_lock(session: Session, user: User, now: datetime, *, lock: bool = True) -> LoginThrottle | None:
    """The customer's own failure counter: LinkAttemptsExceeded while it is locked. ``lock``:
    read it locked for this transaction (created if missing), so that parallel proofs of one
    customer count one after another; else only peek (nothing created)."""
    key = _throttle_id(stored_id(user))
    row = throttle.row(session, key) if lock else throttle.peek(session, key)
    if row is not None:
        minutes = throttle.check(row, LINK_POLICY, now)
        if minutes is not None:
            raise LinkAttemptsExceeded(minutes=minutes)
    return row


def _language(utility: Utility, lang: Any) -> str:
    return lang if isinstance(lang, str) and lang in utility.languages else utility.default_language


def _linked(session: Session, user: User, acc: Account) -> bool:
    return session.exec(select(UserAccountLink.id).where(
        UserAccountLink.user_id == user.id, UserAccountLink.account_id == acc.id)).first() is not None


latest_payment = holders.latest_payment  # one definition: the proof's


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else get_settings()


def _add(engine: Engine, utility: Utility, user_id: int, method: str, number: Any, last_payment: Any, *,
         now: datetime, lang: str | None, source: Any, captcha_solution: Any, settings: Settings | None,
         wrong: str, address: Callable[[Session, dict[str, Notice]], Callable[[Account], bool]] | None = None,
         ) -> AccountCard:
    """The one way a customer adds an account: the per-customer lock, the fields, the proof
    (:func:`holders.prove`), room for one more holder, the link and the holders told."""
    s = _settings(settings)
    src = throttle.as_source(source)
    fields: dict[str, Notice] = {}
    number_s = _field_error(fields, "number", normalize_account_number, utility, number)
    failure: DomainError | None = None
    with write_session(engine) as session:
        user = _start_link(session, utility, user_id, method, now)
        amount = _field_error(fields, "last_payment", parse_amount, last_payment,
                              _language(utility, lang if lang is not None else user.language))
        where = address(session, fields) if address is not None else (lambda _a: True)
        if fields:
            raise FormErrors(fields)
        acc = session.exec(select(Account).where(Account.number == number_s)).first()
        if acc is not None and where(acc) and _linked(session, user, acc):
            raise AccountAlreadyLinked()
        proof = holders.prove(session, s, utility, number_s, amount, source=src, now=now,
                              solved=lambda: captcha.verify_solution(captcha_solution, settings=s, now=now),
                              where=where)
        row = _user_lock(session, user, now)  # after prove(): its housekeeping cannot drop this row
        if proof.refusal is not None:
            if isinstance(proof.refusal, holders.ProofWrong):
                assert row is not None  # locked (and created) above
                throttle.fail(session, row, LINK_POLICY, now)
            failure = holders.proof_errors(proof.refusal, wrong=wrong)
        else:
            assert proof.account is not None  # proved
            try:
                holders.check_room(session, utility, proof.account, stored_id(user), now=now)
            except (holders.HoldersFull, holders.RemovedByHolder) as e:
                holders.tell_proved(session, s, utility, proof.account, now)  # never in silence
                failure = e
            else:
                holders.add_holder(session, s, utility, user, proof.account, now)
                card = _card(proof.account)
    notify.send_queued(session)
    if failure is not None:
        raise failure  # raised after the commit, so the failure is counted
    return card


def link_by_payment(engine: Engine, utility: Utility, user_id: int, number: Any, last_payment: Any, *,
                    now: datetime, lang: str | None = None, source: Any = throttle.ANONYMOUS,
                    captcha_solution: Any = None, settings: Settings | None = None) -> AccountCard:
    """Add an account by its number and the exact amount of its latest payment.

    ``last_payment`` is read by :func:`gazportal.services.money.parse_amount` in ``lang`` (by
    default the customer's own language, else the profile's default). ``source`` (a
    :class:`throttle.Source`) is who is trying; ``captcha_solution`` the ALTCHA solution, when
    the number is being guessed from elsewhere (:data:`holders.PROOF_LIMITS`).

    Field errors (FormErrors on ``number`` / ``last_payment``): a malformed number or amount,
    and, the same message on both fields, a number that is not an account, an account with no
    payments or another amount, or a legal entity's account (``errors.account_proof_failed``;
    on the number ``errors.proof_locked`` with the wait it started, if any); ``captcha`` with
    ``errors.captcha_required``. Raises AccountsFixed for a legal entity, LinkMethodUnavailable
    when the profile does not add accounts this way, AccountAlreadyLinked, LinkAttemptsExceeded
    after too many failures of this customer, holders.HoldersFull / holders.RemovedByHolder
    after a right proof (no room, or a holder took the account away from this customer).
    """
    return _add(engine, utility, user_id, "payment_proof", number, last_payment, now=now, lang=lang, source=source,
                captcha_solution=captcha_solution, settings=settings, wrong="errors.account_proof_failed")


def link_by_address(engine: Engine, utility: Utility, user_id: int, house_id: Any, flat_id: Any, number: Any,
                    last_payment: Any, *, now: datetime, lang: str | None = None, source: Any = throttle.ANONYMOUS,
                    captcha_solution: Any = None, settings: Settings | None = None) -> AccountCard:
    """Add an account chosen through the address picker (Kremenchukgaz): the account must be at
    that house (and flat), and the proof is the same as :func:`link_by_payment`'s — the address
    and the number are printed on every bill and prove nothing alone (issue 15 point 1).

    Field errors: ``house`` (no such house), ``flat`` (not a flat of that house), and as
    :func:`link_by_payment` on ``number`` / ``last_payment`` (``errors.address_proof_failed``:
    no account with this number and last payment at this address). Raises as
    :func:`link_by_payment`.
    """
    hid = as_id(house_id)
    fid = None if flat_id is None else as_id(flat_id)

    def address(session: Session, fields: dict[str, Notice]) -> Callable[[Account], bool]:
        house = session.get(House, hid) if hid is not None else None
        if house is None:
            fields["house"] = Notice("errors.house_not_found")
        elif flat_id is not None:
            flat = session.get(Flat, fid) if fid is not None else None
            if flat is None or flat.house_id != house.id:
                fields["flat"] = Notice("errors.flat_not_in_house")
        return lambda acc: house is not None and acc.house_id == house.id and acc.flat_id == fid

    return _add(engine, utility, user_id, "address_picker", number, last_payment, now=now, lang=lang,
                source=source, captcha_solution=captcha_solution, settings=settings,
                wrong="errors.address_proof_failed", address=address)


def unlink(engine: Engine, user_id: int, account_id: Any, *, now: datetime) -> None:
    """Remove an account from the customer's list (AccountsFixed for a legal entity)."""
    aid = as_id(account_id)
    with write_session(engine) as session:
        try:
            user = _user(session, user_id)
        except NotFound:
            raise AccountNotFound() from None
        if user.kind == "legal":
            if aid is not None and session.exec(_visible(user).where(Account.id == aid)).first() is not None:
                raise AccountsFixed()
            raise AccountNotFound()
        link = None
        if aid is not None:
            link = session.exec(select(UserAccountLink).where(
                UserAccountLink.user_id == user.id, UserAccountLink.account_id == aid)).first()
        if link is None:
            raise AccountNotFound()
        session.delete(link)
