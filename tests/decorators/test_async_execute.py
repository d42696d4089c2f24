"""@async_execute: a blocking method runs in the pool while the server keeps
answering other requests (a plain tornado.web.Application for now)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import importlib
import json
import threading
import time
from typing import Any

import pytest
from tornado import gen
from tornado.httpclient import AsyncHTTPClient
from tornado.testing import AsyncHTTPTestCase, gen_test
from tornado.web import Application, RequestHandler

import torngas.decorators
from torngas.decorators.async_execute import async_execute

current_user: contextvars.ContextVar[str] = contextvars.ContextVar("current_user", default="anon")
release = threading.Event()


class SlowHandler(RequestHandler):
    async def get(self) -> None:
        current_user.set(self.get_argument("user", "anon"))
        result = await self.blocking_work(float(self.get_argument("t", "0.5")))
        self.finish(result)

    @async_execute
    def blocking_work(self, seconds: float) -> dict[str, Any]:
        release.wait(seconds)  # a blocking call (a slow driver, a file, ...)
        return {"user": current_user.get(), "thread": threading.current_thread().name}


class LegacyHandler(RequestHandler):
    @gen.coroutine
    def get(self) -> Any:
        result = yield self.dosomething("a", "b")  # the 1.8 README's spelling
        self.finish(result)

    @async_execute
    def dosomething(self, a: str, b: str) -> str:
        return a + b


class FailHandler(RequestHandler):
    async def get(self) -> None:
        try:
            await self.explode()
        except KeyError as exc:
            self.set_status(409)
            self.finish({"caught": str(exc)})

    @async_execute
    def explode(self) -> None:
        raise KeyError("missing row")


class FastHandler(RequestHandler):
    def get(self) -> None:
        self.finish("fast")


class AsyncExecuteHTTPTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application(
            [
                (r"/slow", SlowHandler),
                (r"/legacy", LegacyHandler),
                (r"/fail", FailHandler),
                (r"/fast", FastHandler),
            ]
        )

    def setUp(self) -> None:
        super().setUp()
        release.clear()

    @gen_test(timeout=10)
    async def test_loop_serves_other_requests_during_a_blocking_call(self) -> None:
        client = AsyncHTTPClient()
        t0 = time.monotonic()
        slow = asyncio.ensure_future(client.fetch(self.get_url("/slow?t=1.0&user=alice")))
        await asyncio.sleep(0.05)  # the slow request is now blocking a pool thread
        fast_started = time.monotonic()
        for _ in range(5):
            response = await client.fetch(self.get_url("/fast"))
            assert response.body == b"fast"
        fast_elapsed = time.monotonic() - fast_started
        assert not slow.done()  # still blocked while the fast requests were served
        response = await slow
        total = time.monotonic() - t0
        body = json.loads(response.body)
        assert body["user"] == "alice"  # context variable copied into the worker
        assert body["thread"].startswith("torngas-pool")
        assert fast_elapsed < 0.5, fast_elapsed
        assert total >= 1.0

    def test_tornado_gen_coroutine_yield(self) -> None:
        response = self.fetch("/legacy")
        assert response.code == 200 and response.body == b"ab"

    def test_exception_propagates_to_the_handler(self) -> None:
        response = self.fetch("/fail")
        assert response.code == 409
        assert b"missing row" in response.body


def test_package_init_stays_empty_and_module_is_reachable() -> None:
    module = importlib.import_module("torngas.decorators.async_execute")
    assert torngas.decorators.async_execute is module  # not shadowed by the function
    assert callable(module.async_execute)


def test_wraps_metadata_and_rejects_coroutines() -> None:
    @async_execute
    def documented(x: int) -> int:
        """Doc."""
        return x

    assert documented.__name__ == "documented" and documented.__doc__ == "Doc."

    with pytest.raises(TypeError, match="coroutine"):

        @async_execute
        async def already_async() -> None:  # pragma: no cover - never called
            pass


def test_without_a_running_loop_returns_a_concurrent_future() -> None:
    @async_execute
    def add(a: int, b: int) -> int:
        return a + b

    future = add(2, 3)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(timeout=5) == 5


def test_starts_without_being_awaited() -> None:
    ran = threading.Event()

    @async_execute
    def side_effect() -> None:
        ran.set()

    async def main() -> None:
        future = side_effect()
        await asyncio.sleep(0)
        assert ran.wait(5)
        await future

    asyncio.run(main())
