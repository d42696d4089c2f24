"""One ASGI HTTP request driven through a Tornado application.

:class:`ASGIConnection` implements :class:`tornado.httputil.HTTPConnection`
(``write_headers``/``write``/``finish``/``set_close_callback``) on top of the
ASGI ``send`` callable, so any :class:`tornado.web.RequestHandler` works
unchanged: streaming with ``flush()``, ``@stream_request_body``, HEAD, 304,
``on_connection_close`` on a client disconnect.

How a request runs (the common case costs no extra task):

1. the request body is read from ``receive`` (413 past ``max_body_size``);
2. the handler's ``_execute`` runs *inline* in the ASGI task; a handler that
   finishes without suspending leaves ``http.response.start`` and one final
   ``http.response.body`` queued, sent right after;
3. a handler that suspends (awaits I/O) gets a sender task for what it writes
   meanwhile (``flush()`` resolves once the bytes were handed to the server)
   and a watcher on ``receive`` that turns ``http.disconnect`` into
   ``on_connection_close``.

Handlers with ``@stream_request_body``, and routers' other delegates, go
through Tornado's own delegate (``headers_received``/``data_received``/``finish``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Generator
from typing import Any

from tornado import httputil
from tornado.iostream import StreamClosedError
from tornado.web import _HandlerDelegate

from torngas.asgi._request import Context
from torngas.routing import HandlerDelegate

__all__ = ["ASGIConnection", "run_http"]

log = logging.getLogger("torngas.asgi")

_START = "http.response.start"
_BODY = "http.response.body"
_EMPTY = b""
# Tornado's defaults; the ASGI server sends its own Server and Date headers.
_SKIP = frozenset({"Server", "Date"})


# Response header names -> the lower-case bytes ASGI wants (bounded cache).
_OUT_NAMES: dict[str, bytes] = {}


def _out_name(name: str) -> bytes:
    raw = name.lower().encode("latin-1")
    if len(_OUT_NAMES) < 1024:
        _OUT_NAMES[name] = raw
    return raw


class _Outbox:
    """Messages for ``send`` in order; each write's future resolves once sent."""

    def __init__(self, send: Callable[[dict[str, Any]], Any]) -> None:
        self._send = send
        self._queue: collections.deque[tuple[dict[str, Any], asyncio.Future[None] | None]] = (
            collections.deque()
        )
        self._sender: asyncio.Task[None] | None = None
        #: True while the ASGI task itself will send what is queued (the
        #: handler has not suspended yet): no sender task needed.
        self.inline = False
        self.closed = False
        self._final: dict[str, Any] | None = None

    def _future(self) -> asyncio.Future[None]:
        return asyncio.get_running_loop().create_future()

    def _push(self, msg: dict[str, Any], fut: asyncio.Future[None] | None) -> None:
        self._queue.append((msg, fut))
        if not self.inline and self._sender is None:
            self._sender = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        try:
            await self.send_queued()
        finally:
            self._sender = None

    async def send_queued(self) -> None:
        queue = self._queue
        send = self._send
        while queue:
            msg, fut = queue.popleft()
            try:
                await send(msg)
            except Exception as exc:  # the server refused: the client is gone
                self.send_failed(exc, fut)
                return
            if fut is not None and not fut.done():
                fut.set_result(None)
            if msg is self._final:
                self.message_complete()

    def send_failed(self, exc: Exception, fut: asyncio.Future[None] | None) -> None:
        """``send`` raised: the client is gone (the server refuses to send)."""
        log.debug("ASGI send failed: %r", exc)
        if fut is not None and not fut.done():
            fut.set_exception(StreamClosedError(real_error=exc))
            fut.exception()  # retrieved: nobody has to await it
        self.client_gone()

    def message_complete(self) -> None:
        """Called once the message marked final (``_final``) went out."""

    def client_gone(self) -> None:
        self.closed = True
        while self._queue:
            _, fut = self._queue.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(StreamClosedError())
                fut.exception()


class _Stream:
    """What code reaching for ``request.connection.stream`` may call."""

    __slots__ = ("_conn",)
    socket = None

    def __init__(self, conn: ASGIConnection) -> None:
        self._conn = conn

    def closed(self) -> bool:
        return self._conn.closed

    def close(self) -> None:
        pass

    def set_nodelay(self, value: bool) -> None:
        pass


