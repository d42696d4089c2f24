"""Request handlers: ``WebHandler`` (pages), ``ApiHandler`` (JSON) and ``ErrorHandler``.

They call the middleware hooks at each step of the request lifecycle (see
:mod:`torngas.middleware`) and add two legacy hooks: :meth:`WebHandler.on_prepare`
after ``prepare`` and :meth:`WebHandler.complete_finish` after ``on_finish``.
With no middleware configured, the only per-request cost over a plain
:class:`tornado.web.RequestHandler` is a few attribute checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Coroutine
from typing import Any

import tornado
from tornado import httputil
from tornado.concurrent import future_set_result_unless_cancelled
from tornado.iostream import StreamClosedError
from tornado.log import app_log
from tornado.util import ObjectDict
from tornado.web import HTTPError, RequestHandler, _UIModuleNamespace

from torngas.middleware.manager import MiddlewareManager, RequestChain
from torngas.signal import (
    before_render_template,
    got_request_exception,
    request_finished,
    template_rendered,
)

__all__ = ["WebHandler", "ApiHandler", "ErrorHandler", "HandlerHooksMixin"]

_NO_MIDDLEWARE = MiddlewareManager(())
_SERVER = f"TornadoServer/{tornado.version}"
_DATE: list[Any] = [0, ""]  # (second, formatted): one strftime per second, not per request


def _http_date() -> str:
    now = time.time()
    sec = int(now)
    if sec != _DATE[0]:
        _DATE[1] = httputil.format_timestamp(now)
        _DATE[0] = sec
    return _DATE[1]  # type: ignore[no-any-return]


_time = time.time
_new = object.__new__
_MISSING: Any = object()

try:  # the C encoder json.dumps uses, without its per-call Python set-up
    from json.encoder import c_encode_basestring as _c_basestring
    from json.encoder import c_make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover - CPython has both
    _c_make_encoder = _c_basestring = None
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _json_dumps(obj: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False, default=str)``, same output."""
    if _c_make_encoder is not None and _c_basestring is not None:
        encode = _c_make_encoder({}, str, _c_basestring, None, ": ", ", ", False, False, True)
        return "".join(encode(obj, 0))
    return _JSON_ENCODER.encode(obj)


_HTTPHeaders = httputil.HTTPHeaders
_normalize_header = httputil._normalize_header  # noqa: SLF001 - HTTPHeaders' own (cached)
#: Tornado's check of a response header value (RequestHandler._convert_header_value).
_VALID_HEADER_VALUE = RequestHandler._VALID_HEADER_CHARS.fullmatch  # noqa: SLF001
#: String header values already found valid (bounded: values may vary per request).
_SAFE_VALUES: set[str] = set()
_SAFE_VALUES_MAX = 512


_PENDING_FINISHES: set[asyncio.Future[None]] = set()
_sha1 = hashlib.sha1
_ResponseStartLine = httputil.ResponseStartLine
_OK_LINE = _ResponseStartLine("", 200, "OK")
#: HTTP method -> handler method name (what ``method.lower()`` gives).
_METHOD_NAMES = {m: m.lower() for m in RequestHandler.SUPPORTED_METHODS}

# Methods whose Tornado/torngas versions the fast paths below inline. A handler
# class overriding any of them takes Tornado's own path for that step.
_FINISH_METHODS = (
    "compute_etag",
    "set_etag_header",
    "check_etag_header",
    "flush",
    "set_header",
    "add_header",
    "_should_not_send_content",
    "_clear_representation_headers",
)


class _LazyUI:
    """``handler.ui`` (the template namespace's ``_tt_modules``/``modules`` and
    UI methods), built on first access instead of for every request. A plain
    assignment (Tornado's ``__init__``, ``_break_cycles``) replaces it."""

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return self
        app = obj.application
        ui = ObjectDict((n, obj._ui_method(m)) for n, m in app.ui_methods.items())  # noqa: SLF001
        ui["_tt_modules"] = _UIModuleNamespace(obj, app.ui_modules)
        ui["modules"] = ui["_tt_modules"]
        obj.__dict__["ui"] = ui
        return ui


