"""Redis: ``RedisClient`` (connections) and ``RedisCache(RedisClient)`` (the cache API).

The sync API is redis-py's ``redis.Redis`` (``BlockingConnectionPool``). The
cache's ``a*`` coroutines (``async_mode = "native"``: nothing runs in a thread)
use torngas's own asyncio client, :class:`torngas.cache.backends.resp.RespClient`:
one connection per node and event loop that every coroutine pipelines on, no
pool, one watchdog timer per connection instead of a timeout per command. With
``OPTIONS['CLUSTER'] = True`` both sides are redis-py's ``RedisCluster``.
``RedisClient.async_client`` stays a ``redis.asyncio.Redis`` for Redis's own
data structures.

``LOCATION``
    ``"127.0.0.1:6379"``, a URL (``redis://:pw@host:6379/0``, ``rediss://``,
    ``unix:///run/redis.sock``) or a path to a socket. Several, as a list or
    separated by ``,``/``;``: keys are spread over them by consistent hashing
    (:mod:`torngas.cache.hashring`); adding a node moves about 1/N of the keys.
    With ``CLUSTER`` they are the cluster's startup nodes instead.

``OPTIONS`` (the 1.8 names, plus a few)
    ``DB`` (0), ``PASSWORD``, ``USERNAME``;
    ``POOL_KWARGS``: keyword arguments of redis-py's connection pool. torngas's
    defaults bound every call: ``socket_timeout=1``, ``socket_connect_timeout=1``
    and *one* retry, only after a connection error (a stale pooled connection
    after a server restart), never after a timeout — redis-py's own default (10
    retries) makes a hung server cost ~10 s per call;
    ``RETRIES`` (1): that retry count;
    ``MAX_CONNECTIONS`` (100) / ``POOL_TIMEOUT``: redis-py's pools (the sync
    API, ``async_client``, cluster mode); the cache's async path has no pool;
    ``ASYNC_CONNECTIONS`` (1): connections per node and loop for the cache's
    async path, used round-robin;
    ``PING_INTERVAL``: seconds; a pooled connection idle longer than this is
    PINGed before use (redis-py's ``health_check_interval``), so a server-side
    idle timeout never surfaces as an error;
    ``PARSER_CLASS``: redis-py's sync parser (``redis.connection.DefaultParser``
    …); ``ASYNC_PARSER_CLASS`` for the asyncio client;
    ``CLUSTER``: use Redis Cluster; ``IGNORE_EXCEPTIONS``: connection failures
    become misses (logged) instead of :class:`CacheConnectionError`;
    ``SERIALIZER`` (``"json"``; see :mod:`torngas.cache.serializers`).

Failures raise :class:`~torngas.cache.CacheConnectionError` naming the backend,
alias and ``host:port`` (passwords are never shown). A restarted server is used
again from the next call, without restarting the application.

``clear()`` deletes only the keys of this alias — those matching
``KEY_PREFIX:*`` (``SCAN`` + ``UNLINK``, on every node) — never ``FLUSHDB``.
Give every alias that shares a Redis database its own ``KEY_PREFIX``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from torngas._utils import import_object
from torngas.cache.backends.base import (
    _MISSING,
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheError,
    default_key_func,
)
from torngas.cache.backends.resp import RespClient
from torngas.cache.hashring import HashRing
from torngas.exceptions import ImproperlyConfigured

try:
    import redis
    import redis.asyncio
    import redis.asyncio.cluster
    import redis.asyncio.retry
    import redis.cluster
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisClusterException, RedisError, ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError as exc:  # pragma: no cover - exercised only without redis-py
    raise ImproperlyConfigured(
        "the Redis cache backend needs redis-py: pip install 'torngas[redis]'"
    ) from exc

__all__ = ["RedisClient", "RedisCache"]

#: Errors that mean "the server is not answering" (ignorable with IGNORE_EXCEPTIONS).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    RedisClusterException,
    redis.exceptions.ClusterDownError,
    OSError,
)

_INCR_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[1])
  return redis.call('GET', KEYS[1])  -- a string: Lua numbers are doubles (53 bits)
end
return false
"""

