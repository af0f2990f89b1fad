"""What the parts of :mod:`gazportal.services.accounts` share: the customer, the accounts they
may see, the cards shown for them and a field-error helper. Private to the package."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from gazportal.models import Account, User, UserAccountLink
from gazportal.models._base import stored_id
from gazportal.services.errors import InvalidInput, NotFound, Notice
from gazportal.services.ids import as_id


@dataclass(frozen=True)
class AccountCard:
    """An account as the customer's list shows it."""

    id: int
    number: str
    holder_name: str
    address: str
    kind: str  # person | legal


# --------------------------------------------------------------------------- helpers


def _user(session: Session, user_id: Any) -> User:
    uid = as_id(user_id)
    user = session.get(User, uid) if uid is not None else None
    if user is None:
        raise NotFound("errors.not_found")
    return user


def _card(acc: Account) -> AccountCard:
    return AccountCard(id=stored_id(acc), number=acc.number, holder_name=acc.holder_name, address=acc.address,
                       kind=acc.kind)


def _visible(user: User):
    """A select of the accounts ``user`` may see."""
    if user.kind == "legal":
        if not user.bin:
            return select(Account).where(sa.false())
        return select(Account).where(Account.bin == user.bin)
    return (select(Account).join(UserAccountLink, col(UserAccountLink.account_id) == col(Account.id))
            .where(UserAccountLink.user_id == user.id))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _natural(text: str) -> tuple:
    """Sort key so that house 2 comes before house 10 and 10а after 10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
                 for p in re.split(r"(\d+)", text) if p)


def _field_error(fields: dict[str, Notice], name: str, fn, *args) -> Any:
    try:
        return fn(*args)
    except InvalidInput as e:
        fields[name] = Notice(e.key, dict(e.params))
        return None
