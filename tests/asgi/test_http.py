"""Each HTTP semantic of the ASGI bridge, observed by a real client on loopback.

Every test runs on both transports (the ``transport`` fixture): what works on
Tornado's HTTPServer must work on torngas.asgi under uvicorn, and the other way.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import httpx
import pytest

from tests.asgi.asgiapp.handlers import SEEN
from tests.services import wait_until
from torngas.testing import serve

APP = ["tests.asgi.asgiapp"]
STATIC = os.path.join(os.path.dirname(__file__), "asgiapp", "static")


def test_hello_and_the_server_headers(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/")
        assert r.status_code == 200 and r.text == "hello"
        assert r.headers["content-type"] == "text/html; charset=UTF-8"
        assert r.headers["content-length"] == "5"
        # one Server and one Date header: the ASGI server's, not twice
        assert len(r.headers.get_list("server")) == 1
        assert len(r.headers.get_list("date")) == 1
        if transport == "asgi":
            assert type(client.server.asgi).__name__ == "ASGIApplication"


def test_flush_sends_the_first_chunk_before_the_handler_finishes(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        with client.stream("GET", "/stream") as r:
            assert r.status_code == 200
            chunks = r.iter_raw()
            first = next(chunks)  # would block (timeout) if the bridge buffered
            assert first == b"first|"
            assert client.server.call(lambda: SEEN.get("flushed")) is True
            assert httpx.get(client.server.url + "/release").text == "released"
            rest = b"".join(chunks)
        assert rest == b"second"


def test_stream_request_body_sees_chunks_as_they_arrive(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        state = client.server.url + "/upload-state"

        def body():
            yield b"a" * 1000
            # the handler got the first chunk while the request is still open
            assert wait_until(lambda: httpx.get(state).json()["bytes"] == 1000, 10)
            yield b"b" * 2000

        r = client.post("/upload", content=body())
        assert r.status_code == 200, r.text
        assert r.json()["bytes"] == 3000
        assert r.json()["calls"] >= 2


def test_max_body_size_refuses_a_large_body(transport):
    with serve(
        INSTALLED_APPS=APP, transport=transport, httpserver={"max_body_size": 1000}
    ) as client:
        assert client.post("/echo-body", content=b"x" * 1000).json() == {"len": 1000}
        # Tornado's HTTPServer answers 400 ("Content-Length too long") and
        # closes, sometimes before the client is done sending (a reset); the
        # ASGI bridge answers the precise 413.
        try:
            r = client.post("/echo-body", content=b"x" * 1001)
        except httpx.HTTPError:
            assert transport == "tornado"
        else:
            assert r.status_code == (413 if transport == "asgi" else 400)
        assert client.get("/").text == "hello"  # the server is fine afterwards


def test_max_body_size_counts_a_chunked_body_too(transport):
    with serve(
        INSTALLED_APPS=APP, transport=transport, httpserver={"max_body_size": 1000}
    ) as client:

        def body():
            yield b"x" * 600
            yield b"x" * 600

        try:
            r = client.post("/echo-body", content=body())
        except httpx.HTTPError:
            assert transport == "tornado"  # Tornado may close before answering
        else:
            assert r.status_code in ((413,) if transport == "asgi" else (400, 413))
        assert client.get("/").text == "hello"


def test_stream_request_body_may_raise_the_limit_in_prepare(transport):
    with serve(
        INSTALLED_APPS=APP, transport=transport, httpserver={"max_body_size": 1000}
    ) as client:
        r = client.post("/upload?limit=5000", content=b"y" * 3000)
        assert r.status_code == 200 and r.json()["bytes"] == 3000


def test_head_has_the_headers_and_no_body(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        get = client.get("/page")
        head = client.head("/page")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"] == "500"
        assert head.headers["x-custom"] == "yes"
        assert client.get("/").text == "hello"  # the connection is still in sync


def test_etag_gives_304_without_a_body(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        etag = client.get("/page").headers["etag"]
        r = client.get("/page", headers={"If-None-Match": etag})
        assert r.status_code == 304
        assert r.content == b""
        assert client.get("/page", headers={"If-None-Match": '"other"'}).status_code == 200


def test_keep_alive_serves_many_requests_on_one_connection(transport):
    with (
        serve(INSTALLED_APPS=APP, transport=transport) as client,
        socket.create_connection(("127.0.0.1", client.server.port), timeout=10) as s,
        s.makefile("rb") as f,
    ):
        for _ in range(3):
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            status = f.readline()
            assert status.startswith(b"HTTP/1.1 200")
            length = 0
            while (line := f.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert f.read(length) == b"hello"


def test_client_disconnect_calls_on_connection_close(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        s = socket.create_connection(("127.0.0.1", client.server.port), timeout=10)
        try:
            s.sendall(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
            assert wait_until(lambda: client.server.call(lambda: SEEN.get("hanging")), 10)
        finally:
            s.close()
        assert wait_until(lambda: client.server.call(lambda: SEEN.get("closed")), 10)


def test_remote_ip_and_scheme_from_the_connection(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/ip", headers={"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"})
        assert r.json() == {"ip": "127.0.0.1", "protocol": "http"}  # XHEADERS off


def test_connection_context_is_tornados(transport):
    """``request.connection.context`` has the peer address, IP and scheme (on
    ASGI it is built when read)."""
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        assert client.get("/context").json() == {
            "address": ["127.0.0.1"],
            "remote_ip": "127.0.0.1",
            "protocol": "http",
            "request_ip": "127.0.0.1",
        }


def test_forwarded_headers_from_a_trusted_proxy(transport):
    with serve(
        INSTALLED_APPS=APP, transport=transport, XHEADERS=True, TRUSTED_PROXIES=("127.0.0.1",)
    ) as client:
        r = client.get("/ip", headers={"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"})
        assert r.json() == {"ip": "1.2.3.4", "protocol": "https"}


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(transport):
    # Tornado's own HTTPServer(xheaders=True) would believe any peer; torngas
    # serves through TorngasHTTPServer, which applies the same rule as ASGI.
    with serve(
        INSTALLED_APPS=APP, transport=transport, XHEADERS=True, TRUSTED_PROXIES=("10.0.0.1",)
    ) as client:
        r = client.get("/ip", headers={"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"})
        assert r.json() == {"ip": "127.0.0.1", "protocol": "http"}


def test_xsrf_refuses_a_post_without_the_token_and_cookies_round_trip(transport):
    with serve(
        INSTALLED_APPS=APP,
        transport=transport,
        TORNADO_CONF={"xsrf_cookies": True, "cookie_secret": "s" * 40},
    ) as client:
        assert client.post("/form", data={"x": "1"}).status_code == 403
        token = client.get("/form").text
        assert "_xsrf" in client.cookies
        r = client.post("/form", data={"x": "1", "_xsrf": token})
        assert r.status_code == 200 and r.text == "posted 1"


def test_static_files(transport):
    with serve(
        INSTALLED_APPS=APP,
        transport=transport,
        TORNADO_CONF={"static_path": STATIC, "static_url_prefix": "/static/"},
    ) as client:
        r = client.get("/static/hello.txt")
        assert r.status_code == 200 and r.content == b"static bytes\n"
        assert r.headers["content-type"].startswith("text/plain")
        again = client.get("/static/hello.txt", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        head = client.head("/static/hello.txt")
        assert head.content == b"" and head.headers["content-length"] == "13"
        partial = client.get("/static/hello.txt", headers={"Range": "bytes=0-5"})
        assert partial.status_code == 206 and partial.content == b"static"
        assert client.get("/static/nope.txt").status_code == 404


def test_many_concurrent_requests(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        results: list[int] = []

        def worker():
            with httpx.Client(base_url=client.server.url) as c:
                for _ in range(20):
                    results.append(c.get("/page").status_code)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == [200] * 80, results
        assert time.monotonic() - started < 30


@pytest.mark.parametrize("path", ["/nope", "/api/x"])
def test_unknown_paths_are_404(transport, path):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        assert client.get(path).status_code == 404
