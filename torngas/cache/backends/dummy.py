"""A cache that stores nothing (development, or to switch caching off).

Every read is a miss, ``set`` does nothing, ``add`` answers True, ``delete`` and
``touch`` answer False and ``incr`` raises ValueError (the key is never there).
Keys are still made and validated, so an invalid key fails here as it would on
memcached. Async: ``async_mode = "inline"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torngas.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

__all__ = ["DummyCache"]


class DummyCache(BaseCache):
    async_mode = "inline"

    def __init__(self, host: Any = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params or {})

    @property
    def location(self) -> str:
        return "dummy"

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        self.make_and_validate_key(key, version)
        self._dumps(value)
        return True

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        self.make_and_validate_key(key, version)
        return default

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self.make_and_validate_key(key, version)
        self._dumps(value)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        self.make_and_validate_key(key, version)
        return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        self.make_and_validate_key(key, version)
        return False

    def has_key(self, key: Any, version: int | None = None) -> bool:
        self.make_and_validate_key(key, version)
        return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version)
        raise ValueError(f"Key '{key}' not found")

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        for k in keys:
            self.make_and_validate_key(k, version)
        return {}

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        for k, v in data.items():
            self.set(k, v, timeout, version)
        return []

    def clear(self) -> None:
        pass
