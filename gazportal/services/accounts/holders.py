"""Who holds a personal account in the portal, and what it takes to become one (issue 15 point 1).

Every way to gain a person's account goes through here: registering with the account's proof
(:mod:`gazportal.services.auth.registration`), adding it by the proof
(:func:`gazportal.services.accounts.linking.link_by_payment`) and through the address picker
(:func:`~gazportal.services.accounts.linking.link_by_address`). A legal entity's list follows from
its BIN (registering one proves one of the company's accounts; a profile with legal entities must
ask for the proof, ``settings.Utility``); single sign-on never creates a user or a link
(:func:`gazportal.services.oidc.sign_in_oidc`).

* **The proof** (:func:`prove`) is what a holder has and a neighbour does not: the account number
  with the exact amount of its latest payment (from the receipt). The address, the number and the
  holder's name are printed on every bill and prove nothing alone. Wrong proofs of a number count
  by :data:`PROOF_LIMITS` (:func:`gazportal.services.throttle.admit`), the same counter for all
  three ways (an attacker cannot switch between them for more tries): per (number, source) a
  growing wait, per number and across all numbers the CAPTCHA first from unknown sources, and
  the holders are told once per episode. A signed-in customer's failures are limited per
  customer as well (``linking.LINK_POLICY``).
* **Room** (:func:`check_room`): at most ``utility.max_holders_per_account`` portal users hold one
  person's account (a family, a tenant); a holder took away from a user cannot be re-added by
  them (:class:`~gazportal.models.AccountLinkRemoval`).
* **Telling** (:func:`add_holder`): each existing holder is told of every new one (e-mail or SMS,
  :func:`gazportal.services.notify.message_to`), with the way to take the access away:
  :func:`remove_holder`, allowed to any holder for users who came *after* them (an earlier holder
  can only be removed by the utility).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gazportal.db import is_sqlite, write_session
from gazportal.models import Account, AccountLinkRemoval, Payment, User, UserAccountLink
from gazportal.models._base import money, stored_id
from gazportal.services import notify, throttle
from gazportal.services.errors import AccountNotFound, DomainError, FormErrors, Notice
from gazportal.services.i18n import format_date, t
from gazportal.services.ids import as_id

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings, Utility

# Wrong proofs (account number + last payment) per account number. Our numbers (no seed gives
# any): a holder reading the amount off a receipt needs a few tries at most.
PROOF_SCOPE = "proof"
PROOF_FAILURES = 5  # per (account number, source) before that source waits: 1 minute, doubling ...
PROOF_LONGEST_WAIT = timedelta(hours=1)  # ... up to an hour
PROOF_CAPTCHA_AFTER = 10  # from unknown sources on one account number ...
PROOF_GLOBAL_CAPTCHA_AFTER = 100  # ... or on all account numbers within an hour: the CAPTCHA first
PROOF_LIMITS = throttle.Limits(
    scope=PROOF_SCOPE, free_failures=PROOF_FAILURES, longest_wait=PROOF_LONGEST_WAIT,
    captcha_after=PROOF_CAPTCHA_AFTER, global_captcha_after=PROOF_GLOBAL_CAPTCHA_AFTER,
    global_window=timedelta(hours=1),
)


REMOVAL_HOLDS = timedelta(days=90)  # a removed user's place stays taken this long (about 3 bills)


class ProofCaptcha(DomainError):
    """The number is being guessed from elsewhere: solve the CAPTCHA first (nothing counted)."""

    key = "errors.captcha_required"


class ProofWait(DomainError):
    """This source made too many wrong proofs of the number: ``params["wait"]`` (a timedelta)."""

    key = "errors.proof_locked"


class ProofWrong(DomainError):
    """No such account, another amount, another kind: one answer for all (counted).
    ``wait``: the wait this failure started for its source (None: none yet)."""

    key = "errors.proof_mismatch"

    def __init__(self, wait: timedelta | None = None) -> None:
        super().__init__()
        self.wait = wait


class HoldersFull(DomainError):
    """The account has ``params["count"]`` portal users already, the profile's most."""

    key = "errors.account_holders_full"


class RemovedByHolder(DomainError):
    """A holder took this account away from this user; only the utility can give it back."""

    key = "errors.account_removed_by_holder"


class HolderNotRemovable(DomainError):
    """Only a user who came after you can be removed (an earlier one: by the utility)."""

    key = "errors.holder_not_removable"


@dataclass(frozen=True)
class Proof:
    """What :func:`prove` found: the account, or the refusal to raise after the commit (so that
    a wrong proof stays counted)."""

    account: Account | None
    refusal: DomainError | None


