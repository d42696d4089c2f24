"""Broadcast channels: a message published once reaches every subscriber, in this
process (``LocalBroadcast``) or in every process and host sharing a Redis
(``RedisBroadcast``, Redis pub/sub). docs/websocket.md has a chat example.

::

    from torngas.broadcast import Broadcast

    chat = Broadcast("chat")          # cheap; the backend is resolved at first use

    class ChatSocket(WebSocketHandler):
        async def open(self):
            await chat.subscribe(self)            # dropped automatically on close
        async def on_message(self, message):
            await chat.publish({"user": self.current_user, "text": message})

Messages are ``str`` (sent to sockets as they are) or JSON values ``dict``/``list``
(sent to sockets as JSON text; callbacks get the decoded value). Subscribers are
WebSocket handlers (``write_message``) or callables, sync or async, called with
the message.

Settings: ``BROADCAST`` (``BACKEND``, ``LOCATION``, ``CACHE``, ``OPTIONS``; see
:mod:`torngas.conf.global_settings`). One backend per event loop and setting.

Failure behaviour of :class:`RedisBroadcast`:

* ``publish()`` never blocks the event loop and is bounded by
  ``OPTIONS['SOCKET_TIMEOUT']`` (1 s). When Redis cannot take the message it is
  lost: the error is logged (once per 10 s while it lasts) and ``publish()``
  returns **False** — or raises :class:`BroadcastUnavailable` with
  ``strict=True``. It returns True once Redis accepted the message.
* One subscriber connection per process (per event loop) carries every channel.
  When it breaks (Redis restarted, network), it reconnects with exponential
  backoff (0.1 s doubling up to ``RECONNECT_MAX``, 5 s) and subscribes again to
  every channel that has local subscribers; messages published while it was
  down are not replayed (pub/sub has no history). An idle connection is PINGed
  every ``HEALTH_CHECK_INTERVAL`` (5 s), so a hung server is noticed too.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from torngas._utils import import_object
from torngas.exceptions import ImproperlyConfigured, TorngasError

__all__ = [
    "Broadcast",
    "BroadcastBackend",
    "BroadcastUnavailable",
    "LocalBroadcast",
    "RedisBroadcast",
    "close_broadcasters",
    "get_broadcaster",
]

log = logging.getLogger("torngas.broadcast")

Message = str | dict[str, Any] | list[Any]
Subscriber = Any  # a WebSocketHandler or a callable(message)


class BroadcastUnavailable(TorngasError):
    """The broadcast backend could not take a message (``publish(strict=True)``)."""


# ---------------------------------------------------------------- encoding
def encode(message: Message) -> bytes:
    """The wire form: ``b"s" + utf-8`` for text, ``b"j" + JSON`` for dict/list."""
    if isinstance(message, str):
        return b"s" + message.encode("utf-8")
    if isinstance(message, dict | list):
        try:
            text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"broadcast message is not JSON-serializable: {exc}") from None
        return b"j" + text.encode("utf-8")
    raise TypeError(f"a broadcast message is a str, dict or list, not {type(message).__name__}")


class _Delivery:
    """A decoded message: ``text`` for sockets, ``value`` for callbacks."""

    __slots__ = ("text", "_payload", "_value", "_is_json")

    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self._is_json = payload[:1] == b"j"
        self.text = payload[1:].decode("utf-8")
        self._value: Any = None

    @property
    def value(self) -> Any:
        if not self._is_json:
            return self.text
        if self._value is None:
            self._value = json.loads(self.text)
        return self._value


class _ErrorLog:
    """Logs a failure once per ``interval`` seconds while it lasts, and the recovery."""

    def __init__(self, what: str, interval: float = 10.0) -> None:
        self.what = what
        self.interval = interval
        self.failures = 0
        self._last = 0.0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        now = time.monotonic()
        if self.failures == 1 or now - self._last >= self.interval:
            self._last = now
            log.error("%s (%d failure(s) so far): %s", self.what, self.failures, exc)

    def ok(self) -> None:
        if self.failures:
            log.warning("%s: working again after %d failure(s)", self.what, self.failures)
            self.failures = 0


# ---------------------------------------------------------------- backends
class BroadcastBackend:
    """Subscribers per channel, on one event loop; subclasses move the messages."""

    def __init__(self, location: Any = None, options: Mapping[str, Any] | None = None) -> None:
        self.location = location
        self.options = dict(options or {})
        self._channels: dict[str, dict[int, Subscriber]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- subscribers ----------------------------------------------------
    def subscribers(self, channel: str) -> list[Subscriber]:
        """The local subscribers of ``channel``."""
        return list(self._channels.get(channel, {}).values())

    async def subscribe(self, channel: str, target: Subscriber) -> bool:
        """Add ``target``; True once messages published from now on will reach it."""
        subs = self._channels.setdefault(channel, {})
        new_channel = not subs
        subs[id(target)] = target
        if new_channel:
            return await self._channel_added(channel)
        return await self._channel_ready(channel)

    async def unsubscribe(self, channel: str, target: Subscriber) -> None:
        self.discard(channel, target)

    def discard(self, channel: str, target: Subscriber) -> None:
        """Remove ``target`` now (not a coroutine; remote cleanup is scheduled)."""
        subs = self._channels.get(channel)
        if subs is None or subs.pop(id(target), None) is None:
            return
        if not subs:
            del self._channels[channel]
            self._channel_removed(channel)

    async def _channel_added(self, channel: str) -> bool:
        return True

    async def _channel_ready(self, channel: str) -> bool:
        return True

    def _channel_removed(self, channel: str) -> None:
        pass

    # -- delivery -------------------------------------------------------
    def deliver(self, channel: str, payload: bytes) -> int:
        """Hand ``payload`` (wire form) to every local subscriber of ``channel``."""
        subs = self._channels.get(channel)
        if not subs:
            return 0
        try:
            delivery = _Delivery(payload)
        except UnicodeDecodeError:
            log.warning("broadcast %r: dropped a message that is not UTF-8", channel)
            return 0
        count = 0
        for target in list(subs.values()):
            if self._deliver_one(channel, target, delivery):
                count += 1
        return count

    def _deliver_one(self, channel: str, target: Subscriber, delivery: _Delivery) -> bool:
        write = getattr(target, "write_message", None)
        if write is not None and hasattr(target, "ws_connection"):
            if target.ws_connection is None or target.ws_connection.is_closing():
                self.discard(channel, target)
                return False
            try:
                future = write(delivery.text)
            except Exception:  # WebSocketClosedError and the like: the socket is gone
                self.discard(channel, target)
                return False
            future.add_done_callback(_retrieve)
            return True
        try:
            result = target(delivery.value)
        except Exception:
            log.exception("broadcast %r: subscriber %r failed", channel, target)
            return False
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(lambda t: self._task_done(channel, target, t))
        return True

    def _task_done(self, channel: str, target: Subscriber, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "broadcast %r: subscriber %r failed",
                channel,
                target,
                exc_info=task.exception(),
            )

    # -- publishing -----------------------------------------------------
    async def publish(self, channel: str, payload: bytes) -> bool:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Drop every subscriber and close connections."""
        self._channels.clear()
        for task in list(self._tasks):
            task.cancel()


