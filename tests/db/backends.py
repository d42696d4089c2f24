"""URLs of the shared test servers (used as plain clients, never stopped)."""

from __future__ import annotations

import os

from tests.services import can_connect, unavailable

MYSQL_URL = os.environ.get("TORNGAS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
POSTGRES_URL = os.environ.get(
    "TORNGAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if not can_connect(u.port or 0, u.host or "127.0.0.1"):
        unavailable(f"{u.get_backend_name()} is not listening on {u.host}:{u.port}")
    return url


def backend_url(name: str, tmp_path: object) -> str:
    if name == "sqlite":
        return f"sqlite:///{tmp_path}/basedb.db"
    if name == "mysql":
        return require(MYSQL_URL)
    return require(POSTGRES_URL)