@dataclass(frozen=True)
class HolderRow:
    """Another portal user of an account, as a holder sees them."""

    link_id: int
    who: str  # the masked login: v***@example.com, +770******67
    since: datetime  # UTC
    removable: bool  # came after the viewer


def _language(utility: "Utility", lang: Any) -> str:
    return lang if isinstance(lang, str) and lang in utility.languages else utility.default_language


def proof_target(settings: "Settings", utility: "Utility", number: str) -> str:
    """The throttle target of an account number's proof (the same for every way of proving)."""
    return throttle.identifier_hash(settings, utility.id, PROOF_SCOPE, number)


def latest_payment(session: Session, account_id: int) -> Payment | None:
    """The account's latest payment: the greatest ``paid_at``, then the greatest id."""
    return session.exec(select(Payment).where(Payment.account_id == account_id)
                        .order_by(col(Payment.paid_at).desc(), col(Payment.id).desc()).limit(1)).first()


def holder_ids(session: Session, account_id: int) -> list[int]:
    """The ids of the portal users linked to the account, oldest link first."""
    return list(session.exec(select(UserAccountLink.user_id).where(UserAccountLink.account_id == account_id)
                             .order_by(col(UserAccountLink.created_at), col(UserAccountLink.id))).all())


def _tell(session: Session, settings: "Settings", utility: "Utility", users: Any, kind: str, **params: Any) -> None:
    """Queue the message ``kind`` (``mail.<kind>_subject`` / ``_body``, ``sms.<kind>``) to each of
    ``users`` in their language, by the channel the profile reaches them on; a param may be a
    function of the language (a date). Sent after the commit (:func:`notify.send_queued`)."""
    for user in users:
        lang = _language(utility, user.language)
        said = {"portal": utility.short_name, "name": user.name,
                **{k: v(lang) if callable(v) else v for k, v in params.items()}}
        message = notify.message_to(utility, user, settings,
                                    mail=(t(f"mail.{kind}_subject", lang, **said), t(f"mail.{kind}_body", lang, **said)),
                                    sms=t(f"sms.{kind}", lang, **said))
        if message is not None:
            notify.queue(session, message[0], *message[1], **message[2])


def _tell_guessed(session: Session, settings: "Settings", utility: "Utility", holders: list[int],
                  number: str, count: int) -> None:
    """Tell the account's holders that its proof is being guessed (sent after the commit)."""
    _tell(session, settings, utility, session.exec(select(User).where(col(User.id).in_(holders))).all(),
          "proof_attack", count=count, number=number)


def prove(session: Session, settings: "Settings", utility: "Utility", number: str, amount: Decimal | None, *,
          source: throttle.Source, solved: Callable[[], bool], now: datetime, kind: str = "person",
          bin: str | None = None, where: Callable[[Account], bool] = lambda _a: True) -> Proof:
    """Check the proof of account ``number`` (normalised): ``amount`` must be the exact amount of
    its latest payment, the account of ``kind`` (a legal entity's: of ``bin``) and, for the
    address picker, ``where(account)`` true. In the caller's write transaction.

    The attempt is admitted by :data:`PROOF_LIMITS` from ``source`` (a known device of one of
    the account's holders never needs the CAPTCHA; ``solved()`` checks the CAPTCHA solution the
    attempt carries). Returns ``Proof(account, None)`` — the right proof is given back, never
    counted — or ``Proof(None, refusal)``: :class:`ProofWait`, :class:`ProofCaptcha` (nothing
    counted) or :class:`ProofWrong` (counted; the holders told at the episode's start). The caller
    raises the refusal after its transaction commits."""
    account = session.exec(select(Account).where(Account.number == number)).first()
    holders = [] if account is None else holder_ids(session, stored_id(account))
    verdict = throttle.admit(session, PROOF_LIMITS, proof_target(settings, utility, number), source,
                             known=throttle.is_known_device(session, holders, source), now=now, captcha=solved)
    if verdict.attempt is None:
        if verdict.wait is not None:
            return Proof(None, ProofWait(wait=verdict.wait))
        return Proof(None, ProofCaptcha())
    latest = latest_payment(session, stored_id(account)) if account is not None else None
    ok = (account is not None and latest is not None and amount is not None and money(latest.amount) == amount
          and account.kind == kind and (kind != "legal" or account.bin == bin) and where(account))
    if not ok:
        if verdict.tell_holder and holders:
            _tell_guessed(session, settings, utility, holders, number, verdict.failures)
        return Proof(None, ProofWrong(verdict.wait_if_failed))
    throttle.succeeded(session, verdict.attempt)
    return Proof(account, None)


