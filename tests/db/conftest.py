"""Fixtures for the database tests.

SQLite fixtures are per test (files in tmp_path). The MariaDB and PostgreSQL
replication pairs are private server processes started once per session (see
tests/services/mariadb.py and postgres.py); the shared servers on 3306/5432 are
used as plain clients only.
"""

from __future__ import annotations

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
