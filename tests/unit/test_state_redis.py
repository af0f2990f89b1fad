"""The portal's Reflex state lives in Redis when REFLEX_REDIS_URL is set (several workers share
it): our state round-trips through the real Redis state manager on 127.0.0.1:6379, a second
manager (another worker) sees what the first wrote, and locking serialises concurrent events."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis.asyncio as aioredis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.state import State

from gazportal.state.i18n import I18nState

REDIS_URL = os.environ.get("GAZPORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


async def _manager() -> StateManagerRedis:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        if os.environ.get("GAZPORTAL_REQUIRE_PG"):  # the test command: every service must be there
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return StateManagerRedis(redis=client)


def _token(ident: str):
    return BaseStateToken(ident=ident, cls=State)


async def test_language_choice_is_shared_between_workers_through_redis():
    ident = str(uuid.uuid4())
    first, second = await _manager(), await _manager()
    try:
        async with first.modify_state(_token(ident)) as root:
            i18n = await root.get_state(I18nState)
            await i18n.set_language("ru")
            await i18n.set_language({"$ne": 1})  # junk from a browser changes nothing
        # What the second worker reads comes from Redis, not from the first one's memory.
        root2 = await second.get_state(_token(ident))
        i18n2 = await root2.get_state(I18nState)
        assert i18n2.lang_pref == "ru" and i18n2.lang == "ru"
        assert i18n2.t["lang.switch_label"]  # messages computed for the stored language
        raw_keys = await second.redis.keys(f"{ident}*")
        assert raw_keys, "the state was not written to Redis"
    finally:
        await first.redis.delete(*await first.redis.keys(f"{ident}*"))
        await first.close()
        await second.close()


async def test_concurrent_events_on_one_token_are_serialised():
    ident = str(uuid.uuid4())
    managers = [await _manager() for _ in range(3)]
    order: list[str] = []

    async def event(m, lang):
        async with m.modify_state(_token(ident)) as root:
            i18n = await root.get_state(I18nState)
            order.append(f"start {lang}")
            await asyncio.sleep(0.05)
            await i18n.set_language(lang)
            order.append(f"end {lang}")

    try:
        await asyncio.gather(*(event(m, lang) for m, lang in zip(managers, ("ru", "kk", "uk"))))
        # No event started while another held the lock.
        assert all(order[i].startswith("start") and order[i + 1].startswith("end") for i in range(0, 6, 2))
        last = order[-1].split()[1]
        root = await managers[0].get_state(_token(ident))
        assert (await root.get_state(I18nState)).lang_pref == last
    finally:
        await managers[0].redis.delete(*await managers[0].redis.keys(f"{ident}*"))
        for m in managers:
            await m.close()
