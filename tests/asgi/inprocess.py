"""In-process cost per request of torngas on both transports (not a test).

    .venv/bin/python -m tests.asgi.inprocess                      # CPU us/request, every case
    .venv/bin/python -m tests.asgi.inprocess --instructions -n 1000   # valgrind count
    .venv/bin/python -m tests.asgi.inprocess -c torngas-asgi:/plaintext --profile

Drives the bench project (``bench.apps.torngas_app``; the ``BENCH_*`` variables
of ``bench/apps/torngas_app/settings.py`` apply, the ``torngas-uvicorn``
contender sets none) without a client process. Cases (``kind:/path``):

``torngas-asgi``     ``ASGIApplication.__call__`` awaited with a fixed scope (what
                     uvicorn's httptools protocol builds for wrk's request: a
                     ``Host`` header only), a ``receive`` returning an empty body
                     and a ``send`` that keeps the messages, on uvloop (as the
                     ``torngas-uvicorn`` contender): the application's own work.
``asgi-bare``        ``bench.apps.asgi_bare.app`` driven the same way (scale).
``torngas-tornado``  Tornado's transport: ``TorngasHTTPServer`` with a real
                     ``HTTP1ServerConnection`` on one end of a socket pair and a
                     minimal keep-alive client on the other, one asyncio loop
                     (as ``torngas runserver``). Includes Tornado's HTTP/1
                     parsing, the loop's socket work and the client's few calls.
``tornado-raw``      ``bench.apps.tornado_app``'s handlers in a plain
                     ``tornado.web.Application``, driven the same way (scale).
``torngas-delegate`` Tornado's transport without the socket: the server's
                     ``start_request`` delegate fed ``headers_received`` +
                     ``finish`` (headers parsed by ``HTTPHeaders.parse``) with a
                     fake connection, and one loop step for the handler's task.

Two measures: CPU microseconds per request (``time.process_time``, best of
``--rounds``; moved by whatever else runs on the machine), and with
``--instructions`` the instructions per request counted by valgrind
(cachegrind: the count for 3n requests minus the count for n, over 2n), which
does not depend on the machine's load. Every response is checked (status 200
and the body) before measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("TORNGAS_APP_SETTINGS", "bench.apps.torngas_app.settings")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.asgi.scopes import http_scope  # noqa: E402

ENDPOINTS = {"/plaintext": b"Hello, World!", "/json": b'{"message": "Hello, World!"}'}
CASES = (
    "asgi-bare:/plaintext",
    "torngas-asgi:/plaintext",
    "asgi-bare:/json",
    "torngas-asgi:/json",
    "tornado-raw:/plaintext",
    "torngas-tornado:/plaintext",
    "torngas-delegate:/plaintext",
)


@dataclass
class Case:
    run: Callable[[int], Awaitable[None]]  #: serve n requests (on a running loop)
    check: Callable[[], None]  #: one request, its response checked
    new_loop: Callable[[], asyncio.AbstractEventLoop]


def _uvloop_or_asyncio() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with torngas[asgi]
        return asyncio.new_event_loop
    return uvloop.new_event_loop  # type: ignore[no-any-return]


# ------------------------------------------------------------------ ASGI
_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return _REQUEST


def asgi_case(app: Any, path: str) -> Case:
    sent: list[dict[str, Any]] = []
    append = sent.append
    template = http_scope(path)
    new_loop = _uvloop_or_asyncio()

    async def send(msg: dict[str, Any]) -> None:
        append(msg)

    async def run(n: int) -> None:
        for _ in range(n):
            sent.clear()
            await app(dict(template), _receive, send)  # a fresh scope, as a server makes

    def check() -> None:
        loop = new_loop()
        try:
            loop.run_until_complete(run(1))
        finally:
            loop.close()
        start, body = sent[0], sent[-1]
        assert start["status"] == 200, start
        assert body["body"] == ENDPOINTS[path], body

    return Case(run, check, new_loop)


def torngas_asgi() -> Any:
    from torngas.asgi import get_asgi_application

    return get_asgi_application()


# --------------------------------------------------------------- Tornado
def tornado_server(app: Any) -> Any:
    from torngas.conf import settings
    from torngas.httpserver import TorngasHTTPServer

    kwargs = dict(settings.HTTPSERVER or {})
    kwargs.setdefault("xheaders", bool(settings.XHEADERS))
    return TorngasHTTPServer(app, **kwargs)


def loopback_case(server: Any, path: str) -> Case:
    """A keep-alive connection over a socket pair: Tornado's HTTP/1 server on
    one end, a client that sends one request and reads its response on the other."""
    from tornado.iostream import IOStream

    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n".encode()
    expected = ENDPOINTS[path]
    last: list[bytes] = [b""]

    async def run(n: int) -> None:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        server.handle_stream(IOStream(a), ("127.0.0.1", 50000))
        reader, writer = await asyncio.open_connection(sock=b)
        try:
            for _ in range(n):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                i = head.find(b"Content-Length: ") + 16
                length = int(head[i : head.index(b"\r\n", i)])
                last[0] = head + await reader.readexactly(length)
        finally:
            writer.close()
            await asyncio.sleep(0)

    def check() -> None:
        asyncio.run(run(1))
        assert last[0].startswith(b"HTTP/1.1 200 "), last[0]
        assert last[0].endswith(b"\r\n\r\n" + expected), last[0]

    return Case(run, check, asyncio.new_event_loop)


class _Conn:
    """The calls a handler makes on Tornado's ``HTTP1Connection``."""

    def __init__(self) -> None:
        from tornado.httpserver import _HTTPRequestContext

        stream = SimpleNamespace(socket=SimpleNamespace(family=socket.AF_INET))
        self.context = _HTTPRequestContext(stream, ("127.0.0.1", 50000), None)  # type: ignore[arg-type]
        self.out: list[Any] = []
        self._close = None
        self.done: asyncio.Future[None] | None = None

    def set_close_callback(self, cb: Any) -> None:
        self._close = cb

    def _future(self) -> asyncio.Future[None]:
        if self.done is None or self.done.get_loop() is not asyncio.get_running_loop():
            self.done = asyncio.get_running_loop().create_future()
            self.done.set_result(None)
        return self.done

    def write_headers(self, start_line: Any, headers: Any, chunk: bytes | None = None) -> Any:
        self.out.append((start_line, headers, chunk))
        return self._future()

    def write(self, chunk: bytes) -> Any:
        self.out.append(chunk)
        return self._future()

    def finish(self) -> None:
        pass