def _retrieve(future: Any) -> None:
    if not future.cancelled():
        future.exception()  # a socket that closed meanwhile: nothing to report


class LocalBroadcast(BroadcastBackend):
    """Subscribers in this process and event loop only (the default)."""

    async def publish(self, channel: str, payload: bytes) -> bool:
        self.deliver(channel, payload)
        return True


class RedisBroadcast(BroadcastBackend):
    """Redis pub/sub: every process and host sharing the Redis gets every message.

    ``LOCATION``: ``"redis://[:password@]host:6379/0"`` (``rediss://``,
    ``unix://`` too) or ``"host:port"``; or ``CACHE``: the alias of a
    RedisCache/RedisClient whose connection settings are used (not a cluster).
    """

    def __init__(
        self,
        location: Any = None,
        options: Mapping[str, Any] | None = None,
        *,
        cache: str | None = None,
    ) -> None:
        super().__init__(location, options)
        try:
            import redis.asyncio  # noqa: F401
        except ImportError as exc:  # pragma: no cover
            raise ImproperlyConfigured(
                "RedisBroadcast needs redis-py: pip install 'torngas[redis]'"
            ) from exc
        opts = self.options
        self.prefix = str(opts.get("CHANNEL_PREFIX", "torngas:broadcast:"))
        self.socket_timeout = float(opts.get("SOCKET_TIMEOUT", 1.0))
        self.health_interval = float(opts.get("HEALTH_CHECK_INTERVAL", 5.0))
        self.reconnect_min = float(opts.get("RECONNECT_MIN", 0.1))
        self.reconnect_max = float(opts.get("RECONNECT_MAX", 5.0))
        self.subscribe_timeout = float(opts.get("SUBSCRIBE_TIMEOUT", 2.0))
        self._cache_alias = cache
        if cache is None and not location:
            raise ImproperlyConfigured(
                "BROADCAST: RedisBroadcast needs LOCATION (e.g. 'redis://127.0.0.1:6379/0') "
                "or CACHE (a RedisCache alias)"
            )
        self._client, self.display = self._build_client()
        self._conn: Any = None  # the subscriber connection, while it is usable
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._closing = False
        self._pub_errors = _ErrorLog("broadcast: publishing to Redis failed; message lost")
        self._sub_errors = _ErrorLog("broadcast: Redis subscriber connection lost; reconnecting")

    def _build_client(self) -> tuple[Any, str]:
        import redis.asyncio
        import redis.asyncio.retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        if self._cache_alias is not None:
            from torngas.cache import caches
            from torngas.cache.backends.rediscache import RedisClient

            cache = caches[self._cache_alias]
            if not isinstance(cache, RedisClient) or cache._cluster:
                raise ImproperlyConfigured(
                    f"BROADCAST['CACHE'] = {self._cache_alias!r}: needs a RedisCache/RedisClient "
                    "alias on one server (not a cluster)"
                )
            return cache._build_async(cache._locations[0]), cache.location
        location = str(self.location)
        kwargs: dict[str, Any] = {
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.socket_timeout,
            "retry": redis.asyncio.retry.Retry(NoBackoff(), 1, (RedisConnectionError,)),
        }
        if self.options.get("PASSWORD") is not None:
            kwargs["password"] = self.options["PASSWORD"]
        if self.options.get("USERNAME") is not None:
            kwargs["username"] = self.options["USERNAME"]
        if "://" not in location:
            location = "redis://" + location
        pool = redis.asyncio.ConnectionPool.from_url(location, **kwargs)
        from torngas.cache.backends.rediscache import _display

        return redis.asyncio.Redis(connection_pool=pool), _display(location)

    # -- publishing -----------------------------------------------------
    async def publish(self, channel: str, payload: bytes) -> bool:
        try:
            await asyncio.wait_for(
                self._client.publish(self.prefix + channel, payload), self.socket_timeout * 3
            )
        except Exception as exc:
            if isinstance(exc, asyncio.CancelledError):  # pragma: no cover
                raise
            self._pub_errors.failed(_describe(exc, self.display))
            return False
        self._pub_errors.ok()
        return True

    # -- the subscriber connection ----------------------------------------
    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._run())

    async def _channel_added(self, channel: str) -> bool:
        event = self._confirmed.setdefault(channel, asyncio.Event())
        event.clear()
        self._ensure_reader()
        conn = self._conn
        if conn is not None:
            try:
                await conn.send_command("SUBSCRIBE", self.prefix + channel, check_health=False)
            except Exception as exc:
                self._broken(conn, exc)
        return await self._channel_ready(channel)

    async def _channel_ready(self, channel: str) -> bool:
        event = self._confirmed.get(channel)
        if event is None:
            return False
        if event.is_set():
            return True
        try:
            await asyncio.wait_for(event.wait(), self.subscribe_timeout)
        except TimeoutError:
            log.warning(
                "broadcast %r: Redis (%s) has not confirmed the subscription after %.1f s; "
                "messages will arrive once it does",
                channel,
                self.display,
                self.subscribe_timeout,
            )
            return False
        return True

    def _channel_removed(self, channel: str) -> None:
        self._confirmed.pop(channel, None)
        conn = self._conn
        if conn is not None:
            task = asyncio.ensure_future(self._unsubscribe(conn, channel))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _unsubscribe(self, conn: Any, channel: str) -> None:
        if channel in self._channels:
            return  # subscribed again meanwhile
        try:
            await conn.send_command("UNSUBSCRIBE", self.prefix + channel, check_health=False)
        except Exception as exc:
            self._broken(conn, exc)

    def _broken(self, conn: Any, exc: BaseException) -> None:
        if self._conn is conn:
            self._conn = None
            if self._reader is not None:
                self._reader.cancel()  # the reader restarts below
                self._reader = None
            self._sub_errors.failed(_describe(exc, self.display))
            if self._channels and not self._closing:
                self._ensure_reader()

    async def _run(self) -> None:
        delay = self.reconnect_min
        while not self._closing:
            pool = self._client.connection_pool
            # RESP2: pub/sub messages are plain replies (RESP3 turns them into
            # push frames that redis-py hands to a handler instead).
            kwargs = {**pool.connection_kwargs, "protocol": 2}
            for key in ("maint_notifications_config", "maint_notifications_pool_handler"):
                if key in kwargs:  # redis-py >= 7: RESP3 only; not for a pub/sub reader
                    kwargs[key] = None
            conn = pool.connection_class(**kwargs)
            try:
                await conn.connect()
                self._conn = conn
                channels = [self.prefix + c for c in self._channels]
                if channels:
                    await conn.send_command("SUBSCRIBE", *channels, check_health=False)
                await self._read(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._conn is conn or self._conn is None:
                    self._sub_errors.failed(_describe(exc, self.display))
            finally:
                if self._conn is conn:
                    self._conn = None
                for event in self._confirmed.values():
                    event.clear()
                try:
                    await conn.disconnect()
                except Exception:  # pragma: no cover - already broken
                    pass
            if self._closing:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max)

    async def _read(self, conn: Any) -> None:
        awaiting_pong = False
        prefix = self.prefix.encode("utf-8")
        while True:
            response = await conn.read_response(timeout=self.health_interval)
            if response is None:  # idle for health_interval seconds
                if awaiting_pong:
                    raise ConnectionError(f"no answer to PING within {self.health_interval:g} s")
                await conn.send_command("PING", check_health=False)
                awaiting_pong = True
                continue
            awaiting_pong = False
            if not isinstance(response, list) or len(response) < 2:
                continue  # +PONG outside subscribed mode
            kind = response[0]
            if kind == b"message" and len(response) >= 3:
                name = response[1]
                if name.startswith(prefix):
                    self.deliver(name[len(prefix) :].decode("utf-8", "replace"), response[2])
            elif kind == b"subscribe":
                self._sub_errors.ok()
                name = response[1]
                if isinstance(name, bytes) and name.startswith(prefix):
                    event = self._confirmed.get(name[len(prefix) :].decode("utf-8", "replace"))
                    if event is not None:
                        event.set()

    async def aclose(self) -> None:
        self._closing = True
        await super().aclose()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:
                pass
            self._reader = None
        try:
            await self._client.aclose()
        except Exception:  # pragma: no cover
            pass


