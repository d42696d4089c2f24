"""One ASGI application served from several event loops and threads.

``torngas.asgi`` remembers the running loop per thread (``asyncio.get_running_loop``
costs a ``getpid()`` system call on Python 3.11); a new loop, or another thread,
must still get futures of its own loop: ``/flushed`` awaits ``flush()``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tests.asgi.scopes import http_scope
from torngas.asgi import ASGIApplication
from torngas.conf import override_settings

pytestmark = pytest.mark.tornado_only("drives the ASGI application in process")


async def _get(app: ASGIApplication, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # no disconnect while the handler runs
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(http_scope(path), receive, send), 10)
    status = sent[0]["status"]
    return status, b"".join(m.get("body", b"") for m in sent[1:])


def _app() -> ASGIApplication:
    from torngas.application import Application

    return ASGIApplication(factory=Application, gc_freeze=False)


def test_sequential_loops_and_threads_each_get_their_own_loop():
    with override_settings(INSTALLED_APPS=["tests.asgi.asgiapp"]):
        app = _app()
        for _ in range(3):  # a new loop each time, in this thread
            assert asyncio.run(_get(app, "/flushed")) == (200, b"a|b")
            assert asyncio.run(_get(app, "/")) == (200, b"hello")

        results: list[Any] = []

        def other_thread() -> None:
            results.append(asyncio.run(_get(app, "/flushed")))

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(20)
        assert results == [(200, b"a|b")]
        assert asyncio.run(_get(app, "/flushed")) == (200, b"a|b")


def test_two_threads_serving_at_once():
    """Two loops running at the same time in two threads, one application."""
    with override_settings(INSTALLED_APPS=["tests.asgi.asgiapp"]):
        app = _app()
        asyncio.run(_get(app, "/"))  # built
        barrier = threading.Barrier(2)
        results: list[Any] = []
        lock = threading.Lock()

        def serve_many() -> None:
            async def main() -> list[tuple[int, bytes]]:
                barrier.wait(10)
                out = []
                for _ in range(200):
                    out.append(await _get(app, "/flushed"))
                return out

            got = asyncio.run(main())
            with lock:
                results.extend(got)

        threads = [threading.Thread(target=serve_many) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 400
        assert set(results) == {(200, b"a|b")}
