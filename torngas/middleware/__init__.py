"""Middleware: Django-style hooks around every request.

A middleware is any class with one or more of the seven hook methods below
(subclassing :class:`BaseMiddleware` is optional; it only documents them). List
it in ``MIDDLEWARE_CLASSES``. Classes are imported and instantiated once, when
the :class:`~torngas.application.Application` is built; the hook lists are
computed then, in the documented order, and never copied per request.

The request lifecycle (the numbers are referred to by every hook):

1. ``process_init(application)`` — once per process, before the first request.
2. ``process_call(request, clear)`` — headers received, route not matched yet.
3. ``process_request(handler, clear)`` — route matched, in ``prepare()``.
4. the handler's ``get()``/``post()``…; ``render()`` calls
   ``process_render(handler, clear, template_name, **kwargs)``.
5. ``process_response(handler, clear, chunk)`` — in ``finish()``, before the
   headers and body are written.
6. ``process_endcall(handler, clear)`` — after the response was sent (``on_finish``).
7. ``process_exception(handler, clear, typ, value, tb)`` — an exception escaped
   the handler (any step from 3 on).
8. ``process_shutdown(application)`` — once per process when the server stops
   (a torngas extension; may be async).

A hook raising :class:`tornado.web.HTTPError` answers with that status (it is a
deliberate response, not a failure); any other exception is logged with the
middleware's name and gives a 500.

Order: ``process_call`` and ``process_request`` run in declared order;
``process_render``, ``process_response``, ``process_endcall`` and
``process_exception`` in reverse. A truthy return value skips the remaining
middlewares' same hook for this request; calling ``clear()`` drops every
remaining hook of every middleware for this request.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from tornado.httputil import HTTPServerRequest
    from tornado.web import Application, RequestHandler

__all__ = ["BaseMiddleware", "Clear"]


class Clear(Protocol):
    """The ``clear`` argument of every hook: call it to drop the rest of the chain."""

    def __call__(self) -> None: ...


class BaseMiddleware:
    """Documents the hooks. Override only the ones you need: a hook that is not
    overridden costs nothing per request (it is left out of the hook lists).

    Raise :class:`~torngas.exceptions.MiddlewareNotUsed` from ``__init__`` to
    leave the middleware out (e.g. when a setting turns the feature off).
    """

    def process_init(self, application: Application) -> None:
        """Step 1. Runs once per process, before the first request is served
        (in each worker when the server forks). May not be a coroutine.
        """

    async def process_shutdown(self, application: Application) -> None:
        """Runs once per process when the server stops gracefully, after the last
        request (reverse order). May be ``async def``: close connections here.
        A torngas extension (not in 1.8). Not called on a crash or SIGKILL.
        """

    def process_call(self, request: HTTPServerRequest, clear: Clear) -> Any:
        """Step 2. Runs when a request's headers are in, before routing, in
        declared order. There is no handler yet, so it cannot write a response;
        it may change ``request`` (e.g. rewrite ``request.path``). Synchronous.
        The body has not been read yet.
        """

    def process_request(self, handler: RequestHandler, clear: Clear) -> Any | Awaitable[Any]:
        """Step 3. Runs in ``prepare()``, after routing and the xsrf check, in
        declared order. May be ``async def``. May write and ``finish()`` the
        response; it must then return a truthy value so neither the remaining
        ``process_request`` hooks nor the handler method run.
        """

    def process_render(
        self, handler: RequestHandler, clear: Clear, template_name: str, **kwargs: Any
    ) -> Any:
        """Step 4. Runs in ``render_string()`` (so also for ``render()``) before
        the template is rendered, in reverse order. ``kwargs`` is the template's
        namespace as passed by the handler. Synchronous.
        """

    def process_response(self, handler: RequestHandler, clear: Clear, chunk: list[bytes]) -> Any:
        """Step 5. Runs in ``finish()`` before the headers and the rest of the body
        are written, in reverse order. ``chunk`` is the handler's write buffer
        (a list of ``bytes``): replace items (``chunk[i] = b"…"``) or call
        ``handler.write()``; headers and cookies can still be set unless the
        handler called ``flush()`` earlier. Runs for error pages too.

        May be ``async def`` (torngas extension): the response is then written
        only after it completes (use it to save state remotely before the client
        can send its next request). Raising :class:`tornado.web.HTTPError` there
        replaces the response with that error page.
        """

    def process_endcall(self, handler: RequestHandler, clear: Clear) -> Any:
        """Step 6. Runs in ``on_finish()``, after the response went out, in reverse
        order: release per-request resources here. It runs even when the handler
        raised; one endcall hook raising does not stop the others. It cannot
        change the response. Not called if the handler never finishes.
        """

    def process_exception(
        self,
        handler: RequestHandler,
        clear: Clear,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        """Step 7. Runs from ``log_exception`` when an exception escaped the handler
        (including :class:`tornado.web.HTTPError`), in reverse order, before the
        error page is sent. Return a truthy value when the exception is handled:
        Tornado's default logging is then skipped (it runs when no hook returns
        truthy). It may send its own response (``handler.send_error(503)``);
        Tornado then sends nothing more.
        """
