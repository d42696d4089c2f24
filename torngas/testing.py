"""Test support: build an app from settings given in the test, serve it on
loopback, and talk to it over real HTTP with a client that keeps cookies.

pytest style (any test function; no async plugin needed)::

    from torngas.testing import serve

    def test_home():
        with serve(INSTALLED_APPS=["myapp"], MIDDLEWARE_CLASSES=[]) as client:
            r = client.get("/")
            assert r.status_code == 200

``serve(**settings)`` applies the settings with ``override_settings``, builds a
fresh :class:`~torngas.application.Application`, runs it on a free
127.0.0.1 port in a background thread with its own event loop, and yields an
``httpx.Client`` (``base_url`` set, cookies kept, redirects not followed). On
exit the server is shut down and the settings restored: nothing leaks into the
next test. ``client.app`` is the application and ``client.server`` the
:class:`LiveServer`.

Transports: ``serve(..., transport="asgi")`` runs the same application through
:mod:`torngas.asgi` on uvicorn (httptools, in the same background-thread
design) instead of Tornado's ``HTTPServer``; the default comes from the
``TORNGAS_TEST_TRANSPORT`` environment variable (``tornado`` when unset), so a
whole suite can be run once per transport.

unittest style: :class:`TorngasTestCase` (a ``tornado.testing.AsyncHTTPTestCase``)
with a ``settings`` dict and ``self.client`` (sync, cookie-keeping).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import tornado.netutil
from tornado.testing import AsyncHTTPTestCase

from torngas.conf import override_settings
from torngas.httpserver import TorngasHTTPServer

__all__ = ["LiveServer", "serve", "make_app", "TorngasTestCase", "TRANSPORTS", "default_transport"]

#: What :class:`LiveServer` can serve with.
TRANSPORTS = ("tornado", "asgi")


def default_transport() -> str:
    """``TORNGAS_TEST_TRANSPORT`` (``tornado`` or ``asgi``), ``tornado`` when unset."""
    value = os.environ.get("TORNGAS_TEST_TRANSPORT", "").strip().lower() or "tornado"
    if value not in TRANSPORTS:
        raise ValueError(
            f"TORNGAS_TEST_TRANSPORT={value!r}: expected one of {', '.join(TRANSPORTS)}"
        )
    return value


def make_app(application_class: Any = None, **app_settings: Any) -> Any:
    """Build an application from the current settings."""
    from torngas.application import Application

    cls = application_class or Application
    return cls(**app_settings)


class LiveServer:
    """Runs an application on 127.0.0.1 in a thread with its own event loop.

    ``transport="tornado"`` serves with Tornado's ``HTTPServer``
    (``httpserver_kwargs`` are its arguments); ``transport="asgi"`` with
    :class:`torngas.asgi.ASGIApplication` on uvicorn (``xheaders`` and
    ``max_body_size`` of ``httpserver_kwargs`` apply, the rest are Tornado's
    own). Default: :func:`default_transport`.
    """

    def __init__(
        self,
        app_factory: Callable[[], Any],
        *,
        address: str = "127.0.0.1",
        transport: str | None = None,
        **httpserver_kwargs: Any,
    ) -> None:
        self.app_factory = app_factory
        self.address = address
        self.transport = transport or default_transport()
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport {self.transport!r}: expected one of {TRANSPORTS}")
        self.asgi: Any = None
        self.httpserver_kwargs = httpserver_kwargs
        self.app: Any = None
        self.port = 0
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def start(self) -> LiveServer:
        self._thread = threading.Thread(target=self._run, name="torngas-live-server", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self.error is not None:
            raise self.error
        if not self._ready.is_set():
            raise RuntimeError("live server did not start within 30 s")
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start()
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        from torngas.conf import settings

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.app = self.app_factory()
        if self.transport == "asgi":
            await self._main_asgi()
            return
        self.app.startup()
        sockets = tornado.netutil.bind_sockets(0, self.address)
        self.port = sockets[0].getsockname()[1]
        kwargs = dict(settings.HTTPSERVER or {})
        kwargs.setdefault("xheaders", bool(settings.XHEADERS))
        kwargs.update(self.httpserver_kwargs)
        server = TorngasHTTPServer(self.app, **kwargs)
        server.add_sockets(sockets)
        self._ready.set()
        await self._stop.wait()
        server.stop()
        await asyncio.wait_for(server.close_all_connections(), 5)
        await self.app.shutdown()

    async def _main_asgi(self) -> None:
        import uvicorn

        from torngas.asgi import ASGIApplication
        from torngas.conf import settings

        conf = dict(settings.HTTPSERVER or {})
        conf.update(self.httpserver_kwargs)
        self.asgi = ASGIApplication(
            self.app,
            xheaders=bool(conf.get("xheaders", settings.XHEADERS)),
            max_body_size=conf.get("max_body_size"),
            # A test process starts many servers: freezing its heap each time
            # would keep every earlier test's cyclic garbage forever.
            gc_freeze=False,
        )
        sock = socket.socket(socket.AF_INET6 if ":" in self.address else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.address, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.asgi,
            lifespan="on",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # torngas's XHEADERS/TRUSTED_PROXIES decide
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)

        async def serve() -> None:
            try:
                await server.serve(sockets=[sock])
            except SystemExit as exc:  # uvicorn's answer to a failed start-up
                raise RuntimeError(f"uvicorn exited with status {exc.code}") from None

        task = asyncio.ensure_future(serve())
        try:
            while not server.started:
                if task.done():
                    if self.asgi.startup_error is not None:  # process_init failed
                        raise self.asgi.startup_error
                    task.result()  # start-up failed: report it to start()
                    raise RuntimeError("uvicorn stopped during start-up")
                await asyncio.sleep(0.01)
            self._ready.set()
            await self._stop.wait()
        finally:
            server.should_exit = True
            try:
                if not task.done():
                    await asyncio.wait_for(task, 15)
                elif not task.cancelled():
                    task.exception()  # reported above
            finally:
                sock.close()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop and return its result (awaited if a coroutine)."""
        assert self._loop is not None

        async def wrapper() -> Any:
            result = fn()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(30)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)


