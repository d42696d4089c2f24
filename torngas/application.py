"""The torngas :class:`Application`: a :class:`tornado.web.Application` built from settings."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.routing import Rule

from torngas.conf import settings
from torngas.exceptions import NoReverseMatch
from torngas.middleware.manager import MiddlewareError, MiddlewareManager, RequestChain
from torngas.routing import IndexedRouter
from torngas.template import make_template_loader

__all__ = ["Application", "tornado_settings"]

log = logging.getLogger("torngas.application")
_access_log = logging.getLogger("tornado.access")
_CLOSERS = (
    ("torngas.cache", "close_caches", "caches"),
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
        self.default_router.rules[-1].target = self.wildcard_router
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
        return super().find_handler(request, **kwargs)

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


def _connection_gone(request: HTTPServerRequest) -> bool:
    stream = getattr(request.connection, "stream", None)
    closed = getattr(stream, "closed", None)
    return bool(closed and closed())