class HandlerHooksMixin:
    """Runs the middleware hooks; shared by WebHandler and the WebSocket base."""

    #: The route's keyword arguments (``Url()`` kwargs merged with the route's),
    #: a fresh dict for every request (1.8 API).
    _url_kwargs: dict[str, Any]
    _torngas_responded = False
    #: Skip the xsrf check for this handler (``xsrf_cookies`` is on by default).
    #: Only for endpoints that do not authenticate with cookies.
    xsrf_exempt = False

    def __init__(
        self, application: Any, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> None:
        self._url_kwargs = kwargs
        self._mw: MiddlewareManager = getattr(application, "middleware", _NO_MIDDLEWARE)
        super().__init__(application, request, **kwargs)  # type: ignore[call-arg]

    def initialize(self, **kwargs: Any) -> None:
        """Receives the route's kwargs (also available as ``self._url_kwargs``)."""

    def clear(self) -> None:
        """Tornado's ``clear()`` (same headers, same values), cheaper: the
        ``Date`` string is formatted once per second, and the header object is
        filled directly (the three names are already in canonical form)."""
        headers = httputil.HTTPHeaders.__new__(httputil.HTTPHeaders)
        headers._as_list = {  # noqa: SLF001
            "Server": [_SERVER],
            "Content-Type": ["text/html; charset=UTF-8"],
            "Date": [_http_date()],
        }
        headers._combined_cache = {}  # noqa: SLF001
        self._headers = headers
        self.set_default_headers()  # type: ignore[attr-defined]
        self._write_buffer: list[bytes] = []
        self._status_code = 200
        self._reason = "OK"

    def check_xsrf_cookie(self) -> None:
        if not self.xsrf_exempt:
            super().check_xsrf_cookie()  # type: ignore[misc]

    def _chain(self) -> RequestChain:
        request = self.request  # type: ignore[attr-defined]
        chain = request.__dict__.get("_torngas_chain")
        if chain is None:
            chain = request._torngas_chain = RequestChain()
        return chain

    def prepare(self) -> Awaitable[None] | None:
        """Runs ``process_request`` hooks, then :meth:`on_prepare`.

        Override :meth:`on_prepare` rather than this method; if you do override
        ``prepare``, call ``super().prepare()`` and await its result when it is
        not None.
        """
        mw = self._mw
        if mw.request_hooks:
            chain = self._chain()
            if not chain.cleared:
                pending = mw.run_request(self, chain)
                if pending is not None:
                    return self._prepare_async(pending)
        if self._finished:  # type: ignore[attr-defined]
            return None
        return self.on_prepare()

    async def _prepare_async(self, pending: Awaitable[Any]) -> None:
        await pending
        if not self._finished:  # type: ignore[attr-defined]
            result = self.on_prepare()
            if result is not None:
                await result

    def on_prepare(self) -> Awaitable[None] | None:
        """Runs after ``prepare`` and the ``process_request`` hooks, before the
        HTTP method. May be a coroutine. Not called when a middleware finished
        the request. May write output or ``finish()``.
        """
        return None

    def on_finish(self) -> None:
        """Runs the ``process_endcall`` hooks, then :meth:`complete_finish`.

        Override :meth:`complete_finish` rather than this method (or call super).
        """
        mw = self._mw
        if mw.endcall_hooks:
            mw.run_endcall(self, self._chain())
        if request_finished.receivers:
            request_finished.send_robust(type(self), handler=self)
        self.complete_finish()

    def complete_finish(self) -> None:
        """Runs last, after the response was sent and every ``process_endcall``
        hook ran. Cannot write output. Not a coroutine. Not called when the
        client went away before the handler finished.
        """


class WebHandler(HandlerHooksMixin, RequestHandler):
    """Base handler for pages: middleware hooks, configured template engine.

    Per request it does what :class:`tornado.web.RequestHandler` does, with less
    Python work: ``ui`` is built on first access, and ``finish()`` inlines
    Tornado's ``set_etag_header``/``check_etag_header``/``flush`` (the ``Etag``
    is still sent on every GET/HEAD 200; ``If-None-Match`` is only parsed when
    the request has one). A subclass overriding one of those methods, or with
    an output transform (``compress_response``), gets Tornado's own path.
    Likewise ``clear()``, ``initialize()``, ``_log()``, ``on_finish()``
    (``complete_finish()``) and ``_break_cycles()`` are inlined while a class
    keeps torngas's/Tornado's own, and ``set_header``/``write`` skip Tornado's
    type dispatch for a ``str``/``bytes`` value (same checks, same errors).
    """

    ui = _LazyUI()
    #: Set per class (``__init_subclass__``): may the fast paths be taken.
    _fast_init = True
    _fast_finish = True
    _fast_execute = True
    _execute_now_ok = True
    _fast_headers = True
    _plain_clear = False
    _plain_initialize = False
    _plain_prepare = False
    _plain_tail = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _set_fast_flags(cls)

    def __init__(
        self, application: Any, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> None:
        if not self._fast_init:
            super().__init__(application, request, **kwargs)
            return
        # RequestHandler.__init__ (Tornado 6), minus the eager ``ui`` namespace.
        self._url_kwargs = kwargs
        self._mw = getattr(application, "middleware", _NO_MIDDLEWARE)
        self.application = application
        self.request = request
        self._headers_written = False
        self._finished = False
        self._auto_finish = True
        self._prepared_future = None
        connection = request.connection
        if self._plain_clear:  # clear(), inlined
            headers = _new(_HTTPHeaders)
            if getattr(connection, "server_headers", True):
                now = _time()
                if int(now) != _DATE[0]:
                    _http_date()
                headers._as_list = {  # noqa: SLF001
                    "Server": [_SERVER],
                    "Content-Type": ["text/html; charset=UTF-8"],
                    "Date": [_DATE[1]],
                }
            else:  # the server sends its own Server and Date (ASGI)
                headers._as_list = {"Content-Type": ["text/html; charset=UTF-8"]}  # noqa: SLF001
            headers._combined_cache = {}  # noqa: SLF001
            self._headers = headers
            self._write_buffer = []
            self._status_code = 200
            self._reason = "OK"
        else:
            self.clear()
        connection.set_close_callback(self.on_connection_close)  # type: ignore[union-attr]
        if not self._plain_initialize:  # torngas's initialize() does nothing
            self.initialize(**kwargs)

    async def _execute(self, transforms: list[Any], *args: bytes, **kwargs: bytes) -> None:
        """Tornado's ``_execute`` with less work for the usual request: the body
        is parsed only when it has a Content-Type (Tornado's parser ignores it
        otherwise), the cross-origin check is skipped for safe methods as Tornado
        does (without the call). ``@stream_request_body`` handlers, and classes
        overriding ``_cross_origin_protection``, run Tornado's own."""
        if self._stream_request_body or not self._fast_execute:  # type: ignore[attr-defined]
            return await RequestHandler._execute(self, transforms, *args, **kwargs)  # noqa: SLF001
        rest = self._execute_now(transforms, args, kwargs)
        if rest is not None:
            await rest

    def _execute_now(
        self, transforms: list[Any], args: tuple[bytes, ...] | list[bytes], kwargs: dict[str, bytes]
    ) -> Coroutine[Any, Any, None] | None:
        """``_execute``'s steps, run now, up to the first one that has to wait.

        Returns None when the request was handled without waiting (a plain
        ``def get()`` and no asynchronous ``prepare``), else a coroutine that
        does the rest (:meth:`_execute_rest`), to be awaited in the request's
        own task. The transports call it directly, so that a handler that never
        waits costs no coroutine and, on Tornado's server, no task. Only for
        classes on the fast path (``_execute_now_ok``)."""
        self._transforms = transforms
        request = self.request
        rest = None
        try:
            method = request.method
            if method not in self.SUPPORTED_METHODS:
                raise HTTPError(405)
            rh = request.headers
            if "Content-Type" in (rh._as_list if type(rh) is _HTTPHeaders else rh):  # noqa: SLF001
                try:
                    request._parse_body()  # noqa: SLF001
                except httputil.HTTPInputError as e:
                    raise HTTPError(400, f"Invalid body: {e}") from e
            if args:
                decode = self.decode_argument
                self.path_args = [decode(arg) for arg in args]
            else:
                self.path_args = []
            if kwargs:
                decode = self.decode_argument
                self.path_kwargs = {k: decode(v, name=k) for k, v in kwargs.items()}
            else:
                self.path_kwargs = {}
            if method not in ("HEAD", "OPTIONS", "GET"):
                self._cross_origin_protection()
            if not self._plain_prepare or self._mw.request_hooks:
                # (otherwise prepare() would only call on_prepare(), which does nothing)
                result = self.prepare()
                if result is not None:
                    rest = self._execute_rest(result, None)
                    return rest
            if self._prepared_future is not None:
                future_set_result_unless_cancelled(self._prepared_future, None)
            if self._finished:
                return None
            result = self._call_method()
            if result is not None:
                rest = self._execute_rest(None, result)
                return rest
            if self._auto_finish and not self._finished:
                self.finish()
        except (Exception, asyncio.CancelledError) as e:
            self._execute_failed(e)
        finally:
            prepared = self._prepared_future
            if rest is None and prepared is not None and not prepared.done():
                prepared.set_result(None)
        return None

    async def _execute_rest(self, prepared: Any, result: Any) -> None:
        """The rest of :meth:`_execute_now` once a step has to wait: ``prepared``
        is ``prepare()``'s awaitable (the HTTP method has yet to run), or
        ``result`` the HTTP method's."""
        try:
            if prepared is not None:
                await prepared
                if self._prepared_future is not None:
                    future_set_result_unless_cancelled(self._prepared_future, None)
                if self._finished:
                    return
                result = self._call_method()
            if result is not None:
                await result
            if self._auto_finish and not self._finished:
                self.finish()
        except (Exception, asyncio.CancelledError) as e:
            self._execute_failed(e)
        finally:
            prepared = result = None  # no circular reference through the frame
            if self._prepared_future is not None and not self._prepared_future.done():
                self._prepared_future.set_result(None)

    def _call_method(self) -> Any:
        """Calls the handler's HTTP method with the (decoded) path arguments."""
        method = self.request.method
        name = _METHOD_NAMES.get(method) or method.lower()  # type: ignore[union-attr]
        path_args = self.path_args  # prepare() may have changed them
        path_kwargs = self.path_kwargs
        if path_args or path_kwargs:
            return getattr(self, name)(*path_args, **path_kwargs)
        return getattr(self, name)()

    def _execute_failed(self, e: BaseException) -> None:
        """Tornado's handling of an exception escaping ``_execute``'s steps."""
        task = asyncio.current_task()
        if isinstance(e, asyncio.CancelledError) and task is not None and task.cancelling():
            if not self._finished:
                try:
                    self.send_error(500)
                except Exception:
                    app_log.error("Exception in exception handler", exc_info=True)
            raise e
        try:
            self._handle_request_exception(e)  # type: ignore[arg-type]
        except Exception:
            app_log.error("Exception in exception handler", exc_info=True)

    def _finish_fast(self, chunk: str | bytes | dict[str, Any] | None) -> Any:
        """Tornado's ``finish()`` + ``flush()`` for a response not flushed yet,
        without output transforms, with the default etag methods inlined."""
        if chunk is not None:
            self.write(chunk)
        request = self.request
        headers = self._headers
        as_list = headers._as_list  # noqa: SLF001
        status = self._status_code
        buf = self._write_buffer
        method = request.method
        if status == 200 and (method == "GET" or method == "HEAD") and "Etag" not in as_list:
            if len(buf) == 1:
                digest = _sha1(buf[0]).hexdigest()
            else:
                hasher = _sha1()
                for part in buf:
                    hasher.update(part)
                digest = hasher.hexdigest()
            etag = f'"{digest}"'
            as_list["Etag"] = [etag]  # headers["Etag"] = etag, without the call
            headers._combined_cache["Etag"] = etag  # noqa: SLF001
            rh = request.headers
            if (
                "If-None-Match" in (rh._as_list if type(rh) is _HTTPHeaders else rh)  # noqa: SLF001
                and self.check_etag_header()
            ):
                self._write_buffer = buf = []
                self.set_status(304)
                status = 304
        if status != 200 and (status in (204, 304) or 100 <= status < 200):
            if buf:
                raise RuntimeError(f"Cannot send body with status code HTTP{status}")
            self._clear_representation_headers()
            body = b""
        else:
            body = buf[0] if len(buf) == 1 else b"".join(buf)
            if "Content-Length" not in as_list:
                length = str(len(body))
                as_list["Content-Length"] = [length]
                headers._combined_cache["Content-Length"] = length  # noqa: SLF001
        connection = request.connection
        connection.set_close_callback(None)  # type: ignore[union-attr]
        self._write_buffer = []
        self._headers_written = True
        if method == "HEAD":
            body = b""
        new_cookie = self.__dict__.get("_new_cookie")
        if new_cookie is not None:
            for cookie in new_cookie.values():
                self.add_header("Set-Cookie", cookie.OutputString(None))
        reason = self._reason
        start_line = (
            _OK_LINE if status == 200 and reason == "OK" else _ResponseStartLine("", status, reason)
        )
        future = connection.write_headers(start_line, headers, body)  # type: ignore[union-attr]
        connection.finish()  # type: ignore[union-attr]
        if self._plain_tail:
            # _log(), on_finish() (with complete_finish()) and _break_cycles(),
            # as torngas and Tornado define them, inlined.
            self.application.log_request(self)
            self._finished = True
            mw = self._mw
            if mw.endcall_hooks:
                mw.run_endcall(self, self._chain())
            if request_finished.receivers:
                request_finished.send_robust(type(self), handler=self)
            self.ui = None
        else:
            self._log()
            self._finished = True
            self.on_finish()
            self._break_cycles()
        return future

    def write(self, chunk: str | bytes | dict[str, Any]) -> None:
        """Tornado's ``write()``; bytes and str go to the buffer without the
        type dispatch (same result, same error after ``finish()``)."""
        if not self._finished:
            kind = type(chunk)
            if kind is bytes:
                self._write_buffer.append(chunk)  # type: ignore[arg-type]
                return
            if kind is str:
                self._write_buffer.append(chunk.encode("utf-8"))  # type: ignore[union-attr]
                return
        super().write(chunk)

    def set_header(self, name: str, value: Any) -> None:
        """Tornado's ``set_header`` (same conversion, same ``ValueError`` for an
        unsafe value), with a string value already seen valid not checked
        again. Classes overriding ``_convert_header_value`` get Tornado's."""
        if type(value) is not str or not self._fast_headers:
            return super().set_header(name, value)
        if value not in _SAFE_VALUES:
            if _VALID_HEADER_VALUE(value) is None:
                raise ValueError(f"Unsafe header value {value!r}")
            if len(_SAFE_VALUES) < _SAFE_VALUES_MAX:
                _SAFE_VALUES.add(value)
        headers = self._headers
        if type(headers) is not _HTTPHeaders:
            headers[name] = value
            return None
        norm = _normalize_header(name)
        headers._combined_cache[norm] = value  # noqa: SLF001
        headers._as_list[norm] = [value]  # noqa: SLF001
        return None

    def render_string(self, template_name: str, **kwargs: Any) -> bytes:
        """Runs the ``process_render`` hooks, then renders with the engine from
        ``TEMPLATE_CONFIG`` (Tornado's by default), sending
        ``before_render_template`` and ``template_rendered``.

        A handler that overrides ``get_template_path()`` with another directory
        is rendered by Tornado's own machinery (same engine rules do not apply).
        """
        mw = self._mw
        if mw.render_hooks:
            mw.run_render(self, self._chain(), template_name, kwargs)
        app = self.application
        loader = getattr(app, "template_loader", None)
        if loader is None or self.get_template_path() != app.settings.get("template_path"):
            return super().render_string(template_name, **kwargs)
        if not app.settings.get("compiled_template_cache", True):
            loader.reset()
        namespace = self.get_template_namespace()
        namespace.update(kwargs)
        if before_render_template.receivers:
            before_render_template.send_robust(
                type(self), handler=self, template_name=template_name, context=namespace
            )
        output: bytes = loader.load(template_name).generate(**namespace)
        if template_rendered.receivers:
            template_rendered.send_robust(
                type(self), handler=self, template_name=template_name, context=namespace
            )
        return output

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Any:
        """Runs the ``process_response`` hooks once, then finishes as Tornado does.

        When a ``process_response`` hook is asynchronous (e.g. a session save to a
        remote store), the real finish waits for it: the handler counts as
        finished meanwhile, and the returned future resolves once the response
        was written. An :class:`~tornado.web.HTTPError` from such a hook becomes
        that error page (e.g. 503); any other exception a 500.
        """
        mw = self._mw
        if mw.response_hooks and not self._torngas_responded and not self._finished:
            self._torngas_responded = True
            if chunk is not None:
                self.write(chunk)
                chunk = None
            pending = mw.run_response(self, self._chain(), self._write_buffer)
            if pending is not None:
                self._finished = True  # writes and a second finish() now fail as usual
                task = asyncio.ensure_future(self._finish_after(pending))
                _PENDING_FINISHES.add(task)  # a strong reference until it is done
                task.add_done_callback(_PENDING_FINISHES.discard)
                return task
        if (
            self._fast_finish
            and not self._finished
            and not self._headers_written
            and not self.__dict__.get("_transforms", True)
        ):
            return self._finish_fast(chunk)
        return super().finish(chunk)

    async def _finish_after(self, pending: Awaitable[Any]) -> None:
        try:
            await pending
        except Exception as exc:
            self._finished = False
            if isinstance(exc, HTTPError):
                self.send_error(exc.status_code, exc_info=sys.exc_info())
            else:
                self.log_exception(*sys.exc_info())
                self.send_error(500, exc_info=sys.exc_info())
            return
        self._finished = False
        try:
            await super().finish()
        except StreamClosedError:
            pass  # the client left while the response hooks ran: nothing to send

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Runs the ``process_exception`` hooks; Tornado's logging runs unless
        one of them returned a truthy value."""
        if got_request_exception.receivers:
            got_request_exception.send_robust(type(self), handler=self, exception=value)
        mw = self._mw
        if mw.exception_hooks and mw.run_exception(self, self._chain(), typ, value, tb):
            return
        super().log_exception(typ, value, tb)


def _set_fast_flags(cls: type[WebHandler]) -> None:
    mro = cls.__mro__
    after = mro[mro.index(WebHandler) + 1 :]
    cls._fast_init = all(
        "__init__" not in c.__dict__
        for c in after
        if c not in (HandlerHooksMixin, RequestHandler, object)
    )
    cls._fast_finish = all(getattr(cls, m) is getattr(WebHandler, m) for m in _FINISH_METHODS)
    cls._fast_execute = cls._cross_origin_protection is WebHandler._cross_origin_protection  # noqa: SLF001
    # The transports may call _execute_now() instead of awaiting _execute()
    # (a class with its own _execute keeps it; @stream_request_body is checked
    # per request, the decorator runs after the class is made).
    cls._execute_now_ok = cls._fast_execute and cls._execute is WebHandler._execute  # noqa: SLF001
    cls._fast_headers = cls._convert_header_value is RequestHandler._convert_header_value  # noqa: SLF001
    cls._plain_clear = (
        cls.clear is HandlerHooksMixin.clear
        and cls.set_default_headers is RequestHandler.set_default_headers
    )
    cls._plain_initialize = cls.initialize is HandlerHooksMixin.initialize
    cls._plain_prepare = (
        cls.prepare is HandlerHooksMixin.prepare and cls.on_prepare is HandlerHooksMixin.on_prepare
    )
    cls._plain_tail = (
        cls._log is RequestHandler._log  # noqa: SLF001
        and cls.on_finish is HandlerHooksMixin.on_finish
        and cls.complete_finish is HandlerHooksMixin.complete_finish
        and cls._break_cycles is RequestHandler._break_cycles  # noqa: SLF001
    )


class ErrorHandler(WebHandler):
    """Sends ``status_code`` for every request (unknown routes get a 404 from it)."""

    def initialize(self, status_code: int = 404, **kwargs: Any) -> None:  # type: ignore[override]
        self.set_status(status_code)

    def prepare(self) -> Awaitable[None] | None:
        result = super().prepare()
        if result is not None:
            return self._raise_after(result)
        if not self._finished:
            raise HTTPError(self._status_code)
        return None

    async def _raise_after(self, pending: Awaitable[None]) -> None:
        await pending
        if not self._finished:
            raise HTTPError(self._status_code)

    def check_xsrf_cookie(self) -> None:
        # POSTs to unknown URLs should get a 404, not a 403.
        pass


class ApiHandler(WebHandler):
    """JSON in and out.

    A request with a JSON content type and a body is parsed before the
    middleware ``process_request`` hooks run; the result is ``self.json_args``
    (``None`` otherwise). A malformed body gives a 400 with a JSON error. Every
    error response is JSON: ``{"error": {"status": 404, "message": "Not Found"}}``
    (4xx errors raised with a message add ``"detail"``; with ``DEBUG`` on, 5xx
    errors add ``"traceback"``).
    """

    json_args: Any = None

    def prepare(self) -> Awaitable[None] | None:
        self.json_args = self._parse_json_body()
        return super().prepare()

    def _parse_json_body(self) -> Any:
        body = self.request.body
        if not body:
            return None
        ctype = self.request.headers.get("Content-Type", "")
        mime = ctype.split(";", 1)[0].strip().lower()
        if mime != "application/json" and not mime.endswith("+json"):
            return None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise HTTPError(400, f"malformed JSON body: {exc}") from None

    def get_json_argument(self, name: str, default: Any = _MISSING) -> Any:
        """A key of the JSON object body; 400 if missing and no default."""
        if isinstance(self.json_args, dict) and name in self.json_args:
            return self.json_args[name]
        if default is _MISSING:
            raise HTTPError(400, f"missing JSON argument {name!r}")
        return default

    def write_json(self, obj: Any, status_code: int | None = None) -> None:
        """Write ``obj`` (any JSON value, lists included) as the response body."""
        if status_code is not None:
            self.set_status(status_code)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.write(_json_dumps(obj).encode("utf-8"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error: dict[str, Any] = {"status": status_code, "message": self._reason}
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        if isinstance(exc, HTTPError) and exc.log_message and status_code < 500:
            error["detail"] = exc.log_message % exc.args if exc.args else exc.log_message
        if status_code >= 500 and exc_info and self.settings.get("serve_traceback"):
            error["traceback"] = traceback.format_exception(*exc_info)
        self.clear_header("Content-Type")
        self.write_json({"error": error})
        self.finish()