@contextlib.contextmanager
def serve(
    application_class: Any = None,
    *,
    app_settings: dict[str, Any] | None = None,
    httpserver: dict[str, Any] | None = None,
    client_kwargs: dict[str, Any] | None = None,
    transport: str | None = None,
    **settings_overrides: Any,
) -> Iterator[Any]:
    """Serve an app built from ``settings_overrides`` and yield an ``httpx.Client``.

    ``transport``: ``"tornado"`` or ``"asgi"`` (default: ``TORNGAS_TEST_TRANSPORT``).
    """
    import httpx

    with override_settings(**settings_overrides):
        server = LiveServer(
            lambda: make_app(application_class, **(app_settings or {})),
            transport=transport,
            **(httpserver or {}),
        ).start()
        try:
            kwargs = {"base_url": server.url, "follow_redirects": False, "timeout": 30.0}
            kwargs.update(client_kwargs or {})
            with httpx.Client(**kwargs) as client:
                client.app = server.app  # type: ignore[attr-defined]
                client.server = server  # type: ignore[attr-defined]
                yield client
        finally:
            server.stop()


class TorngasTestCase(AsyncHTTPTestCase):
    """unittest base: ``settings`` (a dict) is applied for each test.

    ``self.fetch`` is Tornado's; ``self.client`` is a cookie-keeping sync
    ``httpx.Client`` — use it only from tests that do not run on the loop.
    """

    settings: dict[str, Any] = {}
    application_class: Any = None

    def setUp(self) -> None:
        self._override = override_settings(**self.settings)
        self._override.__enter__()
        super().setUp()

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            self._override.__exit__(None, None, None)

    def get_app(self) -> Any:
        app = make_app(self.application_class)
        app.startup()
        return app
