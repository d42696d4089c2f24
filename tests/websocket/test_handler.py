"""WebSocketHandler over real loopback connections: session and user in open(),
Origin checks, pings, size limits, junk frames, errors."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.websocket.conftest import COOKIE, RawWebSocket, Records, app_settings, finish, ws_url
from torngas.exceptions import ImproperlyConfigured
from torngas.testing import serve
from torngas.websocket import WebSocketConfig, normalize_origin


def run(coro):
    return asyncio.run(coro)


async def connect(url: str, headers: dict | None = None, **kw):
    return await websocket_connect(HTTPRequest(url, headers=headers or {}), **kw)


async def refused_status(url: str, headers: dict | None = None) -> int | None:
    try:
        conn = await connect(url, headers)
    except HTTPClientError as exc:
        return exc.code
    await finish(conn)
    return 101


async def done(conn, reply) -> None:
    """After a read: finish an open connection; only release one the server closed."""
    if reply is None:
        conn.close()
    else:
        await finish(conn)


async def closed_with(conn) -> tuple[int | None, str | None]:
    """Read until the server closes; its close code and reason."""
    while True:
        msg = await asyncio.wait_for(conn.read_message(), 10)
        if msg is None:
            conn.close()
            return conn.close_code, conn.close_reason


# ---------------------------------------------------------------- session & user
def test_open_sees_session_and_current_user_of_an_http_login():
    with serve(**app_settings()) as client:
        assert client.post("/login", data={"user": "ann"}).text == "ok"
        cookie = client.cookies.get(COOKIE)
        assert cookie

        async def go():
            conn = await connect(ws_url(client, "/ws/me"), {"Cookie": f"{COOKIE}={cookie}"})
            try:
                return json.loads(await conn.read_message())
            finally:
                await finish(conn)

        assert run(go()) == {"user": "ann", "session_user": "ann"}


def test_anonymous_is_closed_by_open_with_its_code():
    with serve(**app_settings()) as client:

        async def go():
            conn = await connect(ws_url(client, "/ws/me"))
            return await closed_with(conn)

        assert run(go()) == (4401, "login required")


def test_forged_session_cookie_is_anonymous():
    with serve(**app_settings()) as client:

        async def go():
            conn = await connect(ws_url(client, "/ws/me"), {"Cookie": f"{COOKIE}={'a' * 87}"})
            return await closed_with(conn)

        assert run(go())[0] == 4401


# ---------------------------------------------------------------- Origin
def test_same_origin_is_allowed_and_a_foreign_origin_refused_with_403_by_default():
    with serve(**app_settings()) as client:
        url = ws_url(client, "/ws/echo")
        own = client.server.url  # http://127.0.0.1:port
        with Records("torngas.websocket") as logs:
            assert run(refused_status(url, {"Origin": own})) == 101
            assert run(refused_status(url)) == 101  # no Origin: not a browser
            assert run(refused_status(url, {"Origin": "https://evil.example"})) == 403
            assert (
                run(
                    refused_status(
                        url, {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
                    )
                )
                == 403
            )
            # the same host on another port is another origin
            other_port = own.rsplit(":", 1)[0] + ":1"
            assert run(refused_status(url, {"Origin": other_port})) == 403
        refusals = [m for m in logs.messages() if "refused" in m]
        assert any("https://evil.example" in m and "Echo" in m for m in refusals)
        # never upgraded: the raw answer is a 403, not a 101
        raw = RawWebSocket(client.server.port, "/ws/echo", {"Origin": "https://evil.example"})
        assert raw.status == 403
        raw.close()
        assert client.get("/").status_code == 200


def test_allow_list_of_origins():
    ws = {"ALLOWED_ORIGINS": ["https://app.example", "http://localhost:8080/"]}
    with serve(**app_settings(WEBSOCKET=ws)) as client:
        url = ws_url(client, "/ws/echo")
        ok = [
            "https://app.example",
            "https://APP.example:443",
            "http://localhost:8080",
            client.server.url,  # its own origin stays allowed
        ]
        for origin in ok:
            assert run(refused_status(url, {"Origin": origin})) == 101, origin
        bad = [
            "https://app.example:8443",
            "http://app.example",
            "https://app.example.evil.example",
            "https://evil.example",
            "null",
        ]
        for origin in bad:
            assert run(refused_status(url, {"Origin": origin})) == 403, origin
        cross = {"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"}
        assert run(refused_status(url, cross)) == 101


def test_star_allows_any_origin():
    with serve(**app_settings(WEBSOCKET={"ALLOWED_ORIGINS": ["*"]})) as client:
        url = ws_url(client, "/ws/echo")
        assert run(refused_status(url, {"Origin": "https://evil.example"})) == 101


def test_bad_origin_setting_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="not an origin"):
        WebSocketConfig.from_settings({"ALLOWED_ORIGINS": ["example.com"]})
    with pytest.raises(ImproperlyConfigured, match="unknown keys"):
        WebSocketConfig.from_settings({"PING_INTERVALL": 3})
    assert normalize_origin("HTTPS://Example.COM:443") == "https://example.com"
    assert normalize_origin("http://[::1]:8000") == "http://[::1]:8000"
    assert normalize_origin("null") is None


# ---------------------------------------------------------------- ping / limits
def test_defaults_apply_without_tornado_settings():
    config = WebSocketConfig.from_settings({})
    assert (config.ping_interval, config.ping_timeout, config.max_message_size) == (
        20,
        20,
        64 * 1024,
    )
    # Tornado >= 6.5 caps the timeout at the interval; so do we (no per-connection warning)
    assert WebSocketConfig.from_settings({"PING_INTERVAL": 5, "PING_TIMEOUT": 30}).ping_timeout == 5
    # Tornado's own application settings win over WEBSOCKET
    config = WebSocketConfig.from_settings({}, tornado_settings={"websocket_ping_interval": 3})
    assert config.ping_interval == 3


def test_server_pings_and_drops_a_client_that_does_not_answer():
    ws = {"PING_INTERVAL": 0.3, "PING_TIMEOUT": 0.3}
    with serve(**app_settings(WEBSOCKET=ws)) as client:
        raw = RawWebSocket(client.server.port, "/ws/echo")
        assert raw.status == 101
        start = time.monotonic()
        frame = raw.recv_frame(5)
        assert frame is not None and frame[0] == 0x9  # a ping
        assert 0.2 <= time.monotonic() - start < 3
        frame = raw.recv_frame(5)  # no pong sent: the server gives up
        assert frame is not None and frame[0] == 0x8
        assert raw.close_code(frame[1]) == (1000, "ping timed out")
        assert time.monotonic() - start < 4
        raw.close()

        async def answering():  # Tornado's client answers pings: it stays connected
            conn = await connect(ws_url(client, "/ws/echo"))
            await asyncio.sleep(1.2)
            await conn.write_message("still here")
            reply = await asyncio.wait_for(conn.read_message(), 5)
            await finish(conn)
            return reply

        assert run(answering()) == "still here"


def test_oversize_message_closes_with_1009():
    with serve(**app_settings()) as client:

        async def go(path, size):
            conn = await connect(ws_url(client, path))
            await conn.write_message("x" * size)
            reply = await asyncio.wait_for(conn.read_message(), 10)
            await done(conn, reply)
            if reply is not None:
                return len(reply)
            return conn.close_code

        assert run(go("/ws/small", 1024)) == 1024
        assert run(go("/ws/small", 1025)) == 1009  # websocket_options of the handler
        assert run(go("/ws/echo", 64 * 1024)) == 64 * 1024
        assert run(go("/ws/echo", 64 * 1024 + 1)) == 1009  # the WEBSOCKET default


def test_invalid_utf8_text_closes_with_1007():
    with serve(**app_settings()) as client:
        raw = RawWebSocket(client.server.port, "/ws/echo")
        raw.send_frame(0x1, b"ok")
        assert raw.recv_frame() == (0x1, b"ok")
        raw.send_frame(0x1, b"\xff\xfe not utf-8")
        frame = raw.recv_frame()
        assert frame is not None and frame[0] == 0x8
        assert raw.close_code(frame[1])[0] == 1007
        raw.send_frame(0x8, frame[1][:2])  # complete the closing handshake
        assert raw.recv_frame(5) is None  # then the server closes TCP
        raw.close()


def test_json_message_format():
    with serve(**app_settings()) as client:
        url = ws_url(client, "/ws/json")

        async def go(message, binary=False):
            conn = await connect(url)
            await conn.write_message(message, binary=binary)
            reply = await asyncio.wait_for(conn.read_message(), 10)
            await done(conn, reply)
            if reply is not None:
                return json.loads(reply)
            return conn.close_code, conn.close_reason

        assert run(go('{"a": [1, 2]}')) == {"got": {"a": [1, 2]}, "type": "dict"}
        assert run(go("3")) == {"got": 3, "type": "int"}
        assert run(go("not json")) == (1007, "invalid JSON")
        assert run(go(b'{"a": 1}', binary=True))[0] == 1003


def test_handler_exception_closes_with_1011_and_the_server_keeps_serving():
    with serve(**app_settings()) as client:

        async def go(path, message):
            conn = await connect(ws_url(client, path))
            if message is not None:
                await conn.write_message(message)
            reply = await asyncio.wait_for(conn.read_message(), 10)
            await done(conn, reply)
            return reply, conn.close_code

        with Records("torngas.websocket") as logs:
            assert run(go("/ws/boom", "boom")) == (None, 1011)
            assert run(go("/ws/openboom", None)) == (None, 1011)
        errors = [r for r in logs.records if r.levelname == "ERROR"]
        assert len(errors) == 2
        assert "wsapp.handlers.Boom" in errors[0].getMessage()
        assert errors[0].exc_info[1].args == ("boom in on_message",)
        assert "OpenBoom" in errors[1].getMessage()
        assert run(go("/ws/boom", "hello"))[0] == "fine:hello"
        assert client.get("/").status_code == 200


def test_endcall_runs_once_per_socket_at_close():
    from tests.test_apps.recording import CONFIG, EVENTS

    R = "tests.test_apps.recording."
    EVENTS.clear()
    CONFIG.clear()
    try:
        with serve(**app_settings(MIDDLEWARE_CLASSES=[R + "A"])) as client:

            async def go():
                conn = await connect(ws_url(client, "/ws/echo"))
                await conn.write_message("x")
                await conn.read_message()
                before = list(EVENTS)
                await finish(conn)
                await asyncio.sleep(0.3)
                return before

            before = run(go())
            assert ("A", "endcall") not in before  # not at the 101 response
            assert EVENTS.count(("A", "endcall")) == 1
    finally:
        EVENTS.clear()
