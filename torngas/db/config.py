"""Read ``DATABASE_CONNECTION``, ``SQLALCHEMY_CONFIGURATION`` and ``PING_DB``.

Pure parsing: turns the settings into :class:`ConnectionSpec` objects (URLs and
``create_engine`` keyword arguments). No engine is built here.

``DATABASE_CONNECTION`` maps a connection name to either

- the 1.8 form: ``{"connections": [{"ROLE": "master", "DRIVER": ..., "UID": ...,
  "PASSWD": ..., "HOST": ..., "PORT": ..., "DATABASE": ..., "QUERY": {...}},
  {"ROLE": "slave", ...}, ...]}``; an entry may give ``"URL": "driver://..."``
  instead of the separate fields;
- a URL form: ``{"master": "postgresql+psycopg://...", "slaves": [url, ...]}``
  (``primary``/``replicas`` are accepted too);
- a plain URL string: a single primary, no replica.

A relative SQLite ``DATABASE`` path is taken relative to ``PROJECT_PATH``.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import URL, make_url

from torngas._utils import import_object
from torngas.db.exceptions import DatabaseConfigWarning
from torngas.exceptions import ImproperlyConfigured

__all__ = ["ConnectionSpec", "EngineSpec", "parse_connections", "engine_options"]

PRIMARY_ROLES = {"master", "primary", "default", "write"}
REPLICA_ROLES = {"slave", "replica", "read", "standby"}

#: ``create_engine`` arguments SQLAlchemy 2 removed or deprecated: ignored with a warning.
DROPPED_ENGINE_KEYS = {
    "encoding": "SQLAlchemy 2 always uses the driver's unicode; set the charset in QUERY",
    "convert_unicode": "SQLAlchemy 2 handles unicode natively",
    "case_sensitive": "removed in SQLAlchemy 2",
    "strategy": "removed in SQLAlchemy 2",
    "threadlocal": "removed in SQLAlchemy 1.4",
    "empty_in_strategy": "removed in SQLAlchemy 2 (IN is always expanding)",
    "implicit_returning": "deprecated in SQLAlchemy 2",
    "server_side_cursors": "deprecated in SQLAlchemy 2; use execution_options(stream_results=True)",
    "future": "SQLAlchemy 2 engines are always 'future' engines",
}

#: Connect timeout (seconds) used when the settings give none: a server that
#: is down must fail fast so reads can fall back and writes report a 503.
DEFAULT_CONNECT_TIMEOUT = 5

_warned: set[str] = set()


@dataclass
class EngineSpec:
    """One server: a URL, its role, and the async URL derived from it."""

    url: URL
    role: str  # "primary" or "replica"
    async_url: URL
    options: dict[str, Any] = field(default_factory=dict)  # per-connection OPTIONS

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)


@dataclass
class ConnectionSpec:
    """A connection name: one primary, zero or more replicas."""

    name: str
    primary: EngineSpec
    replicas: list[EngineSpec]
    engine_kwargs: dict[str, Any]
    replica_retry: float = 5.0


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, DatabaseConfigWarning, stacklevel=4)


def _sqlite_path(database: str | None, project_path: str | None) -> str | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return database
    if os.path.isabs(database):
        return database
    return os.path.join(project_path or os.getcwd(), database)


def _fix_sync_driver(url: URL) -> URL:
    """``mysql+mysqldb`` (the 1.8 example) without MySQLdb installed: use PyMySQL."""
    if url.get_backend_name() in ("mysql", "mariadb") and url.get_driver_name() == "mysqldb":
        has = importlib.util.find_spec
        if has("MySQLdb") is None and has("pymysql") is not None:
            _warn_once(
                f"driver:{url.drivername}",
                f"{url.drivername!r}: MySQLdb is not installed; using PyMySQL "
                f"({url.get_backend_name()}+pymysql) instead",
            )
            return url.set(drivername=f"{url.get_backend_name()}+pymysql")
    return url


def async_url_for(url: URL) -> URL:
    """The asyncio twin of a synchronous URL (same server, async driver)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("mysql", "mariadb"):
        driver = "asyncmy" if importlib.util.find_spec("asyncmy") else "aiomysql"
        return url.set(drivername=f"{backend}+{driver}")
    if backend == "postgresql":
        query = dict(url.query)
        query.pop("connect_timeout", None)
        return url.set(drivername="postgresql+asyncpg", query=query)
    return url


