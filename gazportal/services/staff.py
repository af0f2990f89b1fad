"""Staff users and their roles (issue 16 point 1).

Roles, each allowed what the ones before it are: ``operator`` (the inbox), ``supervisor``
(approves holder changes and reading corrections), ``admin`` (the audit log). A ``customer`` is not
staff and staff are not customers: the handler contract (``state/contract.py``) refuses customer
handlers to staff and staff handlers to customers, on the server.

Staff users are made by the command line (``python -m gazportal.cli staff add``) or by demo mode
(the demo operator, ``services/auth/demo.py``), never by registration; the creation is written to
the audit log. They sign in on the same /signin page, with a login as the profile spells logins
(an e-mail, a phone number or an account-number-shaped code) and a password under the profile's
policy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from gazportal.models import User
from gazportal.models._base import stored_id
from gazportal.services import identity, passwords
from gazportal.services.audit import CLI, Actor, Change, audited
from gazportal.services.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from gazportal.settings import Utility

CUSTOMER = "customer"
STAFF_ROLES = ("operator", "supervisor", "admin")
ROLES = (CUSTOMER, *STAFF_ROLES)
_RANK = {"operator": 1, "supervisor": 2, "admin": 3}


class LoginTaken(DomainError):
    key = "errors.staff_login_taken"


def is_staff(role: Any) -> bool:
    """True for a staff role (operator, supervisor, admin)."""
    return role in _RANK


def has_role(role: Any, needed: str) -> bool:
    """True when ``role`` is a staff role at least as high as ``needed`` (a staff role)."""
    return is_staff(role) and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class StaffUser:
    id: int
    login: str
    role: str


def add_staff(engine: "Engine", utility: "Utility", *, login: Any, password: Any, role: str, surname: str,
              name: str, email: str | None = None, language: str | None = None, now: datetime,
              actor: Actor = CLI) -> StaffUser:
    """Make a confirmed staff user with ``role`` (one of :data:`STAFF_ROLES`); written to the audit
    log as ``staff.add`` by ``actor`` (an admin; the command line by default).

    Raises InvalidInput (a login the profile does not take, ``errors.staff_role_invalid``, a
    password against the profile's policy) or :class:`LoginTaken` (the login, or a look-alike of
    it, belongs to someone)."""
    from gazportal.services.errors import InvalidInput

    if role not in STAFF_ROLES:
        raise InvalidInput("errors.staff_role_invalid")
    norm = identity.normalize_login(utility, login)
    passwords.check_password_policy(utility, password, related=(norm, surname, name))
    skeleton = identity.login_skeleton(norm)
    lang = language if language in utility.languages else utility.default_language
    password_hash = passwords.hash_password(password)

    def write(s: Session) -> tuple[Change, StaffUser]:
        if s.exec(select(User.id).where((User.login == norm) | (User.login_skeleton == skeleton))).first():
            raise LoginTaken()
        user = User(login=norm, login_skeleton=skeleton, email=email or (norm if "@" in norm else None),
                    surname=surname, name=name, role=role, password_hash=password_hash, is_active=True,
                    email_verified=bool(email or "@" in norm), language=lang, password_changed_at=now,
                    created_at=now)
        s.add(user)
        s.flush()
        out = StaffUser(id=stored_id(user), login=norm, role=role)
        return Change("user", str(out.id), {}, {"login": norm, "role": role}), out

    return audited(engine, actor, "staff.add", write, now=now, needs="admin")


__all__ = ["CUSTOMER", "LoginTaken", "ROLES", "STAFF_ROLES", "StaffUser", "add_staff", "has_role", "is_staff"]
