"""torngas.broadcast with the default in-process backend (LocalBroadcast)."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.websocket import websocket_connect

from tests.websocket.conftest import app_settings, finish, ws_url
from torngas.broadcast import Broadcast, LocalBroadcast, encode, get_broadcaster
from torngas.exceptions import ImproperlyConfigured
from torngas.testing import serve


async def chat_client(url):
    conn = await websocket_connect(url)
    ready = json.loads(await asyncio.wait_for(conn.read_message(), 10))
    assert "ready" in ready
    return conn


def test_two_sockets_in_one_app_both_receive_and_a_closed_one_is_dropped():
    with serve(**app_settings()) as client:
        url = ws_url(client, "/ws/chat")
        chat = Broadcast("chat")

        async def go():
            a = await chat_client(url)
            b = await chat_client(url)
            assert len(client.server.call(chat.subscribers)) == 2
            await a.write_message("hi all")
            got = [json.loads(await asyncio.wait_for(c.read_message(), 10)) for c in (a, b)]
            await finish(b)
            await asyncio.sleep(0.3)
            left = len(client.server.call(chat.subscribers))
            # an HTTP handler publishes too; only a is left to get it
            r = client.post("/publish", data={"text": "from http"})
            text = await asyncio.wait_for(a.read_message(), 10)
            await finish(a)
            await asyncio.sleep(0.3)
            return got, left, r.json(), text, len(client.server.call(chat.subscribers))

        got, left, answer, text, finally_left = asyncio.run(go())
        assert got[0] == got[1] and got[0]["text"] == "hi all"
        assert left == 1
        assert answer == {"ok": True}
        assert text == "from http"  # a str goes out as it is
        assert finally_left == 0


def test_callback_subscribers_sync_and_async():
    received = []

    async def main():
        channel = Broadcast("news")
        got_async = asyncio.Event()

        async def on_news(message):
            received.append(("async", message))
            got_async.set()

        await channel.subscribe(lambda m: received.append(("sync", m)))
        await channel.subscribe(on_news)
        assert isinstance(get_broadcaster(), LocalBroadcast)
        assert await channel.publish({"n": 1}) is True
        await asyncio.wait_for(got_async.wait(), 5)
        await channel.unsubscribe(on_news)
        await channel.publish(["two"])
        await channel.publish("three")
        return received

    assert asyncio.run(main()) == [
        ("sync", {"n": 1}),
        ("async", {"n": 1}),
        ("sync", ["two"]),
        ("sync", "three"),
    ]


def test_a_failing_callback_is_logged_and_does_not_stop_the_others(caplog):
    async def main():
        channel = Broadcast("x")
        got = []

        def bad(message):
            raise ValueError("bad subscriber")

        await channel.subscribe(bad)
        await channel.subscribe(got.append)
        await channel.publish("m")
        return got

    assert asyncio.run(main()) == ["m"]
    assert "bad subscriber" in caplog.text


def test_messages_must_be_str_dict_or_list():
    assert encode("é") == "sé".encode()
    assert encode({"a": 1}) == b'j{"a":1}'
    for bad in (b"bytes", 3, None, {"a": object()}):
        with pytest.raises(TypeError):
            encode(bad)

    async def main():
        with pytest.raises(TypeError):
            await Broadcast("x").publish(object())

    asyncio.run(main())


def test_bad_backend_setting():
    from torngas.conf import override_settings

    async def main():
        return get_broadcaster()

    not_a_backend = {"BACKEND": "torngas.broadcast.Broadcast"}
    with (
        override_settings(BROADCAST=not_a_backend),
        pytest.raises(ImproperlyConfigured, match="BroadcastBackend"),
    ):
        asyncio.run(main())
    no_location = {"BACKEND": "torngas.broadcast.RedisBroadcast"}
    with (
        override_settings(BROADCAST=no_location),
        pytest.raises(ImproperlyConfigured, match="LOCATION"),
    ):
        asyncio.run(main())