def _describe(exc: BaseException, where: str) -> str:
    kind = type(exc).__name__
    text = str(exc) or kind
    return f"{kind} at {where}: {text}"


# ---------------------------------------------------------------- resolution
_backends: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, BroadcastBackend]] = (
    weakref.WeakKeyDictionary()
)


def _build_backend(config: Mapping[str, Any]) -> BroadcastBackend:
    from torngas.conf import global_settings

    merged = {**global_settings.BROADCAST, **dict(config)}
    unknown = sorted(set(merged) - {"BACKEND", "LOCATION", "OPTIONS", "CACHE"})
    if unknown:
        raise ImproperlyConfigured(f"BROADCAST: unknown keys {', '.join(unknown)}")
    backend = merged["BACKEND"]
    cls = (
        import_object(backend, what="BROADCAST['BACKEND']") if isinstance(backend, str) else backend
    )
    if not (isinstance(cls, type) and issubclass(cls, BroadcastBackend)):
        raise ImproperlyConfigured(
            f"BROADCAST['BACKEND'] {backend!r} is not a torngas.broadcast.BroadcastBackend"
        )
    if merged.get("CACHE"):
        if not issubclass(cls, RedisBroadcast):
            raise ImproperlyConfigured("BROADCAST['CACHE'] is for RedisBroadcast only")
        return cls(merged["LOCATION"], merged["OPTIONS"], cache=str(merged["CACHE"]))
    return cls(merged["LOCATION"], merged["OPTIONS"])


