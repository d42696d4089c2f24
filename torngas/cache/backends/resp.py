"""A lean asyncio Redis client (RESP2) used by ``RedisCache``'s ``a*`` methods.

Why not redis-py's asyncio client: per command it takes a connection from a pool
(an ``asyncio.Condition``, a health check), wraps the write and the read in
timeouts (``asyncio.wait_for`` starts a new Task per command on Python 3.11) and
gives the connection back. This client does none of that:

* **One connection per server and event loop, shared by every coroutine.** A
  command is packed (a RESP2 array of bulk strings) and written straight to the
  transport; replies are parsed in :meth:`RespConnection.data_received` and
  resolve a FIFO of futures. Concurrent commands are *pipelined* on the
  connection, so there is no pool and nothing to wait for. ``connections=N``
  spreads commands round-robin over N connections instead.
* **One watchdog timer per connection** bounds every command by
  ``socket_timeout`` (no per-command timeout object): it is armed when a command
  is pending and re-armed to the oldest pending command's deadline. When it
  expires every pending command fails with :class:`redis.exceptions.TimeoutError`
  and the connection is closed (its stream position is unknown); the next
  command connects again.
* **Cancellation-safe.** A caller cancelled while waiting only drops its future:
  its reply is still read (and thrown away), so the stream stays in step.
* **Errors are redis-py's types**: :class:`redis.exceptions.ConnectionError`
  (refused, reset, closed, protocol garbage), :class:`~redis.exceptions.TimeoutError`,
  :class:`~redis.exceptions.AuthenticationError` (a ``ConnectionError``),
  :class:`~redis.exceptions.ResponseError` and its subclasses for ``-ERR`` replies.
* **A stale connection is retried, a timeout never.** A connection found closed
  before a command is written is replaced silently. If a command fails with a
  connection error on a connection that had answered before and received
  nothing since the command was written (a server restart that the loop had not
  noticed yet), it is sent again on a new connection, ``retries`` times (1) —
  :class:`StaleConnectionError`. Never after a timeout.
* **Parser**: ``hiredis.Reader`` when ``hiredis`` is importable (``pip install
  'torngas[redis]'`` brings it), else :class:`PythonReader`, a pure-Python RESP2
  parser. Bulk strings are returned as ``bytes``, status replies (``+OK``) as
  ``bytes``, integers as ``int``, nil as ``None``, arrays as ``list``.

Use it directly::

    import asyncio
    from torngas.cache.backends.resp import RespClient

    async def main() -> None:
        client = RespClient.from_url("redis://127.0.0.1:6379/0", socket_timeout=0.5)
        await client.execute("SET", "greeting", "hello", "PX", 60_000)
        print(await client.execute("GET", "greeting"))        # b'hello'
        print(await client.execute_many([("INCR", "n"), ("GET", "n")]))
        await client.aclose()

    asyncio.run(main())

A client belongs to the event loop that first used it; ``RedisCache`` keeps one
per loop. Commands are not decoded and no reply callbacks run: ``SET`` answers
``b'OK'``, ``EXISTS`` an ``int``. RESP3, pub/sub, ``MULTI`` blocks that span
awaits, blocking commands longer than ``socket_timeout`` and Redis Cluster are
not supported (use redis-py for those: ``RedisClient.async_client``).
"""

from __future__ import annotations

import asyncio
import socket
import ssl as ssl_module
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    DataError,
    ExecAbortError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = [
    "HIREDIS_AVAILABLE",
    "PythonReader",
    "Reader",
    "RespClient",
    "RespConnection",
    "StaleConnectionError",
    "make_reader",
    "pack_command",
    "parse_url",
    "reply_error",
]

try:  # the C parser, when installed
    import hiredis as _hiredis

    HIREDIS_AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the environment
    _hiredis = None
    HIREDIS_AVAILABLE = False


