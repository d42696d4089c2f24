"""The cache contract every backend fulfils (Django's ``BaseCache`` shape).

A backend subclasses :class:`BaseCache` and implements the primitive operations
(``get``, ``set``, ``add``, ``touch``, ``delete``, ``incr``, ``clear``); the
composite ones (``get_many``, ``set_many``, ``delete_many``, ``has_key``,
``get_or_set``, ``incr_version`` …) have default implementations here that a
backend overrides when its server can do better (``MGET``, pipelines).

Guarantees shared by every backend:

* **Keys** go through :meth:`BaseCache.make_key` (``KEY_PREFIX``, ``VERSION``,
  ``KEY_FUNCTION``) and :meth:`BaseCache.validate_key`. A final key longer than
  250 bytes (UTF-8) or holding a space or control character raises
  :class:`InvalidCacheKey` *before* anything is sent, on every backend (memcached
  would reject it; the others refuse it too so code that works on one works on all).
* **Timeouts** are seconds: ``DEFAULT_TIMEOUT`` means the alias's ``TIMEOUT``
  (default 300), ``None`` never expires, ``0`` or less expires at once (``set``
  stores nothing, ``touch`` removes the key).
* **A stored None is a hit**: ``get(key, default)`` returns ``None`` when None was
  stored; ``default`` only for a miss.
* ``incr``/``decr`` are atomic and raise :class:`ValueError` for a missing key or a
  value that is not an integer; the range is that of a signed 64-bit integer.
* Every method has an ``a``-prefixed coroutine twin (``aget``, ``aset`` …).
  :attr:`BaseCache.async_mode` says how it runs: ``"native"`` (an asyncio
  client), ``"inline"`` (in-memory, no I/O) or ``"threadpool"``
  (:func:`torngas.concurrent.run_in_threadpool`); none blocks the event loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from torngas._utils import import_object
from torngas.cache.serializers import Serializer, get_serializer
from torngas.exceptions import ImproperlyConfigured, TorngasError

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_KEY_LENGTH",
    "BaseCache",
    "CacheError",
    "CacheConnectionError",
    "CacheValueTooLarge",
    "InvalidCacheKey",
    "InvalidCacheBackendError",
    "default_key_func",
    "get_key_func",
]

logger = logging.getLogger("torngas.cache")

#: Key length limit (bytes, UTF-8), memcached's, applied on every backend.
MAX_KEY_LENGTH = 250

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_BAD_KEY_CHAR = re.compile(r"[\x00-\x20\x7f]")


class _DefaultTimeout:
    def __repr__(self) -> str:
        return "DEFAULT_TIMEOUT"


#: Sentinel: "use the alias's TIMEOUT".
DEFAULT_TIMEOUT: Any = _DefaultTimeout()

_MISSING = object()


class CacheError(TorngasError):
    """A cache operation failed (the message names the backend and location)."""


class CacheConnectionError(CacheError, ConnectionError):
    """The cache server is down, hung (timed out) or dropped the connection."""


class CacheValueTooLarge(CacheError, ValueError):
    """The server refused the value because of its size (memcached's item limit)."""


class InvalidCacheKey(CacheError, ValueError):
    """The key is too long or holds a space or control character; nothing was sent."""


class InvalidCacheBackendError(ImproperlyConfigured):
    """``CACHES`` names an alias or backend that cannot be used."""


def default_key_func(key: Any, key_prefix: str, version: Any) -> str:
    """Django's key function: ``"<prefix>:<version>:<key>"``."""
    return f"{key_prefix}:{version}:{key}"


def get_key_func(key_func: Callable[..., str] | str | None) -> Callable[..., str]:
    """The ``KEY_FUNCTION`` setting as a callable (a callable or a dotted path)."""
    if key_func is None:
        return default_key_func
    func = import_object(key_func, what="cache KEY_FUNCTION")
    if not callable(func):
        raise ImproperlyConfigured(f"cache KEY_FUNCTION {key_func!r} is not callable")
    return func  # type: ignore[no-any-return]


def check_int64(value: int) -> int:
    """Return ``value`` or raise ValueError when it leaves the signed 64-bit range."""
    if value < _INT64_MIN or value > _INT64_MAX:
        raise ValueError("increment or decrement would overflow a signed 64-bit integer")
    return value


class BaseCache:
    """Base class of the cache backends.

    ``params`` is the alias's dict from ``CACHES`` (``TIMEOUT``, ``KEY_PREFIX``,
    ``VERSION``, ``KEY_FUNCTION``, ``OPTIONS`` …). Backends are built by
    :data:`torngas.cache.caches`, one instance per alias, shared by all threads;
    every backend is thread-safe.
    """

    #: How the ``a*`` coroutines run: ``"native"``, ``"inline"`` or ``"threadpool"``.
    async_mode: ClassVar[str] = "threadpool"

    #: The alias this instance was built for (set by the handler; used in errors).
    alias: str | None = None

    def __init__(self, params: Mapping[str, Any]) -> None:
        timeout = params.get("timeout", params.get("TIMEOUT", 300))
        if timeout is not None:
            try:
                timeout = float(timeout)
            except (TypeError, ValueError):
                raise ImproperlyConfigured(
                    f"cache TIMEOUT must be a number of seconds or None, not {timeout!r}"
                ) from None
        self.default_timeout: float | None = timeout

        options = dict(params.get("OPTIONS") or {})
        self._options = options
        max_entries = params.get("max_entries", options.get("MAX_ENTRIES", 300))
        cull_frequency = params.get("cull_frequency", options.get("CULL_FREQUENCY", 3))
        try:
            self._max_entries = int(max_entries)
            self._cull_frequency = int(cull_frequency)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                "cache MAX_ENTRIES and CULL_FREQUENCY must be integers"
            ) from None
        if self._max_entries < 1 or self._cull_frequency < 0:
            raise ImproperlyConfigured("cache MAX_ENTRIES must be >= 1, CULL_FREQUENCY >= 0")

        self.key_prefix: str = params.get("KEY_PREFIX", "") or ""
        self.version: int = params.get("VERSION", 1)
        self.key_func = get_key_func(params.get("KEY_FUNCTION"))
        self.serializer: Serializer = get_serializer(
            options.get("SERIALIZER", "json"), options.get("SERIALIZER_OPTIONS")
        )
        #: Treat connection failures as misses (and log them) instead of raising.
        self.ignore_exceptions: bool = bool(options.get("IGNORE_EXCEPTIONS", False))

    # ------------------------------------------------------------------ naming
    @property
    def location(self) -> str:
        """Human-readable location for error messages (overridden by backends)."""
        return "-"

    def describe(self, location: str | None = None) -> str:
        """``"RedisCache 'default' at 127.0.0.1:6379"`` — used in every error."""
        alias = f" {self.alias!r}" if self.alias else ""
        return f"{type(self).__name__}{alias} at {location or self.location}"

    # ------------------------------------------------------------------ timeouts
    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> float | None:
        """Seconds as a float, ``None`` for "never"; ``<= 0`` means "expire now"."""
        if timeout is DEFAULT_TIMEOUT:
            return self.default_timeout
        if timeout is None:
            return None
        return float(timeout)

    # ------------------------------------------------------------------ keys
    def make_key(self, key: Any, version: int | None = None) -> str:
        """The final key: ``KEY_FUNCTION(key, KEY_PREFIX, version)``."""
        if version is None:
            version = self.version
        return self.key_func(key, self.key_prefix, version)

    def validate_key(self, key: str) -> None:
        """Raise :class:`InvalidCacheKey` for a key no backend may store."""
        if not isinstance(key, str):
            raise InvalidCacheKey(f"cache key must be a str, not {type(key).__name__}")
        length = len(key) if key.isascii() else len(key.encode("utf-8", "surrogatepass"))
        if length > MAX_KEY_LENGTH:
            raise InvalidCacheKey(
                f"cache key is {length} bytes, more than {MAX_KEY_LENGTH}: {key[:60]!r}…"
            )
        if _BAD_KEY_CHAR.search(key):
            raise InvalidCacheKey(f"cache key contains a space or a control character: {key!r}")

    def make_and_validate_key(self, key: Any, version: int | None = None) -> str:
        key = self.make_key(key, version)
        self.validate_key(key)
        return key

    # ------------------------------------------------------------------ values
    def _dumps(self, value: Any) -> bytes:
        return self.serializer.dumps(value)

    def _loads(self, data: bytes, key: str) -> Any:
        """Deserialize, or return the miss sentinel and log a warning."""
        try:
            return self.serializer.loads(data)
        except Exception as exc:
            logger.warning(
                "%s: cannot deserialize the value of %r (%s: %s); treating it as a miss",
                self.describe(),
                key,
                type(exc).__name__,
                exc,
            )
            return _MISSING

    # ------------------------------------------------------------------ errors
    def _failed(self, op: str, exc: BaseException, location: str | None = None) -> None:
        """Called in an ``except`` block for a server failure.

        Raises :class:`CacheConnectionError` naming the backend and location, or
        (with ``OPTIONS['IGNORE_EXCEPTIONS']``) logs it and returns so the caller
        answers as for a miss.
        """
        where = self.describe(location)
        if self.ignore_exceptions:
            logger.warning(
                "%s: %s failed, treated as a miss: %s: %s", where, op, type(exc).__name__, exc
            )
            return
        raise CacheConnectionError(f"{where}: {op} failed: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ primitives
    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        """Store ``value`` only if ``key`` is absent; True if it was stored."""
        raise NotImplementedError(f"{type(self).__name__} does not provide add()")

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """The stored value, or ``default`` on a miss (a stored None is returned)."""
        raise NotImplementedError(f"{type(self).__name__} does not provide get()")

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        """Store ``value`` (a timeout of 0 or less stores nothing and drops the key)."""
        raise NotImplementedError(f"{type(self).__name__} does not provide set()")

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        """Give ``key`` a new timeout; True if the key existed."""
        raise NotImplementedError(f"{type(self).__name__} does not provide touch()")

    def delete(self, key: Any, version: int | None = None) -> bool:
        """Remove ``key``; True if it existed."""
        raise NotImplementedError(f"{type(self).__name__} does not provide delete()")

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Add ``delta`` atomically and return the new value.

        Raises ValueError when the key is missing or its value is not an integer.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide incr()")

    def clear(self) -> None:
        """Remove every key of this alias (see the backend for what "alias" covers)."""
        raise NotImplementedError(f"{type(self).__name__} does not provide clear()")

    # ------------------------------------------------------------------ composites
    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        """A dict of the keys that were found (stored Nones included)."""
        found = {}
        for k in keys:
            val = self.get(k, _MISSING, version=version)
            if val is not _MISSING:
                found[k] = val
        return found

    def get_or_set(
        self, key: Any, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        """Return the value of ``key``; on a miss store ``default`` (called if callable).

        Returns the value that ends up in the cache, which may be one another
        client added meanwhile.
        """
        val = self.get(key, _MISSING, version=version)
        if val is _MISSING:
            if callable(default):
                default = default()
            self.add(key, default, timeout=timeout, version=version)
            # Fetch the value again to avoid a race condition if another caller
            # added a value between the first get() and the add() above.
            return self.get(key, default, version=version)
        return val

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self.get(key, _MISSING, version=version) is not _MISSING

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Subtract ``delta`` atomically (``incr(key, -delta)``)."""
        return self.incr(key, -delta, version=version)

    def __contains__(self, key: Any) -> bool:
        return self.has_key(key)

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        """Store every pair; return the keys that could not be stored."""
        for key, value in data.items():
            self.set(key, value, timeout=timeout, version=version)
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        for key in keys:
            self.delete(key, version=version)

    def incr_version(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Move ``key``'s value to version ``version + delta``; return the new version."""
        if version is None:
            version = self.version
        value = self.get(key, _MISSING, version=version)
        if value is _MISSING:
            raise ValueError(f"Key '{key}' not found")
        self.set(key, value, version=version + delta)
        self.delete(key, version=version)
        return version + delta

    def decr_version(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self.incr_version(key, -delta, version)

    def close(self, **kwargs: Any) -> None:
        """End-of-request hook (``close_caches``): pooled backends keep their pools."""

    def disconnect(self) -> None:
        """Drop every connection (shutdown, tests); the next call reconnects."""

    # ------------------------------------------------------------------ async twins
    async def _async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.async_mode == "inline":
            return func(*args, **kwargs)
        from torngas.concurrent import run_in_threadpool

        return await run_in_threadpool(func, *args, **kwargs)

    async def aadd(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return await self._async(self.add, key, value, timeout, version)  # type: ignore[no-any-return]

    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return await self._async(self.get, key, default, version)

    async def aset(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        await self._async(self.set, key, value, timeout, version)

    async def atouch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return await self._async(self.touch, key, timeout, version)  # type: ignore[no-any-return]

    async def adelete(self, key: Any, version: int | None = None) -> bool:
        return await self._async(self.delete, key, version)  # type: ignore[no-any-return]

    async def aget_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return await self._async(self.get_many, list(keys), version)  # type: ignore[no-any-return]

    async def aget_or_set(
        self, key: Any, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        val = await self.aget(key, _MISSING, version=version)
        if val is _MISSING:
            if callable(default):
                default = default()
            await self.aadd(key, default, timeout=timeout, version=version)
            return await self.aget(key, default, version=version)
        return val

    async def ahas_key(self, key: Any, version: int | None = None) -> bool:
        return await self._async(self.has_key, key, version)  # type: ignore[no-any-return]

    async def aincr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return await self._async(self.incr, key, delta, version)  # type: ignore[no-any-return]

    async def adecr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return await self.aincr(key, -delta, version=version)

    async def aset_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return await self._async(self.set_many, dict(data), timeout, version)  # type: ignore[no-any-return]

    async def adelete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        await self._async(self.delete_many, list(keys), version)

    async def aclear(self) -> None:
        await self._async(self.clear)

    async def aincr_version(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        if version is None:
            version = self.version
        value = await self.aget(key, _MISSING, version=version)
        if value is _MISSING:
            raise ValueError(f"Key '{key}' not found")
        await self.aset(key, value, version=version + delta)
        await self.adelete(key, version=version)
        return version + delta

    async def adecr_version(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return await self.aincr_version(key, -delta, version)

    async def aclose(self, **kwargs: Any) -> None:
        self.close(**kwargs)

    async def adisconnect(self) -> None:
        """Async :meth:`disconnect`; also closes this event loop's async connections."""
        self.disconnect()

    def __repr__(self) -> str:
        return f"<{self.describe()}>"
