"""Sessions on real Redis (one server, a consistent-hash ring of three, a Redis Cluster)
over real HTTP. What the store does is observed on the servers themselves
(``INFO commandstats``, ``KEYS``, ``PTTL``), not through the code under test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.services.redis import RedisServer
from tests.sessions.conftest import app_settings, middleware, post, redis_caches
from torngas.testing import serve

pytestmark = pytest.mark.needs_redis

WRITE_COMMANDS = ("set", "setex", "psetex", "del", "unlink", "expire", "pexpire", "getex")


class Servers:
    """The Redis servers behind one LOCATION, inspected directly with redis-py."""

    def __init__(self, ports: list[int], cluster: bool = False) -> None:
        self.ports = ports
        self.cluster = cluster
        self.location: Any = [f"127.0.0.1:{p}" for p in ports]
        self.clients = [redis.Redis(port=p) for p in ports]

    def calls(self, commands: tuple[str, ...] | None = None) -> int:
        total = 0
        for c in self.clients:
            for name, stats in c.info("commandstats").items():
                cmd = name.removeprefix("cmdstat_")
                if cmd in ("info", "ping", "cluster", "command", "hello", "client"):
                    continue
                if commands is None or cmd in commands:
                    total += int(stats["calls"])
        return total

    def stored(self, pattern: str = "*") -> list[bytes]:
        return sorted(k for c in self.clients for k in c.keys(pattern))

    def get(self, key: bytes) -> bytes | None:
        for c in self.clients:
            if self.cluster:
                try:
                    return c.get(key)
                except redis.ResponseError:  # MOVED: another master holds it
                    continue
            value = c.get(key)
            if value is not None:
                return value
        return None

    def pttl(self, key: bytes) -> int:
        for c in self.clients:
            try:
                ttl = c.pttl(key)
            except redis.ResponseError:
                continue
            if ttl != -2:
                return int(ttl)
        return -2

    def close(self) -> None:
        for c in self.clients:
            c.close()


@pytest.fixture(params=["single", "ring", "cluster"])
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    if request.param == "single":
        s = Servers([request.getfixturevalue("redis_server").port])
    elif request.param == "ring":
        s = Servers([n.port for n in request.getfixturevalue("redis_nodes")])
    else:
        s = Servers([n.port for n in request.getfixturevalue("redis_cluster").nodes], cluster=True)
    for c in s.clients:
        try:
            c.flushall()
        except redis.ResponseError:
            pass
    try:
        yield s
    finally:
        s.close()


def settings_for(servers: Servers, **session: Any) -> dict[str, Any]:
    options = {"CLUSTER": True} if servers.cluster else {}
    return app_settings(CACHES=redis_caches(servers.location, **options), session=session)


def test_login_read_logout_on_redis(servers: Servers) -> None:
    with serve(**settings_for(servers)) as client:
        before = servers.calls()
        for _ in range(5):  # anonymous traffic, also reading the (empty) session
            assert client.get("/public").status_code == 200
            assert client.get("/whoami").json()["user"] is None
            assert client.get("/messages").status_code == 200
        assert servers.calls() == before, "anonymous requests reached Redis"
        assert servers.stored() == []

        writes = servers.calls(WRITE_COMMANDS)
        assert post(client, "/login", {"user": "ann"}).status_code == 302
        assert servers.calls(WRITE_COMMANDS) == writes + 1  # one SET, nothing to delete
        (key,) = servers.stored()
        assert key.startswith(b"torngas-session.app:1:")
        assert servers.get(key).startswith(b"J{")  # JSON, never pickle
        assert client.get("/whoami").json()["user"] == "ann"
        assert post(client, "/logout").status_code == 302
        assert servers.stored() == []
        assert client.get("/whoami").json()["user"] is None


def test_store_ttl_follows_expires_and_set_expire(servers: Servers) -> None:
    with serve(**settings_for(servers, expires=300)) as client:
        post(client, "/set", {"a": "1"})
        (key,) = servers.stored()
        assert 299_000 < servers.pttl(key) <= 300_000
        post(client, "/login", {"user": "ann", "remember": "86400"})
        (key,) = servers.stored()  # rotated at login: the old key is gone
        assert 86_399_000 < servers.pttl(key) <= 86_400_000
    old = set(servers.stored())
    with serve(**settings_for(servers, expires=0, lifetime=1234)) as client:
        post(client, "/set", {"a": "1"})
        (key,) = set(servers.stored()) - old
        # a browser-session cookie; the store keeps the record for "lifetime"
        assert 1_233_000 < servers.pttl(key) <= 1_234_000


def test_cache_clear_and_app_keys_never_touch_sessions(servers: Servers) -> None:
    with serve(**settings_for(servers)) as client:
        post(client, "/login", {"user": "ann"})
        sid = middleware(client).store.unsign(client.cookies["__TORNADOSSID"])

        def app_side() -> None:
            from torngas.cache import caches

            cache = caches["default"]
            cache.set(sid, "app value with the same name")
            cache.set("other", 1)
            cache.clear()

        client.server.call(app_side)
        assert client.get("/whoami").json()["user"] == "ann"
        assert [k for k in servers.stored() if k.startswith(b"app:")] == []


def test_ring_spreads_sessions_over_nodes(redis_nodes: list[RedisServer]) -> None:
    servers = Servers([n.port for n in redis_nodes])
    try:
        for c in servers.clients:
            c.flushall()
        with serve(**settings_for(servers)) as client:
            for i in range(30):
                client.cookies.clear()
                post(client, "/set", {"n": str(i)})
                assert client.get("/whoami").json()["data"]["n"] == str(i)
        per_node = [len(c.keys("torngas-session*")) for c in servers.clients]
        assert sum(per_node) == 30 and all(n > 0 for n in per_node), per_node
    finally:
        servers.close()