def _url_from_entry(entry: Mapping[str, Any], project_path: str | None) -> URL:
    if entry.get("URL"):
        url = make_url(entry["URL"])
    else:
        driver = entry.get("DRIVER")
        if not driver:
            raise ImproperlyConfigured(
                "a DATABASE_CONNECTION entry needs DRIVER (e.g. 'mysql+pymysql') or URL; "
                f"got keys {sorted(entry)}"
            )
        query = {str(k): str(v) for k, v in (entry.get("QUERY") or {}).items()}
        url = URL.create(
            drivername=driver,
            username=entry.get("UID") or None,
            password=entry.get("PASSWD") or None,
            host=entry.get("HOST") or None,
            port=int(entry["PORT"]) if entry.get("PORT") else None,
            database=entry.get("DATABASE") or None,
            query=query,
        )
    if url.get_backend_name() == "sqlite":
        url = url.set(database=_sqlite_path(url.database, project_path))
    return _fix_sync_driver(url)


def _engine_spec(entry: Any, role: str, project_path: str | None) -> EngineSpec:
    if isinstance(entry, str | URL):
        entry = {"URL": str(entry) if isinstance(entry, str) else entry}
    if not isinstance(entry, Mapping):
        raise ImproperlyConfigured(f"a database connection must be a dict or a URL, not {entry!r}")
    url = _url_from_entry(entry, project_path)
    if entry.get("ASYNC_URL"):
        async_url = make_url(entry["ASYNC_URL"])
    elif entry.get("ASYNC_DRIVER"):
        async_url = url.set(drivername=entry["ASYNC_DRIVER"])
    else:
        async_url = async_url_for(url)
    return EngineSpec(
        url=url, role=role, async_url=async_url, options=dict(entry.get("OPTIONS") or {})
    )


def _role(entry: Any, name: str) -> str:
    raw = str(entry.get("ROLE", "master") if isinstance(entry, Mapping) else "master").lower()
    if raw in PRIMARY_ROLES:
        return "primary"
    if raw in REPLICA_ROLES:
        return "replica"
    raise ImproperlyConfigured(
        f"DATABASE_CONNECTION[{name!r}]: ROLE {raw!r} is neither 'master' nor 'slave'"
    )


def parse_connections(
    database_connection: Mapping[str, Any],
    sqlalchemy_configuration: Mapping[str, Any] | None = None,
    ping_db: float | None = 300,
    project_path: str | None = None,
) -> dict[str, ConnectionSpec]:
    """Build a :class:`ConnectionSpec` per connection name."""
    if not isinstance(database_connection, Mapping):
        raise ImproperlyConfigured("DATABASE_CONNECTION must be a dict of connection names")
    _warned.clear()  # one warning per problem per parse (the registry parses once)
    kwargs = engine_options(sqlalchemy_configuration or {}, ping_db)
    specs: dict[str, ConnectionSpec] = {}
    for name, conf in database_connection.items():
        primary: list[EngineSpec] = []
        replicas: list[EngineSpec] = []
        retry = 5.0
        if isinstance(conf, str | URL):
            primary.append(_engine_spec(conf, "primary", project_path))
        elif isinstance(conf, Mapping):
            retry = float(conf.get("REPLICA_RETRY", retry))
            for entry in conf.get("connections") or ():
                role = _role(entry, name)
                (primary if role == "primary" else replicas).append(
                    _engine_spec(entry, role, project_path)
                )
            for key in ("master", "primary"):
                if conf.get(key):
                    primary.append(_engine_spec(conf[key], "primary", project_path))
            for key in ("slave", "slaves", "replica", "replicas"):
                value = conf.get(key)
                if value:
                    for entry in [value] if isinstance(value, str | URL | Mapping) else value:
                        replicas.append(_engine_spec(entry, "replica", project_path))
        else:
            raise ImproperlyConfigured(
                f"DATABASE_CONNECTION[{name!r}] must be a dict or a URL, not {type(conf).__name__}"
            )
        if len(primary) != 1:
            raise ImproperlyConfigured(
                f"DATABASE_CONNECTION[{name!r}] needs exactly one ROLE 'master' connection; "
                f"found {len(primary)}"
            )
        specs[name] = ConnectionSpec(
            name=name,
            primary=primary[0],
            replicas=replicas,
            engine_kwargs=kwargs,
            replica_retry=retry,
        )
    return specs


