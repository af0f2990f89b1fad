"""The one throttle: counted failures and time-bound locks per identifier, in ``login_throttle``.

Every lockout of the portal uses it, each with its own :class:`Policy` and its own identifier
(so the counters never mix): sign-in per login (:data:`SIGN_IN` is made from the profile's
``max_failed_logins`` / ``lockout_minutes``), the registration proof per account number, adding
an account per customer, and the statement e-mails' hourly limit (:func:`count_in_window`).

A row is created when missing and locked for the caller's transaction (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite writes start with ``BEGIN IMMEDIATE``), so parallel attempts cannot slip past
a limit: count a failure *before* the costly check when the check itself is what is guessed.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from gazportal.db import is_sqlite
from gazportal.models._base import table_of
from gazportal.models.auth import LoginThrottle


@dataclass(frozen=True)
class Policy:
    """How many failures lock, for how long, and when old failures are forgotten.

    ``window``: failures further apart than this start the count afresh (None: never forgotten
    until a success or the end of a lock). ``forget_on_lock``: the count restarts at 0 as soon
    as the lock is set (otherwise it stays at ``max_failures`` until the lock ends)."""

    max_failures: int
    lock: timedelta
    window: timedelta | None = None
    forget_on_lock: bool = False


def plain_key(scope: str, value: object) -> str:
    """A row identifier for a non-secret value (a user id): sha256 of ``scope:value``, hex."""
    return hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


def row(session: Session, identifier_hash: str) -> LoginThrottle:
    """The row for ``identifier_hash`` (≤ 64 characters), created if missing, locked for this
    transaction."""
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(insert(table_of(LoginThrottle)).values(identifier_hash=identifier_hash, failures=0)
                    .on_conflict_do_nothing(index_elements=["identifier_hash"]))
    stmt = select(LoginThrottle).where(LoginThrottle.identifier_hash == identifier_hash)
    if not is_sqlite(session):
        stmt = stmt.with_for_update()
    return session.exec(stmt.execution_options(populate_existing=True)).one()


def peek(session: Session, identifier_hash: str) -> LoginThrottle | None:
    """The row without creating or locking it (for "attempts left")."""
    return session.exec(select(LoginThrottle).where(LoginThrottle.identifier_hash == identifier_hash)).first()


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes until ``until``, at least 1 (what a lock message says)."""
    return max(1, math.ceil((until - now).total_seconds() / 60))


def check(r: LoginThrottle, policy: Policy, now: datetime) -> int | None:
    """Minutes the lock still holds, or None when an attempt may be made. An ended lock and,
    with a window, failures older than it are cleared (the row is changed, not saved)."""
    if r.locked_until is not None:
        if now < r.locked_until:
            return minutes_left(r.locked_until, now)
        r.failures, r.locked_until = 0, None
    if policy.window is not None and r.last_failure_at is not None and now - r.last_failure_at >= policy.window:
        r.failures = 0
    return None


def fail(session: Session, r: LoginThrottle, policy: Policy, now: datetime) -> bool:
    """Count one failure (after :func:`check`); True when this one set the lock."""
    r.failures += 1
    r.last_failure_at = now
    locked = r.failures >= policy.max_failures
    if locked:
        r.locked_until = now + policy.lock
        if policy.forget_on_lock:
            r.failures = 0
    session.add(r)
    return locked


def clear(session: Session, r: LoginThrottle) -> None:
    """A success (or a recovery): no failures, no lock."""
    r.failures = 0
    r.locked_until = None
    session.add(r)


def attempts_left(r: LoginThrottle | None, policy: Policy, now: datetime) -> int:
    """How many failures may still be made before the lock (0 while locked)."""
    if r is None:
        return policy.max_failures
    if r.locked_until is not None:
        return 0 if now < r.locked_until else policy.max_failures
    if policy.window is not None and r.last_failure_at is not None and now - r.last_failure_at >= policy.window:
        return policy.max_failures
    return max(0, policy.max_failures - r.failures)


def count_in_window(session: Session, r: LoginThrottle, limit: int, window: timedelta, now: datetime) -> int | None:
    """A rate limit: count one use in the window that began at ``last_failure_at`` (a new window
    begins when it has passed). Returns None when counted, or the minutes until the window ends
    when ``limit`` uses are already counted (nothing counted then)."""
    if r.last_failure_at is None or now - r.last_failure_at >= window:
        r.failures, r.last_failure_at = 0, now
    if r.failures >= limit:
        return minutes_left(r.last_failure_at + window, now)
    r.failures += 1
    session.add(r)
    return None
