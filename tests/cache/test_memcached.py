"""MemcachedCache against real memcached servers (one, and two by consistent hashing)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cache.conftest import build_cache, unique_prefix
from tests.cache.contract import CacheContract
from tests.services import wait_until
from tests.services.memcached import MemcachedServer
from torngas.cache import BaseCache, CacheValueTooLarge, InvalidCacheKey
from torngas.cache.backends.memcached import MemcachedCache

pytestmark = pytest.mark.needs_memcached

BACKEND = "torngas.cache.backends.memcached.MemcachedCache"


def _raw_set(cache: BaseCache, final_key: str, data: bytes) -> None:
    assert isinstance(cache, MemcachedCache)
    cache.get_client(final_key).set(final_key, data, noreply=False)


class TestMemcachedContract(CacheContract):
    short = 1
    expiry_slack = 1.5

    @pytest.fixture
    def cache(self, memcached_server: MemcachedServer) -> Iterator[BaseCache]:
        self.location: Any = memcached_server.location
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.disconnect()

    def make(self, **params: Any) -> BaseCache:
        return build_cache(BACKEND, self.location, **params)

    raw_set = staticmethod(_raw_set)  # type: ignore[assignment]


class TestMemcachedTwoServersContract(TestMemcachedContract):
    @pytest.fixture
    def cache(self, memcached_nodes: list[MemcachedServer]) -> Iterator[BaseCache]:
        self.location = ";".join(s.location for s in memcached_nodes)
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.disconnect()


def _stats(port: int) -> dict[str, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"stats\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            buf += s.recv(65536)
    return {
        parts[1]: parts[2]
        for parts in (line.split() for line in buf.decode().splitlines())
        if len(parts) == 3
    }


def _commands(port: int) -> int:
    st = _stats(port)
    return sum(int(st[k]) for k in ("cmd_get", "cmd_set", "cmd_touch", "cmd_flush")) + sum(
        int(st[k])
        for k in st
        if k.endswith(("_hits", "_misses")) and k.startswith(("incr", "decr", "delete"))
    )


def test_oversized_value_is_an_error_not_silence(memcached_server: MemcachedServer) -> None:
    c = build_cache(BACKEND, memcached_server.location, KEY_PREFIX=unique_prefix())
    c.set("big", "old")
    with pytest.raises(CacheValueTooLarge, match="MemcachedCache") as info:
        c.set("big", b"x" * (2 * 1024 * 1024))
    assert memcached_server.location in str(info.value)
    with pytest.raises(CacheValueTooLarge):
        c.set_many({"a": 1, "big2": b"x" * (2 * 1024 * 1024)})
    # the connection is still in a sane state afterwards
    c.set("after", 1)
    assert c.get("after") == 1
    c.disconnect()


def test_invalid_key_sends_nothing(memcached_server: MemcachedServer) -> None:
    c = build_cache(BACKEND, memcached_server.location)
    before = _commands(memcached_server.port)
    for call in (
        lambda: c.set("a b", 1),
        lambda: c.get("x" * 300),
        lambda: c.incr("a\tb"),
        lambda: c.set_many({"ok": 1, "bad\n": 2}),
        lambda: c.delete("é" * 200),
    ):
        with pytest.raises(InvalidCacheKey):
            call()
    assert _commands(memcached_server.port) == before
    c.get("probe")
    assert _commands(memcached_server.port) == before + 1  # the counter does count
    c.disconnect()


def test_negative_integers_and_decr_below_zero(memcached_server: MemcachedServer) -> None:
    c = build_cache(BACKEND, memcached_server.location, KEY_PREFIX=unique_prefix())
    assert isinstance(c, MemcachedCache)
    c.set("n", 1)
    assert c.decr("n", 3) == -2  # memcached alone would clamp at 0
    raw = c.get_client().get(c.make_key("n"))
    assert int(raw) == 2**64 - 2  # what memcached holds: two's complement
    assert c.incr("n", 5) == 3
    c.set("big", 2**63 - 1)
    with pytest.raises(ValueError):
        c.incr("big", 2**64)
    c.disconnect()


def test_incr_of_negative_numbers_never_fails_falsely(memcached_server: MemcachedServer) -> None:
    """memcached (1.6.18 here) now and then answers "non-numeric value" to an
    incr of a stored number >= 2**63 (our negative numbers): about 1 in 300 tries
    of this loop before the compare-and-set fallback, none after."""
    for i in range(1500):
        c = build_cache(BACKEND, memcached_server.location, KEY_PREFIX=unique_prefix())
        c.set("neg", -3)
        assert c.incr("neg", 1) == -2, i
        assert c.decr("neg", 2) == -4, i
        c.disconnect()


@pytest.fixture
def false_non_numeric(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every incr answered as memcached's false "non-numeric" does (fault
    injection on the client: the server, a real one, is asked nothing)."""
    from pymemcache.client.base import PooledClient
    from pymemcache.exceptions import MemcacheClientError

    refused: list[str] = []

    def incr(self: Any, key: Any, value: int, noreply: bool | None = False) -> Any:
        refused.append(key)
        raise MemcacheClientError(b"cannot increment or decrement non-numeric value")

    monkeypatch.setattr(PooledClient, "incr", incr)
    return refused