class StaleConnectionError(RedisConnectionError):
    """The connection was found dead before any reply to the command arrived,
    on a connection that had answered before (a restarted server): safe to
    send the command again on a new connection."""


# ---------------------------------------------------------------------- errors
_ERROR_CLASSES: dict[str, type[RedisError]] = {
    "WRONGPASS": AuthenticationError,
    "NOAUTH": AuthenticationError,
    "NOPERM": NoPermissionError,
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "OOM": OutOfMemoryError,
    "LOADING": BusyLoadingError,
    "EXECABORT": ExecAbortError,
}
_ERR_MESSAGES: dict[str, type[RedisError]] = {
    "invalid password": AuthenticationError,
    "max number of clients reached": RedisConnectionError,
}


def reply_error(message: str) -> RedisError:
    """The exception for an error reply (``-ERR ...``), as redis-py maps it.

    ``WRONGPASS``/``NOAUTH`` give :class:`~redis.exceptions.AuthenticationError`,
    ``NOSCRIPT`` :class:`~redis.exceptions.NoScriptError` and so on; anything
    else is a :class:`~redis.exceptions.ResponseError` with the whole message.
    """
    code, _, rest = message.partition(" ")
    cls = _ERROR_CLASSES.get(code)
    if cls is not None:
        return cls(rest)
    if code == "ERR":
        cls = _ERR_MESSAGES.get(rest)
        if cls is not None:
            return cls(rest)
    return ResponseError(message)


# ---------------------------------------------------------------------- parsers
class Reader(Protocol):
    """What :class:`RespConnection` needs from a parser (``hiredis.Reader``'s shape)."""

    def feed(self, data: bytes, /) -> None: ...

    def gets(self) -> Any:
        """The next complete reply, or ``False`` when more data is needed.
        An error reply is *returned* as an exception instance."""
        ...


_INCOMPLETE: Any = object()


class _ProtocolError(RedisConnectionError):
    """The server sent something that is not RESP2."""