def proof_errors(refusal: DomainError, *, number: str = "number", payment: str = "last_payment",
                 wrong: str = "errors.proof_mismatch") -> FormErrors:
    """A :func:`prove` refusal as the form's field errors: the CAPTCHA on ``captcha``; a wait on
    the ``number`` field; a wrong proof (``wrong``: its message) on both ``number`` and ``payment``,
    the number's naming the wait it started, if any."""
    if isinstance(refusal, ProofCaptcha):
        return FormErrors({"captcha": Notice(refusal.key)})
    if isinstance(refusal, ProofWait):
        return FormErrors({number: Notice(refusal.key, dict(refusal.params))})
    notice = Notice(wrong)
    wait = refusal.wait if isinstance(refusal, ProofWrong) else None
    return FormErrors({number: notice if wait is None else Notice(ProofWait.key, {"wait": wait}), payment: notice})


def _lock_account(session: Session, account_id: int) -> None:
    """Serialise the writers of one account's holders (PostgreSQL: the account row; SQLite's
    writes are serialised by ``BEGIN IMMEDIATE`` already)."""
    if not is_sqlite(session):
        session.exec(select(Account.id).where(Account.id == account_id).with_for_update()).first()


def check_room(session: Session, utility: "Utility", account: Account, user_id: int | None, *,
               now: datetime) -> None:
    """Raise :class:`RemovedByHolder` when a holder took the account away from ``user_id`` (None: a
    user not created yet), :class:`HoldersFull` when it has ``max_holders_per_account`` holders
    other than ``user_id`` already — counting the users a holder removed in the last
    :data:`REMOVAL_HOLDS` (a removed intruder who still has the receipt cannot come back under
    another e-mail). Locks the account's holders for the caller's transaction.
    A legal entity's account has no limit (the company's staff)."""
    aid = stored_id(account)
    _lock_account(session, aid)
    if user_id is not None and session.exec(select(AccountLinkRemoval.id).where(
            AccountLinkRemoval.account_id == aid, AccountLinkRemoval.user_id == user_id)).first() is not None:
        raise RemovedByHolder()
    if account.kind != "person":
        return
    others = [h for h in holder_ids(session, aid) if h != user_id]
    # users a holder removed lately keep their place: whoever has the receipt cannot come straight
    # back under another e-mail once the places are used up (until the utility frees them)
    removed = session.exec(select(sa.func.count()).select_from(AccountLinkRemoval).where(
        AccountLinkRemoval.account_id == aid, col(AccountLinkRemoval.removed_at) > now - REMOVAL_HOLDS)).one()
    if len(others) + removed >= utility.max_holders_per_account:
        raise HoldersFull(count=utility.max_holders_per_account)


def _who(utility: "Utility", user: User) -> str:
    """A login as other holders see it: enough to tell two apart, not enough to write to it
    (``nc1-190609@example.com`` -> ``nc***09@example.com``)."""
    login = user.login or ""
    if "@" in login:
        local, _, domain = login.partition("@")
        return (local[:2] + "***" + local[-2:] if len(local) > 5 else local[:1] + "***") + "@" + domain
    if utility.login_identifier == "phone" or login.startswith("+"):
        return notify.mask_phone(login)
    return login[:2] + "*" * max(0, len(login) - 4) + login[-2:] if len(login) > 4 else "***"


def add_holder(session: Session, settings: "Settings", utility: "Utility", user: User, account: Account,
               now: datetime) -> None:
    """Link ``account`` to ``user`` (after :func:`check_room`); a confirmed user's arrival is told
    to the account's other holders at once (:func:`tell_new_holder`), a registration's when it is
    confirmed (it may never be)."""
    session.add(UserAccountLink(user_id=stored_id(user), account_id=stored_id(account), created_at=now))
    if user.is_active:
        tell_new_holder(session, settings, utility, user, account, now)


def tell_new_holder(session: Session, settings: "Settings", utility: "Utility", user: User, account: Account,
                    now: datetime) -> None:
    """Tell the account's other confirmed holders, once the transaction commits
    (:func:`gazportal.services.notify.send_queued`), that ``user`` now holds it and how to take
    the access away."""
    aid, uid = stored_id(account), stored_id(user)
    earlier = [h for h in holder_ids(session, aid) if h != uid]
    if not earlier:
        return
    _tell(session, settings, utility,
          session.exec(select(User).where(col(User.id).in_(earlier), col(User.is_active))).all(), "new_holder",
          number=account.number, who=_who(utility, user), link=notify.public_link("/accounts", settings=settings),
          date=lambda lang: format_date(now.astimezone(utility.tz), lang, "long"))


