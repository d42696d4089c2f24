"""Per-handler request body limits lower than the server's ``max_body_size``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from tornado import httputil
from tornado.web import HTTPError

__all__ = ["body_limit", "check_body_size"]

T = TypeVar("T")


def check_body_size(request: httputil.HTTPServerRequest, max_bytes: int) -> None:
    """Raise ``HTTPError(413)`` when the request body (its ``Content-Length``,
    or the received body) is larger than ``max_bytes``."""
    declared = request.headers.get("Content-Length")
    size = len(request.body or b"")
    if declared is not None:
        try:
            size = max(size, int(declared))
        except ValueError:
            raise HTTPError(400, "invalid Content-Length") from None
    if size > max_bytes:
        raise HTTPError(
            413, f"request body of {size} bytes exceeds this endpoint's limit of {max_bytes} bytes"
        )


def body_limit(max_bytes: int) -> Callable[[T], T]:
    """Refuse requests whose body is larger than ``max_bytes`` with a 413.

    On a handler class the check runs first thing in ``prepare()`` — before the
    middleware ``process_request`` hooks, ``on_prepare`` and the HTTP method;
    on a method (``post``, ``put`` …) it runs before that method.

    It runs after Tornado read the body: the bytes a client can make the server
    buffer are bounded by the server-wide ``HTTPSERVER['max_body_size']``
    (10 MiB by default), not by this limit. See docs/forms.md.
    """
    if not isinstance(max_bytes, int) or max_bytes < 0:
        raise TypeError(f"body_limit needs a byte count >= 0, got {max_bytes!r}")

    def decorate(target: Any) -> Any:
        if isinstance(target, type):
            original = target.prepare

            @functools.wraps(original)
            def prepare(self: Any) -> Any:
                check_body_size(self.request, max_bytes)
                return original(self)

            target.prepare = prepare
            target.body_limit = max_bytes
            return target

        @functools.wraps(target)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            check_body_size(self.request, max_bytes)
            return target(self, *args, **kwargs)

        method.body_limit = max_bytes  # type: ignore[attr-defined]
        return method

    return decorate