def _parse(buf: bytes, pos: int, make_error: Callable[[str], Exception]) -> tuple[Any, int]:
    """One reply from ``buf[pos:]``: ``(reply, next_pos)``, or ``(_INCOMPLETE,
    needed)`` where ``needed`` is the buffer length that may complete it."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return _INCOMPLETE, len(buf) + 1
    kind = buf[pos]
    if kind == 36:  # $ bulk string
        n = int(buf[pos + 1 : end])
        if n < 0:
            return None, end + 2
        start = end + 2
        stop = start + n
        if len(buf) < stop + 2:
            return _INCOMPLETE, stop + 2
        return buf[start:stop], stop + 2
    if kind == 43:  # + simple string
        return buf[pos + 1 : end], end + 2
    if kind == 58:  # : integer
        return int(buf[pos + 1 : end]), end + 2
    if kind == 45:  # - error
        return make_error(buf[pos + 1 : end].decode("utf-8", "replace")), end + 2
    if kind == 42:  # * array
        n = int(buf[pos + 1 : end])
        pos = end + 2
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            item, pos = _parse(buf, pos, make_error)
            if item is _INCOMPLETE:
                return _INCOMPLETE, pos
            items.append(item)
        return items, pos
    raise _ProtocolError(f"protocol error: unexpected reply type byte {bytes([kind])!r}")


class PythonReader:
    """A pure-Python RESP2 parser with ``hiredis.Reader``'s interface.

    ``feed(data)`` appends bytes; ``gets()`` returns the next complete reply or
    ``False``. Error replies are returned as exceptions built by ``reply_error``
    (redis-py's classes). A large value that arrives in many chunks is joined
    once, when it is complete.
    """

    __slots__ = ("_buf", "_pos", "_chunks", "_have", "_need", "_make_error")

    def __init__(self, reply_error: Callable[[str], Exception] = reply_error) -> None:
        self._make_error = reply_error
        self._buf = b""
        self._pos = 0
        self._chunks: list[bytes] = []  # bytes fed after _buf, not yet joined
        self._have = 0  # len of _buf[_pos:] plus the chunks
        self._need = 0  # total of _have below which no reply can be complete

    def feed(self, data: bytes, /) -> None:
        if not data:
            return
        if self._have:
            self._chunks.append(bytes(data))
        else:
            self._buf = bytes(data)
            self._pos = 0
        self._have += len(data)

    def gets(self) -> Any:
        if self._have < self._need or not self._have:
            return False
        if self._chunks:
            self._buf = self._buf[self._pos :] + b"".join(self._chunks)
            self._pos = 0
            self._chunks = []
        buf = self._buf
        pos = self._pos
        try:
            reply, end = _parse(buf, pos, self._make_error)
        except _ProtocolError:
            raise
        except (ValueError, IndexError) as exc:
            raise _ProtocolError(f"protocol error: {exc}") from None
        if reply is _INCOMPLETE:
            self._need = end - pos
            return False
        self._need = 0
        self._have -= end - pos
        self._pos = end
        if not self._have:
            self._buf = b""
            self._pos = 0
        return reply


def make_reader(pure_python: bool = False) -> Reader:
    """A ``hiredis.Reader`` when available (and not ``pure_python``), else a
    :class:`PythonReader`; both return error replies as redis-py exceptions."""
    if _hiredis is not None and not pure_python:
        return _hiredis.Reader(protocolError=_ProtocolError, replyError=reply_error)  # type: ignore[no-any-return]
    return PythonReader()


# ---------------------------------------------------------------------- packing
def _encode(arg: Any) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, bool):
        raise DataError("a bool is not a Redis argument: send 0/1 or a string")
    if isinstance(arg, int):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(arg).encode("ascii")
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    raise DataError(f"invalid Redis argument of type {type(arg).__name__}: {arg!r}")


def pack_command(args: Sequence[Any]) -> bytes:
    """A command as a RESP2 array of bulk strings.

    Arguments may be ``bytes``, ``str`` (UTF-8), ``int`` or ``float``; anything
    else (``None``, ``bool``, objects) raises :class:`redis.exceptions.DataError`.
    """
    out = [b"*%d\r\n" % len(args)]
    append = out.append
    for arg in args:
        data = arg if type(arg) is bytes else _encode(arg)
        if len(data) < 4096:
            append(b"$%d\r\n%b\r\n" % (len(data), data))
        else:  # large values are not copied twice
            append(b"$%d\r\n" % len(data))
            append(data)
            append(b"\r\n")
    return b"".join(out)


# ---------------------------------------------------------------------- connection
class RespConnection(asyncio.Protocol):
    """One connection: writes packed commands, matches replies to futures (FIFO).

    Built by :class:`RespClient`; :meth:`request` is the whole hot path. A
    connection that failed is never reused: ``closed`` is then True.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, address: str, timeout: float, reader: Reader
    ) -> None:
        self.loop = loop
        self.address = address
        self.timeout = timeout
        self.closed = False
        self._reader = reader
        self._transport: asyncio.Transport | None = None
        # (future, deadline) per command written and not answered, oldest first
        self._pending: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._answered = False  # a reply to a command (not the handshake) arrived
        self._quiet = True  # nothing received since the connection last became busy
        self._lost: asyncio.Future[None] = loop.create_future()
        self._wbuf: list[bytes] = []  # commands to write at the end of this loop iteration

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._quiet = False
        reader = self._reader
        pending = self._pending
        try:
            reader.feed(data)
            while True:
                reply = reader.gets()
                if reply is False:
                    break
                fut = pending.popleft()[0]
                if fut.done():  # its caller was cancelled: drop the reply
                    continue
                if isinstance(reply, Exception):
                    fut.set_exception(reply)
                else:
                    fut.set_result(reply)
        except IndexError:
            self._abort(
                RedisConnectionError, f"protocol error: {self.address} sent an unsolicited reply"
            )
        except Exception as exc:  # a protocol error: the stream cannot be trusted
            self._abort(RedisConnectionError, f"protocol error from {self.address}: {exc}")
        else:
            self._answered = True

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        self._wbuf.clear()
        if self._pending:
            stale = self._answered and self._quiet
            cls = StaleConnectionError if stale else RedisConnectionError
            reason = f"{type(exc).__name__}: {exc}" if exc else "closed by the server"
            self._fail_pending(cls, f"connection to {self.address} lost ({reason})")
        if not self._lost.done():
            self._lost.set_result(None)

    # -- commands ----------------------------------------------------------
    def request(self, data: bytes) -> asyncio.Future[Any]:
        """Write one packed command; the future resolves to its reply.

        On an idle connection the command is written at once. While replies
        are awaited, commands are gathered and written together at the end of
        the event loop's current iteration (one ``send`` for many coroutines'
        commands instead of one each).
        """
        loop = self.loop
        fut = loop.create_future()
        deadline = loop.time() + self.timeout
        pending = self._pending
        busy = bool(pending)
        pending.append((fut, deadline))
        self._write(data, deadline, busy)
        return fut

    def request_many(self, data: bytes, count: int) -> list[asyncio.Future[Any]]:
        """Write ``count`` packed commands at once (a pipeline); one future each."""
        loop = self.loop
        deadline = loop.time() + self.timeout
        futures = [loop.create_future() for _ in range(count)]
        pending = self._pending
        busy = bool(pending)
        pending.extend((f, deadline) for f in futures)
        self._write(data, deadline, busy)
        return futures

    def _write(self, data: bytes, deadline: float, busy: bool) -> None:
        """Send ``data`` (its futures are queued already): at once on an idle
        connection, else gathered and written at the end of this loop iteration."""
        if busy:
            wbuf = self._wbuf
            wbuf.append(data)
            if len(wbuf) == 1:
                self.loop.call_soon(self._flush)
        else:
            self._quiet = True
            self._transport.write(data)  # type: ignore[union-attr]
        if self._timer is None:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _flush(self) -> None:
        wbuf = self._wbuf
        if wbuf and not self.closed:
            data = b"".join(wbuf) if len(wbuf) > 1 else wbuf[0]
            wbuf.clear()
            self._transport.write(data)  # type: ignore[union-attr]

    @property
    def pending(self) -> int:
        """Commands written and not answered yet."""
        return len(self._pending)

    # -- failure -----------------------------------------------------------
    def _on_timer(self) -> None:
        self._timer = None
        pending = self._pending
        if not pending or self.closed:
            return
        deadline = pending[0][1]
        if self.loop.time() + 0.001 < deadline:  # the oldest command is younger
            self._timer = self.loop.call_at(deadline, self._on_timer)
            return
        self._abort(
            RedisTimeoutError,
            f"Timeout reading from {self.address}: no reply in {self.timeout:g} s",
        )

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fail_pending(self, cls: type[RedisError], message: str) -> None:
        """Fail every pending command; each waiter gets its own exception
        (one instance raised in many tasks would collect all their tracebacks)."""
        pending, self._pending = self._pending, deque()
        for fut, _ in pending:
            if not fut.done():
                fut.set_exception(cls(message))

    def _abort(self, cls: type[RedisError], message: str) -> None:
        """Fail every pending command with ``cls(message)`` and drop the connection."""
        self.closed = True
        self._cancel_timer()
        self._wbuf.clear()
        self._fail_pending(cls, message)
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        """Close now; pending commands fail with ConnectionError."""
        if not self.closed:
            self._abort(RedisConnectionError, f"connection to {self.address} closed by the client")

    async def wait_closed(self) -> None:
        """Until the transport has been closed (after :meth:`close`)."""
        if self._transport is not None:
            await self._lost


