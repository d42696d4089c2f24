"""The torngas :class:`Application`: a :class:`tornado.web.Application` built from settings."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

import tornado.web
from tornado import httputil
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.routing import Rule

from torngas.asgi._request import new_request
from torngas.conf import settings
from torngas.exceptions import NoReverseMatch
from torngas.middleware.manager import MiddlewareError, MiddlewareManager, RequestChain
from torngas.routing import HandlerDelegate, IndexedRouter
from torngas.template import make_template_loader

__all__ = ["Application", "tornado_settings"]

log = logging.getLogger("torngas.application")
_access_log = logging.getLogger("tornado.access")
_CLOSERS = (
    ("torngas.cache", "shutdown_caches", "caches"),
    ("torngas.db.connection", "close_async_connections", "database connections"),
    ("torngas.broadcast", "close_broadcasters", "broadcast connections"),
)


def tornado_settings(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments for :class:`tornado.web.Application` from settings.

    ``TORNADO_CONF`` (relative ``static_path``/``template_path`` resolved
    against ``PROJECT_PATH``), ``DEBUG``, and the template loader of
    ``TEMPLATE_CONFIG`` (``template_loader``); ``overrides`` win.
    """
    conf: dict[str, Any] = dict(settings.TORNADO_CONF or {})
    project = settings.PROJECT_PATH or os.getcwd()
    for key in ("static_path", "template_path"):
        value = conf.get(key)
        if value and not os.path.isabs(value):
            conf[key] = os.path.join(project, value)
    if conf.get("static_path") and not os.path.isdir(conf["static_path"]):
        conf.pop("static_path")  # no static route for a directory that does not exist
    if not conf.get("cookie_secret"):
        conf.pop("cookie_secret", None)
    conf.setdefault("debug", bool(settings.DEBUG))
    if "template_loader" not in conf and "template_loader" not in overrides:
        conf["template_loader"] = make_template_loader(conf.get("template_path"))
    if "default_handler_class" not in conf:
        from torngas.handler import ErrorHandler

        conf["default_handler_class"] = ErrorHandler
        conf["default_handler_args"] = {"status_code": 404}
    conf.update(overrides)
    return conf


