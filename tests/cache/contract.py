"""The cache contract, written once and run per backend (Django's BaseCacheTests idea).

A backend's test module subclasses :class:`KeyContract` (every backend, the dummy
included) or :class:`CacheContract` (backends that store) and provides:

* a ``cache`` fixture: a fresh instance with its own ``KEY_PREFIX``;
* ``make(**params)``: another instance on the same store with other params;
* ``raw_set(cache, final_key, data)``: write raw bytes under a final key
  (to test what happens with a payload the serializer did not write).
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import logging
import threading
import time
import uuid
from typing import Any

import pytest

from tests.services import wait_until
from torngas.cache import DEFAULT_TIMEOUT, BaseCache, InvalidCacheKey

UTC = datetime.UTC

VALUES: list[Any] = [
    "text",
    "ünïcødé ✓",
    "",
    "42",
    "-7",
    "S",
    "J{}",
    b"bytes\x00\xff",
    b"",
    b"42",
    0,
    1,
    -1,
    2**63 - 1,
    -(2**63),
    2**80,
    -(2**70),
    1.5,
    -0.0,
    1e300,
    True,
    False,
    None,
    [],
    [1, "a", None, [2.5]],
    {},
    {"a": 1, "b": [1, 2], "c": {"d": None}},
    {1: "int key", (1, 2): "tuple key"},
    {"\x00b": "looks like a tag"},
    (1, "two"),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
    datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime.date(2024, 2, 29),
    datetime.timedelta(days=1, seconds=2),
    decimal.Decimal("1.10"),
    uuid.UUID(int=7),
    {1, 2, 3},
]


def arun(cache: BaseCache, fn: Any) -> Any:
    """Run ``fn()`` (a coroutine function) in a fresh loop; close its async connections."""

    async def main() -> Any:
        try:
            return await fn()
        finally:
            await cache.adisconnect()

    return asyncio.run(main())


BAD_KEYS = [
    "x" * 251,  # too long (with the prefix, even more so)
    "with space",
    "tab\tkey",
    "newline\nkey",
    "nul\x00key",
    "del\x7fkey",
]


class KeyContract:
    """Key making and validation: identical on every backend."""

    cache: BaseCache

    def make(self, **params: Any) -> BaseCache:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_make_key_default_function(self, cache: BaseCache) -> None:
        c = self.make(KEY_PREFIX="pre", VERSION=3)
        assert c.make_key("k") == "pre:3:k"
        assert c.make_key("k", version=5) == "pre:5:k"

    def test_key_function_dotted_path(self, cache: BaseCache) -> None:
        c = self.make(KEY_FUNCTION="tests.cache.contract.reversed_key", KEY_PREFIX="p")
        assert c.make_key("abc") == "cba|p|1"

    @pytest.mark.parametrize("bad", BAD_KEYS, ids=["long", "space", "tab", "nl", "nul", "del"])
    def test_invalid_keys_raise_everywhere(self, cache: BaseCache, bad: str) -> None:
        calls = [
            lambda: cache.get(bad),
            lambda: cache.set(bad, 1),
            lambda: cache.add(bad, 1),
            lambda: cache.delete(bad),
            lambda: cache.has_key(bad),
            lambda: cache.incr(bad),
            lambda: cache.touch(bad),
            lambda: cache.get_many(["ok", bad]),
            lambda: cache.set_many({"ok": 1, bad: 2}),
            lambda: cache.delete_many(["ok", bad]),
            lambda: cache.get_or_set(bad, 1),
        ]
        for call in calls:
            with pytest.raises(InvalidCacheKey):
                call()
        with pytest.raises(ValueError):  # InvalidCacheKey is a ValueError
            cache.get(bad)
        # nothing was stored by the failed set_many (validation happens before sending)
        assert cache.get("ok") is None

    def test_invalid_key_async(self, cache: BaseCache) -> None:
        async def go() -> None:
            with pytest.raises(InvalidCacheKey):
                await cache.aset("a b", 1)
            with pytest.raises(InvalidCacheKey):
                await cache.aget("a\nb")

        arun(cache, go)

    def test_longest_valid_key(self, cache: BaseCache) -> None:
        room = 250 - len(cache.make_key(""))
        cache.set("k" * room, 1)
        with pytest.raises(InvalidCacheKey):
            cache.set("k" * (room + 1), 1)
        # non-ASCII counts in UTF-8 bytes
        with pytest.raises(InvalidCacheKey):
            cache.set("é" * (room // 2 + 1), 1)

    def test_unserializable_value_is_a_clear_error(self, cache: BaseCache) -> None:
        with pytest.raises(TypeError, match="serializer"):
            cache.set("obj", object())
        assert cache.get("obj") is None


def reversed_key(key: str, prefix: str, version: int) -> str:
    return f"{key[::-1]}|{prefix}|{version}"


class CacheContract(KeyContract):
    """Django's API with one meaning on every storing backend."""

    #: A short timeout for expiry tests; memcached counts whole seconds.
    short = 0.3
    #: Extra wait allowed for expiry (memcached's clock ticks once a second).
    expiry_slack = 0.0

    def raw_set(self, cache: BaseCache, final_key: str, data: bytes) -> None:  # pragma: no cover
        raise NotImplementedError

    # ---------------------------------------------------------------- basics
    @pytest.mark.parametrize("value", VALUES, ids=[f"v{i}" for i in range(len(VALUES))])
    def test_round_trip(self, cache: BaseCache, value: Any) -> None:
        cache.set("v", value)
        got = cache.get("v", "MISS")
        assert got == value and type(got) is type(value)

    def test_round_trip_many_and_async(self, cache: BaseCache) -> None:
        data = {f"k{i}": v for i, v in enumerate(VALUES)}
        assert cache.set_many(data) == []
        assert cache.get_many(list(data)) == data

        async def go() -> dict[str, Any]:
            await cache.aclear()
            await cache.aset_many(data)
            return await cache.aget_many(list(data))

        assert arun(cache, go) == data

    def test_miss_returns_default(self, cache: BaseCache) -> None:
        assert cache.get("nope") is None
        assert cache.get("nope", "dflt") == "dflt"
        assert not cache.has_key("nope")
        assert "nope" not in cache

    def test_stored_none_is_a_hit(self, cache: BaseCache) -> None:
        cache.set("n", None)
        assert cache.get("n", "dflt") is None
        assert cache.has_key("n")
        assert cache.get_many(["n", "missing"]) == {"n": None}
        assert cache.get_or_set("n", "other") is None
        assert cache.add("n", 1) is False

    def test_returned_values_are_copies(self, cache: BaseCache) -> None:
        value = {"a": [1]}
        cache.set("m", value)
        value["a"].append(2)
        got = cache.get("m")
        assert got == {"a": [1]}
        got["a"].append(3)
        assert cache.get("m") == {"a": [1]}

    def test_add(self, cache: BaseCache) -> None:
        assert cache.add("a", "first") is True
        assert cache.add("a", "second") is False
        assert cache.get("a") == "first"

    def test_delete(self, cache: BaseCache) -> None:
        cache.set("d", 1)
        assert cache.delete("d") is True
        assert cache.delete("d") is False
        assert cache.get("d") is None

    def test_many(self, cache: BaseCache) -> None:
        cache.set_many({"a": 1, "b": 2, "c": 3})
        assert cache.get_many(["a", "b", "x"]) == {"a": 1, "b": 2}
        assert cache.get_many([]) == {}
        cache.delete_many(["a", "b", "x"])
        assert cache.get_many(["a", "b", "c"]) == {"c": 3}
        cache.delete_many([])

    def test_clear(self, cache: BaseCache) -> None:
        cache.set_many({"a": 1, "b": 2})
        cache.clear()
        assert cache.get_many(["a", "b"]) == {}

    # ---------------------------------------------------------------- incr / decr
    def test_incr_decr(self, cache: BaseCache) -> None:
        cache.set("n", 10)
        assert cache.incr("n") == 11
        assert cache.incr("n", 10) == 21
        assert cache.decr("n") == 20
        assert cache.decr("n", 30) == -10
        assert cache.incr("n", -5) == -15
        assert cache.get("n") == -15
        cache.set("neg", -3)
        assert cache.incr("neg", 1) == -2
        assert cache.get("neg") == -2
        assert cache.decr("neg", 2**62) == -2 - 2**62

    def test_incr_missing_raises_value_error(self, cache: BaseCache) -> None:
        with pytest.raises(ValueError):
            cache.incr("missing")
        with pytest.raises(ValueError):
            cache.decr("missing")
        assert cache.get("missing", "MISS") == "MISS"  # incr did not create it

    @pytest.mark.parametrize("value", ["5", b"5", 1.5, None, [1], True])
    def test_incr_non_integer_raises_value_error(self, cache: BaseCache, value: Any) -> None:
        cache.set("x", value)
        with pytest.raises(ValueError):
            cache.incr("x")
        assert cache.get("x") == value

    def test_incr_keeps_timeout(self, cache: BaseCache) -> None:
        cache.set("t", 1, timeout=self.short)
        cache.incr("t")
        assert wait_until(lambda: cache.get("t") is None, 2.5 + self.expiry_slack)

    def test_incr_is_atomic_under_threads(self, cache: BaseCache) -> None:
        cache.set("ctr", 0)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(50):
                    cache.incr("ctr")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert cache.get("ctr") == 300

    def test_incr_version(self, cache: BaseCache) -> None:
        cache.set("v", "val")
        assert cache.incr_version("v") == 2
        assert cache.get("v") is None
        assert cache.get("v", version=2) == "val"
        assert cache.decr_version("v", version=2) == 1
        assert cache.get("v") == "val"
        with pytest.raises(ValueError):
            cache.incr_version("missing")

    def test_versions_are_separate(self, cache: BaseCache) -> None:
        cache.set("k", "v1", version=1)
        cache.set("k", "v2", version=2)
        assert cache.get("k") == "v1"
        assert cache.get("k", version=2) == "v2"
        c2 = self.make(KEY_PREFIX=cache.key_prefix, VERSION=2)
        assert c2.get("k") == "v2"

    def test_key_prefix_separates(self, cache: BaseCache) -> None:
        other = self.make(KEY_PREFIX=cache.key_prefix + "-other")
        cache.set("k", "mine")
        assert other.get("k") is None
        other.set("k", "theirs")
        assert cache.get("k") == "mine"

    # ---------------------------------------------------------------- timeouts
    @pytest.mark.parametrize("timeout", [0, -1, -0.5])
    def test_timeout_zero_or_negative_expires_at_once(
        self, cache: BaseCache, timeout: float
    ) -> None:
        cache.set("k", "old")
        cache.set("k", "new", timeout=timeout)
        assert cache.get("k") is None
        cache.set_many({"a": 1, "b": 2}, timeout=timeout)
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("fresh", 1, timeout=timeout) is True
        assert cache.get("fresh") is None
        cache.set("t", 1)
        assert cache.touch("t", timeout) is True
        assert cache.get("t") is None

    def test_expiry_and_default_timeout(self, cache: BaseCache) -> None:
        short = self.make(KEY_PREFIX=cache.key_prefix, TIMEOUT=self.short)
        short.set("default", 1)
        cache.set("explicit", 1, timeout=self.short)
        cache.set("forever", 1, timeout=None)
        cache.set("long", 1)  # TIMEOUT 300
        assert cache.get("default") == 1 and cache.get("explicit") == 1
        assert wait_until(
            lambda: cache.get_many(["default", "explicit"]) == {}, 2.5 + self.expiry_slack
        )
        assert cache.get_many(["forever", "long"]) == {"forever": 1, "long": 1}

    def test_touch(self, cache: BaseCache) -> None:
        assert cache.touch("missing") is False
        cache.set("t", 1, timeout=self.short)
        assert cache.touch("t", None) is True
        cache.set("u", 1, timeout=None)
        assert cache.touch("u", self.short) is True
        assert wait_until(lambda: cache.get("u") is None, 2.5 + self.expiry_slack)
        assert cache.get("t") == 1  # made permanent

    def test_none_timeout_is_forever(self, cache: BaseCache) -> None:
        c = self.make(KEY_PREFIX=cache.key_prefix, TIMEOUT=None)
        assert c.default_timeout is None
        assert c.get_backend_timeout(DEFAULT_TIMEOUT) is None
        c.set("k", 1)
        assert c.get("k") == 1

    # ---------------------------------------------------------------- get_or_set
    def test_get_or_set(self, cache: BaseCache) -> None:
        assert cache.get_or_set("g", "value") == "value"
        assert cache.get_or_set("g", "other") == "value"
        calls: list[int] = []

        def compute() -> int:
            calls.append(1)
            return 7

        assert cache.get_or_set("h", compute) == 7
        assert cache.get_or_set("h", compute) == 7
        assert calls == [1]
        assert cache.get_or_set("z", 5, timeout=0) == 5
        assert cache.get("z") is None

    # ---------------------------------------------------------------- bad payloads
    def test_undeserializable_payload_is_a_miss_and_a_warning(
        self, cache: BaseCache, caplog: pytest.LogCaptureFixture
    ) -> None:
        for i, junk in enumerate([b"Xjunk", b"J{not json", b"\xff\xfe", b"P" + b"0" * 40]):
            self.raw_set(cache, cache.make_key(f"bad{i}"), junk)
        with caplog.at_level(logging.WARNING, logger="torngas.cache"):
            for i in range(4):
                assert cache.get(f"bad{i}", "MISS") == "MISS"
            assert cache.get_many([f"bad{i}" for i in range(4)]) == {}
        warnings = [r for r in caplog.records if "deserialize" in r.getMessage()]
        assert len(warnings) >= 4

    # ---------------------------------------------------------------- async
    def test_async_api(self, cache: BaseCache) -> None:
        async def go() -> None:
            assert await cache.aget("k") is None
            await cache.aset("k", {"a": 1})
            assert await cache.aget("k") == {"a": 1}
            assert await cache.aadd("k", 2) is False
            assert await cache.aadd("k2", 2) is True
            assert await cache.ahas_key("k2")
            assert await cache.aincr("k2", 3) == 5
            assert await cache.adecr("k2") == 4
            with pytest.raises(ValueError):
                await cache.aincr("nope")
            assert await cache.atouch("k2", None) is True
            assert await cache.aget_many(["k", "k2", "x"]) == {"k": {"a": 1}, "k2": 4}
            assert await cache.aset_many({"m1": 1, "m2": None}) == []
            assert await cache.aget("m2", "dflt") is None
            await cache.adelete_many(["m1", "m2"])
            assert await cache.aget_many(["m1", "m2"]) == {}
            assert await cache.adelete("k") is True
            assert await cache.adelete("k") is False
            assert await cache.aget_or_set("g", lambda: "made") == "made"
            assert await cache.aincr_version("g") == 2
            assert await cache.aget("g", version=2) == "made"
            assert await cache.adecr_version("g", version=2) == 1
            await cache.aset("gone", 1, timeout=0)
            assert await cache.aget("gone") is None
            await cache.aclear()
            assert await cache.aget("k2") is None
            await cache.aclose()

        arun(cache, go)

    def test_async_incr_is_atomic(self, cache: BaseCache) -> None:
        cache.set("actr", 0)

        async def go() -> Any:
            await asyncio.gather(*(cache.aincr("actr") for _ in range(100)))
            return await cache.aget("actr")

        assert arun(cache, go) == 100

    def test_close(self, cache: BaseCache) -> None:
        cache.set("c", 1)
        cache.close()
        assert cache.get("c") == 1
        cache.disconnect()
        assert cache.get("c") == 1  # reconnects


def elapsed(func: Any) -> tuple[Any, float]:
    start = time.monotonic()
    try:
        result: Any = func()
    except Exception as exc:  # noqa: BLE001 - returned for inspection
        result = exc
    return result, time.monotonic() - start
