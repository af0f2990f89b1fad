"""The one throttle: counted failures, waits and CAPTCHA requirements, in ``login_throttle``.

Two layers over one table, each use with its own scope and numbers (so counters never mix):

* **Counters per identifier** (:class:`Policy`, :func:`row`, :func:`check`, :func:`fail`,
  :func:`count_in_window`): a plain limit on what one signed-in customer does — adding an
  account, the statement e-mails' hourly limit.
* **Failures bound to their source** (:class:`Limits`, :func:`admit`, :func:`succeeded`): for
  what a stranger can try against someone else's login or account number (sign-in, the
  registration proof). Who is trying is a :class:`Source` (the device cookie and the client
  address). Failures count per (target, source): after ``free_failures`` that source waits, 1
  minute doubling with each further failure up to ``longest_wait`` — nobody else waits. Failures
  from sources that are not a known device of the holder also count per target and per scope:
  past ``captcha_after`` on the target (or ``global_captcha_after`` in the scope within
  ``global_window``) such sources must solve the CAPTCHA first; the holder's known devices never
  do, and the right answer with the CAPTCHA solved is never refused. An attempt is counted
  *before* its check (parallel attempts cannot overtake the count) and given back when it
  succeeds: a right password or proof never counts. The first time a target passes
  ``captcha_after`` in an episode (failures less than ``memory`` apart), the caller is told to
  notify the holder. Rule from: issue 15 point 2; OWASP ASVS 5 V6.3 (anti-automation that cannot
  lock the holder out); OWASP "Slow Down Online Guessing Attacks with Device Cookies".

A row is created when missing and locked for the caller's transaction (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite writes start with ``BEGIN IMMEDIATE``), always in the order source → target →
scope. Rows that hold no lock and whose last failure is older than :data:`KEEP` (longer than any
window here) are deleted as counting goes on (:func:`purge`, at most every :data:`PURGE_EVERY`
per process), as are known devices not seen for :data:`DEVICE_KEEP`.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from gazportal.db import is_sqlite
from gazportal.models._base import table_of
from gazportal.models.auth import KnownDevice, LoginThrottle

if TYPE_CHECKING:  # pragma: no cover
    from gazportal.settings import Settings

KEEP = timedelta(days=2)  # longer than every window and memory of every use (test_throttle checks it)
DEVICE_KEEP = timedelta(days=400)  # the device cookie's life (browsers cap cookies at 400 days)
PURGE_EVERY = 600.0  # seconds between two purges in one process


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


def row(session: Session, identifier_hash: str, *, target_hash: str | None = None) -> LoginThrottle:
    """The row for ``identifier_hash`` (≤ 64 characters), created if missing (with
    ``target_hash``), locked for this transaction."""
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(insert(table_of(LoginThrottle))
                    .values(identifier_hash=identifier_hash, target_hash=target_hash, failures=0)
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


def identifier_hash(settings: "Settings", utility_id: str, scope: str, value: str) -> str:
    """A row identifier (or a :func:`admit` target) for a value a stranger types — a login, an
    account number: HMAC-SHA256 with the secret key of ``scope`` and ``utility_id:value``, hex
    (the database never holds the value itself)."""
    return hmac.new(settings.secret_key, f"throttle:{scope}\x00{utility_id}:{value}".encode(),
                    hashlib.sha256).hexdigest()


# --- who is trying ------------------------------------------------------------------------------

_DEVICE_VALUE = re.compile(r"[A-Za-z0-9_-]{22,128}")  # token_urlsafe of at least 128 bits


@dataclass(frozen=True)
class Source:
    """Who is trying: ``device`` — the HMAC (hex) of the browser's device cookie, None without
    one — and ``address``, the client address as the web layer's one rule found it ('' unknown).
    Made by :func:`source`; :data:`ANONYMOUS` for callers that know neither (the CLI, tests)."""

    device: str | None = None
    address: str = ""

    def address_key(self) -> str:
        """The address as a counter sees it: an IPv4 address as it is, an IPv6 address by its
        /64 (what one subscriber line gets, RFC 6177), anything else as given (at most 64)."""
        try:
            ip = ipaddress.ip_address(self.address.strip("[]"))
        except ValueError:
            return self.address[:64]
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                return str(ip.ipv4_mapped)
            return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
        return str(ip)


ANONYMOUS = Source()


def is_device_value(value: Any) -> bool:
    """Whether ``value`` has the shape of a device cookie's value (random url-safe text of
    22–128 characters)."""
    return isinstance(value, str) and _DEVICE_VALUE.fullmatch(value) is not None


def device_hash(value: Any, *, settings: "Settings | None" = None) -> str | None:
    """What the database keeps of a device cookie's value (HMAC-SHA256 with the secret key, hex);
    None for a value that is not the shape of ours (:func:`is_device_value`)."""
    if not is_device_value(value):
        return None
    if settings is None:
        from gazportal.settings import get_settings

        settings = get_settings()
    return hmac.new(settings.secret_key, b"device\x00" + value.encode(), hashlib.sha256).hexdigest()


def source(device_cookie: Any, address: Any, *, settings: "Settings | None" = None) -> Source:
    """The :class:`Source` of a request: its device cookie's value (or None) and its address."""
    addr = address.strip()[:100] if isinstance(address, str) else ""
    return Source(device=device_hash(device_cookie, settings=settings), address=addr)


