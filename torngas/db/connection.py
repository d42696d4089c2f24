"""Engines per connection name, built lazily from the settings.

``connections[name]`` is a :class:`ConnectionGroup`: one primary and any number
of replicas, each with a synchronous :class:`~sqlalchemy.engine.Engine` and an
:class:`~sqlalchemy.ext.asyncio.AsyncEngine`, both built on first use. The group
also remembers which replicas were found unreachable, so reads skip them for
``REPLICA_RETRY`` seconds (5 by default) and then try them again.

The registry rebuilds itself when ``DATABASE_CONNECTION``,
``SQLALCHEMY_CONFIGURATION``, ``PING_DB`` or ``PROJECT_PATH`` change
(``override_settings`` sends ``setting_changed``); :meth:`ConnectionRegistry.reset`
disposes every pool explicitly.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from torngas.db.config import ConnectionSpec, EngineSpec, kwargs_for, parse_connections
from torngas.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["EngineSlot", "ConnectionGroup", "ConnectionRegistry", "connections"]

log = logging.getLogger("torngas.db")

WATCHED_SETTINGS = {"DATABASE_CONNECTION", "SQLALCHEMY_CONFIGURATION", "PING_DB", "PROJECT_PATH"}


class EngineSlot:
    """One server of a group: lazily built engines plus its up/down state."""

    def __init__(self, group: ConnectionGroup, spec: EngineSpec) -> None:
        self.group = group
        self.spec = spec
        self.role = spec.role
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        self._lock = threading.Lock()
        self.down_until = 0.0

    def __repr__(self) -> str:
        return f"<EngineSlot {self.group.name}:{self.role} {self.spec.describe()}>"

    def describe(self) -> str:
        return self.spec.describe()

    @property
    def sync_engine(self) -> Engine:
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    url, kwargs = kwargs_for(self.group.spec, self.spec, use_async=False)
                    self._sync = create_engine(url, **kwargs)
        return self._sync

    @property
    def async_engine(self) -> AsyncEngine:
        if self._async is None:
            with self._lock:
                if self._async is None:
                    from sqlalchemy.ext.asyncio import create_async_engine

                    url, kwargs = kwargs_for(self.group.spec, self.spec, use_async=True)
                    self._async = create_async_engine(url, **kwargs)
        return self._async

    def engine(self, use_async: bool) -> Engine:
        """The sync :class:`Engine` to bind (for async, the AsyncEngine's ``sync_engine``)."""
        return self.async_engine.sync_engine if use_async else self.sync_engine

    # -- health ------------------------------------------------------------
    def is_up(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) >= self.down_until

    def mark_down(self, exc: BaseException) -> None:
        was_up = self.is_up()
        self.down_until = time.monotonic() + self.group.spec.replica_retry
        if was_up:
            log.warning(
                "database %r: %s %s is unreachable (%s: %s); reads skip it for %.0fs",
                self.group.name,
                self.role,
                self.describe(),
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
                self.group.spec.replica_retry,
            )

    def mark_up(self) -> None:
        if self.down_until:
            self.down_until = 0.0
            log.warning("database %r: %s %s is back", self.group.name, self.role, self.describe())

    def dispose(self) -> None:
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None
        if self._async is not None:
            # Closing async connections needs the event loop; dropping the pool
            # without it is the documented way to leave them to the GC safely.
            self._async.sync_engine.dispose(close=False)
            self._async = None

    async def adispose(self) -> None:
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None
        await self.aclose_async()

    async def aclose_async(self) -> None:
        """Close the async engine's connections (they belong to the running
        loop); the engine is made again on next use. Sync pools stay."""
        if self._async is not None:
            engine, self._async = self._async, None
            await engine.dispose()


class ConnectionGroup:
    """A connection name: the primary and its replicas."""

    def __init__(self, spec: ConnectionSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.primary = EngineSlot(self, spec.primary)
        self.replicas = [EngineSlot(self, r) for r in spec.replicas]
        self._rr = itertools.count()
        self._fallback_warned_until = 0.0

    def __repr__(self) -> str:
        return f"<ConnectionGroup {self.name!r} primary + {len(self.replicas)} replica(s)>"

    @property
    def slots(self) -> list[EngineSlot]:
        return [self.primary, *self.replicas]

    def replica_candidates(self) -> list[EngineSlot]:
        """Replicas to try for a read, round-robin (spreads sessions across them).

        A replica marked down is skipped until its ``REPLICA_RETRY`` delay has
        passed; then it is tried again, so a repaired replica is used again
        without a restart.
        """
        if not self.replicas:
            return []
        start = next(self._rr) % len(self.replicas)
        ordered = self.replicas[start:] + self.replicas[:start]
        now = time.monotonic()
        return [r for r in ordered if r.is_up(now)]

    def warn_fallback(self) -> None:
        now = time.monotonic()
        if now >= self._fallback_warned_until:
            self._fallback_warned_until = now + self.spec.replica_retry
            log.warning(
                "database %r: no replica reachable; reads go to the primary %s",
                self.name,
                self.primary.describe(),
            )

    def dispose(self) -> None:
        for slot in self.slots:
            slot.dispose()

    async def adispose(self) -> None:
        for slot in self.slots:
            await slot.adispose()

    async def aclose_async(self) -> None:
        for slot in self.slots:
            await slot.aclose_async()


class ConnectionRegistry:
    """``connections[name]`` → :class:`ConnectionGroup`, built from the settings once."""

    def __init__(self) -> None:
        self._groups: dict[str, ConnectionGroup] | None = None
        self._lock = threading.RLock()
        self._connected_signal = False

    def _build(self) -> dict[str, ConnectionGroup]:
        from torngas.conf import settings

        specs = parse_connections(
            settings.get("DATABASE_CONNECTION") or {},
            settings.get("SQLALCHEMY_CONFIGURATION") or {},
            settings.get("PING_DB", 300),
            settings.get("PROJECT_PATH"),
        )
        self._connect_signal()
        return {name: ConnectionGroup(spec) for name, spec in specs.items()}

    def _connect_signal(self) -> None:
        if self._connected_signal:
            return
        try:
            from torngas.signal import setting_changed
        except ImportError:  # the signal module is optional for a script
            return
        setting_changed.connect(_on_setting_changed, weak=False, dispatch_uid="torngas.db")
        self._connected_signal = True

    def groups(self) -> dict[str, ConnectionGroup]:
        groups = self._groups
        if groups is None:
            with self._lock:
                if self._groups is None:
                    self._groups = self._build()
                groups = self._groups
        return groups

    def __getitem__(self, name: str) -> ConnectionGroup:
        groups = self.groups()
        try:
            return groups[name]
        except KeyError:
            raise ImproperlyConfigured(
                f"database connection {name!r} is not in DATABASE_CONNECTION "
                f"(defined: {sorted(groups) or 'none'})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.groups()

    def names(self) -> list[str]:
        return list(self.groups())

    def reset(self) -> None:
        """Dispose every pool and re-read the settings on next use."""
        with self._lock:
            groups, self._groups = self._groups, None
        for group in (groups or {}).values():
            group.dispose()

    async def aclose_async(self) -> None:
        """Close every async engine's connections on the running loop (server
        shutdown: ``Application.shutdown`` calls it). Settings stay loaded."""
        with self._lock:
            groups = list((self._groups or {}).values())
        for group in groups:
            await group.aclose_async()

    async def areset(self) -> None:
        """Like :meth:`reset`, closing async connections properly."""
        with self._lock:
            groups, self._groups = self._groups, None
        for group in (groups or {}).values():
            await group.adispose()


connections = ConnectionRegistry()


async def close_async_connections() -> None:
    """Close the async database connections of the running loop (called by
    ``Application.shutdown``), once the sessions still closing have closed."""
    from torngas.db.scope import wait_closed

    await wait_closed()
    await connections.aclose_async()


def _on_setting_changed(sender: Any = None, setting: str = "", **kwargs: Any) -> None:
    if setting in WATCHED_SETTINGS:
        connections.reset()
