"""Fixtures for the cache tests: private servers, session-scoped so the suite stays fast.

Servers: one redis-server, three redis-servers (consistent-hash ring), a Redis
Cluster of three masters, one and two memcached. Each is started on first use
and stopped (by its own PID) at the end of the session. Fault tests start their
own servers (tests/cache/test_*_faults.py) so that stopping them harms no one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services.memcached import MemcachedServer
from tests.services.redis import RedisClusterServers, RedisServer
from torngas.cache import BaseCache, CacheHandler

_built: list[BaseCache] = []


def build_cache(backend: str, location: Any, **params: Any) -> BaseCache:
    """Build a backend the way ``caches[alias]`` does, outside settings.

    Every cache built here is disconnected after the test (autouse fixture).
    """
    cfg = {"BACKEND": backend, "LOCATION": location, **params}
    instance = CacheHandler().create_connection("test", {"test": cfg})
    _built.append(instance)
    return instance


@pytest.fixture(autouse=True)
def _disconnect_built_caches() -> Iterator[None]:
    yield
    while _built:
        _built.pop().disconnect()


def unique_prefix() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    with server:
        yield server


@pytest.fixture(scope="session")
def redis_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    base: Path = tmp_path_factory.mktemp("redis-nodes")
    servers = [RedisServer(base / f"n{i}") for i in range(3)]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    cluster = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def memcached_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemcachedServer]:
    with MemcachedServer(tmp_path_factory.mktemp("memcached")) as server:
        yield server


@pytest.fixture(scope="session")
def memcached_nodes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[MemcachedServer]]:
    base = tmp_path_factory.mktemp("memcached-nodes")
    servers = [MemcachedServer(base) for _ in range(2)]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()
