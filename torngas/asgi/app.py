"""The ASGI application object: lifespan, HTTP and WebSocket scopes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from threading import get_ident
from typing import Any

from tornado import httputil

from torngas._gc import freeze_startup_heap
from torngas.asgi._http import ASGIConnection, _simple, run_http
from torngas.asgi._request import Context, headers_from_scope, new_request, uri_from_scope
from torngas.asgi._websocket import ASGIWebSocketConnection, run_websocket

__all__ = ["ASGIApplication"]

log = logging.getLogger("torngas.asgi")

_DEFAULT_MAX_BODY = 100 * 1024 * 1024  # Tornado's HTTPServer default
#: ASGI WebSocket schemes -> Tornado's ``request.protocol`` (others are kept).
_SCHEMES: dict[str, str] = {"ws": "http", "wss": "https"}
_VERSIONS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0", "2": "HTTP/2", "3": "HTTP/3"}


class ASGIApplication:
    """An ASGI 3 application serving a Tornado (torngas) application.

    ``ASGIApplication(app)`` wraps an application instance;
    ``ASGIApplication(factory=callable)`` builds it on first use (the lifespan
    start-up, or the first request when the server has no lifespan).

    Per-request settings are read once, when the application is built:
    ``XHEADERS`` + ``TRUSTED_PROXIES`` (client IP and scheme from
    ``X-Forwarded-For``/``X-Real-Ip``/``X-Forwarded-Proto``/``X-Scheme``, only
    when the TCP peer is a trusted proxy) and ``HTTPSERVER["max_body_size"]``.
    """

    def __init__(
        self,
        app: Any = None,
        *,
        factory: Callable[[], Any] | None = None,
        xheaders: bool | None = None,
        trusted_proxies: Any = None,
        max_body_size: int | None = None,
        gc_freeze: bool | None = None,
    ) -> None:
        if app is None and factory is None:
            raise TypeError("ASGIApplication needs an application or a factory")
        self._app = app
        self._factory = factory
        self._xheaders = xheaders
        self._trusted_proxies = trusted_proxies
        self._max_body_size = max_body_size
        self._gc_freeze = gc_freeze
        self._ready = False
        self._fast = True
        self._networks: tuple[Any, ...] = ()
        self.lifespan_started = False
        #: (loop, thread id) of the last request: see :meth:`_running_loop`.
        self._loop_seen: tuple[asyncio.AbstractEventLoop, int] | None = None
        #: The exception of a failed lifespan start-up (the server exits).
        self.startup_error: BaseException | None = None

    # ------------------------------------------------------------ building
    @property
    def app(self) -> Any:
        """The Tornado application (built on first access)."""
        if not self._ready:
            self._prepare()
        return self._app

    def _prepare(self) -> None:
        if self._app is None:
            assert self._factory is not None
            self._app = self._factory()
        from torngas.conf import settings
        from torngas.security import trusted_networks

        if self._xheaders is None:
            self._xheaders = bool(settings.get("XHEADERS", False))
        if self._trusted_proxies is None:
            self._trusted_proxies = settings.get("TRUSTED_PROXIES", ()) or ()
        self._networks = trusted_networks(self._trusted_proxies)
        if self._max_body_size is None:
            conf = settings.get("HTTPSERVER", None) or {}
            self._max_body_size = int(conf.get("max_body_size") or _DEFAULT_MAX_BODY)
        s = self._app.settings
        # Debug-mode resets of template/static caches happen in Tornado's
        # delegate: such applications take the delegate path.
        self._fast = bool(
            s.get("compiled_template_cache", True) and s.get("static_hash_cache", True)
        )
        self._ready = True

    # ------------------------------------------------------------- life
    async def startup(self) -> None:
        """What :class:`~torngas.webserver.Server` runs before serving:
        ``process_init`` hooks (once per process)."""
        app = self.app
        start = getattr(app, "startup", None)
        if start is not None:
            start()
        freeze_startup_heap(self._gc_freeze)  # settings.GC_FREEZE unless given

    async def shutdown(self) -> None:
        """What ``Server`` runs after the last request: ``process_shutdown``
        hooks, the thread pool, cache clients (``Application.shutdown``)."""
        if self._app is None:
            return
        stop = getattr(self._app, "shutdown", None)
        if stop is not None:
            await stop()

    async def _lifespan(self, receive: Callable[[], Any], send: Callable[..., Any]) -> None:
        while True:
            msg = await receive()
            kind = msg["type"]
            if kind == "lifespan.startup":
                try:
                    await self.startup()
                except BaseException as exc:
                    self.startup_error = exc
                    log.exception("ASGI start-up failed")
                    message = f"{type(exc).__name__}: {exc}"
                    await send({"type": "lifespan.startup.failed", "message": message})
                    return
                self.lifespan_started = True
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except BaseException as exc:
                    log.exception("ASGI shutdown failed")
                    message = f"{type(exc).__name__}: {exc}"
                    await send({"type": "lifespan.shutdown.failed", "message": message})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    # ------------------------------------------------------------ requests
    def _apply_xheaders(self, ctx: Context, headers: httputil.HTTPHeaders) -> None:
        from torngas.security import resolve_forwarded

        # The rule TorngasHTTPServer applies on Tornado's transport: headers count
        # only when the TCP peer is a trusted proxy.
        ip, scheme = resolve_forwarded(ctx.remote_ip, headers, self._networks)
        ctx.remote_ip = ip
        if scheme:
            ctx.protocol = scheme

    def _request(self, scope: dict[str, Any], conn: Any, method: str) -> httputil.HTTPServerRequest:
        """The Tornado request of an HTTP or WebSocket scope; ``conn.context``
        gets the client address and scheme (from trusted proxy headers with
        ``XHEADERS``)."""
        headers = headers_from_scope(scope["headers"])
        scheme = scope.get("scheme") or "http"
        protocol = _SCHEMES.get(scheme, scheme)
        client = scope.get("client")
        if self._xheaders:
            if client:
                ctx = Context(tuple(client), client[0], protocol)
            else:
                ctx = Context(None, "0.0.0.0", protocol)
            self._apply_xheaders(ctx, headers)
            conn.context = ctx
            remote_ip = ctx.remote_ip
            protocol = ctx.protocol
        else:  # conn.context is built if something reads it
            conn._client = client  # noqa: SLF001
            conn._scheme = protocol  # noqa: SLF001
            remote_ip = client[0] if client else "0.0.0.0"
        host_list = headers._as_list.get("Host")  # noqa: SLF001
        if host_list and len(host_list) == 1:
            host = host_list[0]
        elif host_list:
            host = ",".join(host_list)
        else:  # HTTP/2 without :authority, or HTTP/1.0: what the server listens on
            server = scope.get("server")
            host = f"{server[0]}:{server[1]}" if server and server[1] else "127.0.0.1"
            headers["Host"] = host
        raw = scope.get("raw_path")
        if raw:
            query = scope.get("query_string")
            uri = raw.decode("latin-1")
            if query:
                uri = uri + "?" + query.decode("latin-1")
        else:
            uri = uri_from_scope(scope)
        return new_request(
            method,
            uri,
            _VERSIONS.get(scope.get("http_version"), "HTTP/1.1"),
            headers,
            conn,
            remote_ip,
            protocol,
            host,
        )

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, found once per thread and loop.

        On Python 3.11 ``asyncio.get_running_loop()`` makes a ``getpid()``
        system call each time (a fork check, gone in 3.12): here it runs only
        when the thread or the loop changes. A loop runs in one thread at a time,
        so the loop seen last in this thread, still running, is the running one;
        a forked child that goes on inside the parent's loop goes on in that loop.
        """
        seen = self._loop_seen
        if seen is not None and seen[1] == get_ident() and seen[0].is_running():
            return seen[0]
        loop = asyncio.get_running_loop()
        self._loop_seen = (loop, get_ident())
        return loop

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Any], send: Callable[..., Any]
    ) -> None:
        kind = scope["type"]
        if not self._ready:
            if kind == "lifespan":
                await self._lifespan(receive, send)
                return
            self._prepare()
        if kind == "http":
            method = scope["method"]
            seen = self._loop_seen
            if seen is not None and seen[1] == get_ident() and seen[0].is_running():
                loop = seen[0]  # _running_loop(), inlined
            else:
                loop = self._running_loop()
            conn = ASGIConnection(send, None, self._max_body_size, method == "HEAD", loop=loop)  # type: ignore[arg-type]
            try:
                request = self._request(scope, conn, method)
            except httputil.HTTPInputError as exc:
                await _simple(send, 400, f"Bad Request: {exc}")
                return
            await run_http(self._app, request, conn, receive, send, self._fast)
        elif kind == "websocket":
            wconn = ASGIWebSocketConnection(send, None, scope)
            msg = await receive()
            if msg["type"] != "websocket.connect":
                return
            scope_headers = list(scope["headers"])
            names = {k.lower() for k, _ in scope_headers}
            # Servers that complete the handshake themselves may drop these;
            # the handler's Upgrade checks expect them.
            for name, value in (
                (b"upgrade", b"websocket"),
                (b"connection", b"Upgrade"),
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-key", b"asgi"),
            ):
                if name not in names:
                    scope_headers.append((name, value))
            try:
                request = self._request({**scope, "headers": scope_headers}, wconn, "GET")
            except httputil.HTTPInputError:
                await send({"type": "websocket.close", "code": 1008})
                return
            await run_websocket(self._app, request, wconn, receive)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
