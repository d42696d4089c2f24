import asyncio

from tornado.websocket import websocket_connect

from tests.test_apps.recording import CONFIG, EVENTS
from torngas.testing import serve

R = "tests.test_apps.recording."


def roundtrip(url, message):
    async def go():
        conn = await websocket_connect(url)
        await conn.write_message(message)
        reply = await conn.read_message()
        conn.close()
        assert await conn.read_message() is None  # the closing handshake completed
        return reply

    return asyncio.run(go())


def test_websocket_sees_settings_and_request_middleware():
    EVENTS.clear()
    CONFIG.clear()
    with serve(
        INSTALLED_APPS=["tests.test_apps.hello"],
        MIDDLEWARE_CLASSES=[R + "A", R + "AsyncRequest"],
        WS_PREFIX="p",
    ) as client:
        url = client.server.url.replace("http", "ws") + "/ws"
        assert roundtrip(url, "hi") == "set-by-async-middleware:p:hi"
        assert client.get("/").text == "hello"
    kinds = [(e[0], e[1]) for e in EVENTS]
    assert ("A", "request") in kinds and ("Async", "request-end") in kinds
    assert ("A", "endcall") in kinds  # ran when the socket closed
    EVENTS.clear()


def test_middleware_can_refuse_the_upgrade():
    CONFIG.clear()
    CONFIG["A.process_request"] = "finish"
    try:
        with serve(
            INSTALLED_APPS=["tests.test_apps.hello"], MIDDLEWARE_CLASSES=[R + "A"]
        ) as client:
            url = client.server.url.replace("http", "ws") + "/ws"

            async def go():
                try:
                    await websocket_connect(url)
                except Exception as exc:
                    return getattr(exc, "code", None)

            assert asyncio.run(go()) == 403
    finally:
        CONFIG.clear()
        EVENTS.clear()
