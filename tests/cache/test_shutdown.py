"""Application shutdown closes the connections the caches opened (both transports)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.services.redis import RedisServer
from torngas.testing import serve


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as s:
        yield s


def _clients(port: int) -> list[dict]:
    with redis.Redis(host="127.0.0.1", port=port) as admin:
        me = admin.client_id()
        return [c for c in admin.client_list() if int(c["id"]) != me]


def test_shutdown_closes_redis_cache_connections(server: RedisServer) -> None:
    settings = {
        "INSTALLED_APPS": ["tests.test_apps.cacheapp"],
        "MIDDLEWARE_CLASSES": [],
        "CACHES": {
            "default": {
                "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
                "LOCATION": server.location,
                "KEY_PREFIX": "shutdown",
            }
        },
    }
    with serve(**settings) as client:
        assert [client.get("/count").text for _ in range(3)] == ["1", "2", "3"]
        assert len(_clients(server.port)) >= 1  # the app's connection is open
    assert _clients(server.port) == []  # and closed by Application.shutdown
