"""RedisCache against real redis-servers: one node, a 3-node hash ring, a 3-master cluster."""

from __future__ import annotations

import asyncio
import logging
import pickle
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cache.conftest import build_cache, unique_prefix
from tests.cache.contract import CacheContract, arun
from tests.services.redis import RedisClusterServers, RedisServer
from torngas.cache import BaseCache, CacheConnectionError, CacheError, InvalidCacheKey
from torngas.cache.backends.rediscache import RedisCache, RedisClient
from torngas.cache.hashring import HashRing
from torngas.exceptions import ImproperlyConfigured

pytestmark = pytest.mark.needs_redis

BACKEND = "torngas.cache.backends.rediscache.RedisCache"


def _raw_set(cache: BaseCache, final_key: str, data: bytes) -> None:
    assert isinstance(cache, RedisCache)
    cache.get_client(final_key).set(final_key, data)


class TestRedisSingleContract(CacheContract):
    @pytest.fixture
    def cache(self, redis_server: RedisServer) -> Iterator[BaseCache]:
        self.location: Any = redis_server.location
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.clear()
        c.disconnect()

    def make(self, **params: Any) -> BaseCache:
        return build_cache(BACKEND, self.location, **params)

    raw_set = staticmethod(_raw_set)  # type: ignore[assignment]


class TestRedisRingContract(TestRedisSingleContract):
    @pytest.fixture
    def cache(self, redis_nodes: list[RedisServer]) -> Iterator[BaseCache]:
        self.location = [s.location for s in redis_nodes]
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.clear()
        c.disconnect()


class TestRedisClusterContract(TestRedisSingleContract):
    @pytest.fixture
    def cache(self, redis_cluster: RedisClusterServers) -> Iterator[BaseCache]:
        self.location = redis_cluster.locations
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.clear()
        c.disconnect()

    def make(self, **params: Any) -> BaseCache:
        options = {"CLUSTER": True, **params.pop("OPTIONS", {})}
        return build_cache(BACKEND, self.location, OPTIONS=options, **params)


# --------------------------------------------------------------------- specifics
def _calls(r: Any) -> int:
    stats = r.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


def test_invalid_key_sends_nothing(redis_server: RedisServer) -> None:
    import redis

    r = redis.Redis(port=redis_server.port, single_connection_client=True)
    c = build_cache(BACKEND, redis_server.location)
    c.set("warm", 1)  # connection made, HELLO/CLIENT SETINFO done
    before = _calls(r)
    for call in (
        lambda: c.set("a b", 1),
        lambda: c.get("x" * 300),
        lambda: c.set_many({"ok": 1, "bad\n": 2}),
        lambda: c.incr("a\tb"),
    ):
        with pytest.raises(InvalidCacheKey):
            call()
    assert _calls(r) == before
    c.get("warm")
    assert _calls(r) == before + 1  # the counter does count our commands
    c.delete("warm")
    c.disconnect()
    r.close()


def test_clear_removes_only_this_alias(redis_server: RedisServer) -> None:
    import redis

    raw = redis.Redis(port=redis_server.port)
    raw.set("foreign:key", b"keep")
    raw.set("noprefix", b"keep")
    mine = build_cache(BACKEND, redis_server.location, KEY_PREFIX="mine")
    theirs = build_cache(BACKEND, redis_server.location, KEY_PREFIX="mine2")
    star = build_cache(BACKEND, redis_server.location, KEY_PREFIX="m*")
    mine.set_many({f"k{i}": i for i in range(1200)})  # more than one SCAN/UNLINK batch
    mine.set("v2", 1, version=2)
    theirs.set("k1", "theirs")
    star.set("k1", "star")
    mine.clear()
    assert mine.get_many(["k1", "k1199"]) == {} and mine.get("v2", version=2) is None
    assert theirs.get("k1") == "theirs"
    assert star.get("k1") == "star"
    assert raw.get("foreign:key") == b"keep" and raw.get("noprefix") == b"keep"
    star.clear()  # a glob character in the prefix is escaped
    assert theirs.get("k1") == "theirs" and star.get("k1") is None
    raw.delete("foreign:key", "noprefix")
    theirs.clear()
    raw.close()
    for c in (mine, theirs, star):
        c.disconnect()