class Application(tornado.web.Application):
    """A Tornado application configured from torngas settings.

    ``handlers`` default to the routes of every app in ``INSTALLED_APPS``;
    ``MIDDLEWARE_CLASSES`` are loaded once here. Keyword arguments are Tornado
    application settings and win over ``TORNADO_CONF``. ``process_init`` hooks
    run once, before the first request (:meth:`startup`).
    """

    def __init__(
        self,
        handlers: Sequence[Any] | None = None,
        default_host: str | None = None,
        transforms: Any = None,
        *,
        middleware: Sequence[Any] | None = None,
        **app_settings: Any,
    ) -> None:
        if handlers is None:
            from torngas.apps import load_urls

            handlers = load_urls(settings.INSTALLED_APPS)
        self.middleware = MiddlewareManager(
            settings.MIDDLEWARE_CLASSES if middleware is None else middleware
        )
        self._inflight: set[HTTPServerRequest] = set()
        self._started = False
        tsettings = tornado_settings(**app_settings)
        autoreload = bool(tsettings.get("autoreload", tsettings.get("debug", False)))
        # Tornado would start autoreload here, on whatever loop is current before
        # the server's loop runs; the Server starts it on the serving loop instead.
        tsettings["autoreload"] = False
        super().__init__(list(handlers), default_host, transforms, **tsettings)
        self.settings["autoreload"] = autoreload
        # Same rules, same order, same answers; only the rules that can match are
        # tried (see torngas.routing). The default router keeps Tornado's class:
        # add_handlers() edits its rule list in place.
        self.wildcard_router = IndexedRouter(self, self.wildcard_router.rules)
        self._catch_all = self.default_router.rules[-1]
        self._catch_all.target = self.wildcard_router
        # Tornado's delegate re-reads these two settings for every request (debug
        # mode resets template and static caches); read once here.
        s = self.settings
        self._fast_delegate = bool(
            s.get("compiled_template_cache", True) and s.get("static_hash_cache", True)
        )
        #: The template loader of ``TEMPLATE_CONFIG`` (one per application).
        self.template_loader = self.settings["template_loader"]

    # ----------------------------------------------------------------- life
    def startup(self) -> None:
        """Run the ``process_init`` hooks (once). The server calls it before
        serving; otherwise it runs on the first request."""
        if not self._started:
            self._started = True
            self.middleware.run_init(self)

    async def shutdown(self) -> None:
        """Release process-wide resources: ``process_shutdown`` hooks, the thread
        pool, cache clients, async database connections, the broadcast
        subscriber. Runs on the serving loop when the server stops (both
        transports)."""
        import sys

        from torngas import concurrent

        await self.middleware.run_shutdown(self)
        concurrent.shutdown(wait=False)
        # What this process opened on the serving loop, for the features in use
        # (a module never imported has nothing open): cache clients, async
        # database connections, the broadcast subscriber connection.
        for module, attr, what in _CLOSERS:
            close = getattr(sys.modules.get(module), attr, None)
            if close is None:
                continue
            try:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("closing %s failed", what)

    @property
    def inflight(self) -> int:
        """Requests received whose response has not been finished yet."""
        self._inflight = {r for r in self._inflight if not _connection_gone(r)}
        return len(self._inflight)

    # -------------------------------------------------------------- routing
    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        if not self._started:
            self.startup()
        self._inflight.add(request)
        mw = self.middleware
        if mw.active:
            chain = request._torngas_chain = RequestChain()  # type: ignore[attr-defined]
            if mw.call_hooks:
                try:
                    mw.run_call(request, chain)
                except (MiddlewareError, tornado.web.HTTPError) as exc:
                    status = getattr(exc, "status_code", 500)
                    if status >= 500:
                        log.exception("process_call failed for %s %s", request.method, request.uri)
                    from torngas.handler import ErrorHandler

                    chain.cleared = True
                    return self.get_handler_delegate(request, ErrorHandler, {"status_code": status})
        rules = self.default_router.rules
        wildcard = self.wildcard_router
        if len(rules) == 1 and rules[0] is self._catch_all and self._catch_all.target is wildcard:
            # No host rules (add_handlers): Tornado's default router would only
            # pass the request on to the wildcard router. Ask it directly.
            route = wildcard.find_handler(request)
        else:
            route = self.default_router.find_handler(request)
        if route is not None:
            return route
        # Tornado's Application.find_handler from here on.
        if self.settings.get("default_handler_class"):
            return self.get_handler_delegate(
                request,
                self.settings["default_handler_class"],
                self.settings.get("default_handler_args", {}),
            )
        return self.get_handler_delegate(request, tornado.web.ErrorHandler, {"status_code": 404})

    def get_handler_delegate(
        self,
        request: HTTPServerRequest,
        target_class: type[tornado.web.RequestHandler],
        target_kwargs: dict[str, Any] | None = None,
        path_args: list[bytes] | None = None,
        path_kwargs: dict[str, bytes] | None = None,
    ) -> Any:
        """Tornado's delegate (a :class:`HandlerDelegate`, which is one)."""
        return HandlerDelegate(self, request, target_class, target_kwargs, path_args, path_kwargs)

    def direct_delegate_factory(self) -> Any:
        """For the indexed router: a function building the delegate of a route
        from what the route knows at start-up, or None when a subclass has its
        own :meth:`get_handler_delegate` (every route then goes through it)."""
        if type(self).get_handler_delegate is not Application.get_handler_delegate:
            return None
        app = self
        new = object.__new__

        def make(
            request: HTTPServerRequest,
            handler_class: Any,
            handler_kwargs: dict[str, Any],
            path_args: list[bytes],
            path_kwargs: dict[str, bytes],
            stream: bool,
        ) -> HandlerDelegate:
            delegate = new(HandlerDelegate)
            delegate.application = app
            delegate.connection = request.connection
            delegate.request = request
            delegate.handler_class = handler_class
            delegate.handler_kwargs = handler_kwargs
            delegate.path_args = path_args
            delegate.path_kwargs = path_kwargs
            delegate.chunks = bytearray()
            delegate.stream_request_body = stream
            return delegate

        return make

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        """Tornado's HTTP server asks for one delegate per request: this one
        builds the request and routes it as Tornado's ``_RoutingDelegate`` does."""
        return _RequestDelegate(self, server_conn, request_conn)

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        self._inflight.discard(handler.request)
        if "log_function" not in self.settings:
            # Tornado formats the summary line before the logger decides; skip
            # all of it when tornado.access would drop the record anyway.
            status = handler.get_status()
            level = (
                logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
            )
            if not _access_log.isEnabledFor(level):
                return
        super().log_request(handler)

    def reverse_url(self, name: str, *args: Any) -> str:
        reversed_url = self.default_router.reverse_url(name, *args)
        if reversed_url is not None:
            return reversed_url
        names = sorted(r.name for r in self.wildcard_router.rules if isinstance(r, Rule) and r.name)
        raise NoReverseMatch(
            f"reverse_url: no route named {name!r}; named routes: {', '.join(names) or 'none'}"
        )

    def route_table(self) -> list[tuple[str | None, str, str]]:
        """``(name, pattern, handler)`` for every route, in matching order."""
        rows = []
        for rule in self.wildcard_router.rules:
            matcher = rule.matcher
            pattern = getattr(getattr(matcher, "regex", None), "pattern", repr(matcher))
            target = rule.target
            handler = (
                getattr(target, "__module__", "")
                + "."
                + getattr(target, "__qualname__", repr(target))
            )
            rows.append((rule.name, pattern, handler))
        return rows


