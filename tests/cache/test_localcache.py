from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cache.conftest import build_cache, unique_prefix
from tests.cache.contract import CacheContract
from torngas.cache import BaseCache
from torngas.cache.backends.localcache import LocalCache, LocMemCache

BACKEND = "torngas.cache.backends.localcache.LocMemCache"


class TestLocMemContract(CacheContract):
    @pytest.fixture
    def cache(self) -> Iterator[BaseCache]:
        self.location = unique_prefix()
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.clear()

    def make(self, **params: Any) -> BaseCache:
        return build_cache(BACKEND, getattr(self, "location", "x"), **params)

    def raw_set(self, cache: BaseCache, final_key: str, data: bytes) -> None:
        assert isinstance(cache, LocMemCache)
        with cache._lock:
            cache._cache[final_key] = (None, data)


def test_legacy_name_is_the_same_class() -> None:
    assert LocalCache is LocMemCache
    c = build_cache("torngas.cache.backends.localcache.LocalCache", "legacy")
    assert isinstance(c, LocMemCache)
    assert c.async_mode == "inline"


def test_same_location_shares_a_store_other_locations_do_not() -> None:
    a = build_cache(BACKEND, "shared-1")
    b = build_cache(BACKEND, "shared-1")
    other = build_cache(BACKEND, "shared-2")
    a.set("k", 1)
    assert b.get("k") == 1
    assert other.get("k") is None
    other.clear()
    assert a.get("k") == 1
    a.clear()


def test_bounded_lru_culling() -> None:
    c = build_cache(BACKEND, unique_prefix(), OPTIONS={"MAX_ENTRIES": 30, "CULL_FREQUENCY": 3})
    for i in range(30):
        c.set(i, i)
    c.get(0)  # 0 becomes the most recently used
    c.set("new", 1)  # full: the least recently used third goes
    assert isinstance(c, LocMemCache)
    assert len(c) == 21
    assert c.get(0) == 0 and c.get("new") == 1
    assert c.get(1) is None and c.get(10) is None and c.get(11) == 11
    for i in range(1000):
        c.set(f"x{i}", i)
        assert len(c) <= 30


def test_cull_frequency_zero_empties() -> None:
    c = build_cache(BACKEND, unique_prefix(), OPTIONS={"MAX_ENTRIES": 10, "CULL_FREQUENCY": 0})
    for i in range(10):
        c.set(i, i)
    c.set("one-more", 1)
    assert isinstance(c, LocMemCache)
    assert len(c) == 1


def test_expired_entries_are_culled_first() -> None:
    c = build_cache(BACKEND, unique_prefix(), OPTIONS={"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2})
    for i in range(5):
        c.set(f"old{i}", i)
    for i in range(5):
        c.set(f"short{i}", i, timeout=0.05)
    time.sleep(0.1)
    c.set("new", 1)
    assert c.get_many([f"old{i}" for i in range(5)]) == {f"old{i}": i for i in range(5)}


def test_threads_hammering_stay_consistent() -> None:
    c = build_cache(BACKEND, unique_prefix(), OPTIONS={"MAX_ENTRIES": 50})
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(500):
                c.set(f"{n}-{i}", i)
                c.get(f"{n}-{i - 1}")
                c.add(f"a{i % 7}", i)
                c.delete(f"{n}-{i - 3}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert isinstance(c, LocMemCache)
    assert len(c) <= 50
