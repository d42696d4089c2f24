"""Every exception torngas raises.

``TorngasError`` is the base of the framework's own errors. HTTP errors are
:class:`tornado.web.HTTPError` subclasses so Tornado's ``send_error`` machinery
handles them unchanged.
"""

from __future__ import annotations

from tornado.web import HTTPError

__all__ = [
    "TorngasError",
    "ImproperlyConfigured",
    "ConfigError",
    "SettingNotFound",
    "ArgumentError",
    "UrlError",
    "MiddlewareNotUsed",
    "Http404",
    "HttpBadRequestError",
    "TemplateError",
    "BaseError",
    "NoReverseMatch",
    "ServiceUnavailable",
]


class TorngasError(Exception):
    """Base class of torngas's own exceptions."""


BaseError = TorngasError  # 1.8 name


class ImproperlyConfigured(TorngasError):
    """Settings, apps or URL configuration are wrong; raised at start-up."""


ConfigError = ImproperlyConfigured  # 1.8 name


class SettingNotFound(ImproperlyConfigured, AttributeError):
    """A setting was read that neither the user's module nor the defaults define.

    It is also an :class:`AttributeError` so ``getattr(settings, name, default)``
    and ``hasattr`` work as they do on any object.
    """


class ArgumentError(TorngasError):
    """A function was called with arguments that do not fit together."""


class UrlError(ImproperlyConfigured):
    """A route is malformed: bad handler path, duplicate name, missing ``urls``."""


class MiddlewareNotUsed(TorngasError):
    """Raise from a middleware's ``__init__`` to leave it out of the chain."""


class TemplateError(TorngasError):
    """A template could not be found or rendered."""


class Http404(HTTPError):
    """Not found. ``raise Http404()`` from a handler gives a 404 page."""

    def __init__(self, log_message: str | None = None, *args: object, **kwargs: object) -> None:
        super().__init__(404, log_message, *args, **kwargs)  # type: ignore[arg-type]


class HttpBadRequestError(HTTPError):
    """Bad request (400)."""

    def __init__(self, log_message: str | None = None, *args: object, **kwargs: object) -> None:
        super().__init__(400, log_message, *args, **kwargs)  # type: ignore[arg-type]


class NoReverseMatch(UrlError, KeyError):
    """``reverse_url`` was given a name no route has."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ServiceUnavailable(HTTPError):
    """A backend the request needs (database, cache, session store) is down (503)."""

    def __init__(self, log_message: str | None = None, *args: object, **kwargs: object) -> None:
        super().__init__(503, log_message, *args, **kwargs)  # type: ignore[arg-type]