_LEGACY_PARSERS = {  # 1.8-era names that redis-py no longer has
    "redis.connection.PythonParser": "redis._parsers._RESP2Parser",
    "redis.connection.HiredisParser": "redis._parsers._HiredisParser",
}


def _split_locations(location: Any) -> list[str]:
    if isinstance(location, str):
        parts = re.split(r"[;,]", location)
    elif isinstance(location, Sequence):
        parts = list(location)
    else:
        parts = []
    locs = [str(p).strip() for p in parts if str(p).strip()]
    if not locs:
        raise ImproperlyConfigured(
            f"Redis cache LOCATION must name at least one server, got {location!r}"
        )
    return locs


def _display(location: str) -> str:
    """The location without a password, for messages."""
    if "://" not in location:
        return location
    parts = urlsplit(location)
    if parts.password is None:
        return location
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    netloc = f"{parts.username or ''}:***@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _host_port(location: str) -> tuple[str, int]:
    host, sep, port = location.rpartition(":")
    if not sep or not port.isdigit():
        return location, 6379
    return host.strip("[]") or "127.0.0.1", int(port)


def _ms(timeout: float) -> int:
    return max(1, int(timeout * 1000))


#: POOL_KWARGS that torngas's RESP client understands too (the rest are redis-py's).
_RESP_KWARGS = frozenset(
    {
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "client_name",
        "password",
        "username",
        "ssl",
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_check_hostname",
    }
)


class _CacheNode(RespClient):
    """A RespClient with the few multi-key operations the cache needs."""

    async def mget(self, keys: list[str]) -> list[Any]:
        return await self.execute(b"MGET", *keys)  # type: ignore[no-any-return]

    async def delete(self, keys: list[str]) -> int:
        return await self.execute(b"DEL", *keys)  # type: ignore[no-any-return]

    async def delete_matching(self, pattern: str) -> None:
        """``SCAN`` for ``pattern`` and ``UNLINK`` what it finds (never FLUSHDB)."""
        cursor: Any = b"0"
        while True:
            cursor, keys = await self.execute(b"SCAN", cursor, b"MATCH", pattern, b"COUNT", 1000)
            if keys:
                await self.execute(b"UNLINK", *keys)
            if cursor == b"0":
                return


def _str_command(args: Sequence[Any]) -> tuple[Any, ...]:
    """redis-py's cluster routes (and parses replies) by the command's *str* name."""
    name = args[0]
    return (name.decode() if isinstance(name, bytes) else name, *args[1:])


class _ClusterNode:
    """The node interface of :class:`_CacheNode` on redis-py's asyncio
    ``RedisCluster`` (``OPTIONS['CLUSTER']``): commands are routed by slot."""

    def __init__(self, owner: RedisClient) -> None:
        self._owner = owner

    async def _client(self) -> Any:
        return (await self._owner._aclients())[0]

    async def execute(self, *args: Any) -> Any:
        return await (await self._client()).execute_command(*_str_command(args))

    async def execute_many(self, commands: Iterable[Sequence[Any]]) -> list[Any]:
        pipe = (await self._client()).pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*_str_command(command))
        return await pipe.execute()  # type: ignore[no-any-return]

    async def mget(self, keys: list[str]) -> list[Any]:
        return await (await self._client()).mget_nonatomic(keys)  # type: ignore[no-any-return]

    async def delete(self, keys: list[str]) -> int:
        return await (await self._client()).delete(*keys)  # type: ignore[no-any-return]

    async def delete_matching(self, pattern: str) -> None:
        client = await self._client()
        batch: list[bytes] = []
        async for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                await client.unlink(*batch)
                batch = []
        if batch:
            await client.unlink(*batch)

    def close(self) -> None:
        """The cluster client is closed with the redis-py async clients."""

    async def aclose(self) -> None:
        """As :meth:`close`."""