def delegate_case(server: Any, path: str) -> Case:
    from tornado.httputil import HTTPHeaders, RequestStartLine

    raw_headers = "Host: 127.0.0.1:8000\r\n"
    sleep0 = asyncio.sleep
    conn = _Conn()

    async def run(n: int) -> None:
        for _ in range(n):
            conn.out.clear()
            start = RequestStartLine("GET", path, "HTTP/1.1")  # what HTTP1Connection parses
            headers = HTTPHeaders.parse(raw_headers)
            delegate = server.start_request(None, conn)
            delegate.headers_received(start, headers)
            delegate.finish()  # starts the handler's task, as Tornado's server does
            await sleep0(0)  # ... which runs on the loop's next step

    def check() -> None:
        asyncio.run(run(1))
        start, _, body = conn.out[0] if conn.out else (None, None, None)
        assert start is not None and start.code == 200, conn.out
        assert body == ENDPOINTS[path], body

    return Case(run, check, asyncio.new_event_loop)


def raw_tornado_app() -> Any:
    import tornado.web

    from bench.apps import tornado_app

    return tornado.web.Application(
        [(r"/json", tornado_app.Json), (r"/plaintext", tornado_app.Plaintext)]
    )


# ------------------------------------------------------------------ main
def build(name: str, cache: dict[str, Any]) -> Case:
    kind, path = name.split(":", 1)
    if kind == "asgi-bare":
        from bench.apps.asgi_bare import app

        return asgi_case(app, path)
    if kind == "torngas-asgi":
        if "asgi" not in cache:
            cache["asgi"] = torngas_asgi()
        return asgi_case(cache["asgi"], path)
    if "torngas-app" not in cache:
        cache["torngas-app"] = (cache.get("asgi") or torngas_asgi()).app
        cache["torngas-app"].startup()
    if kind == "torngas-tornado":
        return loopback_case(tornado_server(cache["torngas-app"]), path)
    if kind == "torngas-delegate":
        return delegate_case(tornado_server(cache["torngas-app"]), path)
    if kind == "tornado-raw":
        from tornado.httpserver import HTTPServer

        return loopback_case(HTTPServer(raw_tornado_app()), path)
    raise SystemExit(f"unknown case {name!r}; known: {', '.join(CASES)}")


