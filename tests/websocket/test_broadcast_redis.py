"""RedisBroadcast against private redis-servers: in one app, across two server
processes, and across a Redis restart (fault)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from tornado.websocket import websocket_connect

from tests.services.redis import RedisServer
from tests.websocket.conftest import ChatServer, Records, app_settings, finish, ws_url
from torngas.broadcast import Broadcast, BroadcastUnavailable, RedisBroadcast, get_broadcaster
from torngas.testing import serve

pytestmark = pytest.mark.needs_redis


def redis_url(server) -> str:
    return f"redis://127.0.0.1:{server.port}/0"


def redis_settings(server, **options):
    return {
        "BACKEND": "torngas.broadcast.RedisBroadcast",
        "LOCATION": redis_url(server),
        "OPTIONS": {"CHANNEL_PREFIX": f"t{time.monotonic_ns()}:", **options},
    }


async def chat_client(url):
    conn = await websocket_connect(url)
    ready = json.loads(await asyncio.wait_for(conn.read_message(), 10))
    return conn, ready["ready"]


def test_in_one_app_through_redis(redis_server):
    with serve(**app_settings(BROADCAST=redis_settings(redis_server))) as client:
        url = ws_url(client, "/ws/chat")

        async def go():
            a, _ = await chat_client(url)
            b, _ = await chat_client(url)
            assert isinstance(client.server.call(get_broadcaster), RedisBroadcast)
            await a.write_message("via redis")
            got = [json.loads(await asyncio.wait_for(c.read_message(), 10)) for c in (a, b)]
            await finish(a)
            await finish(b)
            return got

        got = asyncio.run(go())
        assert [g["text"] for g in got] == ["via redis", "via redis"]


def test_cache_alias_supplies_the_connection(redis_server):
    caches = {
        "default": {"BACKEND": "torngas.cache.backends.localcache.LocMemCache"},
        "pubsub": {
            "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
            "LOCATION": redis_server.location,
        },
    }
    settings = app_settings(
        CACHES=caches, BROADCAST={"BACKEND": "torngas.broadcast.RedisBroadcast", "CACHE": "pubsub"}
    )
    with serve(**settings) as client:
        got = []

        async def subscribe():
            return await Broadcast("c").subscribe(got.append)

        assert client.server.call(subscribe) is True  # confirmed by Redis
        assert client.server.call(lambda: Broadcast("c").publish({"k": "v"})) is True
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == [{"k": "v"}]


def test_two_server_processes_share_a_chat(redis_server, tmp_path):
    a = ChatServer(redis_url(redis_server), tmp_path)
    b = ChatServer(redis_url(redis_server), tmp_path)
    try:
        a.wait_ready()
        b.wait_ready()

        async def go():
            ca, pid_a = await chat_client(a.ws + "/ws/chat")
            cb, pid_b = await chat_client(b.ws + "/ws/chat")
            assert pid_a != pid_b
            await ca.write_message("hello from A")
            on_b = json.loads(await asyncio.wait_for(cb.read_message(), 10))
            on_a = json.loads(await asyncio.wait_for(ca.read_message(), 10))
            await cb.write_message("and back from B")
            back = json.loads(await asyncio.wait_for(ca.read_message(), 10))
            await finish(ca)
            await finish(cb)
            return pid_a, pid_b, on_a, on_b, back

        pid_a, pid_b, on_a, on_b, back = asyncio.run(go())
        assert on_b == {"pid": pid_a, "text": "hello from A"}
        assert on_a == on_b
        assert back == {"pid": pid_b, "text": "and back from B"}
    finally:
        a.stop()
        b.stop()


@pytest.mark.fault
def test_subscribers_receive_again_after_redis_restarts(tmp_path):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    a = ChatServer(redis_url(redis), tmp_path)
    b = ChatServer(redis_url(redis), tmp_path)
    try:
        a.wait_ready()
        b.wait_ready()

        def publish_on_a(text):
            return httpx.post(a.url + "/publish", data={"text": text}, timeout=10).json()["ok"]

        async def go():
            cb, _ = await chat_client(b.ws + "/ws/chat")
            assert publish_on_a("before") is True
            assert await asyncio.wait_for(cb.read_message(), 10) == "before"

            redis.stop()
            # while Redis is down: publish answers False quickly, the socket stays open
            start = time.monotonic()
            assert await asyncio.to_thread(publish_on_a, "lost") is False
            assert time.monotonic() - start < 5
            redis.start()
            restarted = time.monotonic()

            # B's subscriber reconnects (backoff capped at 0.5 s in these settings)
            # and A's publisher uses a fresh connection: within a bounded time,
            # a message published on A reaches the socket on B again.
            got = None
            while got is None and time.monotonic() - restarted < 15:
                await asyncio.to_thread(publish_on_a, "after")
                try:
                    got = await asyncio.wait_for(cb.read_message(), 0.5)
                except TimeoutError:
                    pass
            elapsed = time.monotonic() - restarted
            await finish(cb)
            return got, elapsed

        got, elapsed = asyncio.run(go())
        assert got == "after"
        assert elapsed < 10
        log = b.output()
        assert "subscriber connection lost" in log and "working again" in log, log
        assert "publishing to Redis failed" in a.output()
    finally:
        a.stop()
        b.stop()
        redis.stop()


def test_publish_to_an_unreachable_redis_returns_false_or_raises_when_strict(tmp_path):
    from tests.services import free_port

    port = free_port()  # nothing listens there
    settings = {
        "BACKEND": "torngas.broadcast.RedisBroadcast",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"SUBSCRIBE_TIMEOUT": 0.3},
    }
    from torngas.conf import override_settings

    async def main():
        channel = Broadcast("down")
        start = time.monotonic()
        ok = await channel.publish("m")
        with pytest.raises(BroadcastUnavailable, match="down"):
            await channel.publish("m", strict=True)
        confirmed = await channel.subscribe(lambda m: None)  # registered, not confirmed
        took = time.monotonic() - start
        await get_broadcaster().aclose()
        return ok, confirmed, took

    with override_settings(BROADCAST=settings), Records("torngas.broadcast") as logs:
        ok, confirmed, took = asyncio.run(main())
    assert ok is False and confirmed is False
    assert took < 5
    assert any("publishing to Redis failed" in m and str(port) in m for m in logs.messages())