def get_broadcaster() -> BroadcastBackend:
    """The backend of the running event loop, built from ``settings.BROADCAST``
    at first use (again if the setting object changes, e.g. in a test)."""
    from torngas.conf import settings

    loop = asyncio.get_running_loop()
    config = settings.get("BROADCAST", None) or {}
    entry = _backends.get(loop)
    if entry is not None and entry[0] is config:
        return entry[1]
    backend = _build_backend(config)
    if entry is not None:
        old = entry[1]
        task = loop.create_task(old.aclose())
        backend._tasks.add(task)
        task.add_done_callback(backend._tasks.discard)
    _backends[loop] = (config, backend)
    return backend


async def close_broadcasters() -> None:
    """Close the running loop's backend (its subscriber connection); e.g. at shutdown."""
    entry = _backends.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        await entry[1].aclose()


# ---------------------------------------------------------------- the channel
class _Subscription:
    """Remembered on a WebSocketHandler so its close drops the subscription."""

    __slots__ = ("backend", "channel")

    def __init__(self, backend: BroadcastBackend, channel: str) -> None:
        self.backend = backend
        self.channel = channel

    def drop(self, target: Subscriber) -> None:
        self.backend.discard(self.channel, target)


class Broadcast:
    """A named channel. Creating one costs nothing and does no I/O; the backend
    (``settings.BROADCAST``) is resolved on the running loop at each call."""

    def __init__(self, name: str) -> None:
        if not name or not isinstance(name, str):
            raise ValueError("a Broadcast channel needs a non-empty str name")
        self.name = name

    def __repr__(self) -> str:
        return f"<Broadcast {self.name!r}>"

    @property
    def backend(self) -> BroadcastBackend:
        return get_broadcaster()

    async def subscribe(self, target: Subscriber | Callable[[Any], Any]) -> bool:
        """Deliver every message published on this channel to ``target`` from now on.

        ``target``: a WebSocket handler (messages are ``write_message``'d; a
        torngas :class:`~torngas.websocket.WebSocketHandler` is unsubscribed when
        it closes, any other when a write finds it closed) or a callable, sync or
        async, called with the message. Coroutine. Returns True when the backend
        confirmed the subscription, False when it is registered but Redis has not
        confirmed it yet (it will be made on reconnect); never raises for an
        unreachable Redis.
        """
        backend = get_broadcaster()
        if hasattr(target, "ws_connection"):
            subs = target.__dict__.setdefault("_torngas_subscriptions", [])
            if target.ws_connection is None and target.__dict__.get("_torngas_closed"):
                return False  # already closed
            subs.append(_Subscription(backend, self.name))
        elif not callable(target):
            raise TypeError(f"cannot subscribe {target!r}: not a WebSocket handler or callable")
        return await backend.subscribe(self.name, target)

    async def unsubscribe(self, target: Subscriber) -> None:
        """Stop delivering to ``target`` (no error if it was not subscribed). Coroutine."""
        backend = get_broadcaster()
        subs = getattr(target, "__dict__", {}).get("_torngas_subscriptions")
        if subs:
            subs[:] = [s for s in subs if s.channel != self.name or s.backend is not backend]
        await backend.unsubscribe(self.name, target)

    async def publish(self, message: Message, *, strict: bool = False) -> bool:
        """Send ``message`` (``str``, or a JSON ``dict``/``list``) to every subscriber.

        Returns True when the backend took it; False when it could not (Redis
        unreachable: the message is lost and the error logged), or raises
        :class:`BroadcastUnavailable` instead with ``strict=True``. A message that
        is not a str/dict/list or not JSON-serializable raises TypeError at once.
        Coroutine; bounded by ``OPTIONS['SOCKET_TIMEOUT']``.
        """
        payload = encode(message)
        ok = await get_broadcaster().publish(self.name, payload)
        if not ok and strict:
            raise BroadcastUnavailable(
                f"broadcast {self.name!r}: the backend could not take the message"
            )
        return ok

    def subscribers(self) -> list[Subscriber]:
        """This loop's local subscribers of the channel."""
        return get_broadcaster().subscribers(self.name)
