"""memcached down, hung and restarted: a clear error within a bounded time, and recovery."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cache.conftest import build_cache
from tests.cache.contract import arun, elapsed
from tests.services.memcached import MemcachedServer
from tests.services.proxy import FaultProxy
from torngas.cache import BaseCache, CacheConnectionError

pytestmark = [pytest.mark.needs_memcached, pytest.mark.fault, pytest.mark.timeout(30)]

BACKEND = "torngas.cache.backends.memcached.MemcachedCache"
FAST = {"connect_timeout": 0.5, "timeout": 0.5}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MemcachedServer]:
    with MemcachedServer(tmp_path) as s:
        yield s


@pytest.fixture
def proxy(server: MemcachedServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as p:
        yield p


def _cache(location: str, **options: Any) -> BaseCache:
    return build_cache(BACKEND, location, KEY_PREFIX="f", OPTIONS={**FAST, **options})


def _assert_clear_error(result: Any, location: str) -> None:
    assert isinstance(result, CacheConnectionError), result
    msg = str(result)
    assert "MemcachedCache" in msg and location in msg, msg


def test_server_stopped(server: MemcachedServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)
    server.stop()
    for call in (
        lambda: c.get("k"),
        lambda: c.set("k", 2),
        lambda: c.incr("k"),
        lambda: c.get_many(["k"]),
        lambda: c.delete("k"),
    ):
        result, took = elapsed(call)
        _assert_clear_error(result, server.location)
        assert took < 1.0, took


def test_server_hung_sigstop(server: MemcachedServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)
    server.pause()
    try:
        result, took = elapsed(lambda: c.get("k"))
        _assert_clear_error(result, server.location)
        assert 0.4 < took < 1.5, took

        async def go() -> Any:
            import time

            start = time.monotonic()
            try:
                await c.aget("k")
            except CacheConnectionError as exc:
                return exc, time.monotonic() - start
            return None, 0.0

        result, took = arun(c, go)
        _assert_clear_error(result, server.location)
        assert took < 1.5, took
    finally:
        server.resume()
    assert c.get("k") == 1


def test_blackhole_proxy(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)
    c.set("k", 1)
    proxy.mode = "blackhole"
    result, took = elapsed(lambda: c.set("k", 2))  # a write is not fire-and-forget
    _assert_clear_error(result, proxy.location)
    assert took < 1.5, took
    proxy.mode = "pass"
    assert c.get("k") in (1, 2)


def test_connection_cut_is_retried_once(proxy: FaultProxy) -> None:
    c = _cache(proxy.location)
    c.set("k", 1)
    accepted = proxy.accepted
    proxy.cut()
    result, took = elapsed(lambda: c.get("k"))
    assert result == 1 and took < 1.0
    assert proxy.accepted == accepted + 1


def test_restarted_server_is_picked_up(server: MemcachedServer) -> None:
    c = _cache(server.location)
    c.set("k", 1)
    server.restart()
    result, took = elapsed(lambda: c.get("k", "MISS"))
    assert result == "MISS" and took < 1.0
    c.set("k", 2)
    assert c.get("k") == 2


def test_ignore_exceptions(server: MemcachedServer, caplog: pytest.LogCaptureFixture) -> None:
    c = _cache(server.location, IGNORE_EXCEPTIONS=True)
    server.stop()
    with caplog.at_level(logging.WARNING, logger="torngas.cache"):
        result, took = elapsed(lambda: c.get("k", "dflt"))
        assert result == "dflt" and took < 1.0
        assert c.set("k", 1) is None
        assert c.add("k", 1) is False
        assert c.get_many(["k"]) == {}
        assert c.set_many({"a": 1}) == ["a"]
        with pytest.raises(ValueError):
            c.incr("k")
    records = [r.getMessage() for r in caplog.records]
    assert len(records) >= 6
    assert all("MemcachedCache" in m and server.location in m for m in records)
