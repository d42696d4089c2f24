"""Fixtures for the database tests.

SQLite fixtures are per test (files in tmp_path). The MariaDB and PostgreSQL
replication pairs are private server processes started once per session (see
tests/services/mariadb.py and postgres.py); the shared servers on 3306/5432 are
used as plain clients only.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.db.models import Model
from torngas.conf import override_settings
from torngas.db.connection import connections
from torngas.db.scope import current_scope


def sqlite_settings(tmp_path: Path, replicas: int = 2) -> dict[str, Any]:
    conns: list[dict[str, Any]] = [{"ROLE": "master", "DRIVER": "sqlite", "DATABASE": "primary.db"}]
    conns += [
        {"ROLE": "slave", "DRIVER": "sqlite", "DATABASE": f"replica{i}.db"} for i in range(replicas)
    ]
    return {
        "PROJECT_PATH": str(tmp_path),
        "DATABASE_CONNECTION": {
            "default": {"connections": conns, "REPLICA_RETRY": 0.5},
            "other": {"connections": [{"ROLE": "master", "URL": "sqlite:///other.db"}]},
        },
    }


def mark_servers(group: Any) -> None:
    """Create the tables on every server and record which server is which."""
    for slot in group.slots:
        with slot.sync_engine.begin() as conn:
            Model.metadata.create_all(conn)
            conn.execute(text("CREATE TABLE IF NOT EXISTS tg_whoami (name VARCHAR(40))"))
            conn.execute(text("DELETE FROM tg_whoami"))
            conn.execute(
                text("INSERT INTO tg_whoami (name) VALUES (:n)"),
                {"n": f"{slot.role}:{Path(slot.spec.url.database or '').stem}"},
            )


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Any]:
    """Primary + 2 replicas as three distinct SQLite files; yields the group."""
    with override_settings(**sqlite_settings(tmp_path)):
        connections.reset()
        group = connections["default"]
        mark_servers(group)
        mark_servers(connections["other"])
        try:
            yield group
        finally:
            current_scope().close()
            connections.reset()


@pytest.fixture
def db_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="torngas.db")
    return caplog


# ---------------------------------------------------------------- real servers
class ServerPair:
    """A running primary/replica pair, with a fault proxy in front of each."""

    def __init__(self, kind: str, pair: Any) -> None:
        self.kind = kind
        self.pair = pair
        if kind == "mariadb":
            self.primary_port, self.replica_port = pair.primary.port, pair.replica.port
            self.whoami_sql = "SELECT @@port"
        else:
            self.primary_port, self.replica_port = pair.primary_port, pair.replica_port
            self.whoami_sql = "SELECT inet_server_port()"

    def url(self, port: int) -> str:
        if self.kind == "mariadb":
            return f"mysql+pymysql://tg:tg@127.0.0.1:{port}/test?charset=utf8mb4"
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"

    def wait_replicated(self) -> None:
        assert self.pair.wait_replicated(10), "replica did not catch up within 10 s"


@pytest.fixture(scope="session")
def mariadb_pair() -> Iterator[ServerPair]:
    from tests.services.mariadb import MariaDBPair

    pair = MariaDBPair().start()
    try:
        yield ServerPair("mariadb", pair)
    finally:
        pair.stop()


@pytest.fixture(scope="session")
def postgres_pair() -> Iterator[ServerPair]:
    from tests.services.postgres import PostgresPair

    pair = PostgresPair().start()
    try:
        yield ServerPair("postgres", pair)
    finally:
        pair.stop()


SERVER_PAIRS = [
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.needs_mysql),
    pytest.param("postgres", id="postgres", marks=pytest.mark.needs_postgres),
]


class Routed:
    """What a routing test gets: the pair, the proxies and the group."""

    def __init__(self, servers: ServerPair, primary_proxy: Any, replica_proxy: Any) -> None:
        self.servers = servers
        self.primary_proxy = primary_proxy
        self.replica_proxy = replica_proxy

    @property
    def group(self) -> Any:
        return connections["default"]

    def down(self, proxy: Any) -> None:
        proxy.mode = "refuse"
        proxy.cut()

    def up(self, proxy: Any) -> None:
        proxy.mode = "pass"


def routed_settings(
    servers: ServerPair, primary_port: int, replica_port: int, **extra: Any
) -> dict:
    return {
        "DATABASE_CONNECTION": {
            "default": {
                "connections": [
                    {"ROLE": "master", "URL": servers.url(primary_port)},
                    {"ROLE": "slave", "URL": servers.url(replica_port)},
                ],
                "REPLICA_RETRY": 0.5,
            }
        },
        "SQLALCHEMY_CONFIGURATION": {
            "sqlalchemy.connect_args": {"connect_timeout": 2},
            "sqlalchemy.pool_size": 2,
            "sqlalchemy.max_overflow": 0,
            "sqlalchemy.pool_timeout": 3,
            **extra,
        },
    }


@pytest.fixture(params=SERVER_PAIRS)
def routed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Routed]:
    """Primary and replica (a real replication pair) behind fault proxies."""
    from tests.services.proxy import FaultProxy

    servers: ServerPair = request.getfixturevalue(f"{request.param}_pair")
    with contextlib.ExitStack() as stack:
        pp = stack.enter_context(FaultProxy(servers.primary_port))
        rp = stack.enter_context(FaultProxy(servers.replica_port))
        stack.enter_context(
            override_settings(
                PROJECT_PATH=str(tmp_path), **routed_settings(servers, pp.port, rp.port)
            )
        )
        connections.reset()
        engine = connections["default"].primary.sync_engine
        with engine.begin() as conn:
            Model.metadata.drop_all(conn, tables=[Model.metadata.tables["tg_users"]])
            Model.metadata.create_all(conn, tables=[Model.metadata.tables["tg_users"]])
        servers.wait_replicated()
        try:
            yield Routed(servers, pp, rp)
        finally:
            current_scope().close()
            pp.mode = rp.mode = "pass"
            connections.reset()
