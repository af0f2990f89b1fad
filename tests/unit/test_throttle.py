"""The one throttle (services/throttle.py) and the one id check (services/ids.py)."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from gazportal.db import read_session, write_session
from gazportal.services import throttle
from gazportal.services.errors import AccountNotFound, NotFound
from gazportal.services.ids import INT_MAX, as_id, require_id

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize("policy", [
    throttle.Policy(3, H), throttle.Policy(3, H, window=H), throttle.Policy(3, H, window=H, forget_on_lock=True),
])
def test_lock_after_n_failures_then_afresh(engine, policy):
    key = throttle.plain_key("test", 1)
    locked = []
    for _ in range(3):
        with write_session(engine) as s:
            row = throttle.row(s, key)
            assert throttle.check(row, policy, NOW) is None
            locked.append(throttle.fail(s, row, policy, NOW))
    assert locked == [False, False, True]
    with write_session(engine) as s:
        row = throttle.row(s, key)
        assert throttle.check(row, policy, NOW + timedelta(minutes=1)) == 59
        assert throttle.attempts_left(row, policy, NOW) == 0
        assert row.failures == (0 if policy.forget_on_lock else 3)
    with write_session(engine) as s:
        row = throttle.row(s, key)
        assert throttle.check(row, policy, NOW + H) is None and row.failures == 0
    with read_session(engine) as s:
        assert throttle.attempts_left(throttle.peek(s, key), policy, NOW + H) == 3
        assert throttle.attempts_left(throttle.peek(s, "missing"), policy, NOW) == 3


def test_window_forgets_old_failures(engine):
    policy = throttle.Policy(2, H, window=H)
    with write_session(engine) as s:
        row = throttle.row(s, "k")
        throttle.fail(s, row, policy, NOW)
    with write_session(engine) as s:
        row = throttle.row(s, "k")
        assert throttle.attempts_left(row, policy, NOW) == 1
        assert throttle.check(row, policy, NOW + H) is None and row.failures == 0
        assert throttle.fail(s, row, policy, NOW + H) is False


def test_rate_limit_window(engine):
    with write_session(engine) as s:
        row = throttle.row(s, "r")
        assert [throttle.count_in_window(s, row, 2, H, NOW) for _ in range(3)] == [None, None, 60]
        assert throttle.count_in_window(s, row, 2, H, NOW + H) is None


def test_one_id_check():
    for good in (1, 2**63 - 1):
        assert as_id(good) == good == require_id(good)
    for bad in (0, -1, 2**63, True, 1.0, "1", None, [1]):
        assert as_id(bad) is None
        with pytest.raises(NotFound):
            require_id(bad)
    assert as_id(INT_MAX + 1, max_id=INT_MAX) is None
    with pytest.raises(AccountNotFound):
        require_id("x", AccountNotFound)


# --- failures bound to their source: the parts (the attacks are in test_source_limits.py) -------


def test_a_source_is_its_device_hash_and_its_address():
    from test_auth_kit import make_settings

    s = make_settings(__import__("pathlib").Path("/tmp"))
    value = "A" * 43
    src = throttle.source(value, " 203.0.113.5 ", settings=s)
    assert src.address == "203.0.113.5" and len(src.device) == 64 and value not in src.device
    assert throttle.source(value, "x", settings=s).device == src.device  # the same browser
    # only the shape of ours is a device: anything else is no device at all
    for junk in (None, "", "short", "a" * 129, "абв" * 10, "a b" * 10, 5, ["a" * 43]):
        assert throttle.source(junk, "203.0.113.5", settings=s).device is None, junk
    assert throttle.source(value, None, settings=s).address == ""
    assert throttle.as_source("not a source") is throttle.ANONYMOUS
    # an IPv6 subscriber is its /64; IPv4 (also IPv4-mapped) is the address itself
    keys = {throttle.Source(address=a).address_key() for a in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9",
                                                                "[2001:db8:1:2::7]")}
    assert keys == {"2001:db8:1:2::/64"}
    assert throttle.Source(address="2001:db8:1:3::1").address_key() == "2001:db8:1:3::/64"
    assert throttle.Source(address="::ffff:198.51.100.4").address_key() == "198.51.100.4"
    assert throttle.Source(address="198.51.100.4").address_key() == "198.51.100.4"
    assert throttle.Source(address="unknown").address_key() == "unknown"


def test_limits_wait_doubles_up_to_the_longest():
    limits = throttle.Limits("t", free_failures=3, longest_wait=timedelta(minutes=15), captcha_after=3,
                             global_captcha_after=10, global_window=H)
    assert [limits.wait_after(n) for n in range(1, 9)] == [None, None] + [timedelta(minutes=m)
                                                                         for m in (1, 2, 4, 8, 15, 15)]
    assert limits.wait_after(10**6) == timedelta(minutes=15)
    for bad in (dict(free_failures=0), dict(longest_wait=timedelta(days=3)), dict(global_window=timedelta(days=3)),
                dict(longest_wait=timedelta(seconds=1))):
        with pytest.raises(ValueError):
            throttle.Limits(**({"scope": "t", "free_failures": 3, "longest_wait": timedelta(minutes=15),
                                "captcha_after": 3, "global_captcha_after": 10, "global_window": H} | bad))


def test_every_window_fits_in_what_the_purge_keeps():
    """A row is purged KEEP after its last failure: no use may remember failures longer."""
    import importlib
    import pkgutil

    import gazportal.services as services
    from gazportal.services.auth.sessions import sign_in_limits
    from gazportal.settings import load_utility

    found = []
    for info in pkgutil.walk_packages(services.__path__, "gazportal.services."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, (throttle.Policy, throttle.Limits)):
                found.append(value)
    for profile in ("default", "shygysenergotrade", "kremenchukgaz", "almaty_gas"):
        found.append(sign_in_limits(load_utility(profile)))
    assert len(found) >= 6
    for v in found:
        if isinstance(v, throttle.Policy):
            assert v.window is not None and v.window <= throttle.KEEP and v.lock <= throttle.KEEP, v
        else:
            assert max(v.memory, v.longest_wait, v.global_window) <= throttle.KEEP, v
    from gazportal.services import statements
    assert statements.WINDOW <= throttle.KEEP


def test_stale_rows_and_old_devices_are_purged_on_write(engine):
    """Issue 15 point 8: rows for every identifier ever tried are not kept forever."""
    from gazportal.models.auth import KnownDevice, LoginThrottle
    from gazportal.models.people import User

    old = NOW - throttle.KEEP - timedelta(minutes=1)
    with write_session(engine) as s:
        user = User(login="p@example.kz", password_hash="x", surname="P", name="P", kind="person", language="en",
                    is_active=True)
        s.add(user)
        s.flush()
        s.add_all([
            LoginThrottle(identifier_hash="stale", failures=3, last_failure_at=old),
            LoginThrottle(identifier_hash="stale-lock-over", failures=9, last_failure_at=old, locked_until=old),
            LoginThrottle(identifier_hash="never-failed", failures=0),
            LoginThrottle(identifier_hash="fresh", failures=1, last_failure_at=NOW - timedelta(hours=20)),
            LoginThrottle(identifier_hash="still-locked", failures=9, last_failure_at=old,
                          locked_until=NOW + timedelta(minutes=5)),
            KnownDevice(user_id=user.id, device_hash="o" * 64, first_seen_at=old - throttle.DEVICE_KEEP,
                        last_seen_at=NOW - throttle.DEVICE_KEEP - timedelta(days=1)),
            KnownDevice(user_id=user.id, device_hash="n" * 64, first_seen_at=old, last_seen_at=NOW - timedelta(days=30)),
        ])
    throttle._last_purge.pop(engine, None)
    limits = throttle.Limits("t", free_failures=3, longest_wait=timedelta(minutes=15), captcha_after=3,
                             global_captcha_after=10, global_window=H)
    with write_session(engine) as s:  # a failure counted: the purge runs as part of it
        verdict = throttle.admit(s, limits, "target", throttle.Source(address="192.0.2.1"), known=False,
                                 captcha=lambda: False, now=NOW)
        assert verdict.attempt is not None
    with read_session(engine) as s:
        left = {r.identifier_hash for r in s.exec(select(LoginThrottle)).all()}
        devices = {d.device_hash for d in s.exec(select(KnownDevice)).all()}
    assert {"fresh", "still-locked"} <= left
    assert not {"stale", "stale-lock-over", "never-failed"} & left
    assert len(left) == 5  # and the attempt's source, target and scope rows
    assert devices == {"n" * 64}
    # at most once every PURGE_EVERY seconds per database: a second write does not purge
    with write_session(engine) as s:
        s.add(LoginThrottle(identifier_hash="stale-2", failures=1, last_failure_at=old))
    with write_session(engine) as s:
        throttle.admit(s, limits, "target", throttle.Source(address="192.0.2.1"), known=False,
                       captcha=lambda: False, now=NOW)
    with read_session(engine) as s:
        assert s.exec(select(LoginThrottle).where(LoginThrottle.identifier_hash == "stale-2")).first() is not None
        assert throttle.purge(s, NOW) == 1


# --- what mutation testing found (docs/testing.md, "Mutation testing") ---------------------------


def test_peek_reads_the_row_of_its_identifier_only(engine):
    with write_session(engine) as s:
        s.add_all([throttle.LoginThrottle(identifier_hash="a", failures=1),
                   throttle.LoginThrottle(identifier_hash="b", failures=2)])
    with read_session(engine) as s:
        assert throttle.peek(s, "b").failures == 2 and throttle.peek(s, "a").failures == 1
        assert throttle.peek(s, "missing") is None


def test_row_creates_its_own_row_once_and_keeps_the_count(engine):
    with write_session(engine) as s:
        s.add(throttle.LoginThrottle(identifier_hash="other", failures=7))
    with write_session(engine) as s:
        r = throttle.row(s, "k", target_hash="t" * 64)
        assert (r.identifier_hash, r.failures, r.target_hash, r.locked_until) == ("k", 0, "t" * 64, None)
        r.failures = 4
        s.add(r)
    with write_session(engine) as s:  # the existing row, its count and target kept
        r = throttle.row(s, "k", target_hash="u" * 64)
        assert (r.identifier_hash, r.failures, r.target_hash) == ("k", 4, "t" * 64)
        assert throttle.row(s, "other").failures == 7


def test_minutes_left_are_whole_minutes_rounded_up_and_at_least_one():
    minute = timedelta(minutes=1)
    cases = {timedelta(0): 1, timedelta(seconds=1): 1, minute: 1, minute + timedelta(seconds=1): 2,
             2 * H: 120, 2 * H + timedelta(seconds=1): 121, -minute: 1}
    assert {d: throttle.minutes_left(NOW + d, NOW) for d in cases} == cases


def test_check_and_attempts_left_at_the_edges_of_the_lock_and_the_window():
    from gazportal.models.auth import LoginThrottle

    policy = throttle.Policy(3, H, window=2 * H)
    locked = LoginThrottle(identifier_hash="x", failures=3, last_failure_at=NOW, locked_until=NOW + H)
    assert throttle.attempts_left(locked, policy, NOW + H - timedelta(seconds=1)) == 0
    assert throttle.attempts_left(locked, policy, NOW + H) == 3  # the lock's last instant is over
    assert throttle.check(locked, policy, NOW + H - timedelta(seconds=1)) == 1 and locked.failures == 3
    assert throttle.check(locked, policy, NOW + H) is None
    assert (locked.failures, locked.locked_until) == (0, None)
    # the window: failures exactly `window` old are forgotten, a second younger are not
    recent = LoginThrottle(identifier_hash="y", failures=2, last_failure_at=NOW)
    assert throttle.attempts_left(recent, policy, NOW + 2 * H - timedelta(seconds=1)) == 1
    assert throttle.attempts_left(recent, policy, NOW + 2 * H) == 3
    assert throttle.check(recent, policy, NOW + 2 * H - timedelta(seconds=1)) is None and recent.failures == 2
    assert throttle.check(recent, policy, NOW + 2 * H) is None and recent.failures == 0
    # without a window nothing is forgotten; more failures than the limit leave 0, never less
    forever = throttle.Policy(3, H)
    old = LoginThrottle(identifier_hash="z", failures=2, last_failure_at=NOW - 100 * H)
    assert throttle.attempts_left(old, forever, NOW) == 1
    assert throttle.check(old, forever, NOW) is None and old.failures == 2
    assert throttle.attempts_left(LoginThrottle(identifier_hash="w", failures=5, last_failure_at=NOW),
                                  forever, NOW) == 0
    assert throttle.attempts_left(LoginThrottle(identifier_hash="v", failures=0), policy, NOW) == 3


def test_fail_counts_stamps_and_locks_for_the_policys_time(engine):
    policy = throttle.Policy(2, 3 * H, window=H)
    with write_session(engine) as s:
        r = throttle.row(s, "f")
        assert throttle.fail(s, r, policy, NOW) is False
        assert (r.failures, r.last_failure_at, r.locked_until) == (1, NOW, None)
        assert throttle.fail(s, r, policy, NOW + H / 2) is True
    with read_session(engine) as s:  # saved
        r = throttle.peek(s, "f")
        assert (r.failures, r.locked_until) == (2, (NOW + H / 2 + 3 * H).replace(tzinfo=r.locked_until.tzinfo))


def test_count_in_window_counts_to_its_limit_and_says_when_the_window_ends(engine):
    with write_session(engine) as s:
        r = throttle.row(s, "w")
        assert throttle.count_in_window(s, r, 3, 2 * H, NOW) is None
        assert (r.failures, r.last_failure_at) == (1, NOW)
        assert throttle.count_in_window(s, r, 3, 2 * H, NOW + H) is None
        assert throttle.count_in_window(s, r, 3, 2 * H, NOW + H) is None
        assert r.last_failure_at == NOW  # the window began with the first use
        assert throttle.count_in_window(s, r, 3, 2 * H, NOW + H + timedelta(seconds=30)) == 60
        assert r.failures == 3  # a refused use is not counted
        assert throttle.count_in_window(s, r, 3, 2 * H, NOW + 2 * H - timedelta(seconds=1)) == 1
        assert throttle.count_in_window(s, r, 3, 2 * H, NOW + 2 * H) is None  # a new window, exactly at its end
        assert (r.failures, r.last_failure_at) == (1, NOW + 2 * H)
    with read_session(engine) as s:  # saved
        assert throttle.peek(s, "w").failures == 1


def test_identifier_hashes_are_keyed_and_keep_scope_utility_and_value_apart():
    import hashlib
    import hmac

    from test_auth_kit import make_settings

    s = make_settings(__import__("pathlib").Path("/tmp"))
    h = throttle.identifier_hash(s, "default", "login", "a@example.org")
    assert h == hmac.new(s.secret_key, b"throttle:login\x00default:a@example.org", hashlib.sha256).hexdigest()
    assert len({h, throttle.identifier_hash(s, "other", "login", "a@example.org"),
                throttle.identifier_hash(s, "default", "proof", "a@example.org"),
                throttle.identifier_hash(s, "default", "login", "b@example.org")}) == 4
    assert throttle.plain_key("accounts.link", 5) == hashlib.sha256(b"accounts.link:5").hexdigest()
    value = "A" * 43
    assert throttle.device_hash(value, settings=s) == hmac.new(s.secret_key, b"device\x00" + value.encode(),
                                                               hashlib.sha256).hexdigest()


def test_device_values_are_22_to_128_url_safe_characters():
    for good in ("a" * 22, "Z" * 128, "aZ09_-" * 4):
        assert throttle.is_device_value(good), good
    for bad in ("a" * 21, "a" * 129, "a" * 21 + "=", "a" * 22 + "\n", "a" * 22 + ".", "a" * 22 + " "):
        assert not throttle.is_device_value(bad), bad


def test_an_address_is_cut_at_100_and_an_unparsed_key_at_64():
    src = throttle.source(None, "x" * 150, settings=None)
    assert src.address == "x" * 100 and src.device is None
    assert throttle.Source(address="y" * 80).address_key() == "y" * 64
    assert throttle.Source(address="").address_key() == ""


def test_limits_refuse_each_number_out_of_order():
    base = {"scope": "t", "free_failures": 1, "longest_wait": H, "captcha_after": 1, "global_captcha_after": 1,
            "global_window": H, "first_wait": H, "memory": H}
    throttle.Limits(**base)  # every bound met exactly: allowed
    throttle.Limits(**(base | {"memory": throttle.KEEP, "global_window": throttle.KEEP}))
    for bad in ({"free_failures": 0}, {"captcha_after": 0}, {"global_captcha_after": 0},
                {"first_wait": timedelta(0)}, {"first_wait": H + timedelta(seconds=1)},
                {"longest_wait": H + timedelta(seconds=1)},
                {"memory": throttle.KEEP + timedelta(seconds=1)}, {"global_window": timedelta(0)},
                {"global_window": throttle.KEEP + timedelta(seconds=1)}):
        with pytest.raises(ValueError):
            throttle.Limits(**(base | bad))
    # the default waits: one minute first, a day of memory
    limits = throttle.Limits("t", free_failures=1, longest_wait=H, captcha_after=1, global_captcha_after=1,
                             global_window=H)
    assert (limits.first_wait, limits.memory) == (timedelta(minutes=1), timedelta(hours=24))
    assert [limits.wait_after(n) for n in (0, 1, 2, 3, 7, 8)] == [None] + [timedelta(minutes=m)
                                                                         for m in (1, 2, 4, 60, 60)]


def test_the_holder_hears_at_the_threshold_times_ten_and_times_a_hundred():
    heard = [n for n in range(1, 400) if throttle._tenfold(n, 3)]
    assert heard == [30, 300]
    assert [n for n in range(1, 120) if throttle._tenfold(n, 1)] == [10, 100]


def test_forget_target_drops_the_targets_rows_and_its_sources_only(engine):
    from gazportal.models.auth import LoginThrottle

    limits = throttle.Limits("t", free_failures=1, longest_wait=H, captcha_after=5, global_captcha_after=50,
                             global_window=H)
    with write_session(engine) as s:
        for target, address in (("T", "192.0.2.1"), ("T", "192.0.2.2"), ("U", "192.0.2.1")):
            assert throttle.admit(s, limits, target, throttle.Source(address=address), known=False,
                                  captcha=lambda: False, now=NOW).attempt is not None
        # the same target in another scope is another target
        throttle.admit(s, throttle.Limits(**{**vars(limits), "scope": "other"}), "T",
                       throttle.Source(address="192.0.2.1"), known=False, captcha=lambda: False, now=NOW)

    def rows():
        with read_session(engine) as s:
            return {(r.identifier_hash, r.target_hash) for r in s.exec(select(LoginThrottle)).all()}

    before = rows()
    assert len(before) == 3 + 2 + 1 + 3  # T: 2 sources and its own; U: 1 and its own; the scope's; scope 'other'
    with write_session(engine) as s:
        throttle.forget_target(s, "t", "T")
    key = throttle.target_key("t", "T")
    gone = {r for r in before if key in r}
    assert len(gone) == 3 and rows() == before - gone
