"""URL helpers: ``Url``, ``route`` and ``include`` build lists of Tornado ``URLSpec``.

Pure functions of their arguments: they never read settings. Handler paths are
imported when the route is declared, so a wrong path fails at start-up with a
message naming the route and the path.

    from torngas import Url, route, include

    u = Url('myapp1.handlers', abc='abc')
    urls = route(
        u(name='Index', pattern=r'/?', handler='main_handler.Main'),
        u(r'/user/?', 'main_handler.User', kwargs={'abc': 'other'}, name='User'),
        include('/blog', 'myapp1.url_blog.URLS'),
    )
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tornado.web import RequestHandler, URLSpec

from torngas._utils import import_object
from torngas.exceptions import ImproperlyConfigured, UrlError

__all__ = ["Url", "Route", "route", "include", "join_pattern"]


class Route(URLSpec):
    """A :class:`tornado.web.URLSpec` that remembers where it was declared."""

    def __init__(
        self,
        pattern: str,
        handler: type[RequestHandler],
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
        handler_path: str | None = None,
    ) -> None:
        super().__init__(pattern, handler, kwargs, name)
        self.handler_path = handler_path or f"{handler.__module__}.{handler.__qualname__}"

    def with_prefix(self, prefix: str) -> Route:
        return Route(
            join_pattern(prefix, self.regex.pattern),
            self.target,
            dict(self.kwargs),
            self.name,
            self.handler_path,
        )

    def __repr__(self) -> str:
        return f"Route({self.regex.pattern!r}, {self.handler_path!r}, name={self.name!r})"


def join_pattern(prefix: str, pattern: str) -> str:
    """Join an include prefix and a route pattern with exactly one ``/``."""
    if pattern.startswith("^"):
        pattern = pattern[1:]
    if not prefix:
        return pattern
    if prefix.startswith("^"):
        prefix = prefix[1:]
    if prefix.endswith("$"):
        prefix = prefix[:-1]
    if not pattern or pattern == "$":
        return prefix + pattern
    return prefix.rstrip("/") + "/" + pattern.lstrip("/")


class Url:
    """A route factory with a handler module prefix and default kwargs.

    ``Url(prefix, **kwargs)`` returns a callable used as
    ``u(pattern, handler, kwargs=None, name=None)`` (or all by keyword). A string
    handler is imported as ``prefix + '.' + handler``. ``kwargs`` given to ``Url``
    are merged with the route's own ``kwargs`` (the route's win) and reach the
    handler as ``self._url_kwargs`` — a fresh dict for every request.
    """

    def __init__(self, prefix: str = "", **kwargs: Any) -> None:
        self.prefix = prefix.strip(".") if prefix else ""
        self.kwargs = kwargs

    def __call__(
        self,
        pattern: str | None = None,
        handler: str | type[RequestHandler] | None = None,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> Route:
        label = f"route {name!r} ({pattern!r})" if name else f"route {pattern!r}"
        if pattern is None or handler is None:
            raise UrlError(f"{label}: both pattern and handler are required")
        if not isinstance(pattern, str):
            raise UrlError(f"{label}: pattern must be a string, not {type(pattern).__name__}")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise UrlError(f"{label}: kwargs must be a dict, not {type(kwargs).__name__}")
        if isinstance(handler, str):
            path = f"{self.prefix}.{handler}" if self.prefix else handler
            try:
                handler_cls = import_object(path, what="handler")
            except ImproperlyConfigured as exc:
                raise UrlError(f"{label}: {exc}") from exc.__cause__
        else:
            handler_cls, path = handler, None
        if not (isinstance(handler_cls, type) and issubclass(handler_cls, RequestHandler)):
            raise UrlError(f"{label}: handler {handler!r} is not a RequestHandler subclass")
        merged = {**self.kwargs, **(kwargs or {})}
        try:
            return Route(pattern, handler_cls, merged, name, path)
        except Exception as exc:  # bad regex
            raise UrlError(f"{label}: invalid pattern: {type(exc).__name__}: {exc}") from exc


def _to_routes(items: Iterable[Any], where: str) -> list[Route | URLSpec]:
    out: list[Route | URLSpec] = []
    for item in items:
        if isinstance(item, URLSpec):
            out.append(item)
        elif isinstance(item, list | tuple) and item and isinstance(item[0], URLSpec):
            out.extend(_to_routes(item, where))
        elif isinstance(item, list | tuple) and 2 <= len(item) <= 4:
            out.append(Url()(*item))  # Tornado-style (pattern, handler[, kwargs[, name]])
        else:
            raise UrlError(f"{where}: not a route: {item!r}")
    return out


def route(*urls: Any) -> list[Route | URLSpec]:
    """Collect routes (and the lists :func:`include` returns) into one flat list."""
    return _to_routes(urls, "route()")


def include(prefix: str, urls: str | Iterable[Any]) -> list[Route | URLSpec]:
    """Mount a list of routes under ``prefix``.

    ``urls`` is a list (e.g. another module's ``URLS``) or its dotted path
    (``'myapp1.url_photo.URLS'``).
    """
    if isinstance(urls, str):
        try:
            urls = import_object(urls, what="url list")
        except ImproperlyConfigured as exc:
            raise UrlError(f"include({prefix!r}, ...): {exc}") from exc.__cause__
    if not isinstance(urls, list | tuple):
        raise UrlError(
            f"include({prefix!r}, ...): expected a list of routes, got {type(urls).__name__}"
        )
    out: list[Route | URLSpec] = []
    for spec in _to_routes(urls, f"include({prefix!r})"):
        if isinstance(spec, Route):
            out.append(spec.with_prefix(prefix))
        else:
            out.append(
                URLSpec(
                    join_pattern(prefix, spec.regex.pattern), spec.target, spec.kwargs, spec.name
                )
            )
    return out
