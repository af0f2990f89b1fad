"""The address directory a customer picks an account's address from: branch -> settlement ->
street -> house -> flat, each level in natural order of its names (house 2 before house 10)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from gazportal.models import Branch, Flat, House, Settlement, Street
from gazportal.services.accounts._base import _natural
from gazportal.services.ids import as_id


@dataclass(frozen=True)
class Option:
    """One choice of the address picker: its id and what is shown."""

    id: int
    name: str


def _options(session: Session, model, label: str, parent=None, parent_id: Any = None) -> list[Option]:
    """One level of the directory: the children of ``parent_id`` (all rows when no parent), in
    natural order of their names; a bad parent id gives an empty list."""
    query = select(model)
    if parent is not None:
        pid = as_id(parent_id)
        if pid is None:
            return []
        query = query.where(parent == pid)
    rows = session.exec(query).all()
    return sorted((Option(r.id, getattr(r, label)) for r in rows), key=lambda o: _natural(o.name))


def branches(session: Session) -> list[Option]:
    """Every branch of the utility (the first level of the address picker)."""
    return _options(session, Branch, "name")


def settlements(session: Session, branch_id: Any) -> list[Option]:
    """The settlements of a branch ([] for a missing or malformed id); the same for the levels below."""
    return _options(session, Settlement, "name", Settlement.branch_id, branch_id)


def streets(session: Session, settlement_id: Any) -> list[Option]:
    """The streets of a settlement."""
    return _options(session, Street, "name", Street.settlement_id, settlement_id)


def houses(session: Session, street_id: Any) -> list[Option]:
    """The houses of a street, by number in natural order (2, 10, 10а)."""
    return _options(session, House, "number", House.street_id, street_id)


def flats(session: Session, house_id: Any) -> list[Option]:
    """The flats of a house ([] for a private house)."""
    return _options(session, Flat, "number", Flat.house_id, house_id)
