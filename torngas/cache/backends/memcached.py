"""memcached through pymemcache: ``MemcachedCache``.

``LOCATION``
    ``"127.0.0.1:11211"``, a socket path, or several (a list, or separated by
    ``,``/``;``): keys are spread by consistent hashing
    (:mod:`torngas.cache.hashring`); adding a server moves about 1/N of the keys.
    A server that is down makes the calls for *its* keys fail (or miss, with
    ``IGNORE_EXCEPTIONS``); keys are never silently moved to another server,
    where a later recovery would leave stale copies behind.

``OPTIONS``
    Lower-case names go to :class:`pymemcache.client.base.PooledClient`
    (``connect_timeout`` and ``timeout`` default to 1 s, ``max_pool_size``,
    ``no_delay`` …). ``IGNORE_EXCEPTIONS``, ``SERIALIZER`` as for every backend.

Behaviour, identical to the other backends:

* writes wait for the server's answer (``noreply`` is off): a value over
  memcached's item size limit (``-I``, 1 MB by default) raises
  :class:`~torngas.cache.CacheValueTooLarge`, it does not vanish silently;
* ``TIMEOUT`` 0 or less expires at once (memcached itself reads 0 as "never");
  fractions of a second are rounded up and one second is added (memcached's
  clock ticks once a second, so a key would otherwise expire up to 1 s early), and
  timeouts over 30 days are sent as absolute times, as memcached requires;
* ``incr``/``decr`` are memcached's atomic ``incr``. memcached counts in
  unsigned 64 bits, so negative integers are stored in two's complement and a
  decrement is an ``incr`` by ``2**64 - delta``: ``decr`` below zero gives a
  negative number, as on Redis, instead of memcached's clamp at 0. memcached
  (seen with 1.6.18) sometimes refuses to ``incr`` a stored number of 2**63 or
  more — a negative one here — as "non-numeric" (it looks for a ``-`` past the
  value, in whatever memory follows it; about 1 in 300 tries in our loop test):
  when the value read back is a number, the increment is redone by
  compare-and-set (``gets`` + ``cas``, retried if the value changed meanwhile),
  keeping the remaining time to live (``mg <key> t``);
* a connection that breaks (a restarted server) is retried once on a new
  connection, except for ``incr`` (not idempotent).

``clear()`` runs ``flush_all`` on every server of the alias: memcached cannot
list keys, so give a cache that must be cleared its own memcached.

Async: ``async_mode = "threadpool"`` — pymemcache is blocking, so the ``a*``
coroutines run in torngas's thread pool and the event loop never waits.
"""

from __future__ import annotations

import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from torngas.cache.backends.base import (
    _MISSING,
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheError,
    CacheValueTooLarge,
)
from torngas.cache.hashring import HashRing
from torngas.exceptions import ImproperlyConfigured

try:
    from pymemcache.client.base import PooledClient
    from pymemcache.exceptions import (
        MemcacheClientError,
        MemcacheError,
        MemcacheServerError,
        MemcacheUnexpectedCloseError,
    )
except ImportError as exc:  # pragma: no cover - exercised only without pymemcache
    raise ImproperlyConfigured(
        "the memcached cache backend needs pymemcache: pip install 'torngas[memcached]'"
    ) from exc

__all__ = ["MemcachedCache"]

_TWO64 = 2**64
_INT64_MIN = -(2**63)
_THIRTY_DAYS = 30 * 24 * 3600
#: compare-and-set attempts of an ``incr`` redone by hand (see _incr_by_cas)
_CAS_ATTEMPTS = 50
_DIGITS = frozenset(b"-0123456789")

#: A connection that broke: safe to retry once on a fresh connection.
_BROKEN = (MemcacheUnexpectedCloseError, ConnectionResetError, BrokenPipeError)
#: The server is not answering at all.
_UNAVAILABLE = (OSError, socket.timeout, MemcacheUnexpectedCloseError)

_FAILED = object()


def _split(location: Any) -> list[str]:
    if isinstance(location, str):
        parts: Sequence[Any] = re.split(r"[;,]", location)
    elif isinstance(location, Sequence):
        parts = location
    else:
        parts = []
    locs = [str(p).strip() for p in parts if str(p).strip()]
    if not locs:
        raise ImproperlyConfigured(
            f"memcached LOCATION must name at least one server, got {location!r}"
        )
    return locs


def _server(location: str) -> Any:
    if location.startswith("unix:"):
        return location[5:]
    if location.startswith("/"):
        return location
    host, sep, port = location.rpartition(":")
    if not sep:
        return (location, 11211)
    return (host.strip("[]"), int(port))


