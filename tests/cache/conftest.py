"""Helpers for the cache tests. The private servers (redis_server, redis_nodes,
redis_cluster, memcached_server, memcached_nodes) are session fixtures shared by
the whole suite: tests/services/fixtures.py. Fault tests start their own servers
(tests/cache/test_*_faults.py) so that stopping them harms no one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

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
