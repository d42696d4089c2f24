"""WebSocket handlers over ASGI WebSocket (and, for parity, over Tornado's server)."""

from __future__ import annotations

import asyncio

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.asgi.asgiapp.handlers import SEEN
from tests.services import wait_until
from torngas.testing import serve

APP = ["tests.asgi.asgiapp"]


async def shut(conn) -> None:
    """Close from the client and wait for the closing handshake to complete."""
    conn.close()
    while await conn.read_message() is not None:
        pass


def ws_url(client) -> str:
    return client.server.url.replace("http", "ws", 1) + "/ws"


def test_echo_text_and_binary_with_a_subprotocol(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:

        async def go():
            conn = await websocket_connect(ws_url(client), subprotocols=["other", "chat"])
            assert conn.selected_subprotocol == "chat"
            await conn.write_message("hi")
            text = await conn.read_message()
            await conn.write_message(b"\x01\x02\x03", binary=True)
            data = await conn.read_message()
            conn.close(1001, "leaving")
            assert await conn.read_message() is None
            return text, data

        assert asyncio.run(go()) == ("echo:hi", b"\x03\x02\x01")
        assert wait_until(lambda: client.server.call(lambda: SEEN.get("ws_close")), 10)
        code, _reason = client.server.call(lambda: SEEN["ws_close"])
        assert code == 1001


def test_server_close_code_and_reason_reach_the_client(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:

        async def go():
            conn = await websocket_connect(ws_url(client))
            await conn.write_message("close")
            assert await conn.read_message() is None
            conn.close()
            return conn.close_code, conn.close_reason

        assert asyncio.run(go()) == (4001, "asked")
        assert wait_until(lambda: client.server.call(lambda: "ws_close" in SEEN), 10)


def test_cross_origin_handshake_is_refused_with_403(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:

        async def go():
            req = HTTPRequest(ws_url(client), headers={"Origin": "http://evil.example"})
            try:
                await websocket_connect(req)
            except HTTPClientError as exc:
                return exc.code
            return None

        assert asyncio.run(go()) == 403
        assert "ws_open" not in SEEN


def test_same_origin_handshake_is_accepted(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        host = client.server.url.split("://", 1)[1]

        async def go():
            req = HTTPRequest(ws_url(client), headers={"Origin": f"http://{host}"})
            conn = await websocket_connect(req)
            await conn.write_message("x")
            reply = await conn.read_message()
            await shut(conn)
            return reply

        assert asyncio.run(go()) == "echo:x"


def test_a_message_over_max_message_size_closes_with_1009(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:

        async def go():
            conn = await websocket_connect(ws_url(client))
            await conn.write_message("x" * 2000)
            assert await conn.read_message() is None
            conn.close()
            return conn.close_code

        assert asyncio.run(go()) == 1009


def test_unknown_websocket_path_is_refused(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:

        async def go():
            try:
                await websocket_connect(client.server.url.replace("http", "ws", 1) + "/nope")
            except HTTPClientError as exc:
                return exc.code
            return None

        assert asyncio.run(go()) in (403, 404)


@pytest.mark.parametrize("n", [50])
def test_many_messages_keep_their_order(transport, n):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:

        async def go():
            conn = await websocket_connect(ws_url(client))
            for i in range(n):
                await conn.write_message(str(i))
            got = [await conn.read_message() for _ in range(n)]
            await shut(conn)
            return got

        assert asyncio.run(go()) == [f"echo:{i}" for i in range(n)]
