"""Helpers for the WebSocket tests: settings for the test app, a raw frame-level client,
a server process running the chat app."""

from __future__ import annotations

import base64
import logging
import os
import socket
import struct
from typing import Any

from tests.services import free_port
from tests.services.appserver import ROOT, AppProcess, app_env, runserver_argv

COOKIE = "__TORNADOSSID"


def app_settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "INSTALLED_APPS": ["tests.websocket.wsapp"],
        "MIDDLEWARE_CLASSES": ["torngas.middleware.session.SessionMiddleware"],
        "TORNADO_CONF": {
            "cookie_secret": "ws-test-cookie-secret-0123456789abcdef0123456789",
            "xsrf_cookies": False,
            "autoreload": False,
        },
        "CACHES": {
            "default": {
                "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
                "LOCATION": f"ws-test-{os.urandom(4).hex()}",
            }
        },
        "SESSION": {"secret_key": "ws-test-session-secret-0123456789abcdef0123456789"},
    }
    settings.update(overrides)
    return settings


def ws_url(client: Any, path: str) -> str:
    return client.server.url.replace("http", "ws", 1) + path


async def finish(conn: Any) -> None:
    """Close a client connection and wait for the closing handshake (no socket left over)."""
    import asyncio

    conn.close()
    while await asyncio.wait_for(conn.read_message(), 10) is not None:
        pass


class Records(logging.Handler):
    """Collects the records of one logger during a test."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.DEBUG)
        self.logger = logging.getLogger(name)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Records:
        self.logger.addHandler(self)
        self._level = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self._level)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


class RawWebSocket:
    """A frame-level client on a plain socket: sends what a real client must not
    (invalid UTF-8) and does not answer pings unless told to."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1]) if head else 0

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv_frame(self, timeout: float = 10) -> tuple[int, bytes] | None:
        """(opcode, payload), or None when the server closed the TCP connection."""
        self.sock.settimeout(timeout)
        try:
            b1, b2 = self._read(2)
            length = b2 & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            return b1 & 0x0F, self._read(length)
        except (EOFError, ConnectionResetError):
            return None

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        mask = os.urandom(4)
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    @staticmethod
    def close_code(payload: bytes) -> tuple[int | None, str]:
        if len(payload) < 2:
            return None, ""
        return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")

    def close(self) -> None:
        self.sock.close()


class ChatServer(AppProcess):
    """The wsapp chat app as its own server process (``runserver.py``), started."""

    def __init__(self, redis_url: str, tmpdir: Any) -> None:
        port = free_port()
        super().__init__(
            runserver_argv(port, "tests.websocket.wsapp.settings"),
            port=port,
            cwd=ROOT,
            log_dir=tmpdir,
            env=app_env({"TEST_BROADCAST_REDIS": redis_url}),
            name="chat",
        )
        self.ws = f"ws://127.0.0.1:{port}"
        self.start()

    def wait_ready(self, timeout: float = 30) -> ChatServer:
        super().wait_ready(timeout)
        return self