def test_clear_with_custom_key_function_needs_prefix(redis_server: RedisServer) -> None:
    c = build_cache(
        BACKEND, redis_server.location, KEY_FUNCTION="tests.cache.contract.reversed_key"
    )
    with pytest.raises(CacheError, match="KEY_PREFIX"):
        c.clear()


def test_integers_are_plain_digits_for_incrby(redis_server: RedisServer) -> None:
    c = build_cache(BACKEND, redis_server.location, KEY_PREFIX=unique_prefix())
    assert isinstance(c, RedisCache)
    c.set("n", 41)
    final = c.make_key("n")
    assert c.client.get(final) == b"41"
    assert c.client.incrby(final, 1) == 42
    assert c.get("n") == 42
    c.set("s", "41")
    assert c.client.get(c.make_key("s")) == b"S41"
    c.clear()
    c.disconnect()


def test_timeouts_reach_redis(redis_server: RedisServer) -> None:
    c = build_cache(BACKEND, redis_server.location, KEY_PREFIX=unique_prefix())
    assert isinstance(c, RedisCache)
    c.set("default", 1)
    c.set("forever", 1, timeout=None)
    c.set("ms", 1, timeout=2.5)
    assert 299_000 < c.client.pttl(c.make_key("default")) <= 300_000
    assert c.client.ttl(c.make_key("forever")) == -1
    assert 2000 < c.client.pttl(c.make_key("ms")) <= 2500
    c.touch("ms", None)
    assert c.client.ttl(c.make_key("ms")) == -1
    c.clear()
    c.disconnect()


def test_options_db_ping_parser_and_pool_kwargs(redis_server: RedisServer) -> None:
    c = build_cache(
        BACKEND,
        redis_server.location,
        KEY_PREFIX="opt",
        OPTIONS={
            "DB": 3,
            "PING_INTERVAL": 120,
            "PARSER_CLASS": "redis.connection.DefaultParser",
            "POOL_KWARGS": {"socket_timeout": 2, "max_connections": 5},
        },
    )
    assert isinstance(c, RedisCache)
    c.set("k", 1)
    kwargs = c.client.connection_pool.connection_kwargs
    assert kwargs["db"] == 3 and kwargs["health_check_interval"] == 120
    assert kwargs["socket_timeout"] == 2 and c.client.connection_pool.max_connections == 5
    import redis

    assert redis.Redis(port=redis_server.port, db=3).get("opt:1:k") == b"1"
    assert redis.Redis(port=redis_server.port, db=0).get("opt:1:k") is None
    legacy = build_cache(
        BACKEND, redis_server.location, OPTIONS={"PARSER_CLASS": "redis.connection.PythonParser"}
    )
    legacy.set("x", 1)
    assert legacy.get("x") == 1
    legacy.delete("x")
    c.clear()
    for x in (c, legacy):
        x.disconnect()


def test_url_location_and_password_never_shown(tmp_path: Any) -> None:
    with RedisServer(tmp_path, None, "--requirepass", "s3cret-pw") as server:
        c = build_cache(BACKEND, f"redis://:s3cret-pw@127.0.0.1:{server.port}/2")
        c.set("k", "v")
        assert c.get("k") == "v"
        assert "s3cret" not in repr(c) and "***" in repr(c)
        bad = build_cache(BACKEND, f"redis://:wrong-pw@127.0.0.1:{server.port}/0")
        with pytest.raises(CacheError) as info:
            bad.get("k")
        assert "wrong-pw" not in str(info.value) and "RedisCache" in str(info.value)
        for x in (c, bad):
            x.disconnect()


def test_redis_client_backend_exposes_clients(redis_server: RedisServer) -> None:
    import redis
    import redis.asyncio

    c = build_cache("torngas.cache.backends.rediscache.RedisClient", redis_server.location)
    assert isinstance(c, RedisClient) and not isinstance(c, RedisCache)
    assert isinstance(c.client, redis.Redis)
    c.client.set("raw", b"1")
    assert c.client.get("raw") == b"1"

    async def go() -> Any:
        assert isinstance(c.async_client, redis.asyncio.Redis)
        return await c.async_client.get("raw")

    assert arun(c, go) == b"1"
    c.client.delete("raw")
    with pytest.raises(NotImplementedError):
        c.get("k")
    rc = build_cache(BACKEND, redis_server.location)
    assert isinstance(rc, RedisClient) and isinstance(rc.client, redis.Redis)
    c.disconnect()


