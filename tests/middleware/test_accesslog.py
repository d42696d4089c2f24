import logging
import socket

from torngas.testing import serve


def raw(port, head):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(head.encode("latin-1"))
        return s.recv(4096)


def test_one_escaped_line_per_request(caplog):
    with (
        caplog.at_level(logging.INFO),  # entered first, left last: the server has stopped
        serve(
            INSTALLED_APPS=["tests.test_apps.hello"],
            MIDDLEWARE_CLASSES=["torngas.middleware.accesslog.AccessLogMiddleware"],
        ) as client,
    ):
        port = client.server.port
        # C1 control characters (CSI, NEL) get past Tornado's header check
        raw(
            port,
            "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: evil\x9b31m\x85fake\r\nConnection: close\r\n\r\n",
        )
        client.get("/nope")
        raw(
            port,
            "GET /caf\u00e9?x=%0d%0a HTTP/1.1\r\nHost: x\r\nReferer: \x9bq\r\nConnection: close\r\n\r\n",
        )
        client.get("/", params={"q": "a\nb"})
    lines = [r.getMessage() for r in caplog.records if r.name == "torngas.access"]
    assert len(lines) == 4, lines
    assert not [r for r in caplog.records if r.name == "tornado.access"]  # replaced, not doubled
    assert lines[0].startswith("200 GET / (127.0.0.1)")
    assert 'ua="evil\\x9b31m\\x85fake"' in lines[0]
    assert lines[1].startswith("404 GET /nope")
    assert 'ref="\\x9bq"' in lines[2]
    assert "%0d%0a" in lines[2] and "%0A" in lines[3]
    for ln in lines:
        assert not any(ch in ln for ch in "\r\n\x1b\x9b\x85")
    levels = [r.levelname for r in caplog.records if r.name == "torngas.access"]
    assert levels == ["INFO", "WARNING", "WARNING", "INFO"]
