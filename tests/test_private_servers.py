"""The private-server fixtures themselves: a server whose port was taken between
free_port() and its bind must not end up talking to someone else's server."""

import pytest

from tests.services.memcached import MemcachedServer
from tests.services.redis import RedisServer


@pytest.mark.needs_redis
def test_a_lost_port_is_replaced_not_shared(tmp_path):
    first = RedisServer(tmp_path / "a").start()
    try:
        second = RedisServer(tmp_path / "b")
        second.port = first.port  # as if another run took it after free_port()
        second.start()
        try:
            assert second.port != first.port
            assert second.process is not None and second.process.alive()
            assert first.process is not None and first.process.alive()
        finally:
            second.stop()
    finally:
        first.stop()


@pytest.mark.needs_memcached
def test_a_lost_port_is_replaced_for_memcached_too(tmp_path):
    first = MemcachedServer(tmp_path / "a").start()
    try:
        second = MemcachedServer(tmp_path / "b")
        second.port = first.port
        second.start()
        try:
            assert second.port != first.port and second.process.alive()
        finally:
            second.stop()
    finally:
        first.stop()