def test_ring_spreads_keys_over_nodes(redis_nodes: list[RedisServer]) -> None:
    import redis

    c = build_cache(BACKEND, [s.location for s in redis_nodes], KEY_PREFIX=unique_prefix())
    c.set_many({f"k{i}": i for i in range(300)})
    counts = []
    for s in redis_nodes:
        r = redis.Redis(port=s.port)
        counts.append(len(list(r.scan_iter(match=f"{c.key_prefix}:*"))))
        r.close()
    assert sum(counts) == 300 and all(n > 50 for n in counts), counts
    # same layout whatever the LOCATION order
    rev = build_cache(BACKEND, [s.location for s in reversed(redis_nodes)], KEY_PREFIX=c.key_prefix)
    assert rev.get_many([f"k{i}" for i in range(300)]) == {f"k{i}": i for i in range(300)}
    c.clear()
    for x in (c, rev):
        x.disconnect()


def test_cluster_spreads_keys_over_masters(redis_cluster: RedisClusterServers) -> None:
    import redis

    c = build_cache(
        BACKEND, redis_cluster.locations, KEY_PREFIX=unique_prefix(), OPTIONS={"CLUSTER": True}
    )
    assert isinstance(c, RedisCache)
    assert isinstance(c.client, redis.cluster.RedisCluster)
    c.set_many({f"k{i}": i for i in range(90)})
    counts = []
    for s in redis_cluster.nodes:
        r = redis.Redis(port=s.port)
        counts.append(len(list(r.scan_iter(match=f"{c.key_prefix}:*"))))
        r.close()
    assert sum(counts) == 90 and all(n > 10 for n in counts), counts
    c.clear()
    c.disconnect()