class MemcachedCache(BaseCache):
    """The cache API on one or several memcached servers (see the module doc)."""

    def __init__(self, server: Any, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self._locations = _split(server)
        kwargs: dict[str, Any] = {"connect_timeout": 1.0, "timeout": 1.0, "no_delay": True}
        kwargs.update({k: v for k, v in self._options.items() if k.islower()})
        # Not negotiable: replies are awaited, keys are UTF-8, values are our bytes.
        kwargs.update(
            default_noreply=False, allow_unicode_keys=True, encoding="utf-8", ignore_exc=False
        )
        self._kwargs = kwargs
        self._ring = HashRing(self._locations) if len(self._locations) > 1 else None
        self._lock = threading.Lock()
        self._clients: list[Any] | None = None

    @property
    def location(self) -> str:
        return ",".join(self._locations)

    # ------------------------------------------------------------------ clients
    def _connect(self) -> list[Any]:
        with self._lock:
            if self._clients is None:
                self._clients = [
                    PooledClient(_server(loc), **self._kwargs) for loc in self._locations
                ]
            return self._clients

    @property
    def clients(self) -> list[Any]:
        """pymemcache ``PooledClient`` per server, in LOCATION order."""
        return list(self._clients or self._connect())

    def _index(self, key: str) -> int:
        return 0 if self._ring is None else self._ring.index(key)

    def get_client(self, key: str | None = None) -> Any:
        """The client of the server that holds the final key ``key``."""
        clients = self._clients or self._connect()
        return clients[0 if key is None else self._index(key)]

    def _run(self, op: str, index: int, func: Callable[[Any], Any], retry: bool = True) -> Any:
        """Call ``func(client)``; map errors; return ``_FAILED`` when ignored."""
        clients = self._clients or self._connect()
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                return func(clients[index])
            except _BROKEN as exc:
                if attempt + 1 < attempts:
                    continue
                self._failed(op, exc, self._locations[index])
                return _FAILED
            except MemcacheServerError as exc:
                where = self.describe(self._locations[index])
                if "too large" in str(exc):
                    raise CacheValueTooLarge(
                        f"{where}: {op}: the value is larger than the server's item size "
                        f"limit: {exc}"
                    ) from exc
                raise CacheError(f"{where}: {op} failed: {exc}") from exc
            except MemcacheClientError as exc:
                if op == "incr":
                    raise ValueError(f"cannot increment: {exc}") from None
                raise CacheError(f"{self.describe(self._locations[index])}: {op}: {exc}") from exc
            except _UNAVAILABLE as exc:
                self._failed(op, exc, self._locations[index])
                return _FAILED
            except MemcacheError as exc:
                raise CacheError(
                    f"{self.describe(self._locations[index])}: {op} failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return _FAILED  # pragma: no cover - the loop always returns

    def _groups(self, keys: Iterable[str]) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        for key in keys:
            groups.setdefault(self._index(key), []).append(key)
        return groups

    # ------------------------------------------------------------------ values
    def _dumps(self, value: Any) -> bytes:
        if type(value) is int and _INT64_MIN <= value < 0:
            return str(value + _TWO64).encode("ascii")  # two's complement for incr
        return self.serializer.dumps(value)

    def _loads(self, data: bytes, key: str) -> Any:
        value = super()._loads(data, key)
        if type(value) is int and value > 2**63 - 1 and data[:1].isdigit():
            value -= _TWO64
        return value

    @staticmethod
    def _exptime(t: float | None) -> int:
        if t is None:
            return 0
        if t <= 0:
            return -1
        # memcached's clock ticks once a second, so a relative exptime E lives
        # between E-1 and E seconds; one more second means "never early".
        seconds = math.ceil(t) + 1
        if seconds > _THIRTY_DAYS:
            return int(time.time()) + seconds
        return seconds

    # ------------------------------------------------------------------ API
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version)
        data = self._run("get", self._index(key), lambda c: c.get(key))
        if data is None or data is _FAILED:
            return default
        value = self._loads(data, key)
        return default if value is _MISSING else value

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        t = self.get_backend_timeout(timeout)
        if t is not None and t <= 0:
            self._run("set", self._index(key), lambda c: c.delete(key, noreply=False))
            return
        exp = self._exptime(t)
        stored = self._run(
            "set", self._index(key), lambda c: c.set(key, payload, expire=exp, noreply=False)
        )
        if stored is False:
            raise CacheError(
                f"{self.describe(self._locations[self._index(key)])}: set of {key!r} was not stored"
            )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        exp = self._exptime(self.get_backend_timeout(timeout))
        result = self._run(
            "add", self._index(key), lambda c: c.add(key, payload, expire=exp, noreply=False)
        )
        return bool(result) and result is not _FAILED

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        exp = self._exptime(self.get_backend_timeout(timeout))
        result = self._run(
            "touch", self._index(key), lambda c: c.touch(key, expire=exp, noreply=False)
        )
        return bool(result) and result is not _FAILED

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        result = self._run("delete", self._index(key), lambda c: c.delete(key, noreply=False))
        return bool(result) and result is not _FAILED

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        data = self._run("has_key", self._index(key), lambda c: c.get(key))
        return data is not None and data is not _FAILED

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version)
        delta = int(delta)
        if not _INT64_MIN <= delta <= 2**63 - 1:
            raise ValueError("increment or decrement would overflow a signed 64-bit integer")
        unsigned = delta % _TWO64
        index = self._index(key)
        try:
            result = self._run(
                "incr", index, lambda c: c.incr(key, unsigned, noreply=False), retry=False
            )
        except ValueError:
            result = self._incr_by_cas(key, unsigned, index)  # or the same ValueError
        if result is None or result is _FAILED:
            raise ValueError(f"Key '{key}' not found")
        result = int(result)
        return result - _TWO64 if result > 2**63 - 1 else result

    def _incr_by_cas(self, key: str, unsigned: int, index: int) -> Any:
        """``incr`` redone by compare-and-set, for memcached's false
        "non-numeric" on a stored number >= 2**63 (see the module doc). Raises
        the ``ValueError`` of ``incr`` when the value really is not a number."""
        for _ in range(_CAS_ATTEMPTS):
            got = self._run("incr", index, lambda c: c.gets(key))
            if got is _FAILED:
                return _FAILED
            data, token = got
            if data is None:
                return None  # gone meanwhile: not found
            if not (0 < len(data) <= 20 and data.isdigit()) or int(data) >= _TWO64:
                raise ValueError("cannot increment: the value is not an integer")
            new = (int(data) + unsigned) % _TWO64
            expire = self._remaining_exptime(key, index)
            stored = self._run(
                "incr",
                index,
                lambda c, v=str(new).encode("ascii"), t=token, e=expire: c.cas(
                    key, v, t, expire=e, noreply=False
                ),
                retry=False,  # a cas applied before the connection broke must not run twice
            )
            if stored is _FAILED:
                return _FAILED
            if stored is None:
                return None  # deleted meanwhile
            if stored:
                return new
            # False: changed since gets (another incr won): read it again
        raise CacheError(
            f"{self.describe(self._locations[index])}: incr of {key!r} failed: the value "
            f"changed under each of {_CAS_ATTEMPTS} compare-and-set attempts"
        )

    def _remaining_exptime(self, key: str, index: int) -> int:
        """The key's remaining time to live as a memcached exptime (``mg <key> t``,
        memcached >= 1.6); the alias's default timeout where the server has no
        meta commands."""
        try:
            reply = self._run("mg", index, lambda c: c.raw_command(f"mg {key} t"))
        except CacheError:  # an older server: "ERROR"
            reply = _FAILED
        if reply is not _FAILED and reply.startswith(b"HD"):
            for token in reply.split()[1:]:
                if token.startswith(b"t"):
                    ttl = int(token[1:])
                    if ttl < 0:
                        return 0  # no expiry
                    ttl = max(ttl, 1)
                    return ttl if ttl <= _THIRTY_DAYS else int(time.time()) + ttl
        return self._exptime(self.get_backend_timeout(DEFAULT_TIMEOUT))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(k, version): k for k in keys}
        found: dict[Any, Any] = {}
        for index, group in self._groups(made).items():
            raw = self._run("get_many", index, lambda c, g=group: c.get_many(g))
            if raw is _FAILED:
                continue
            for key, data in raw.items():
                key = key.decode("utf-8") if isinstance(key, bytes) else key
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
        t = self.get_backend_timeout(timeout)
        if t is not None and t <= 0:
            self._delete_final(list(items))
            return []
        exp = self._exptime(t)
        failed: list[Any] = []
        for index, group in self._groups(items).items():
            values = {key: items[key][1] for key in group}
            result = self._run(
                "set_many", index, lambda c, v=values: c.set_many(v, expire=exp, noreply=False)
            )
            if result is _FAILED:
                failed.extend(items[key][0] for key in group)
            else:
                failed.extend(items[k.decode() if isinstance(k, bytes) else k][0] for k in result)
        return failed

    def _delete_final(self, keys: list[str]) -> None:
        for index, group in self._groups(keys).items():
            self._run("delete_many", index, lambda c, g=group: c.delete_many(g, noreply=False))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._delete_final([self.make_and_validate_key(k, version) for k in keys])

    def clear(self) -> None:
        """``flush_all`` on every server of this alias (memcached cannot list keys)."""
        for index in range(len(self._locations)):
            self._run("clear", index, lambda c: c.flush_all(noreply=False))

    def disconnect(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, None
        for c in clients or ():
            try:
                c.close()
            except Exception:  # best effort
                pass