class ASGIConnection(_Outbox):
    """A :class:`tornado.httputil.HTTPConnection` on ASGI ``send``."""

    # Per-request state; the class values are the start (an instance gets its
    # own on the first assignment), so building a connection sets four names.
    _sender: asyncio.Task[None] | None = None
    inline = False
    closed = False
    _close_callback: Callable[[], None] | None = None
    finished = False  # finish() was called
    complete = False  # the final body message went out
    started = False  # http.response.start was queued
    _done: asyncio.Future[None] | None = None
    #: The final ``http.response.body`` message, once ``finish()`` queued it.
    _final: dict[str, Any] | None = None
    #: The handler need not set ``Server``/``Date``: the ASGI server sends its own.
    server_headers = False
    _context: Context | None = None
    #: ``scope["client"]`` and the scheme: ``context`` is built from them when read.
    _client: Any = None
    _scheme = "http"
    _watcher: asyncio.Future[None] | None = None
    #: ``receive``, once the request body was read (for the disconnect watcher).
    receive: Callable[[], Any] | None = None
    _skip: frozenset[str] = _SKIP

    def __init__(
        self,
        send: Callable[[dict[str, Any]], Any],
        context: Any,
        max_body_size: int,
        head: bool,
        skip_headers: frozenset[str] = _SKIP,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._send = send
        self._queue = collections.deque()
        self._loop = loop or asyncio.get_running_loop()
        if context is not None:
            self._context = context
        self.max_body_size = max_body_size
        self._head = head
        if skip_headers is not _SKIP:
            self._skip = skip_headers

    @property
    def context(self) -> Context:
        """What Tornado's connection keeps as ``context``: peer address, IP, scheme."""
        ctx = self._context
        if ctx is None:
            client = self._client
            if client:
                ctx = Context(tuple(client), client[0], self._scheme)
            else:
                ctx = Context(None, "0.0.0.0", self._scheme)
            self._context = ctx
        return ctx

    @context.setter
    def context(self, value: Context) -> None:
        self._context = value

    @property
    def stream(self) -> _Stream:
        """``request.connection.stream`` (built when something asks for it)."""
        return _Stream(self)

    # ------------------------------------------------- HTTPConnection API
    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        fut = self._loop.create_future()
        if self.closed:
            fut.set_exception(StreamClosedError())
            fut.exception()
            return fut
        skip = self._skip
        names = _OUT_NAMES
        raw = []
        append = raw.append
        # headers.get_all() without a generator (nor a comprehension's frame)
        for name, values in headers._as_list.items():  # noqa: SLF001
            if name not in skip:
                out = names.get(name) or _out_name(name)
                for value in values:
                    append((out, value.encode("latin-1")))
        self.started = True
        start = {"type": _START, "status": start_line.code, "headers": raw}  # type: ignore[union-attr]
        queue = self._queue
        if chunk and not self._head:
            queue.append((start, None))
            queue.append(({"type": _BODY, "body": chunk, "more_body": True}, fut))
        else:
            queue.append((start, fut))
        if not self.inline and self._sender is None:
            self._sender = asyncio.ensure_future(self._drain())
        return fut

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        fut = self._loop.create_future()
        if self.closed:
            fut.set_exception(StreamClosedError())
            fut.exception()
            return fut
        if not chunk or self._head:
            fut.set_result(None)
            return fut
        self._push({"type": _BODY, "body": chunk, "more_body": True}, fut)
        return fut

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self._close_callback = None
        if self.closed:
            self._resolve()
            return
        queue = self._queue
        if queue:
            msg = queue[-1][0]
            if msg["type"] == _BODY and msg["more_body"]:
                msg["more_body"] = False  # the last chunk ends the body: one message less
                self._final = msg
                return
        msg = self._final = {"type": _BODY, "body": _EMPTY, "more_body": False}
        self._push(msg, None)

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        self._close_callback = callback

    def set_max_body_size(self, max_body_size: int) -> None:
        """For ``@stream_request_body`` handlers, from ``prepare()`` (as in Tornado)."""
        self.max_body_size = max_body_size

    def set_body_timeout(self, timeout: float) -> None:
        """Accepted for compatibility; the ASGI server owns the timeouts."""

    def detach(self) -> Any:
        raise NotImplementedError("detach() is not available over ASGI")

    # ------------------------------------------------------------ internals
    def message_complete(self) -> None:
        self.complete = True
        self._resolve()

    def _resolve(self) -> None:
        done = self._done
        if done is not None and not done.done():
            done.set_result(None)

    def client_gone(self) -> None:
        """The client disconnected: writes fail from now on, and the handler's
        ``on_connection_close`` runs (as with Tornado's own server)."""
        if self.closed:
            return
        super().client_gone()
        callback = self._close_callback
        self._close_callback = None
        if callback is not None:
            try:
                callback()
            except Exception:
                log.exception("on_connection_close failed")
        self._resolve()

    async def wait_complete(self, receive: Callable[[], Any]) -> None:
        """Send what is queued; wait for the response's end or the client's exit."""
        self.inline = False
        queue = self._queue
        if queue and self._sender is None:
            # The usual case: the whole response was queued when the handler
            # returned; send it from this task.
            await self.send_queued()
        if self.complete or self.closed:
            if self._watcher is not None:
                self._stop_watching()
            return
        self._done = self._loop.create_future()
        if self._queue and self._sender is None:
            self._sender = asyncio.ensure_future(self._drain())
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(_watch(receive, self))
        try:
            await self._done
        finally:
            self._stop_watching()

    def _stop_watching(self) -> None:
        watcher = self._watcher
        if watcher is not None and not watcher.done():
            watcher.cancel()

    def suspended(self) -> None:
        """The inline handler awaits something: its writes go out from now on
        without waiting for it, and a disconnect is noticed meanwhile (the
        request body was read already)."""
        self.inline = False
        if self._queue and self._sender is None:
            self._sender = asyncio.ensure_future(self._drain())
        if self._watcher is None and self.receive is not None:
            self._watcher = asyncio.ensure_future(_watch(self.receive, self))


async def _watch(receive: Callable[[], Any], conn: ASGIConnection) -> None:
    while not conn.complete and not conn.closed:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            if not conn.complete:
                conn.client_gone()
            return


class _Inline:
    """``await _Inline(coro, conn)`` runs ``coro`` in the current task and tells
    ``conn`` when it first suspends (``yield from`` by hand, to see that)."""

    __slots__ = ("coro", "conn")

    def __init__(self, coro: Any, conn: ASGIConnection) -> None:
        self.coro = coro
        self.conn = conn

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value
        return (yield from _Resume(coro, yielded, self.conn).__await__())


class _Resume:
    """``await _Resume(coro, yielded, conn)``: the rest of ``coro``, whose first
    step ran already (and yielded ``yielded``), in the current task; ``conn``
    is told that its handler suspended."""

    __slots__ = ("coro", "yielded", "conn")

    def __init__(self, coro: Any, yielded: Any, conn: ASGIConnection) -> None:
        self.coro = coro
        self.yielded = yielded
        self.conn = conn

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        yielded = self.yielded
        self.yielded = None
        self.conn.suspended()
        while True:
            try:
                value = yield yielded
            except BaseException as exc:  # cancellation, thrown into the task
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = coro.send(value)
                except StopIteration as stop:
                    return stop.value


async def _simple(send: Callable[[dict[str, Any]], Any], status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": _START,
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": _BODY, "body": body, "more_body": False})


async def _read_body(
    receive: Callable[[], Any], conn: ASGIConnection, limit: int
) -> bytes | int | None:
    """The whole request body; an int (status) when too large; None when the
    client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        kind = msg["type"]
        if kind == "http.request":
            body = msg.get("body", _EMPTY)
            if body:
                size += len(body)
                if size > limit:
                    return 413
                chunks.append(body)
            if not msg.get("more_body", False):
                break
        elif kind == "http.disconnect":
            return None
    if not chunks:
        return _EMPTY
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _content_length(request: httputil.HTTPServerRequest) -> int | None:
    value = request.headers._as_list.get("Content-Length")  # noqa: SLF001
    if not value:
        return None
    try:
        return int(value[0])
    except ValueError:
        return None


#: Tornado's handler delegates whose ``execute`` run_http may run itself.
_DELEGATES = (HandlerDelegate, _HandlerDelegate)
_BODILESS_VERSIONS = frozenset({"HTTP/1.1", "HTTP/1.0"})


async def run_http(
    app: Any,
    request: httputil.HTTPServerRequest,
    conn: ASGIConnection,
    receive: Callable[[], Any],
    send: Callable[[dict[str, Any]], Any],
    fast: bool,
) -> None:
    """Serve ``request`` with the Tornado application ``app``."""
    delegate = app.find_handler(request)
    if fast and type(delegate) in _DELEGATES and not delegate.stream_request_body:
        limit = conn.max_body_size
        as_list = request.headers._as_list  # noqa: SLF001
        length = _content_length(request) if "Content-Length" in as_list else None
        if length is not None and length > limit:
            app_log_body_too_large(request, length, limit)
            await _simple(send, 413, "Request Entity Too Large")
            _forget(app, request)
            return
        if (
            length is None
            and request.version in _BODILESS_VERSIONS
            and "Transfer-Encoding" not in as_list
        ):
            # HTTP/1.x without Content-Length or Transfer-Encoding has no body
            # (RFC 9112 6.3): nothing to wait for. A disconnect meanwhile is
            # seen by the watcher once the handler suspends.
            pass  # request.body is b"" already
        else:
            body = await _read_body(receive, conn, limit)
            if body is None:
                _forget(app, request)
                return
            if isinstance(body, int):
                app_log_body_too_large(request, None, limit)
                await _simple(send, 413, "Request Entity Too Large")
                _forget(app, request)
                return
            request.body = body
        conn.receive = receive
        handler = delegate.handler = delegate.handler_class(app, request, **delegate.handler_kwargs)
        factories = app.transforms
        transforms = [t(request) for t in factories] if factories else []
        conn.inline = True
        # The handler runs in this task: a torngas handler's steps run now
        # (_execute_now), and only a step that waits leaves a coroutine; if that
        # suspends, _Resume takes over.
        if getattr(handler, "_execute_now_ok", False):
            coro = handler._execute_now(transforms, delegate.path_args, delegate.path_kwargs)  # noqa: SLF001
        else:
            coro = handler._execute(transforms, *delegate.path_args, **delegate.path_kwargs)  # noqa: SLF001
        if coro is not None:
            try:
                yielded = coro.send(None)
            except StopIteration:
                pass
            else:
                await _Resume(coro, yielded, conn)
        if conn.finished and conn._sender is None:  # noqa: SLF001
            # The usual case: the whole response was queued when the handler
            # returned; send it from this task.
            conn.inline = False
            await conn.send_queued()
            if conn.complete or conn.closed:
                return
        await conn.wait_complete(receive)
        return
    await _run_delegate(app, request, delegate, conn, receive, send)


def _forget(app: Any, request: httputil.HTTPServerRequest) -> None:
    inflight = getattr(app, "_inflight", None)
    if inflight is not None:
        inflight.discard(request)


def app_log_body_too_large(
    request: httputil.HTTPServerRequest, length: int | None, limit: int
) -> None:
    log.info(
        "413 %s %s from %s: body %s max_body_size %d",
        request.method,
        request.uri,
        request.remote_ip,
        f"of {length} bytes exceeds" if length is not None else "exceeds",
        limit,
    )


async def _run_delegate(
    app: Any,
    request: httputil.HTTPServerRequest,
    delegate: Any,
    conn: ASGIConnection,
    receive: Callable[[], Any],
    send: Callable[[dict[str, Any]], Any],
) -> None:
    """Tornado's delegate protocol: headers, body chunks as they come, finish."""
    if delegate is None:
        await _simple(send, 404, "Not Found")
        return
    start_line = httputil.RequestStartLine(request.method, request.uri, request.version)
    result = delegate.headers_received(start_line, request.headers)
    if result is not None:
        await result  # a streaming handler's prepare() has run
    streaming = bool(getattr(delegate, "stream_request_body", False))
    length = _content_length(request)
    size = 0
    while True:
        if conn.finished and streaming:
            break  # answered early (e.g. refused in prepare): the body is not wanted
        limit = conn.max_body_size  # prepare() may have raised it
        if length is not None and length > limit:
            break
        msg = await receive()
        kind = msg["type"]
        if kind == "http.disconnect":
            conn.closed = True
            delegate.on_connection_close()
            conn.client_gone()
            return
        if kind != "http.request":
            continue
        body = msg.get("body", _EMPTY)
        if body:
            size += len(body)
            if size > limit:
                length = size
                break
            result = delegate.data_received(body)
            if result is not None:
                await result
        if not msg.get("more_body", False):
            delegate.finish()
            await conn.wait_complete(receive)
            return
    if length is not None and length > conn.max_body_size and not conn.finished:
        app_log_body_too_large(request, length, conn.max_body_size)
        if not conn.started:
            conn.closed = True
            delegate.on_connection_close()
            conn._close_callback = None  # noqa: SLF001 - the handler was told already
            await _simple(send, 413, "Request Entity Too Large")
            _forget(app, request)
            return
    await conn.wait_complete(receive)
