"""Caches configured by ``settings.CACHES`` (Django's shape).

``caches['alias']`` builds the alias's backend on first use and then returns the
same instance (shared by all threads); ``cache`` stands for ``caches['default']``::

    from torngas.cache import cache, caches

    cache.set("greeting", "hello", timeout=60)
    await caches["rediscache"].aget("greeting")

The handler reads ``settings.CACHES`` when first used, not at import, and starts
over (dropping the built instances) when ``CACHES`` changes: it notices a new
``CACHES`` object itself and also listens to ``torngas.signal.setting_changed``
(sent by ``override_settings``); :meth:`CacheHandler.reset` does it by hand.
:func:`close_caches` calls every built backend's ``close()``; it is *not*
connected to ``request_finished``: every backend keeps a pool and its
``close()`` does nothing per request, so a per-request hook would only cost time
(a subclass that needs one can connect it). No backend library (redis, pymemcache) is
imported here: each backend imports its own on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from torngas._utils import import_object
from torngas.cache.backends.base import (
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheConnectionError,
    CacheError,
    CacheValueTooLarge,
    InvalidCacheBackendError,
    InvalidCacheKey,
)

__all__ = [
    "DEFAULT_CACHE_ALIAS",
    "DEFAULT_TIMEOUT",
    "BaseCache",
    "CacheConnectionError",
    "CacheError",
    "CacheHandler",
    "CacheValueTooLarge",
    "shutdown_caches",
    "InvalidCacheBackendError",
    "InvalidCacheKey",
    "cache",
    "caches",
    "close_caches",
]

DEFAULT_CACHE_ALIAS = "default"

logger = logging.getLogger("torngas.cache")


class CacheHandler:
    """Lazily builds one backend instance per alias of ``settings.CACHES``."""

    def __init__(self) -> None:
        self._caches: dict[str, BaseCache] = {}
        self._lock = threading.RLock()
        self._source: Any = None  # the CACHES dict the instances were built from

    def _settings(self) -> dict[str, Any]:
        from torngas.conf import settings

        configured = settings.get("CACHES") or {}
        if configured is not self._source:
            with self._lock:
                if configured is not self._source:
                    self._reset_locked()
                    self._source = configured
        return configured  # type: ignore[no-any-return]

    @property
    def settings(self) -> dict[str, Any]:
        """The current ``CACHES`` setting."""
        return self._settings()

    def __getitem__(self, alias: str) -> BaseCache:
        configured = self._settings()
        try:
            return self._caches[alias]
        except KeyError:
            pass
        with self._lock:
            if alias not in self._caches:
                self._caches[alias] = self.create_connection(alias, configured)
            return self._caches[alias]

    def create_connection(self, alias: str, configured: dict[str, Any] | None = None) -> BaseCache:
        """Build a new backend for ``alias`` (not stored; use ``caches[alias]``)."""
        configured = self._settings() if configured is None else configured
        try:
            params = dict(configured[alias])
        except KeyError:
            raise InvalidCacheBackendError(
                f"could not find cache alias {alias!r} in CACHES "
                f"(defined: {', '.join(sorted(configured)) or 'none'})"
            ) from None
        backend = params.pop("BACKEND", None)
        if not backend:
            raise InvalidCacheBackendError(f"CACHES[{alias!r}] has no BACKEND")
        location = params.pop("LOCATION", "")
        try:
            backend_cls = import_object(backend, what="cache backend")
        except Exception as exc:
            raise InvalidCacheBackendError(
                f"CACHES[{alias!r}]: could not load backend {backend!r}: {exc}"
            ) from exc
        instance: BaseCache = backend_cls(location, params)
        instance.alias = alias
        return instance  # type: ignore[no-any-return]

    def __contains__(self, alias: object) -> bool:
        return alias in self._settings()

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings())

    def all(self, initialized_only: bool = False) -> list[BaseCache]:
        """Every alias's instance (building them), or only those already built."""
        if initialized_only:
            self._settings()
            return list(self._caches.values())
        return [self[alias] for alias in self._settings()]

    def reset(self) -> None:
        """Forget every built instance (disconnecting them); the next use rebuilds."""
        with self._lock:
            self._reset_locked()
            self._source = None

    def _reset_locked(self) -> None:
        old, self._caches = self._caches, {}
        for instance in old.values():
            try:
                instance.disconnect()
            except Exception:  # best effort: the instance is being dropped anyway
                logger.debug("error disconnecting %r", instance, exc_info=True)

    def close_all(self, **kwargs: Any) -> None:
        for instance in self.all(initialized_only=True):
            instance.close(**kwargs)

    def disconnect_all(self) -> None:
        """Drop every built instance's connections (shutdown, tests)."""
        for instance in self.all(initialized_only=True):
            instance.disconnect()

    async def adisconnect_all(self) -> None:
        """Like :meth:`disconnect_all`, also closing this event loop's async connections."""
        for instance in self.all(initialized_only=True):
            await instance.adisconnect()


caches = CacheHandler()


class _DefaultCacheProxy:
    """``cache``: every attribute is looked up on ``caches['default']`` at use time."""

    def __getattr__(self, name: str) -> Any:
        return getattr(caches[DEFAULT_CACHE_ALIAS], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(caches[DEFAULT_CACHE_ALIAS], name, value)

    def __delattr__(self, name: str) -> None:
        delattr(caches[DEFAULT_CACHE_ALIAS], name)

    def __contains__(self, key: Any) -> bool:
        return key in caches[DEFAULT_CACHE_ALIAS]

    def __eq__(self, other: object) -> bool:
        return caches[DEFAULT_CACHE_ALIAS] == other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<cache proxy for {DEFAULT_CACHE_ALIAS!r}>"


cache: Any = _DefaultCacheProxy()


def close_caches(**kwargs: Any) -> None:
    """End-of-request hook: calls ``close()`` on every cache built so far.

    Pooled backends (Redis, memcached) keep their connections; see
    :meth:`BaseCache.close`.
    """
    caches.close_all()


async def shutdown_caches() -> None:
    """Server shutdown (``Application.shutdown``, both transports): drop every
    built cache's connections — the sync pools and the serving loop's async
    connections (Redis, memcached). A backend that fails to close is logged and
    the others are still closed."""
    for instance in caches.all(initialized_only=True):
        try:
            await instance.adisconnect()
        except Exception:
            logger.exception("closing cache %r failed", instance)


def _on_setting_changed(*, setting: str | None = None, **kwargs: Any) -> None:
    if setting == "CACHES":
        caches.reset()


def _connect_signals() -> None:
    try:
        from torngas import signal as _signal
    except ImportError:  # the signal module is optional for the cache
        return
    changed = getattr(_signal, "setting_changed", None)
    if changed is not None:
        changed.connect(_on_setting_changed, weak=False, dispatch_uid="torngas.cache.reset")


_connect_signals()