class _RequestDelegate(httputil.HTTPMessageDelegate):
    """Tornado's ``_RoutingDelegate`` for an :class:`Application`: the request
    is built without re-checking what Tornado's HTTP/1 parser already did
    (:func:`torngas.asgi._request.new_request`, same attributes and the same
    ``HTTPInputError`` for a bad Host or query string), then routed by
    ``find_handler``; the handler's delegate gets every later call."""

    __slots__ = ("application", "server_conn", "request_conn", "delegate")

    def __init__(
        self, application: Application, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> None:
        self.application = application
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.delegate: httputil.HTTPMessageDelegate | None = None

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Any:
        assert isinstance(start_line, httputil.RequestStartLine)
        request = _server_request(start_line, headers, self.request_conn, self.server_conn)
        delegate = self.delegate = self.application.find_handler(request)
        if delegate is None:  # a subclass's find_handler may find nothing
            from tornado.routing import _DefaultMessageDelegate

            tornado.web.app_log.debug(
                "Delegate for %s %s request not found", start_line.method, start_line.path
            )
            delegate = self.delegate = _DefaultMessageDelegate(self.request_conn)
        return delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        assert self.delegate is not None
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        assert self.delegate is not None
        self.delegate.finish()

    def on_connection_close(self) -> None:
        if self.delegate is not None:
            self.delegate.on_connection_close()


def _server_request(
    start_line: httputil.RequestStartLine,
    headers: HTTPHeaders,
    connection: httputil.HTTPConnection,
    server_connection: object,
) -> HTTPServerRequest:
    """``HTTPServerRequest(connection=, server_connection=, start_line=, headers=)``."""
    if type(headers) is not HTTPHeaders or not headers:
        return HTTPServerRequest(
            connection=connection,
            server_connection=server_connection,
            start_line=start_line,
            headers=headers,
        )
    method, uri, version = start_line
    hosts = headers._as_list.get("Host")  # noqa: SLF001
    if hosts:
        host = hosts[0] if len(hosts) == 1 else ",".join(hosts)
    elif version == "HTTP/1.0":
        host = "127.0.0.1"  # HTTP/1.0 does not require the Host header
    else:
        raise httputil.HTTPInputError("Missing Host header")
    context = getattr(connection, "context", None)
    return new_request(
        method,
        uri,
        version,
        headers,
        connection,
        getattr(context, "remote_ip", None),
        getattr(context, "protocol", "http"),
        host,
        server_connection,
    )


def _connection_gone(request: HTTPServerRequest) -> bool:
    stream = getattr(request.connection, "stream", None)
    closed = getattr(stream, "closed", None)
    return bool(closed and closed())
