from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.cache.conftest import build_cache, unique_prefix
from tests.cache.contract import KeyContract
from torngas.cache import BaseCache

BACKEND = "torngas.cache.backends.dummy.DummyCache"


class TestDummyKeys(KeyContract):
    @pytest.fixture
    def cache(self) -> BaseCache:
        return self.make(KEY_PREFIX=unique_prefix())

    def make(self, **params: Any) -> BaseCache:
        return build_cache(BACKEND, "", **params)


def test_stores_nothing() -> None:
    c = build_cache(BACKEND, "")
    c.set("k", 1)
    assert c.get("k") is None and c.get("k", "d") == "d"
    assert c.add("k", 1) is True
    assert c.get_many(["k"]) == {}
    assert c.set_many({"a": 1}) == []
    assert c.has_key("k") is False
    assert c.delete("k") is False
    assert c.touch("k") is False
    assert c.get_or_set("k", lambda: 5) == 5
    with pytest.raises(ValueError):
        c.incr("k")
    with pytest.raises(ValueError):
        c.decr("k")
    c.delete_many(["a"])
    c.clear()
    c.close()


def test_async_twins() -> None:
    c = build_cache(BACKEND, "")

    async def go() -> None:
        await c.aset("k", 1)
        assert await c.aget("k", "d") == "d"
        assert await c.aadd("k", 1) is True
        assert await c.aget_or_set("k", 3) == 3
        with pytest.raises(ValueError):
            await c.aincr("k")

    asyncio.run(go())
