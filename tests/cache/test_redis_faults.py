"""Redis down, hung and restarted: a clear error within a bounded time, and recovery.

Each test starts its own redis-server (and, where needed, a fault proxy in front
of it), so stopping it harms no other test. Time bounds are asserted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cache.conftest import build_cache
from tests.cache.contract import arun, elapsed
from tests.services.proxy import FaultProxy
from tests.services.redis import RedisServer
from torngas.cache import BaseCache, CacheConnectionError

pytestmark = [pytest.mark.needs_redis, pytest.mark.fault, pytest.mark.timeout(30)]

BACKEND = "torngas.cache.backends.rediscache.RedisCache"
FAST = {"POOL_KWARGS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as s:
        yield s


@pytest.fixture
def proxy(server: RedisServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as p:
        yield p


def _cache(location: str, **options: Any) -> BaseCache:
    return build_cache(BACKEND, location, KEY_PREFIX="f", OPTIONS={**FAST, **options})


def _assert_clear_error(result: Any, location: str) -> None:
    assert isinstance(result, CacheConnectionError), result
    msg = str(result)
    assert "RedisCache" in msg and location in msg, msg


def test_server_stopped(server: RedisServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)
    server.stop()
    for call in (
        lambda: c.get("k"),
        lambda: c.set("k", 2),
        lambda: c.incr("k"),
        lambda: c.get_many(["k"]),
        lambda: c.clear(),
    ):
        result, took = elapsed(call)
        _assert_clear_error(result, server.location)
        assert took < 1.0, took

    async def go() -> Any:
        return await _aelapsed(c.aget("k"))

    result, took = arun(c, go)
    _assert_clear_error(result, server.location)
    assert took < 1.0


async def _aelapsed(coro: Any) -> tuple[Any, float]:
    import time

    start = time.monotonic()
    try:
        result: Any = await coro
    except Exception as exc:  # noqa: BLE001
        result = exc
    return result, time.monotonic() - start


def test_server_hung_sigstop(server: RedisServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)
    server.pause()
    try:
        result, took = elapsed(lambda: c.get("k"))
        _assert_clear_error(result, server.location)
        assert "Timeout" in str(result)
        assert 0.4 < took < 1.5, took  # one socket_timeout, no retry storm

        async def go() -> Any:
            return await _aelapsed(c.aset("k", 2))

        result, took = arun(c, go)
        _assert_clear_error(result, server.location)
        assert took < 1.5, took
    finally:
        server.resume()
    # Usable again once the server answers. The aset that timed out had been
    # written to the socket: the woken server may still run it (as with any
    # client), so the value is 1 or 2.
    assert c.get("k") in (1, 2)
    c.set("k", 3)
    assert c.get("k") == 3

    async def again() -> Any:
        await c.aset("k", 4)
        return await c.aget("k")

    assert arun(c, again) == 4


def test_default_timeouts_bound_a_hung_server(server: RedisServer) -> None:
    c = build_cache(BACKEND, server.location)  # torngas's defaults: 1 s, no retry on timeout
    c.set("k", 1)
    server.pause()
    try:
        result, took = elapsed(lambda: c.get("k"))
        _assert_clear_error(result, server.location)
        assert took < 2.5, took  # redis-py's own defaults would take far longer
    finally:
        server.resume()


def test_blackhole_proxy(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)
    c.set("k", 1)
    proxy.mode = "blackhole"
    result, took = elapsed(lambda: c.get("k"))
    _assert_clear_error(result, proxy.location)
    assert took < 1.5, took
    proxy.mode = "pass"
    assert c.get("k") == 1


def test_down_via_refuse_and_cut(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)
    c.set("k", 1)
    proxy.mode = "refuse"
    proxy.cut()
    result, took = elapsed(lambda: c.get("k"))
    _assert_clear_error(result, proxy.location)
    assert took < 1.0, took
    proxy.mode = "pass"
    assert c.get("k") == 1


def test_connection_cut_is_retried_transparently(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)
    c.set("k", 1)
    accepted = proxy.accepted
    proxy.cut()  # every pooled connection is now dead
    result, took = elapsed(lambda: c.get("k"))
    assert result == 1 and took < 1.0
    assert proxy.accepted == accepted + 1  # exactly one reconnect


def test_restarted_server_is_picked_up(server: RedisServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)

    async def warm() -> None:
        await c.aset("a", 1)

    arun(c, warm)
    server.restart()  # same port, data lost
    result, took = elapsed(lambda: c.get("k", "MISS"))
    assert result == "MISS" and took < 1.0
    c.set("k", 2)
    assert c.get("k") == 2

    async def go() -> Any:
        await c.aset("a", 3)
        return await c.aget("a")

    assert arun(c, go) == 3


def test_ignore_exceptions_turns_failures_into_logged_misses(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    c = _cache(server.location, IGNORE_EXCEPTIONS=True)
    c.set("k", 1)
    server.stop()
    with caplog.at_level(logging.WARNING, logger="torngas.cache"):
        result, took = elapsed(lambda: c.get("k", "dflt"))
        assert result == "dflt" and took < 1.0
        assert c.set("k", 2) is None
        assert c.add("k", 2) is False
        assert c.get_many(["k"]) == {}
        assert c.has_key("k") is False
        with pytest.raises(ValueError):
            c.incr("k")

        async def go() -> Any:
            return await c.aget("k", "adflt")

        assert arun(c, go) == "adflt"
    records = [r.getMessage() for r in caplog.records]
    assert len(records) >= 7
    assert all("RedisCache" in m and server.location in m for m in records)
    server.start()
    c.set("k", 3)
    assert c.get("k") == 3


# --------------------------------------------------------------------- the async path
# (RedisCache's coroutines run on torngas.cache.backends.resp.RespClient)
def test_async_server_stopped_every_call_fails_fast(server: RedisServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)
    server.stop()

    async def go() -> list[tuple[Any, float]]:
        return [
            await _aelapsed(call)
            for call in (
                c.aget("k"),
                c.aset("k", 2),
                c.aadd("n", 2),
                c.adelete("k"),
                c.ahas_key("k"),
                c.atouch("k"),
                c.aincr("k"),
                c.aget_many(["k", "j"]),
                c.aset_many({"k": 1}),
                c.adelete_many(["k"]),
                c.aclear(),
            )
        ]

    results = arun(c, go)
    for result, took in results[:6] + results[7:]:
        _assert_clear_error(result, server.location)
        assert took < 1.0, took
    result, took = results[6]  # aincr: a connection failure is a clear error too
    _assert_clear_error(result, server.location)


def test_async_hung_server_fails_all_concurrent_calls_in_one_timeout(server: RedisServer) -> None:
    c = _cache(server.location)

    async def go() -> Any:
        await c.aset("k", 1)
        server.pause()
        try:
            start = time.monotonic()
            results = await asyncio.gather(
                *(c.aget("k") for _ in range(20)), return_exceptions=True
            )
            took = time.monotonic() - start
        finally:
            server.resume()
        return results, took, await c.aget("k")

    results, took, after = arun(c, go)
    for r in results:
        _assert_clear_error(r, server.location)
        assert "Timeout" in str(r)
    assert 0.4 < took < 1.5, took  # one socket_timeout for all of them, not 20
    assert after == 1  # the same loop recovers once the server answers


def test_async_connection_cut_is_retried_transparently(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)

    async def go() -> Any:
        await c.aset("k", 1)
        accepted = proxy.accepted
        proxy.cut()
        time.sleep(0.1)  # the loop does not see the reset before the next command
        result, took = await _aelapsed(c.aget("k"))
        return result, took, proxy.accepted - accepted

    result, took, reconnects = arun(c, go)
    assert result == 1 and took < 1.0
    assert reconnects == 1  # exactly one reconnect


def test_async_down_via_refuse_and_cut_then_up(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)

    async def go() -> Any:
        await c.aset("k", 1)
        proxy.mode = "refuse"
        proxy.cut()
        result, took = await _aelapsed(c.aget("k"))
        proxy.mode = "pass"
        return result, took, await c.aget("k")

    result, took, after = arun(c, go)
    _assert_clear_error(result, proxy.location)
    assert took < 1.0 and after == 1


def test_async_blackhole_is_bounded_and_not_retried(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)

    async def go() -> Any:
        await c.aset("k", 1)
        accepted = proxy.accepted
        proxy.mode = "blackhole"
        result, took = await _aelapsed(c.aget("k"))
        retried = proxy.accepted - accepted
        proxy.mode = "pass"
        return result, took, retried, await c.aget("k")

    result, took, retried, after = arun(c, go)
    _assert_clear_error(result, proxy.location)
    assert 0.4 < took < 1.0, took
    assert retried == 0 and after == 1


def test_async_ignore_exceptions(server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    c = _cache(server.location, IGNORE_EXCEPTIONS=True)
    c.set("k", 1)
    server.stop()

    async def go() -> Any:
        out = [
            await c.aget("k", "dflt"),
            await c.aset("k", 2),
            await c.aadd("k", 2),
            await c.aget_many(["k"]),
            await c.ahas_key("k"),
            await c.atouch("k"),
        ]
        with pytest.raises(ValueError):
            await c.aincr("k")
        return out

    with caplog.at_level(logging.WARNING, logger="torngas.cache"):
        assert arun(c, go) == ["dflt", None, False, {}, False, False]
    records = [r.getMessage() for r in caplog.records]
    assert len(records) >= 7
    assert all("RedisCache" in m and server.location in m for m in records)
