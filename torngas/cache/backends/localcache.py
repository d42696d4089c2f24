"""In-process memory cache: ``LocMemCache`` (1.8 name: ``LocalCache``).

* **LRU and bounded**: at most ``OPTIONS['MAX_ENTRIES']`` entries (default 300);
  when full, the least recently used ``1/CULL_FREQUENCY`` of the entries are
  dropped (``CULL_FREQUENCY = 0`` empties the cache).
* **Thread-safe**: one lock per store; each operation holds it for microseconds.
* Caches with the same ``LOCATION`` share one store (as in Django); each process
  has its own, so this is no good for sharing data between workers.
* Values are stored serialized (the alias's ``SERIALIZER``), so what comes out is
  a copy, and the same values are accepted as by the network backends.
* Async: ``async_mode = "inline"`` — the coroutines run the in-memory operation
  directly (no I/O, no thread hop).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from torngas.cache.backends.base import (
    _MISSING,
    DEFAULT_TIMEOUT,
    BaseCache,
    check_int64,
)

__all__ = ["LocMemCache", "LocalCache"]

# LOCATION -> (store, lock); entries are key -> (expires_at | None, payload)
_stores: dict[str, tuple[OrderedDict[str, tuple[float | None, bytes]], threading.Lock]] = {}
_stores_lock = threading.Lock()


class LocMemCache(BaseCache):
    """A bounded LRU dict per ``LOCATION`` (see the module doc)."""

    async_mode = "inline"

    def __init__(self, name: str, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self._name = name or ""
        with _stores_lock:
            if self._name not in _stores:
                _stores[self._name] = (OrderedDict(), threading.Lock())
            self._cache, self._lock = _stores[self._name]

    @property
    def location(self) -> str:
        return f"locmem:{self._name}"

    def _expiry(self, timeout: Any) -> float | None:
        t = self.get_backend_timeout(timeout)
        return None if t is None else time.monotonic() + t

    def _live(self, key: str, now: float | None = None) -> tuple[float | None, bytes] | None:
        """The entry if present and not expired (lock held); expired ones are dropped."""
        entry = self._cache.get(key)
        if entry is None:
            return None
        exp = entry[0]
        if exp is not None and exp <= (time.monotonic() if now is None else now):
            del self._cache[key]
            return None
        return entry

    def _store(self, key: str, payload: bytes, exp: float | None) -> None:
        """Insert (lock held), culling first when full."""
        if key not in self._cache and len(self._cache) >= self._max_entries:
            self._cull()
        self._cache[key] = (exp, payload)
        self._cache.move_to_end(key)

    def _cull(self) -> None:
        if self._cull_frequency == 0:
            self._cache.clear()
            return
        now = time.monotonic()
        for k in [k for k, (exp, _) in self._cache.items() if exp is not None and exp <= now]:
            del self._cache[k]
        if len(self._cache) < self._max_entries:
            return
        count = max(1, len(self._cache) // self._cull_frequency)
        for _ in range(count):
            self._cache.popitem(last=False)

    # ------------------------------------------------------------------ API
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return default
            self._cache.move_to_end(key)
        value = self._loads(entry[1], key)
        return default if value is _MISSING else value

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        exp = self._expiry(timeout)
        with self._lock:
            if exp is not None and exp <= time.monotonic():
                self._cache.pop(key, None)
            else:
                self._store(key, payload, exp)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        exp = self._expiry(timeout)
        with self._lock:
            now = time.monotonic()
            if self._live(key, now) is not None:
                return False
            if exp is None or exp > now:
                self._store(key, payload, exp)
            return True

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        exp = self._expiry(timeout)
        with self._lock:
            now = time.monotonic()
            entry = self._live(key, now)
            if entry is None:
                return False
            if exp is not None and exp <= now:
                del self._cache[key]
            else:
                self._cache[key] = (exp, entry[1])
            return True

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        with self._lock:
            return self._live(key) is not None and self._cache.pop(key, None) is not None

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        with self._lock:
            return self._live(key) is not None

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                raise ValueError(f"Key '{key}' not found")
            value = self._loads(entry[1], key)
            if type(value) is not int:
                raise ValueError(f"the value of '{key}' is not an integer")
            new = check_int64(value + delta)
            self._cache[key] = (entry[0], self._dumps(new))
            self._cache.move_to_end(key)
            return new

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        made = [(k, self.make_and_validate_key(k, version)) for k in keys]
        raw = []
        with self._lock:
            now = time.monotonic()
            for k, key in made:
                entry = self._live(key, now)
                if entry is not None:
                    self._cache.move_to_end(key)
                    raw.append((k, key, entry[1]))
        found = {}
        for k, key, payload in raw:
            value = self._loads(payload, key)
            if value is not _MISSING:
                found[k] = value
        return found

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        items = [(self.make_and_validate_key(k, version), self._dumps(v)) for k, v in data.items()]
        exp = self._expiry(timeout)
        with self._lock:
            expired = exp is not None and exp <= time.monotonic()
            for key, payload in items:
                if expired:
                    self._cache.pop(key, None)
                else:
                    self._store(key, payload, exp)
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        made = [self.make_and_validate_key(k, version) for k in keys]
        with self._lock:
            for key in made:
                self._cache.pop(key, None)

    def clear(self) -> None:
        """Empty this ``LOCATION``'s store (other locations are untouched)."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        """Entries held, expired ones included until they are next touched or culled."""
        return len(self._cache)


#: The 1.8 name.
LocalCache = LocMemCache