class RedisClient(BaseCache):
    """Connections to one or several Redis servers, or a Redis Cluster.

    ``client`` is the sync redis-py client (of the first node when LOCATION lists
    several; use :meth:`get_client` to find a key's node), ``async_client`` the
    redis-py asyncio client of the running event loop. Use this backend directly
    for Redis's own data structures; :class:`RedisCache` adds the cache API
    (whose coroutines use :class:`~torngas.cache.backends.resp.RespClient`).
    """

    async_mode = "native"

    def __init__(self, server: Any, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        options = self._options
        self._locations = _split_locations(server)
        self._cluster = bool(options.get("CLUSTER", False))
        self._db = int(options.get("DB", 0) or 0)
        if self._cluster and self._db:
            raise ImproperlyConfigured("Redis Cluster has only DB 0")
        retries = int(options.get("RETRIES", 1))
        self._retries = retries
        kwargs: dict[str, Any] = {
            "socket_timeout": 1.0,
            "socket_connect_timeout": 1.0,
        }
        if options.get("PASSWORD") is not None:
            kwargs["password"] = options["PASSWORD"]
        if options.get("USERNAME") is not None:
            kwargs["username"] = options["USERNAME"]
        if options.get("PING_INTERVAL"):
            kwargs["health_check_interval"] = int(options["PING_INTERVAL"])
        kwargs.update(options.get("POOL_KWARGS") or {})
        kwargs["decode_responses"] = False  # values are bytes for the serializer
        # A full pool makes a command wait up to POOL_TIMEOUT for a connection
        # (BlockingConnectionPool) instead of failing at once with redis-py's
        # MaxConnectionsError, which bursts of concurrent requests otherwise hit.
        legacy = {k: kwargs.pop(k) for k in ("max_connections", "timeout") if k in kwargs}
        self._pool_kwargs = {
            "max_connections": int(
                options.get("MAX_CONNECTIONS") or legacy.get("max_connections") or 100
            ),
            "timeout": float(
                options.get("POOL_TIMEOUT")
                or legacy.get("timeout")
                or kwargs.get("socket_timeout")
                or 1.0
            ),
        }
        self._kwargs = kwargs
        parser = options.get("PARSER_CLASS")
        if isinstance(parser, str):
            parser = _LEGACY_PARSERS.get(parser, parser)
        self._parser = import_object(parser, what="redis PARSER_CLASS") if parser else None
        aparser = options.get("ASYNC_PARSER_CLASS")
        self._aparser = import_object(aparser, what="redis ASYNC_PARSER_CLASS") if aparser else None

        connections = options.get("ASYNC_CONNECTIONS", 1)
        try:
            self._async_connections = int(connections)
        except (TypeError, ValueError):
            self._async_connections = 0
        if self._async_connections < 1:
            raise ImproperlyConfigured(
                f"Redis OPTIONS['ASYNC_CONNECTIONS'] must be an integer >= 1, not {connections!r}"
            )

        self._ring = (
            None if self._cluster or len(self._locations) == 1 else HashRing(self._locations)
        )
        self._lock = threading.Lock()
        self._sync: list[Any] | None = None
        # redis-py asyncio clients (async_client, cluster mode), per event loop
        self._async: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        # the cache's own async path: one node (RespClient or _ClusterNode) per
        # location, per event loop
        self._nodes: dict[asyncio.AbstractEventLoop, list[Any]] = {}

    # ------------------------------------------------------------------ naming
    @property
    def location(self) -> str:
        return ",".join(_display(loc) for loc in self._locations)

    def _location_for(self, key: str | None) -> str:
        if key is None or self._ring is None:
            return self.location
        return _display(self._locations[self._ring.index(key)])

    # ------------------------------------------------------------------ building
    def _sync_retry(self) -> Any:
        return redis.retry.Retry(NoBackoff(), self._retries, (RedisConnectionError,))

    def _async_retry(self) -> Any:
        return redis.asyncio.retry.Retry(NoBackoff(), self._retries, (RedisConnectionError,))

    def _build_sync(self, location: str) -> Any:
        kwargs = {"retry": self._sync_retry(), **self._kwargs}
        if self._parser is not None:
            kwargs["parser_class"] = self._parser
        if "://" in location:
            pool = redis.BlockingConnectionPool.from_url(
                location, **{"db": self._db, **self._pool_kwargs, **kwargs}
            )
        elif location.startswith("/"):
            pool = redis.BlockingConnectionPool(
                **self._pool_kwargs,
                connection_class=redis.UnixDomainSocketConnection,
                path=location,
                db=self._db,
                **kwargs,
            )
        else:
            host, port = _host_port(location)
            pool = redis.BlockingConnectionPool(
                host=host, port=port, db=self._db, **self._pool_kwargs, **kwargs
            )
        return redis.Redis(connection_pool=pool)

    def _build_async(self, location: str) -> Any:
        kwargs = {"retry": self._async_retry(), **self._kwargs}
        if self._aparser is not None:
            kwargs["parser_class"] = self._aparser
        if "://" in location:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                location, **{"db": self._db, **self._pool_kwargs, **kwargs}
            )
        elif location.startswith("/"):
            pool = redis.asyncio.BlockingConnectionPool(
                **self._pool_kwargs,
                connection_class=redis.asyncio.UnixDomainSocketConnection,
                path=location,
                db=self._db,
                **kwargs,
            )
        else:
            host, port = _host_port(location)
            pool = redis.asyncio.BlockingConnectionPool(
                host=host, port=port, db=self._db, **self._pool_kwargs, **kwargs
            )
        return redis.asyncio.Redis(connection_pool=pool)

    def _build_node(self, location: str) -> _CacheNode:
        """torngas's RESP client for ``location`` (the non-cluster async path)."""
        kwargs = {k: v for k, v in self._kwargs.items() if k in _RESP_KWARGS}
        kwargs.update(db=self._db, retries=self._retries, connections=self._async_connections)
        if "://" in location:
            return _CacheNode.from_url(location, **kwargs)
        if location.startswith("/"):
            return _CacheNode(path=location, **kwargs)
        host, port = _host_port(location)
        return _CacheNode(host, port, **kwargs)

    def _cluster_kwargs(self) -> dict[str, Any]:
        return {**self._kwargs, "max_connections": self._pool_kwargs["max_connections"]}

    def _build_sync_cluster(self) -> Any:
        nodes = [redis.cluster.ClusterNode(*_host_port(loc)) for loc in self._locations]
        return redis.cluster.RedisCluster(
            startup_nodes=nodes, retry=self._sync_retry(), **self._cluster_kwargs()
        )

    def _build_async_cluster(self) -> Any:
        nodes = [redis.asyncio.cluster.ClusterNode(*_host_port(loc)) for loc in self._locations]
        return redis.asyncio.cluster.RedisCluster(
            startup_nodes=nodes, retry=self._async_retry(), **self._cluster_kwargs()
        )

    def _connect_sync(self) -> list[Any]:
        with self._lock:
            if self._sync is None:
                if self._cluster:
                    self._sync = [self._build_sync_cluster()]
                else:
                    self._sync = [self._build_sync(loc) for loc in self._locations]
            return self._sync

    def _connect_async(self) -> list[Any]:
        loop = asyncio.get_running_loop()
        clients = self._async.get(loop)
        if clients is None:
            for old in [lp for lp in list(self._async) if lp.is_closed()]:
                self._async.pop(old, None)
            if self._cluster:
                clients = [self._build_async_cluster()]
            else:
                clients = [self._build_async(loc) for loc in self._locations]
            self._async[loop] = clients
        return clients

    # ------------------------------------------------------------------ clients
    @property
    def client(self) -> Any:
        """The sync redis-py client (first node's; a ``RedisCluster`` in cluster mode)."""
        return (self._sync or self._connect_sync())[0]

    @property
    def clients(self) -> list[Any]:
        """Every node's sync client, in LOCATION order."""
        return list(self._sync or self._connect_sync())

    def get_client(self, key: str | None = None) -> Any:
        """The sync client of the node that holds the final key ``key``."""
        clients = self._sync or self._connect_sync()
        if key is None or self._ring is None:
            return clients[0]
        return clients[self._ring.index(key)]

    @property
    def async_client(self) -> Any:
        """The asyncio client for the running loop (first node's). Needs a running loop."""
        return self._connect_async()[0]

    async def _aclients(self) -> list[Any]:
        """This loop's async clients; a cluster client is initialized once, under a lock
        (concurrent first use of redis-py's async RedisCluster races its topology set-up)."""
        clients = self._async.get(asyncio.get_running_loop()) or self._connect_async()
        if self._cluster and not getattr(clients[0], "_torngas_ready", False):
            lock = getattr(clients[0], "_torngas_lock", None)
            if lock is None:
                lock = clients[0]._torngas_lock = asyncio.Lock()
            async with lock:
                if not getattr(clients[0], "_torngas_ready", False):
                    await clients[0].initialize()
                    clients[0]._torngas_ready = True
        return clients

    def _anodes(self) -> list[Any]:
        """This loop's nodes for the cache's async API: a :class:`_CacheNode`
        (torngas's RESP client) per location, or one :class:`_ClusterNode`."""
        loop = asyncio.get_running_loop()
        nodes = self._nodes.get(loop)
        if nodes is None:
            for old in [lp for lp in list(self._nodes) if lp.is_closed()]:
                self._nodes.pop(old, None)
            if self._cluster:
                nodes = [_ClusterNode(self)]
            else:
                nodes = [self._build_node(loc) for loc in self._locations]
            self._nodes[loop] = nodes
        return nodes

    def _anode(self, key: str) -> Any:
        """This loop's node for the final key ``key`` (the hot path: no await)."""
        nodes = self._nodes.get(asyncio.get_running_loop()) or self._anodes()
        return nodes[0] if self._ring is None else nodes[self._ring.index(key)]

    def get_async_client(self, key: str | None = None) -> Any:
        clients = self._async.get(asyncio.get_running_loop()) or self._connect_async()
        if key is None or self._ring is None:
            return clients[0]
        return clients[self._ring.index(key)]

    def _groups(self, keys: Iterable[str]) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        ring = self._ring
        for key in keys:
            groups.setdefault(0 if ring is None else ring.index(key), []).append(key)
        return groups

    # ------------------------------------------------------------------ errors
    def _fail(self, op: str, exc: BaseException, key: str | None = None) -> None:
        """Raise (or, for connection errors with IGNORE_EXCEPTIONS, log) a clear error."""
        if isinstance(exc, CONNECTION_ERRORS):
            self._failed(op, exc, self._location_for(key))
            return
        raise CacheError(
            f"{self.describe(self._location_for(key))}: {op} failed: {type(exc).__name__}: {exc}"
        ) from exc

    # ------------------------------------------------------------------ teardown
    def disconnect(self) -> None:
        """Close every sync connection and the running loop's async cache
        connections (when called inside a loop); those of a closed loop are
        dropped. Other live loops keep theirs (close them with
        :meth:`adisconnect` in each loop)."""
        with self._lock:
            clients, self._sync = self._sync, None
        for c in clients or ():
            try:
                if self._cluster:
                    c.close()
                else:
                    c.connection_pool.disconnect()
            except Exception:  # best effort
                pass
        for loop in [lp for lp in list(self._async) if lp.is_closed()]:
            self._async.pop(loop, None)
        for loop in [lp for lp in list(self._nodes) if lp.is_closed()]:
            self._nodes.pop(loop, None)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        for node in self._nodes.pop(running, None) or ():
            node.close()

    async def adisconnect(self) -> None:
        """Close this loop's async connections and the sync ones."""
        loop = asyncio.get_running_loop()
        for node in self._nodes.pop(loop, None) or ():
            try:
                await node.aclose()
            except Exception:  # best effort
                pass
        clients = self._async.pop(loop, None) or []
        for c in clients:
            try:
                await c.aclose()
                if not self._cluster:
                    await c.connection_pool.disconnect()
            except Exception:  # best effort
                pass
        self.disconnect()


