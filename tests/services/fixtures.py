"""Session-scoped private servers shared by the whole suite (loaded by tests/conftest.py).

One redis-server, three redis-servers (a consistent-hash ring), a Redis Cluster of
three masters, one and two memcached. Each starts on first use and is stopped (by
its own PID) at the end of the run. Tests that stop, hang or restart a server
start their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.memcached import MemcachedServer
from tests.services.redis import RedisClusterServers, RedisServer

__all__ = ["memcached_nodes", "memcached_server", "redis_cluster", "redis_nodes", "redis_server"]


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