def test_hashring_moves_about_one_nth() -> None:
    keys = [f"key-{i}" for i in range(20000)]
    three = HashRing(["a:1", "b:2", "c:3"])
    four = HashRing(["a:1", "b:2", "c:3", "d:4"])
    before = {k: three.node(k) for k in keys}
    after = {k: four.node(k) for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert all(after[k] == "d:4" for k in moved)  # keys only move to the new node
    assert 0.17 < len(moved) / len(keys) < 0.33
    shares = [list(before.values()).count(n) / len(keys) for n in three.nodes]
    assert all(0.25 < s < 0.42 for s in shares), shares
    two = HashRing(["a:1", "c:3"])
    moved_rm = [k for k in keys if two.node(k) != before[k]]
    assert all(before[k] == "b:2" for k in moved_rm)


def test_pickle_serializer_only_loads_signed_payloads(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    opts = {"SERIALIZER": "pickle", "SERIALIZER_OPTIONS": {"signing_key": "k" * 32}}
    c = build_cache(BACKEND, redis_server.location, KEY_PREFIX=unique_prefix(), OPTIONS=opts)
    assert isinstance(c, RedisCache)
    c.set("obj", {"set": {1, 2}, "cls": ValueError("x").args})
    assert c.get("obj") == {"set": {1, 2}, "cls": ("x",)}
    c.set("n", 5)
    assert c.incr("n") == 6
    # an attacker who can write to Redis but has no key
    evil = b"P" + b"\x00" * 32 + pickle.dumps(("boom",))
    c.client.set(c.make_key("evil"), evil)
    other = build_cache(
        BACKEND,
        redis_server.location,
        KEY_PREFIX=c.key_prefix,
        OPTIONS={"SERIALIZER": "pickle", "SERIALIZER_OPTIONS": {"signing_key": "x" * 32}},
    )
    with caplog.at_level(logging.WARNING, logger="torngas.cache"):
        assert c.get("evil", "MISS") == "MISS"
        assert other.get("obj", "MISS") == "MISS"  # signed with another key
    assert caplog.text.count("signature does not verify") == 2
    c.clear()
    for x in (c, other):
        x.disconnect()


def test_async_uses_native_client_per_loop(redis_server: RedisServer) -> None:
    import redis.asyncio

    c = build_cache(BACKEND, redis_server.location, KEY_PREFIX=unique_prefix())
    assert c.async_mode == "native"

    async def go() -> Any:
        # async_client stays redis-py's, for Redis's own data structures
        assert isinstance(c.async_client, redis.asyncio.Redis)  # type: ignore[attr-defined]
        await c.aset("k", 1)
        return await asyncio.gather(*(c.aget("k") for _ in range(20)))

    assert arun(c, go) == [1] * 20
    assert arun(c, go) == [1] * 20  # a second loop gets its own connections
    c.clear()
    c.disconnect()


def _named(port: int, name: str) -> int:
    import redis

    r = redis.Redis(port=port)
    try:
        return sum(1 for x in r.client_list() if x.get("name") == name)
    finally:
        r.close()


def test_async_path_pipelines_on_one_connection_per_loop(redis_server: RedisServer) -> None:
    """The cache's coroutines share one connection per node and loop (RespClient):
    no pool, nothing waits for a connection; MAX_CONNECTIONS bounds the sync pool."""
    c = build_cache(
        BACKEND,
        redis_server.location,
        KEY_PREFIX=unique_prefix(),
        OPTIONS={"MAX_CONNECTIONS": 2, "POOL_KWARGS": {"client_name": "asyncpath"}},
    )

    async def go() -> Any:
        await c.aset("k", 1)
        results = await asyncio.gather(
            *(c.aget("k") for _ in range(200)), *(c.aset(f"k{i}", i) for i in range(50))
        )
        many = await c.aget_many([f"k{i}" for i in range(50)])
        return results[:200], many, _named(redis_server.port, "asyncpath")

    results, many, count = arun(c, go)
    assert results == [1] * 200 and many == {f"k{i}": i for i in range(50)}
    assert count == 1
    assert _named(redis_server.port, "asyncpath") == 0  # adisconnect (arun) closed it

    async def in_loop() -> int:
        await c.aget("k")
        c.disconnect()  # the sync call closes the running loop's connections too
        await asyncio.sleep(0.05)
        return _named(redis_server.port, "asyncpath")

    assert asyncio.run(in_loop()) == 0

    threads_ok = []

    def worker() -> None:
        threads_ok.append(all(c.get("k") == 1 for _ in range(20)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert threads_ok == [True] * 8
    assert c.client.connection_pool.max_connections == 2  # type: ignore[attr-defined]
    assert _named(redis_server.port, "asyncpath") <= 2
    c.clear()


def test_async_connections_option(redis_server: RedisServer) -> None:
    c = build_cache(
        BACKEND,
        redis_server.location,
        KEY_PREFIX=unique_prefix(),
        OPTIONS={"ASYNC_CONNECTIONS": 3, "POOL_KWARGS": {"client_name": "rr3"}},
    )

    async def go() -> Any:
        await asyncio.gather(*(c.aset(f"k{i}", i) for i in range(30)))
        values = await asyncio.gather(*(c.aget(f"k{i}") for i in range(30)))
        return values, _named(redis_server.port, "rr3")

    values, count = arun(c, go)
    assert values == list(range(30)) and count == 3
    c.clear()
    for bad in (0, "x"):
        with pytest.raises(ImproperlyConfigured, match="ASYNC_CONNECTIONS"):
            build_cache(BACKEND, redis_server.location, OPTIONS={"ASYNC_CONNECTIONS": bad})


def test_async_url_password_db_and_clear_errors(tmp_path: Any) -> None:
    with RedisServer(tmp_path, None, "--requirepass", "s3cret-pw") as server:
        c = build_cache(BACKEND, f"redis://:s3cret-pw@127.0.0.1:{server.port}/2", KEY_PREFIX="u")
        bad = build_cache(BACKEND, f"redis://:wrong-pw@127.0.0.1:{server.port}/0")

        async def go() -> Any:
            await c.aset("k", "v")
            got = await c.aget("k")
            with pytest.raises(CacheConnectionError) as info:
                await bad.aget("k")
            await bad.adisconnect()
            return got, str(info.value)

        got, msg = arun(c, go)
        assert got == "v"
        assert "wrong-pw" not in msg and "s3cret" not in msg
        assert "RedisCache" in msg and f"127.0.0.1:{server.port}" in msg and "AUTH" in msg
        import redis

        r = redis.Redis(port=server.port, password="s3cret-pw", db=2)
        assert r.get("u:1:k") == b"Sv"
        r.close()