def tell_on_confirmation(session: Session, settings: "Settings", utility: "Utility", user: User,
                         now: datetime) -> None:
    """A registration was just confirmed: the holders of each person's account it holds hear of it."""
    accounts = session.exec(select(Account).join(UserAccountLink, col(UserAccountLink.account_id) == col(Account.id))
                            .where(UserAccountLink.user_id == user.id, Account.kind == "person")).all()
    for account in accounts:
        tell_new_holder(session, settings, utility, user, account, now)


def tell_proved(session: Session, settings: "Settings", utility: "Utility", account: Account, now: datetime) -> None:
    """Tell the account's holders (once a day) that someone gave its number and exact last payment
    but got no access — a taken login, no room, a removed user: the right proof must never be
    checkable in silence (found by the attacker test of issue 15)."""
    if account.kind != "person":
        return
    ids = holder_ids(session, stored_id(account))
    if not ids:
        return
    row = throttle.row(session, throttle.plain_key("proof.told", stored_id(account)))
    if throttle.count_in_window(session, row, 1, timedelta(days=1), now) is not None:
        return
    _tell(session, settings, utility, session.exec(select(User).where(col(User.id).in_(ids))).all(), "proof_known",
          number=account.number, link=notify.public_link("/accounts", settings=settings))


def _own_link(session: Session, user_id: Any, account_id: Any) -> UserAccountLink:
    uid, aid = as_id(user_id), as_id(account_id)
    mine = None
    if uid is not None and aid is not None:
        mine = session.exec(select(UserAccountLink).where(UserAccountLink.user_id == uid,
                                                          UserAccountLink.account_id == aid)).first()
    if mine is None:
        raise AccountNotFound()
    return mine


def _after(link: UserAccountLink, mine: UserAccountLink) -> bool:
    return (link.created_at, stored_id(link)) > (mine.created_at, stored_id(mine))


def other_holders(session: Session, utility: "Utility", user_id: Any, account_id: Any) -> list[HolderRow]:
    """The other portal users of an account the customer holds (by a link: a legal entity's
    list has none), oldest first. AccountNotFound for an account the customer does not hold."""
    mine = _own_link(session, user_id, account_id)
    rows = session.exec(select(UserAccountLink, User).join(User, col(User.id) == col(UserAccountLink.user_id))
                        .where(UserAccountLink.account_id == mine.account_id, UserAccountLink.id != mine.id,
                               col(User.is_active))
                        .order_by(col(UserAccountLink.created_at), col(UserAccountLink.id))).all()
    return [HolderRow(link_id=stored_id(link), who=_who(utility, user), since=link.created_at,
                      removable=_after(link, mine)) for link, user in rows]


def remove_holder(engine: Engine, utility: "Utility", user_id: Any, account_id: Any, link_id: Any, *,
                  now: datetime, settings: "Settings | None" = None) -> None:
    """Take the account away from the portal user of ``link_id``, who came after the customer:
    their link goes, a record keeps them from adding it again, and they are told.

    Raises AccountNotFound when the customer does not hold the account or the link is not one of
    its (the same answer for both), HolderNotRemovable for a user who came before the customer."""
    s = settings if settings is not None else _settings()
    lid = as_id(link_id)
    with write_session(engine) as session:
        mine = _own_link(session, user_id, account_id)
        _lock_account(session, mine.account_id)
        other = session.get(UserAccountLink, lid) if lid is not None else None
        if other is None or other.account_id != mine.account_id or other.id == mine.id:
            raise AccountNotFound()
        if not _after(other, mine):
            raise HolderNotRemovable()
        account = session.get(Account, mine.account_id)
        removed = session.get(User, other.user_id)
        session.delete(other)
        session.execute(sa.delete(AccountLinkRemoval).where(
            col(AccountLinkRemoval.account_id) == mine.account_id, col(AccountLinkRemoval.user_id) == other.user_id))
        session.add(AccountLinkRemoval(account_id=mine.account_id, user_id=other.user_id, removed_by=mine.user_id,
                                       removed_at=now))
        if removed is not None and account is not None:
            _tell(session, s, utility, [removed], "holder_removed", number=account.number)
    notify.send_queued(session)


def _settings() -> "Settings":
    from gazportal.settings import get_settings

    return get_settings()


__all__ = [
    "PROOF_CAPTCHA_AFTER", "PROOF_FAILURES", "PROOF_GLOBAL_CAPTCHA_AFTER", "PROOF_LIMITS", "PROOF_LONGEST_WAIT",
    "HolderNotRemovable", "HolderRow", "HoldersFull", "Proof", "ProofCaptcha", "ProofWait",
    "ProofWrong", "RemovedByHolder", "add_holder", "check_room", "holder_ids", "latest_payment", "other_holders",
    "proof_errors", "proof_target", "prove", "remove_holder", "tell_new_holder", "tell_on_confirmation", "tell_proved",
]