def serve(case: Case, n: int, warm: int = 0) -> float:
    """Serve ``warm`` then ``n`` requests on a new loop; CPU seconds of the ``n``."""
    loop = case.new_loop()
    try:
        if warm:
            loop.run_until_complete(case.run(warm))
        gc.collect()
        t0 = time.process_time()
        loop.run_until_complete(case.run(n))
        return time.process_time() - t0
    finally:
        loop.close()


def measure(case: Case, n: int, rounds: int) -> float:
    """Best CPU microseconds per request over ``rounds`` runs of ``n``."""
    best = float("inf")
    for _ in range(rounds):
        case.check()
        best = min(best, serve(case, n, warm=max(n // 10, 1)) / n * 1e6)
    return best


def instructions(name: str, n: int) -> float:
    """Instructions per request of case ``name``: valgrind's count for 3n
    requests minus the count for n, over 2n (start-up and the check cancel out)."""
    import re
    import subprocess

    counts = []
    for total in (n, 3 * n):
        cmd = [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            sys.executable, "-m", "tests.asgi.inprocess", "--run-only", "-c", name, "-n", str(total),
        ]  # fmt: skip
        env = dict(os.environ, PYTHONHASHSEED="0")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)  # noqa: S603
        found = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
        if proc.returncode != 0 or found is None:
            raise SystemExit(proc.stderr[-2000:])
        counts.append(int(found.group(1).replace(",", "")))
    return (counts[1] - counts[0]) / (2 * n)


def profile(case: Case, n: int, top: int) -> None:
    loop = case.new_loop()
    try:
        loop.run_until_complete(case.run(max(n // 10, 1)))
        prof = cProfile.Profile()
        prof.enable()
        loop.run_until_complete(case.run(n))
        prof.disable()
    finally:
        loop.close()
    stats = pstats.Stats(prof)
    print(f"  {stats.total_calls / n:.0f} Python calls per request")  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.asgi.inprocess")
    p.add_argument("-c", "--case", action="append", help=f"one of {', '.join(CASES)}")
    p.add_argument("-n", type=int, default=20000, help="requests per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="cProfile one round instead")
    p.add_argument("--top", type=int, default=30)
    p.add_argument(
        "--instructions",
        action="store_true",
        help="instructions per request under valgrind (-n 1000 is plenty)",
    )
    p.add_argument("--run-only", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    names = a.case or list(CASES)
    if a.instructions:
        for name in names:
            per = instructions(name, a.n)
            print(f"{name:30s} {per / 1000:7.1f} k instructions/request (valgrind)", flush=True)
        return 0
    cache: dict[str, Any] = {}
    for name in names:
        case = build(name, cache)
        case.check()
        if a.run_only:  # under valgrind: what --instructions counts
            serve(case, a.n)
        elif a.profile:
            print(f"== {name}")
            profile(case, a.n, a.top)
        else:
            us = measure(case, a.n, a.rounds)
            print(f"{name:30s} {us:7.2f} us/request (CPU, best of {a.rounds} x {a.n})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
