"""The one throttle (services/throttle.py) and the one id check (services/ids.py)."""
from datetime import UTC, datetime, timedelta

import pytest

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