def _pool_class(value: Any) -> Any:
    if isinstance(value, str) and "." not in value:
        try:
            return getattr(sa_pool, value)
        except AttributeError:
            raise ImproperlyConfigured(
                f"SQLALCHEMY_CONFIGURATION poolclass {value!r} is not in sqlalchemy.pool"
            ) from None
    return import_object(value, what="pool class")


def engine_options(config: Mapping[str, Any], ping_db: float | None) -> dict[str, Any]:
    """``SQLALCHEMY_CONFIGURATION`` → ``create_engine`` keyword arguments.

    The ``sqlalchemy.`` prefix of the 1.8 keys is optional. Keys SQLAlchemy 2
    dropped are ignored with one :class:`DatabaseConfigWarning` each. ``PING_DB``
    (seconds) turns on ``pool_pre_ping`` and caps ``pool_recycle``.
    """
    out: dict[str, Any] = {}
    for raw_key, value in config.items():
        key = raw_key[len("sqlalchemy.") :] if raw_key.startswith("sqlalchemy.") else raw_key
        if key in DROPPED_ENGINE_KEYS:
            _warn_once(
                f"key:{key}",
                f"SQLALCHEMY_CONFIGURATION[{raw_key!r}] is ignored: {DROPPED_ENGINE_KEYS[key]}",
            )
            continue
        if key == "poolclass":
            value = _pool_class(value)
        out[key] = value
    out["connect_args"] = dict(out.get("connect_args") or {})
    if ping_db:
        out.setdefault("pool_pre_ping", True)
        recycle = out.get("pool_recycle")
        out["pool_recycle"] = (
            int(ping_db) if recycle in (None, -1) else min(int(recycle), int(ping_db))
        )
    return out


def _translate_connect_args(args: dict[str, Any], url: URL) -> dict[str, Any]:
    """Adapt the shared ``connect_args`` to one driver (they differ in names)."""
    args = dict(args)
    driver = url.get_driver_name()
    backend = url.get_backend_name()
    timeout = args.pop("connect_timeout", None)
    if timeout is None and "timeout" not in args:
        timeout = DEFAULT_CONNECT_TIMEOUT if backend != "sqlite" else None
    if timeout is not None:
        if backend == "sqlite":
            args.setdefault("timeout", timeout)  # sqlite3/aiosqlite: lock wait, same spirit
        elif driver == "asyncpg":
            args.setdefault("timeout", timeout)
        else:  # pymysql, mysqldb, asyncmy, aiomysql, psycopg, psycopg2
            args.setdefault("connect_timeout", timeout)
    if driver == "asyncpg":
        app = url.query.get("application_name")
        if app:
            args.setdefault("server_settings", {}).setdefault("application_name", app)
        args.pop("charset", None)
    return args


def kwargs_for(
    spec: ConnectionSpec, engine: EngineSpec, *, use_async: bool
) -> tuple[URL, dict[str, Any]]:
    """URL and ``create_engine`` kwargs for one server, sync or async."""
    url = engine.async_url if use_async else engine.url
    kwargs = dict(spec.engine_kwargs)
    kwargs.update(engine.options)
    kwargs["connect_args"] = _translate_connect_args(kwargs.get("connect_args") or {}, url)
    if use_async and url.get_driver_name() == "asyncpg":
        url = url.set(query={k: v for k, v in url.query.items() if k != "application_name"})
    poolclass = kwargs.get("poolclass")
    if use_async and poolclass is sa_pool.QueuePool:
        kwargs["poolclass"] = sa_pool.AsyncAdaptedQueuePool
    if url.get_backend_name() == "sqlite":
        # No server, no connection to go stale: a pre-ping would only double
        # every checkout's work (PING_DB is about MySQL/PostgreSQL timeouts).
        kwargs.pop("pool_pre_ping", None)
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    uses_queue = poolclass in (None, sa_pool.QueuePool, sa_pool.AsyncAdaptedQueuePool)
    if (in_memory and poolclass is None) or not uses_queue:
        for key in ("pool_size", "max_overflow", "pool_timeout", "pool_use_lifo"):
            kwargs.pop(key, None)
    return url, kwargs