# ---------------------------------------------------------------------- URLs
def parse_url(url: str) -> dict[str, Any]:
    """``redis://[[user]:pw@]host[:port][/db]``, ``rediss://…`` (TLS) or
    ``unix://[[user]:pw@]/path.sock[?db=N]`` as :class:`RespClient` keyword
    arguments (``host``, ``port``, ``path``, ``db``, ``username``, ``password``,
    ``ssl``). Query parameters ``db``, ``password``, ``username``,
    ``socket_timeout``, ``socket_connect_timeout`` and ``ssl_cert_reqs``
    (``none``/``optional``/``required``) are read too.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"Redis URL must start with redis://, rediss:// or unix://: {url!r}")
    kw: dict[str, Any] = {}
    if parts.username:
        kw["username"] = unquote(parts.username)
    if parts.password:
        kw["password"] = unquote(parts.password)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "unix":
        kw["path"] = unquote(parts.path)
    else:
        kw["host"] = unquote(parts.hostname or "") or "127.0.0.1"
        kw["port"] = parts.port or 6379
        db = parts.path.strip("/")
        if db:
            kw["db"] = int(db)
        if parts.scheme == "rediss":
            kw["ssl"] = True
    for name in ("db",):
        if name in query:
            kw[name] = int(query[name])
    for name in ("password", "username"):
        if name in query:
            kw[name] = query[name]
    for name in ("socket_timeout", "socket_connect_timeout"):
        if name in query:
            kw[name] = float(query[name])
    if "ssl_cert_reqs" in query:
        kw["ssl_cert_reqs"] = query["ssl_cert_reqs"]
    return kw


def _ssl_context(
    cert_reqs: Any = None,
    ca_certs: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    check_hostname: bool | None = None,
) -> ssl_module.SSLContext:
    ctx = ssl_module.create_default_context(cafile=ca_certs)
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    if isinstance(cert_reqs, str):
        cert_reqs = {
            "none": ssl_module.CERT_NONE,
            "optional": ssl_module.CERT_OPTIONAL,
            "required": ssl_module.CERT_REQUIRED,
        }[cert_reqs.lower()]
    if cert_reqs == ssl_module.CERT_NONE:
        ctx.check_hostname = False
        ctx.verify_mode = ssl_module.CERT_NONE
    elif cert_reqs is not None:
        ctx.verify_mode = cert_reqs
    if check_hostname is not None and ctx.verify_mode != ssl_module.CERT_NONE:
        ctx.check_hostname = check_hostname
    return ctx


# ---------------------------------------------------------------------- client
class RespClient:
    """A Redis server (TCP, TLS or a Unix socket) from one event loop.

    ``execute(*args)`` sends one command and returns its raw reply;
    ``execute_many(commands)`` pipelines several. The connection is made on
    first use (concurrent first calls share one attempt), after
    ``AUTH``/``SELECT``/``CLIENT SETNAME`` as configured, and again after a
    failure.

    ``socket_timeout`` bounds every command (default 1 s),
    ``socket_connect_timeout`` the connect and handshake (default 1 s),
    ``retries`` the re-sends after a :class:`StaleConnectionError` (default 1),
    ``connections`` the connections used round-robin (default 1: every command
    is pipelined on one), ``pure_python_parser`` forces :class:`PythonReader`.
    ``ssl`` is True (a default context), an ``ssl.SSLContext`` or False;
    ``ssl_cert_reqs``/``ssl_ca_certs``/``ssl_certfile``/``ssl_keyfile``/
    ``ssl_check_hostname`` build the context as in redis-py.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        *,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        ssl: bool | ssl_module.SSLContext | None = None,
        ssl_cert_reqs: Any = None,
        ssl_ca_certs: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_check_hostname: bool | None = None,
        socket_timeout: float | None = 1.0,
        socket_connect_timeout: float | None = 1.0,
        socket_keepalive: bool = False,
        client_name: str | None = None,
        retries: int = 1,
        connections: int = 1,
        pure_python_parser: bool = False,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.path = path
        self.db = int(db or 0)
        self.username = username
        self._password = password
        if ssl is True or (ssl is None and (ssl_cert_reqs or ssl_ca_certs or ssl_certfile)):
            ssl = _ssl_context(
                ssl_cert_reqs, ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_check_hostname
            )
        self.ssl: ssl_module.SSLContext | None = ssl or None
        # None means "no limit" in redis-py; here every command needs a bound.
        self.socket_timeout = float(socket_timeout) if socket_timeout else 3600.0
        self.connect_timeout = (
            float(socket_connect_timeout) if socket_connect_timeout else self.socket_timeout
        )
        self.socket_keepalive = bool(socket_keepalive)
        self.client_name = client_name
        self.retries = max(0, int(retries))
        if int(connections) < 1:
            raise ValueError("connections must be at least 1")
        self.connections = int(connections)
        self.pure_python_parser = pure_python_parser
        #: ``host:port`` or the socket path, for messages (never a password).
        self.address = path if path else f"{host}:{self.port}"
        self._conns: list[RespConnection | None] = [None] * self.connections
        self._opening: list[asyncio.Task[RespConnection] | None] = [None] * self.connections
        self._next = 0

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RespClient:
        """A client for ``url`` (see :func:`parse_url`); what the URL says wins
        over ``kwargs``."""
        return cls(**{**kwargs, **parse_url(url)})

    def __repr__(self) -> str:
        return f"<RespClient {self.address} db={self.db}>"

    # -- commands ----------------------------------------------------------
    async def execute(self, *args: Any) -> Any:
        """Send one command (``"GET", key``) and return its reply.

        Raises :class:`~redis.exceptions.ResponseError` for an error reply,
        :class:`~redis.exceptions.ConnectionError` / ``TimeoutError`` when the
        server cannot be reached or does not answer within ``socket_timeout``.
        """
        data = pack_command(args)
        i = 0
        if self.connections > 1:
            i = self._next
            self._next = (i + 1) % self.connections
        conn = self._conns[i]
        if conn is None or conn.closed:
            conn = await self._connect(i)
        try:
            return await conn.request(data)
        except StaleConnectionError:
            if not self.retries:
                raise
        for attempt in range(self.retries):
            conn = await self._connect(i)
            try:
                return await conn.request(data)
            except StaleConnectionError:
                if attempt == self.retries - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def execute_many(
        self, commands: Iterable[Sequence[Any]], *, raise_on_error: bool = True
    ) -> list[Any]:
        """Pipeline ``commands`` (one write) and return their replies in order.

        With ``raise_on_error`` (the default) the first error reply is raised
        after every reply has been read; otherwise error replies are returned
        in the list as exception instances. Not a transaction: wrap the
        commands in ``MULTI``/``EXEC`` for that.
        """
        packed = [pack_command(c) for c in commands]
        if not packed:
            return []
        data = b"".join(packed)
        i = 0
        if self.connections > 1:
            i = self._next
            self._next = (i + 1) % self.connections
        results: list[Any] = []
        for _attempt in range(self.retries + 1):
            conn = self._conns[i]
            if conn is None or conn.closed:
                conn = await self._connect(i)
            futures = conn.request_many(data, len(packed))
            results = []
            for fut in futures:
                try:
                    results.append(await fut)
                except RedisError as exc:
                    results.append(exc)
                except BaseException:  # cancelled: the rest are dropped when answered
                    for f in futures:
                        f.cancel()
                    raise
            # stale: the connection died before any reply, so all of them failed
            if not isinstance(results[0], StaleConnectionError):
                break
        for r in results:
            if isinstance(r, (RedisConnectionError, RedisTimeoutError)):
                raise r
        if raise_on_error:
            for r in results:
                if isinstance(r, Exception):
                    raise r
        return results

    # -- connecting --------------------------------------------------------
    async def _connect(self, i: int = 0) -> RespConnection:
        conn = self._conns[i]
        if conn is not None and not conn.closed:
            return conn
        task = self._opening[i]
        if task is None:
            task = asyncio.get_running_loop().create_task(self._open(i))
            task.add_done_callback(_retrieve)
            self._opening[i] = task
        # shield: a cancelled caller must not cancel the attempt others wait on
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current is not None and current.cancelling()):
                # the attempt itself was cancelled (close() while connecting)
                raise RedisConnectionError(
                    f"connection to {self.address} closed by the client while connecting"
                ) from None
            raise

    async def _open(self, i: int) -> RespConnection:
        try:
            conn = await self._open_connection()
            self._conns[i] = conn
            return conn
        finally:
            self._opening[i] = None

    async def _open_connection(self) -> RespConnection:
        loop = asyncio.get_running_loop()
        conn = RespConnection(
            loop, self.address, self.connect_timeout, make_reader(self.pure_python_parser)
        )
        try:
            async with asyncio.timeout(self.connect_timeout):
                if self.path:
                    await loop.create_unix_connection(lambda: conn, self.path)
                else:
                    await loop.create_connection(
                        lambda: conn,
                        self.host,
                        self.port,
                        ssl=self.ssl,
                        server_hostname=self.host if self.ssl else None,
                    )
        except TimeoutError as exc:  # asyncio.timeout's (the builtin)
            conn.close()
            raise RedisTimeoutError(
                f"Timeout connecting to {self.address} (after {self.connect_timeout:g} s)"
            ) from exc
        except OSError as exc:
            raise RedisConnectionError(
                f"Error connecting to {self.address}: {exc.strerror or exc}"
            ) from None
        if self.socket_keepalive:
            sock = conn._transport.get_extra_info("socket") if conn._transport else None
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        handshake: list[tuple[Any, ...]] = []
        if self._password is not None:
            if self.username:
                handshake.append(("AUTH", self.username, self._password))
            else:
                handshake.append(("AUTH", self._password))
        if self.db:
            handshake.append(("SELECT", self.db))
        if self.client_name:
            handshake.append(("CLIENT", "SETNAME", self.client_name))
        if handshake:
            data = b"".join(pack_command(c) for c in handshake)
            futures = conn.request_many(data, len(handshake))
            try:
                for cmd, fut in zip(handshake, futures, strict=True):
                    try:
                        await fut
                    except ResponseError as exc:
                        raise RedisConnectionError(
                            f"{self.address}: {cmd[0]} failed on connect: {exc}"
                        ) from None
                    except AuthenticationError as exc:
                        raise AuthenticationError(
                            f"{self.address}: {cmd[0]} failed on connect: {exc}"
                        ) from None
            except BaseException:
                conn.close()
                for fut in futures:
                    if fut.done() and not fut.cancelled():
                        fut.exception()
                raise
        conn.timeout = self.socket_timeout
        conn._answered = False  # only replies to commands make it "used" (stale-able)
        return conn

    # -- closing -----------------------------------------------------------
    def close(self) -> None:
        """Close the connections now (pending commands fail); the next command
        connects again. Safe to call from the client's loop only; from another
        thread use ``loop.call_soon_threadsafe(client.close)``."""
        for i, task in enumerate(self._opening):
            if task is not None:
                task.cancel()
                self._opening[i] = None
        for i, conn in enumerate(self._conns):
            if conn is not None:
                conn.close()
                self._conns[i] = None

    async def aclose(self) -> None:
        """:meth:`close` and wait until the sockets are closed."""
        conns = [c for c in self._conns if c is not None]
        self.close()
        for conn in conns:
            await conn.wait_closed()

    @property
    def connected(self) -> bool:
        """True when at least one connection is open."""
        return any(c is not None and not c.closed for c in self._conns)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a connect attempt's exception as retrieved (its waiters may all be gone)."""
    if not task.cancelled():
        task.exception()