class RedisCache(RedisClient):
    """The cache API on Redis, with the semantics of every other backend.

    Integers are stored as plain digits, so ``incr`` is Redis's atomic
    ``INCRBY`` (guarded by a Lua script so that a missing key raises ValueError
    instead of being created).
    """

    # ------------------------------------------------------------------ helpers

    def _clear_pattern(self) -> str:
        prefix = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix)
        if self.key_func is default_key_func:
            return prefix + ":*"
        if not prefix:
            raise CacheError(
                f"{self.describe()}: clear() with a custom KEY_FUNCTION needs a KEY_PREFIX "
                "(keys are found by prefix; torngas never runs FLUSHDB)"
            )
        return prefix + "*"

    def _decode(self, data: bytes | None, key: str, default: Any) -> Any:
        if data is None:
            return default
        value = self._loads(data, key)
        return default if value is _MISSING else value

    # ------------------------------------------------------------------ sync API
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version)
        try:
            data = self.get_client(key).get(key)
        except RedisError as exc:
            self._fail("get", exc, key)
            return default
        return self._decode(data, key, default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        t = self.get_backend_timeout(timeout)
        try:
            client = self.get_client(key)
            if t is None:
                client.set(key, payload)
            elif t > 0:
                client.set(key, payload, px=_ms(t))
            else:
                client.delete(key)
        except RedisError as exc:
            self._fail("set", exc, key)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        t = self.get_backend_timeout(timeout)
        try:
            client = self.get_client(key)
            if t is not None and t <= 0:
                return not client.exists(key)
            return bool(client.set(key, payload, nx=True, px=None if t is None else _ms(t)))
        except RedisError as exc:
            self._fail("add", exc, key)
            return False

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        t = self.get_backend_timeout(timeout)
        try:
            client = self.get_client(key)
            if t is None:
                pipe = client.pipeline(transaction=False)
                pipe.exists(key)
                pipe.persist(key)
                return bool(pipe.execute()[0])
            if t <= 0:
                return bool(client.delete(key))
            return bool(client.pexpire(key, _ms(t)))
        except RedisError as exc:
            self._fail("touch", exc, key)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        try:
            return bool(self.get_client(key).delete(key))
        except RedisError as exc:
            self._fail("delete", exc, key)
            return False

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        try:
            return bool(self.get_client(key).exists(key))
        except RedisError as exc:
            self._fail("has_key", exc, key)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version)
        try:
            client = self.get_client(key)
            result = client.eval(_INCR_LUA, 1, key, int(delta))
        except ResponseError as exc:
            raise ValueError(f"cannot increment '{key}': {exc}") from None
        except RedisError as exc:
            self._fail("incr", exc, key)
            result = None
        if result is None:
            raise ValueError(f"Key '{key}' not found")
        return int(result)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(k, version): k for k in keys}
        if not made:
            return {}
        found: dict[Any, Any] = {}
        clients = self._sync or self._connect_sync()
        for index, group in self._groups(made).items():
            try:
                if self._cluster:
                    values = clients[0].mget_nonatomic(group)
                else:
                    values = clients[index].mget(group)
            except RedisError as exc:
                self._fail("get_many", exc, group[0])
                continue
            for key, data in zip(group, values, strict=True):
                if data is not None:
                    value = self._loads(data, key)
                    if value is not _MISSING:
                        found[made[key]] = value
        return found

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        items = {
            self.make_and_validate_key(k, version): (k, self._dumps(v)) for k, v in data.items()
        }
        if not items:
            return []
        t = self.get_backend_timeout(timeout)
        if t is not None and t <= 0:
            self._delete_final(list(items), "set_many")
            return []
        failed: list[Any] = []
        clients = self._sync or self._connect_sync()
        for index, group in self._groups(items).items():
            try:
                pipe = clients[index].pipeline(transaction=False)
                for key in group:
                    pipe.set(key, items[key][1], px=None if t is None else _ms(t))
                pipe.execute()
            except RedisError as exc:
                self._fail("set_many", exc, group[0])
                failed.extend(items[key][0] for key in group)
        return failed

    def _delete_final(self, keys: list[str], op: str) -> None:
        clients = self._sync or self._connect_sync()
        for index, group in self._groups(keys).items():
            try:
                clients[index].delete(*group)
            except RedisError as exc:
                self._fail(op, exc, group[0])

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        made = [self.make_and_validate_key(k, version) for k in keys]
        if made:
            self._delete_final(made, "delete_many")

    def clear(self) -> None:
        """Delete this alias's keys (``KEY_PREFIX:*``) on every node; never FLUSHDB."""
        pattern = self._clear_pattern()
        for client in self._sync or self._connect_sync():
            try:
                batch: list[bytes] = []
                for key in client.scan_iter(match=pattern, count=1000):
                    batch.append(key)
                    if len(batch) >= 500:
                        client.unlink(*batch)
                        batch = []
                if batch:
                    client.unlink(*batch)
            except RedisError as exc:
                self._fail("clear", exc)

    # ------------------------------------------------------------------ async API
    # Non-cluster: torngas's own RESP client (resp.RespClient, one pipelined
    # connection per node and event loop). Cluster: redis-py's RedisCluster
    # behind the same small node interface (_ClusterNode).
    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version)
        try:
            data = await self._anode(key).execute(b"GET", key)
        except RedisError as exc:
            self._fail("get", exc, key)
            return default
        return self._decode(data, key, default)

    async def aset(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        t = self.get_backend_timeout(timeout)
        node = self._anode(key)
        try:
            if t is None:
                await node.execute(b"SET", key, payload)
            elif t > 0:
                await node.execute(b"SET", key, payload, b"PX", _ms(t))
            else:
                await node.execute(b"DEL", key)
        except RedisError as exc:
            self._fail("set", exc, key)

    async def aadd(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        t = self.get_backend_timeout(timeout)
        node = self._anode(key)
        try:
            if t is None:
                return bool(await node.execute(b"SET", key, payload, b"NX"))
            if t <= 0:
                return not await node.execute(b"EXISTS", key)
            return bool(await node.execute(b"SET", key, payload, b"NX", b"PX", _ms(t)))
        except RedisError as exc:
            self._fail("add", exc, key)
            return False

    async def atouch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version)
        t = self.get_backend_timeout(timeout)
        node = self._anode(key)
        try:
            if t is None:
                exists, _ = await node.execute_many(((b"EXISTS", key), (b"PERSIST", key)))
                return bool(exists)
            if t <= 0:
                return bool(await node.execute(b"DEL", key))
            return bool(await node.execute(b"PEXPIRE", key, _ms(t)))
        except RedisError as exc:
            self._fail("touch", exc, key)
            return False

    async def adelete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        try:
            return bool(await self._anode(key).execute(b"DEL", key))
        except RedisError as exc:
            self._fail("delete", exc, key)
            return False

    async def ahas_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        try:
            return bool(await self._anode(key).execute(b"EXISTS", key))
        except RedisError as exc:
            self._fail("has_key", exc, key)
            return False

    async def aincr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version)
        try:
            result = await self._anode(key).execute(b"EVAL", _INCR_LUA, 1, key, int(delta))
        except ResponseError as exc:
            raise ValueError(f"cannot increment '{key}': {exc}") from None
        except RedisError as exc:
            self._fail("incr", exc, key)
            result = None
        if result is None:
            raise ValueError(f"Key '{key}' not found")
        return int(result)

    async def aget_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(k, version): k for k in keys}
        if not made:
            return {}
        found: dict[Any, Any] = {}
        nodes = self._anodes()
        for index, group in self._groups(made).items():
            try:
                values = await nodes[index].mget(group)
            except RedisError as exc:
                self._fail("get_many", exc, group[0])
                continue
            for key, data in zip(group, values, strict=True):
                if data is not None:
                    value = self._loads(data, key)
                    if value is not _MISSING:
                        found[made[key]] = value
        return found

    async def aset_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        items = {
            self.make_and_validate_key(k, version): (k, self._dumps(v)) for k, v in data.items()
        }
        if not items:
            return []
        t = self.get_backend_timeout(timeout)
        if t is not None and t <= 0:
            await self._adelete_final(list(items), "set_many")
            return []
        expiry: tuple[Any, ...] = () if t is None else (b"PX", _ms(t))
        failed: list[Any] = []
        nodes = self._anodes()
        for index, group in self._groups(items).items():
            try:
                await nodes[index].execute_many(
                    [(b"SET", key, items[key][1], *expiry) for key in group]
                )
            except RedisError as exc:
                self._fail("set_many", exc, group[0])
                failed.extend(items[key][0] for key in group)
        return failed

    async def _adelete_final(self, keys: list[str], op: str) -> None:
        nodes = self._anodes()
        for index, group in self._groups(keys).items():
            try:
                await nodes[index].delete(group)
            except RedisError as exc:
                self._fail(op, exc, group[0])

    async def adelete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        made = [self.make_and_validate_key(k, version) for k in keys]
        if made:
            await self._adelete_final(made, "delete_many")

    async def aclear(self) -> None:
        pattern = self._clear_pattern()
        for node in self._anodes():
            try:
                await node.delete_matching(pattern)
            except RedisError as exc:
                self._fail("clear", exc)
