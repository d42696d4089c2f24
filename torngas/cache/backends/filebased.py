"""A cache in a directory: ``FileBasedCache`` (``LOCATION`` = the directory).

* **Keys never name paths.** A file is named by the SHA-256 of the final key, so
  no key (``../../etc/passwd``, ``/abs``, NUL …) can reach outside the directory.
* **Atomic writes.** A value is written to a temporary file in the same directory
  and moved into place with :func:`os.replace`: readers see the old or the new
  file, never half of one, even with several processes writing at once.
* **Read-modify-write** operations (``add``, ``incr``, ``touch``, culling,
  ``clear``) take an exclusive :func:`fcntl.flock` on ``<dir>/.lock``, so they are
  atomic across threads *and* processes.
* Bounded by ``OPTIONS['MAX_ENTRIES']`` (default 300) with ``CULL_FREQUENCY``
  (oldest files first). Expiry uses wall-clock time (shared between processes).
* A file that cannot be parsed (truncated by a crash, foreign) is a miss plus a
  logged warning, and is removed.
* Async: ``async_mode = "threadpool"`` (file I/O runs in torngas's thread pool).

POSIX only (``fcntl``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import Any

from torngas.cache.backends.base import _MISSING, DEFAULT_TIMEOUT, BaseCache, check_int64

__all__ = ["FileBasedCache"]

logger = logging.getLogger("torngas.cache")

_SUFFIX = ".tgcache"
_MAGIC = b"TGC1 "


class FileBasedCache(BaseCache):
    """One file per key under ``LOCATION`` (see the module doc)."""

    def __init__(self, directory: str, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if not directory:
            from torngas.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured("FileBasedCache needs LOCATION: a directory path")
        self._dir = os.path.abspath(directory)
        self._lock_path = os.path.join(self._dir, ".lock")

    @property
    def location(self) -> str:
        return self._dir

    # ------------------------------------------------------------------ files
    def _key_to_file(self, key: str) -> str:
        name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return os.path.join(self._dir, name + _SUFFIX)

    def _ensure_dir(self) -> None:
        os.makedirs(self._dir, 0o700, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive lock across threads and processes (a new open file each time)."""
        self._ensure_dir()
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _read(self, path: str, key: str) -> tuple[float | None, bytes] | None:
        """(expires_at, payload) of a live entry, else None (expired/corrupt removed)."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        head, sep, payload = data.partition(b"\n")
        exp: float | None
        try:
            if not sep or not head.startswith(_MAGIC):
                raise ValueError("bad header")
            field = head[len(_MAGIC) :]
            exp = None if field == b"-" else float(field)
        except ValueError:
            logger.warning(
                "%s: corrupt cache file for %r removed; treating it as a miss", self.describe(), key
            )
            self._remove(path)
            return None
        if exp is not None and exp <= time.time():
            self._remove(path)
            return None
        return exp, payload

    def _write(self, path: str, payload: bytes, exp: float | None) -> None:
        self._ensure_dir()
        header = _MAGIC + (b"-" if exp is None else repr(exp).encode("ascii")) + b"\n"
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                f.write(payload)
            os.replace(tmp, path)
        except BaseException:
            self._remove(tmp)
            raise

    @staticmethod
    def _remove(path: str) -> bool:
        try:
            os.remove(path)
            return True
        except FileNotFoundError:
            return False

    def _list_files(self) -> list[str]:
        try:
            return [e.path for e in os.scandir(self._dir) if e.name.endswith(_SUFFIX)]
        except FileNotFoundError:
            return []

    def _cull_if_full(self) -> None:
        files = self._list_files()
        if len(files) < self._max_entries:
            return
        with self._locked():
            files = self._list_files()
            if len(files) < self._max_entries:
                return
            if self._cull_frequency == 0:
                victims = files
            else:

                def mtime(p: str) -> float:
                    try:
                        return os.stat(p).st_mtime
                    except FileNotFoundError:
                        return 0.0

                files.sort(key=mtime)
                victims = files[: max(1, len(files) // self._cull_frequency)]
            for p in victims:
                self._remove(p)

    def _expiry(self, timeout: Any) -> float | None:
        t = self.get_backend_timeout(timeout)
        return None if t is None else time.time() + t

    # ------------------------------------------------------------------ API
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version)
        entry = self._read(self._key_to_file(key), key)
        if entry is None:
            return default
        value = self._loads(entry[1], key)
        return default if value is _MISSING else value

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        exp = self._expiry(timeout)
        path = self._key_to_file(key)
        if exp is not None and exp <= time.time():
            self._remove(path)
            return
        self._cull_if_full()
        self._write(path, payload, exp)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version)
        payload = self._dumps(value)
        path = self._key_to_file(key)
        self._cull_if_full()
        with self._locked():
            if self._read(path, key) is not None:
                return False
            exp = self._expiry(timeout)
            if exp is None or exp > time.time():
                self._write(path, payload, exp)
            return True

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        path = self._key_to_file(key)
        with self._locked():
            entry = self._read(path, key)
            if entry is None:
                return False
            exp = self._expiry(timeout)
            if exp is not None and exp <= time.time():
                self._remove(path)
            else:
                self._write(path, entry[1], exp)
            return True

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        path = self._key_to_file(key)
        live = self._read(path, key) is not None
        return self._remove(path) and live

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version)
        return self._read(self._key_to_file(key), key) is not None

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version)
        path = self._key_to_file(key)
        with self._locked():
            entry = self._read(path, key)
            if entry is None:
                raise ValueError(f"Key '{key}' not found")
            value = self._loads(entry[1], key)
            if type(value) is not int:
                raise ValueError(f"the value of '{key}' is not an integer")
            new = check_int64(value + delta)
            self._write(path, self._dumps(new), entry[0])
            return new

    def clear(self) -> None:
        """Remove every cache file in the directory (and stale temporary files)."""
        with self._locked():
            try:
                entries = list(os.scandir(self._dir))
            except FileNotFoundError:
                return
            stale = time.time() - 60  # a younger temp file may be another writer's
            for e in entries:
                if e.name.endswith(_SUFFIX):
                    self._remove(e.path)
                elif e.name.startswith(".tmp-"):
                    with contextlib.suppress(OSError):
                        if e.stat().st_mtime < stale:
                            self._remove(e.path)