def as_source(value: Any) -> Source:
    """``value`` when it is a :class:`Source`, else :data:`ANONYMOUS` (what a service does with
    garbage)."""
    return value if isinstance(value, Source) else ANONYMOUS


def is_known_device(session: Session, user_ids: Any, src: Source) -> bool:
    """True when ``src``'s device signed in as one of ``user_ids`` (an id or a list) before."""
    ids = [user_ids] if isinstance(user_ids, int) else list(user_ids)
    if src.device is None or not ids:
        return False
    return session.exec(select(KnownDevice.id).where(
        col(KnownDevice.user_id).in_(ids), KnownDevice.device_hash == src.device).limit(1)).first() is not None


def remember_device(session: Session, user_id: int, src: Source, now: datetime) -> None:
    """Record that ``src``'s device signed in as ``user_id`` (nothing without a device cookie)."""
    if src.device is None:
        return
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    stmt = insert(table_of(KnownDevice)).values(user_id=user_id, device_hash=src.device, first_seen_at=now,
                                                last_seen_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["user_id", "device_hash"],
                                               set_={"last_seen_at": now}))


# --- failures bound to their source -------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The numbers of one use (sign-in, the registration proof); see the module's text.

    ``free_failures`` per (target, source) before the source waits ``first_wait``, doubling with
    each further failure up to ``longest_wait``; ``captcha_after`` failures from unknown sources
    on one target, or ``global_captcha_after`` in the whole ``scope`` within ``global_window``,
    make the CAPTCHA required from unknown sources; failures further apart than ``memory`` start
    an episode afresh."""

    scope: str
    free_failures: int
    longest_wait: timedelta
    captcha_after: int
    global_captcha_after: int
    global_window: timedelta
    first_wait: timedelta = timedelta(minutes=1)
    memory: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if min(self.free_failures, self.captcha_after, self.global_captcha_after) < 1:
            raise ValueError("limits count from 1")
        if not timedelta(0) < self.first_wait <= self.longest_wait <= self.memory <= KEEP:
            raise ValueError("first_wait <= longest_wait <= memory <= KEEP")
        if not timedelta(0) < self.global_window <= KEEP:
            raise ValueError("global_window <= KEEP")

    def wait_after(self, failures: int) -> timedelta | None:
        """How long a source waits after its ``failures``-th failure (None: not at all)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 40)
        return min(self.longest_wait, self.first_wait * (2 ** doublings))


@dataclass(frozen=True)
class Attempt:
    """An attempt :func:`admit` let through, already counted as a failure. If it succeeds, the
    caller gives the count back with :func:`succeeded`; a failure needs nothing more."""

    limits: Limits
    source_key: str
    target_key: str
    known: bool  # from a known device of the holder: not counted on the target or the scope
    told: bool  # this attempt opened the episode's notice (given back if it succeeds)


@dataclass(frozen=True)
class Verdict:
    """What :func:`admit` decided. ``attempt`` is None when the attempt may not be made now:
    ``wait`` (the source must wait this long) or ``captcha`` (required, not solved). Else
    ``wait_if_failed``: the wait this attempt starts if it fails; ``tell_holder``: it opened an
    episode of failures on the target — if it fails, notify the holder (once per episode)."""

    attempt: Attempt | None
    wait: timedelta | None = None
    captcha: bool = False
    wait_if_failed: timedelta | None = None
    tell_holder: bool = False
    failures: int = 0  # the target's failures in this episode, this attempt's included (for the notice)


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(("abuse",) + parts).encode()).hexdigest()


def target_key(scope: str, target: str) -> str:
    """The identifier of a target's row (``target``: a hash the caller made of a login or an
    account number)."""
    return _key(scope, "target", target)


def _source_key(scope: str, target: str, src: Source, known: bool) -> str:
    who = ("device", src.device or "") if known else ("address", src.address_key())
    return _key(scope, "source", target, *who)


def _global_key(scope: str) -> str:
    return _key(scope, "global")


def _fresh(r: LoginThrottle, memory: timedelta, now: datetime) -> None:
    """Forget what is older than ``memory`` (the row is changed, not saved)."""
    if r.last_failure_at is not None and now - r.last_failure_at >= memory:
        r.failures, r.locked_until, r.notified_at = 0, None, None


