"""A staff member opens any account read-only, as its customers see it (issue 16 point 5).

Every look is a staff action written to the audit log **before** anything of the account is read:
:func:`open_account` stores ``account.view`` (who, when, which account, the stated reason) and
only then does the caller read the account's dashboard (``dashboard.staff_view``, the same
composition the customer's own dashboard uses). Nothing here writes to the account: the view has
no forms, and the customer's handlers refuse staff sessions (``state/contract.py``), so a staff
member can never act as the customer.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gazportal.models import Account
from gazportal.models._base import stored_id
from gazportal.services import identity
from gazportal.services.audit import Actor, Change, audited
from gazportal.services.errors import AccountNotFound, InvalidInput
from gazportal.services.reviews import _reason as stated_reason

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Utility

ACTION = "account.view"


def open_account(engine: Engine, utility: "Utility", actor: Actor, number: Any, reason: Any, *,
                 now: datetime) -> int:
    """Record that ``actor`` (an operator or above) opens account ``number`` read-only for the
    stated ``reason`` (required, 2..500 characters; e.g. "customer on the phone about the bill"),
    and return the account's id.

    Raises FormErrors (``reason``), AccountNotFound (``errors.account_not_found``: no such
    account, or a number the profile does not write so), NotAllowed (not staff). Nothing is stored
    when it raises."""
    text = stated_reason(reason, required=True)
    try:
        norm = identity.normalize_account_number(utility, number)
    except InvalidInput:
        raise AccountNotFound() from None

    def write(s: Session) -> tuple[Change, int]:
        acc = s.exec(select(Account).where(Account.number == norm)).first()
        if acc is None:
            raise AccountNotFound()
        aid = stored_id(acc)
        return Change("account", str(aid), {}, {"number": norm, "read_only": True}), aid

    return audited(engine, actor, ACTION, write, reason=text, now=now)


__all__ = ["ACTION", "open_account"]
