"""ALTCHA proof of work: solved challenges pass once; forged, expired, malformed and replayed fail."""
from __future__ import annotations

import base64
import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta

import altcha
import pytest

from gazportal.services import captcha
from test_auth_kit import make_settings

REDIS_URL = os.environ.get("GAZPORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _solve(ch, number=None):
    sol = altcha.solve_challenge_v1(ch["challenge"], ch["salt"], ch["algorithm"], ch["maxnumber"], 0)
    payload = {k: ch[k] for k in ("algorithm", "challenge", "salt", "signature")}
    payload["number"] = sol.number if number is None else number
    return payload


def _b64(payload) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


@pytest.fixture
def s(tmp_path):
    return make_settings(tmp_path)


def test_challenge_shape(s):
    ch = captcha.new_challenge(settings=s)
    assert ch["algorithm"] == "SHA-256" and ch["maxnumber"] == captcha.MAX_NUMBER
    assert "expires=" in ch["salt"] and len(ch["signature"]) == 64


def test_solution_passes_once(s):
    payload = _b64(_solve(captcha.new_challenge(settings=s, max_number=3000)))
    assert captcha.verify_solution(payload, settings=s)
    assert not captcha.verify_solution(payload, settings=s)  # replay


def test_replay_refused_across_workers_through_redis(s):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except Exception:
        if os.environ.get("GAZPORTAL_REQUIRE_PG"):  # the test command: every service must be there
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    rs = dataclasses.replace(s, redis_url=REDIS_URL)
    payload = _b64(_solve(captcha.new_challenge(settings=rs, max_number=3000)))
    assert captcha.verify_solution(payload, settings=rs)
    captcha._used.clear()  # another process: its memory knows nothing
    assert not captcha.verify_solution(payload, settings=rs)


def test_wrong_number_forged_signature_and_foreign_key(s, tmp_path):
    ch = captcha.new_challenge(settings=s, max_number=3000)
    good = _solve(ch)
    assert not captcha.verify_solution(_b64(good | {"number": good["number"] + 1}), settings=s)
    assert not captcha.verify_solution(_b64(good | {"signature": "0" * 64}), settings=s)
    other = dataclasses.replace(s, secret_key=b"another key of at least 32 bytes!!")
    assert not captcha.verify_solution(_b64(good), settings=other)
    # the expiry cannot be stretched: the salt is part of the signed challenge
    far = good | {"salt": good["salt"].split("?")[0] + "?expires=9999999999&"}
    assert not captcha.verify_solution(_b64(far), settings=s)
    # a challenge without an expiry (signed with our key) is refused too
    raw = altcha.create_challenge_v1(max_number=100, hmac_key=captcha._key(s)).to_dict()
    raw["maxnumber"] = raw["maxNumber"]
    assert not captcha.verify_solution(_b64(_solve(raw)), settings=s)


def test_expired(s):
    past = datetime.now(UTC) - timedelta(minutes=11)
    ch = captcha.new_challenge(settings=s, now=past, max_number=3000)
    assert not captcha.verify_solution(_b64(_solve(ch)), settings=s)
    fresh = captcha.new_challenge(settings=s, max_number=3000)
    assert not captcha.verify_solution(_b64(_solve(fresh)), settings=s, now=datetime.now(UTC) + timedelta(minutes=11))


@pytest.mark.parametrize("bad", [
    None, "", 5, 1.5, float("nan"), [], {}, b"x", "not base64!!", base64.b64encode(b"not json").decode(),
    base64.b64encode(b"[1,2]").decode(), base64.b64encode(b'{"algorithm":"SHA-256"}').decode(),
    "A" * 1_000_000,
    _b64({"algorithm": "MD5", "challenge": "a", "number": 1, "salt": "s?expires=9999999999&", "signature": "x"}),
    _b64({"algorithm": "SHA-256", "challenge": 5, "number": "1", "salt": [], "signature": None}),
    _b64({"algorithm": "SHA-256", "challenge": "a", "number": 1e30, "salt": "s?expires=x&", "signature": "x"}),
])
def test_malformed_refused(s, bad):
    assert captcha.verify_solution(bad, settings=s) is False