def admit(session: Session, limits: Limits, target: str, src: Source, *, known: bool,
          captcha: Callable[[], bool], now: datetime) -> Verdict:
    """May ``src`` make an attempt on ``target`` now? In the caller's write transaction.

    ``known``: ``src`` is a known device of the target's holder (:func:`is_known_device`): its
    failures count only for itself and it never needs the CAPTCHA. ``captcha``: checks the
    solution the attempt carries (called only when one is required; a solution is single use).
    A let-through attempt is counted as a failure at once (see :class:`Verdict`)."""
    _maybe_purge(session, now)
    tkey = target_key(limits.scope, target)
    skey = _source_key(limits.scope, target, src, known)
    mine = row(session, skey, target_hash=tkey)
    _fresh(mine, limits.memory, now)
    if mine.locked_until is not None and now < mine.locked_until:
        return Verdict(None, wait=mine.locked_until - now)
    whole = everyone = None
    if not known:
        whole = row(session, tkey)
        _fresh(whole, limits.memory, now)
        everyone = row(session, _global_key(limits.scope))
        if everyone.last_failure_at is None or now - everyone.last_failure_at >= limits.global_window:
            everyone.failures, everyone.last_failure_at = 0, now  # a new window begins
        crowded = whole.failures >= limits.captcha_after or everyone.failures >= limits.global_captcha_after
        if crowded and not captcha():
            return Verdict(None, captcha=True)
    # counted before the check: parallel attempts cannot overtake it
    mine.failures += 1
    mine.last_failure_at = now
    wait = limits.wait_after(mine.failures)
    mine.locked_until = now + wait if wait is not None else None
    session.add(mine)
    told = False
    if whole is not None and everyone is not None:
        whole.failures += 1
        whole.last_failure_at = now
        if whole.failures >= limits.captcha_after and (whole.notified_at is None
                                                       or _tenfold(whole.failures, limits.captcha_after)):
            whole.notified_at, told = now, True
        everyone.failures += 1
        session.add(whole)
        session.add(everyone)
    return Verdict(Attempt(limits, skey, tkey, known, told), wait_if_failed=wait, tell_holder=told,
                   failures=whole.failures if whole is not None else 0)


def _tenfold(failures: int, first: int) -> bool:
    """The holder hears again when the guessing grows tenfold: at ``first`` × 10, × 100, ...
    (``first`` ≥ 1: ``failures`` is ``first`` × 10 × a power of ten)."""
    tens, rest = divmod(failures, first * 10)
    return rest == 0 and tens >= 1 and tens == 10 ** (len(str(tens)) - 1)


def succeeded(session: Session, attempt: Attempt) -> None:
    """The attempt was right: its source's failures end, and its count on the target and the
    scope is given back (a right password or proof never counts as abuse)."""
    session.execute(sa.delete(LoginThrottle).where(col(LoginThrottle.identifier_hash) == attempt.source_key))
    if attempt.known:
        return
    for key in (attempt.target_key, _global_key(attempt.limits.scope)):
        values: dict[str, Any] = {"failures": sa.case((col(LoginThrottle.failures) > 0,
                                                       col(LoginThrottle.failures) - 1), else_=0)}
        if attempt.told and key == attempt.target_key:
            values["notified_at"] = None
        session.execute(sa.update(LoginThrottle).where(col(LoginThrottle.identifier_hash) == key).values(**values))


def forget_target(session: Session, scope: str, target: str) -> None:
    """Forget every failure on ``target`` — each source's wait and the target's own count (a
    recovery proved the holder and replaced what was being guessed: the episode is over)."""
    key = target_key(scope, target)
    session.execute(sa.delete(LoginThrottle).where(
        sa.or_(col(LoginThrottle.target_hash) == key, col(LoginThrottle.identifier_hash) == key)))


# --- housekeeping -------------------------------------------------------------------------------

_last_purge: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()


def purge(session: Session, now: datetime) -> int:
    """Delete throttle rows that hold no lock and whose last failure (or window start) is older
    than :data:`KEEP` or missing, and known devices not seen for :data:`DEVICE_KEEP`. Rows another
    transaction holds are skipped (PostgreSQL ``SKIP LOCKED``), never waited for. Returns how many
    throttle rows went."""
    t = LoginThrottle
    stale = select(t.id).where(
        sa.or_(col(t.locked_until).is_(None), col(t.locked_until) <= now),
        sa.or_(col(t.last_failure_at).is_(None), col(t.last_failure_at) < now - KEEP),
    ).limit(10_000)
    if not is_sqlite(session):
        stale = stale.with_for_update(skip_locked=True)
    gone = session.exec(sa.delete(t).where(col(t.id).in_(stale.scalar_subquery())))
    devices = select(KnownDevice.id).where(col(KnownDevice.last_seen_at) < now - DEVICE_KEEP).limit(10_000)
    if not is_sqlite(session):
        devices = devices.with_for_update(skip_locked=True)
    session.execute(sa.delete(KnownDevice).where(col(KnownDevice.id).in_(devices.scalar_subquery())))
    return gone.rowcount or 0


def _maybe_purge(session: Session, now: datetime) -> None:
    """:func:`purge` as part of a write, at most every :data:`PURGE_EVERY` seconds per process and
    database."""
    engine = session.get_bind()
    engine = getattr(engine, "engine", engine)
    moment = time.monotonic()
    last = _last_purge.get(engine)
    if last is not None and moment - last < PURGE_EVERY:
        return
    _last_purge[engine] = moment
    purge(session, now)
