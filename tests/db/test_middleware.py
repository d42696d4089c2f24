"""DBAlchemyMiddleware through real HTTP requests (torngas.testing.serve).

- 20 concurrent requests, some raising, against pools of size 1 (sync and
  async engines, primary and replica): every connection is back afterwards and
  a second round is served as well (a leaked connection would make it time out);
- sessions are per request, shared with the thread pool within a request;
- ``paginate_or_404`` gives 404 for a bad page;
- the primary down gives a 503 (not a 500), reads still work, and writes work
  again once it is back, with no restart.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.db.conftest import SERVER_PAIRS, ServerPair, routed_settings, sqlite_settings
from tests.db.models import Model, User
from tests.services import wait_until
from torngas.conf import override_settings
from torngas.db.connection import connections
from torngas.db.scope import wait_closed
from torngas.testing import serve

MIDDLEWARE = ["torngas.middleware.dbalchemy.DBAlchemyMiddleware"]
APPS = ["tests.db.dbapp"]
POOL_OF_ONE = {
    "sqlalchemy.pool_size": 1,
    "sqlalchemy.max_overflow": 0,
    "sqlalchemy.pool_timeout": 10,
}

MIX = (
    [("GET", "/sync/users", 200)] * 5
    + [("GET", "/async/users", 200)] * 5
    + [("GET", "/sync/boom", 500)] * 3
    + [("GET", "/async/boom", 500)] * 3
    + [("POST", "/sync/users?name=s", 201)] * 2
    + [("POST", "/async/users?name=a", 201)] * 2
)


def checked_out() -> int:
    total = 0
    for group in connections.groups().values():
        for slot in group.slots:
            if slot._sync is not None:
                total += slot._sync.pool.checkedout()
            if slot._async is not None:
                total += slot._async.sync_engine.pool.checkedout()
    return total


@contextlib.contextmanager
def app(middleware: list[str] = MIDDLEWARE, **settings: Any) -> Iterator[Any]:
    with serve(INSTALLED_APPS=APPS, MIDDLEWARE_CLASSES=middleware, THREADS_NUM=4, **settings) as c:
        try:
            yield c
        finally:
            # async pools belong to the server's loop: close them there
            c.server.call(wait_closed)
            c.server.call(connections.areset)


def fire(client: Any, requests: list[tuple[str, str, int]]) -> float:
    t0 = time.monotonic()
    with ThreadPoolExecutor(len(requests)) as pool:
        responses = list(pool.map(lambda r: client.request(r[0], r[1]), requests))
    assert [r.status_code for r in responses] == [want for _, _, want in requests]
    return time.monotonic() - t0


@pytest.fixture(params=["sqlite", *SERVER_PAIRS])
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        conf = sqlite_settings(tmp_path, replicas=1)
    else:
        servers: ServerPair = request.getfixturevalue(f"{request.param}_pair")
        conf = routed_settings(servers, servers.primary_port, servers.replica_port)
    conf.setdefault("SQLALCHEMY_CONFIGURATION", {}).update(POOL_OF_ONE)
    conf["PROJECT_PATH"] = str(tmp_path)
    with override_settings(**conf):
        connections.reset()
        for slot in connections["default"].slots:
            if request.param == "sqlite" or slot.role == "primary":
                with slot.sync_engine.begin() as conn:
                    Model.metadata.drop_all(conn, tables=[Model.metadata.tables["tg_users"]])
                    Model.metadata.create_all(conn, tables=[Model.metadata.tables["tg_users"]])
        if request.param != "sqlite":
            servers.wait_replicated()
        connections.reset()
    yield conf
    connections.reset()


@pytest.mark.timeout(60)
def test_pool_of_one_under_20_concurrent_requests_leaks_nothing(db_settings: dict) -> None:
    with app(**db_settings) as client:
        first = fire(client, MIX)
        assert wait_until(lambda: checked_out() == 0, timeout=5), checked_out()
        second = fire(client, MIX)  # a leaked connection would time out here (500s)
        assert wait_until(lambda: checked_out() == 0, timeout=5), checked_out()
        assert client.get("/sync/users").status_code == 200
        pools = [slot.sync_engine.pool for slot in connections["default"].slots]
        assert all(p.size() == 1 for p in pools)
    assert first < 15 and second < 15, (first, second)


@pytest.mark.timeout(60)
def test_without_the_middleware_sessions_still_close_with_the_request(tmp_path: Path) -> None:
    conf = sqlite_settings(tmp_path, replicas=0)
    conf["SQLALCHEMY_CONFIGURATION"] = dict(POOL_OF_ONE)
    with override_settings(**conf):
        connections.reset()
        with connections["default"].primary.sync_engine.begin() as conn:
            Model.metadata.create_all(conn, tables=[Model.metadata.tables["tg_users"]])
    with app(middleware=[], **conf) as client:
        # async sessions are scoped to the request's task, closed when it ends
        async_only = [r for r in MIX if r[1].startswith("/async")]
        fire(client, async_only)
        assert wait_until(lambda: checked_out() == 0, timeout=5), checked_out()
        fire(client, async_only)
    connections.reset()


def test_sessions_are_per_request(tmp_path: Path) -> None:
    conf = sqlite_settings(tmp_path, replicas=0)
    with app(**conf) as client, ThreadPoolExecutor(6) as pool:
        bodies = [r.json() for r in pool.map(lambda _: client.get("/session-id"), range(6))]
    assert all(b["same_in_pool"] for b in bodies)  # the thread pool saw the request's session
    assert len({b["async"] for b in bodies}) == 6  # one async session per request
    assert len({b["sync"] for b in bodies}) == 6  # one sync session per request
    connections.reset()


def test_paginate_helper_gives_404_for_a_bad_page(tmp_path: Path) -> None:
    conf = sqlite_settings(tmp_path, replicas=0)
    with override_settings(**conf):
        connections.reset()
        engine = connections["default"].primary.sync_engine
        with engine.begin() as conn:
            Model.metadata.create_all(conn, tables=[Model.metadata.tables["tg_users"]])
            conn.execute(text("INSERT INTO tg_users (name) VALUES ('a'), ('b'), ('c')"))
    with app(**conf) as client:
        r = client.get("/page?page=2&per_page=2")
        assert r.status_code == 200 and r.json() == {"page": 2, "pages": 2, "names": ["c"]}
        for bad in ("3", "0", "-1", "abc", "1%27%3B%20DROP%20TABLE%20tg_users"):
            assert client.get(f"/page?page={bad}&per_page=2").status_code == 404, bad
        assert client.get("/page?page=1&per_page=0").status_code == 404
        assert client.get("/page?page=1&per_page=2").json()["names"] == ["a", "b"]
    connections.reset()


@pytest.mark.fault
@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_primary_down_gives_503_and_recovers(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.services.proxy import FaultProxy

    servers: ServerPair = request.getfixturevalue("mariadb_pair")
    with FaultProxy(servers.primary_port) as pp:
        conf = routed_settings(servers, pp.port, servers.replica_port)
        conf["PROJECT_PATH"] = str(tmp_path)
        with override_settings(**conf):
            connections.reset()
            with connections["default"].primary.sync_engine.begin() as conn:
                Model.metadata.drop_all(conn, tables=[Model.metadata.tables["tg_users"]])
                Model.metadata.create_all(conn, tables=[Model.metadata.tables["tg_users"]])
            servers.wait_replicated()
            connections.reset()
        with app(**conf) as client:
            assert client.post(f"/{kind}/users?name=one").status_code == 201
            pp.mode = "refuse"
            pp.cut()
            t0 = time.monotonic()
            r = client.post(f"/{kind}/users?name=two")
            assert r.status_code == 503, r.text
            assert time.monotonic() - t0 < 5
            assert "Traceback" not in r.text
            assert any("answering 503" in rec.getMessage() for rec in caplog.records)
            servers.wait_replicated()
            assert client.get(f"/{kind}/users").json() == {"count": 1}  # replica still serves
            pp.mode = "pass"
            assert client.post(f"/{kind}/users?name=three").status_code == 201
            assert wait_until(lambda: checked_out() == 0, timeout=5)
    connections.reset()
    assert User.__tablename__ == "tg_users"


@pytest.mark.timeout(60)
def test_server_shutdown_closes_the_async_connections_on_its_loop(db_settings: dict) -> None:
    opened = []
    with app(**db_settings) as client:
        assert client.get("/async/users").status_code == 200
        opened = [s for s in connections["default"].slots if s._async is not None]
        assert opened  # the request used the async engine
        pools = [s._async.pool for s in opened]
    # Application.shutdown ran on the server's loop: the async engines were
    # disposed there (their connections closed, not left to the collector).
    assert all(s._async is None for s in connections["default"].slots)
    assert all(p.checkedin() == 0 and p.checkedout() == 0 for p in pools)
