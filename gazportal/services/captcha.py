"""ALTCHA proof-of-work CAPTCHA (Python ``altcha``, protocol v1 as the ``altcha`` widget speaks).

:func:`new_challenge` gives the JSON the widget fetches; the widget solves it in the browser and
sends back a base64 payload that :func:`verify_solution` checks: signature (HMAC keyed with a key
derived from ``settings.secret_key``), expiry (10 minutes) and single use. Used challenges are
remembered until they expire: in Redis when ``settings.redis_url`` is set (shared by all
workers), else in this process.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

import altcha

if TYPE_CHECKING:  # pragma: no cover
    from altcha.v1 import PayloadType

    from gazportal.settings import Settings

log = logging.getLogger("gazportal.captcha")

ALGORITHM: Final = "SHA-256"
MAX_NUMBER = 100_000  # a second or two in a phone's browser
TTL = timedelta(minutes=10)
MAX_PAYLOAD = 4096

_used: dict[str, float] = {}
_used_lock = threading.Lock()


def _settings(settings: "Settings | None") -> "Settings":
    if settings is not None:
        return settings
    from gazportal.settings import get_settings

    return get_settings()


def _key(settings: "Settings") -> str:
    return hmac.new(settings.secret_key, b"gazportal altcha v1", hashlib.sha256).hexdigest()


def new_challenge(*, settings: "Settings | None" = None, now: datetime | None = None,
                  max_number: int = MAX_NUMBER) -> dict:
    """A fresh challenge as the widget expects it (``algorithm, challenge, maxnumber, salt,
    signature``), valid for 10 minutes."""
    s = _settings(settings)
    expires = (now or datetime.now(UTC)) + TTL
    ch = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(
        algorithm=ALGORITHM, max_number=max_number, hmac_key=_key(s), expires=expires,
    ))
    data = ch.to_dict()
    data.setdefault("maxnumber", data.get("maxNumber", max_number))  # both spellings are read
    return data


def _remember(signature: str, expires_at: float, settings: "Settings") -> bool:
    """True the first time a challenge is presented, False on a replay."""
    ttl = max(1, int(expires_at - time.time()) + 1)
    if settings.redis_url:
        try:
            import redis

            client = redis.Redis.from_url(settings.redis_url, socket_timeout=3)
            return bool(client.set(f"gazportal:altcha:{signature}", b"1", nx=True, ex=ttl))
        except Exception as e:  # fall back to this process rather than fail open
            log.warning("altcha replay store: Redis unavailable (%s); using process memory", e)
    with _used_lock:
        now = time.time()
        for sig, until in list(_used.items()):
            if until < now:
                del _used[sig]
        if signature in _used:
            return False
        _used[signature] = now + ttl
        return True


def verify_solution(payload: Any, *, settings: "Settings | None" = None, now: datetime | None = None) -> bool:
    """True only for a correctly solved, unexpired challenge of ours that was not used before."""
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
        return False
    s = _settings(settings)
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError):
        return False
    if not isinstance(data, dict):
        return False
    fields = ("algorithm", "challenge", "number", "salt", "signature")
    if any(f not in data for f in fields):
        return False
    if data["algorithm"] != ALGORITHM or not all(isinstance(data[f], str) for f in fields if f != "number"):
        return False
    number = data["number"]
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 10**9:
        return False
    solution = cast("PayloadType", data)  # its five fields and their types were checked just above
    try:
        expires = altcha.extract_params_v1(solution).get("expires")
        expires_at = float(int(expires[0])) if expires else None
    except (ValueError, TypeError, IndexError):
        return False
    moment = (now or datetime.now(UTC)).timestamp()
    if expires_at is None or expires_at < moment:
        return False  # every challenge of ours expires
    try:
        ok, _err = altcha.verify_solution_v1(solution, _key(s), check_expires=False)
    except Exception:  # noqa: BLE001 - malformed input must never escape as a 500
        return False
    if not ok:
        return False
    return _remember(data["signature"], expires_at, s)