def test_incr_fallback_is_atomic_and_keeps_the_time_to_live(
    memcached_server: MemcachedServer, false_non_numeric: list[str]
) -> None:
    c = build_cache(BACKEND, memcached_server.location, KEY_PREFIX=unique_prefix())
    CacheContract().test_incr_is_atomic_under_threads(c)  # now all by compare-and-set
    assert len(false_non_numeric) == 300
    c.set("ctr", -100)
    assert c.incr("ctr", 40) == -60
    assert c.decr("ctr", 150) == -210

    c.set("ttl", 5, timeout=2)
    assert c.incr("ttl") == 6
    assert wait_until(lambda: c.get("ttl") is None, 4)  # still expires
    c.set("forever", 1, timeout=None)
    assert c.incr("forever") == 2
    key = c.make_key("forever")
    assert c.get_client(key).raw_command(f"mg {key} t") == b"HD t-1"  # still no expiry

    c.set("text", "abc")
    with pytest.raises(ValueError):
        c.incr("text")  # really not a number
    assert c.get("text") == "abc"
    with pytest.raises(ValueError):
        c.incr("missing")
    c.disconnect()


def test_timeouts_over_thirty_days_are_absolute(memcached_server: MemcachedServer) -> None:
    c = build_cache(BACKEND, memcached_server.location, KEY_PREFIX=unique_prefix())
    c.set("long", 1, timeout=40 * 24 * 3600)
    assert c.get("long") == 1  # sent relative, memcached would read it as 1970
    assert c.touch("long", 60 * 24 * 3600) is True
    assert c.get("long") == 1
    c.set("frac", 1, timeout=0.2)  # rounded up to a whole second, not to 0 (= never)
    assert c.get("frac") == 1
    c.disconnect()


def test_two_servers_both_used(memcached_nodes: list[MemcachedServer]) -> None:
    c = build_cache(BACKEND, [s.location for s in memcached_nodes], KEY_PREFIX=unique_prefix())
    c.set_many({f"k{i}": i for i in range(200)})
    # ask each server directly which of the keys it holds (item counts would also
    # move with other tests' keys expiring on these shared servers)
    from pymemcache.client.base import Client

    keys = [c.make_key(f"k{i}") for i in range(200)]
    added = []
    for s in memcached_nodes:
        direct = Client(("127.0.0.1", s.port), connect_timeout=2, timeout=2)
        try:
            added.append(len(direct.get_many(keys)))
        finally:
            direct.close()
    assert sum(added) == 200 and all(n > 50 for n in added), added
    assert c.get_many([f"k{i}" for i in range(200)]) == {f"k{i}": i for i in range(200)}
    c.disconnect()


def test_async_runs_in_the_thread_pool(memcached_server: MemcachedServer) -> None:
    import asyncio
    import threading

    c = build_cache(BACKEND, memcached_server.location, KEY_PREFIX=unique_prefix())
    assert c.async_mode == "threadpool"
    seen: list[str] = []
    client = c.get_client()  # type: ignore[attr-defined]
    orig = client.get

    def spy(*a: Any, **kw: Any) -> Any:
        seen.append(threading.current_thread().name)
        return orig(*a, **kw)

    client.get = spy

    async def go() -> Any:
        await c.aset("k", 1)
        return await c.aget("k")

    assert asyncio.run(go()) == 1
    assert seen and all(name.startswith("torngas-pool") for name in seen)
    c.disconnect()
