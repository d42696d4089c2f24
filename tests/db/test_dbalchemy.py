"""Model, sessions, scopes and read/write routing, on SQLite files.

The primary and each replica are *different* SQLite files holding a marker row
(``tg_whoami``), so which server answered is observable.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.db.conftest import sqlite_settings
from tests.db.models import Note, User
from torngas.concurrent import run_in_threadpool
from torngas.conf import override_settings
from torngas.db import DatabaseUnavailable, request_scope
from torngas.db.connection import connections
from torngas.db.dbalchemy import create_all, get_session, tables_for
from torngas.db.routing import RoutingSession, is_write

WHOAMI = text("SELECT name FROM tg_whoami")


def whoami(session: Any) -> str:
    return str(session.execute(WHOAMI).scalar_one())


def test_crud_through_model(sqlite_db: Any) -> None:
    with request_scope():
        s = User.session.using_master()
        s.add_all([User(name="jack"), User(name="rose")])
        s.commit()
        jack = User.Q.filter(User.name == "jack").one()
        jack.bio = "it's; DROP TABLE tg_users; --"
        s.commit()
        assert User.Q.filter_by(name="jack").one().bio == "it's; DROP TABLE tg_users; --"
        s.delete(User.Q.filter_by(name="rose").one())
        s.commit()
        assert [u.name for u in User.Q.order_by(User.id)] == ["jack"]
    # the data is on the primary only
    with sqlite_db.primary.sync_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tg_users")).scalar() == 1
    for replica in sqlite_db.replicas:
        with replica.sync_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tg_users")).scalar() == 0


def test_reads_spread_over_replicas_writes_go_to_primary(sqlite_db: Any) -> None:
    seen = []
    for _ in range(4):
        with request_scope():
            seen.append(whoami(User.session))
    assert sorted(set(seen)) == ["replica:replica0", "replica:replica1"]
    assert seen[0] != seen[1]  # round-robin
    with request_scope():
        s = User.session
        first = whoami(s)
        assert first.startswith("replica:")
        assert whoami(s) == first  # a session keeps its replica
        s.add(User(name="w"))
        s.flush()  # write → primary
        assert whoami(s) == "primary:primary"  # read-your-writes: sticky after a write
        s.commit()
    with request_scope():
        assert User.Q.count() == 0  # the replica files never got the row
        assert User.session.using_master().query(User).count() == 1


def test_text_and_core_statements_are_classified() -> None:
    from sqlalchemy import delete, insert, table, update

    t = table("x")
    assert is_write(insert(t)) and is_write(update(t)) and is_write(delete(t))
    assert not is_write(select(User))
    assert is_write(select(User).with_for_update())
    assert not is_write(text("  select 1")) and not is_write(text("(SELECT 1) UNION (SELECT 2)"))
    assert is_write(text("UPDATE x SET y=1")) and is_write(text("CREATE TABLE z (a int)"))
    assert is_write(text("select * from x for update"))


def test_using_master_forces_primary_and_keeps_objects_attached(sqlite_db: Any) -> None:
    with request_scope():
        assert whoami(User.session).startswith("replica:")
    with request_scope():
        s = User.session.using_master()
        assert s is User.session
        assert whoami(s) == "primary:primary"
        s.add(User(name="a"))
        s.commit()
        u = User.Q.one()
        u.name = "b"
        s.commit()
        assert User.Q.one().name == "b"


def test_core_text_write_routes_to_primary(sqlite_db: Any) -> None:
    with request_scope():
        s = User.session
        s.execute(text("INSERT INTO tg_users (name) VALUES (:n)"), {"n": "core"})
        s.commit()
    with sqlite_db.primary.sync_engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM tg_users")).scalar() == "core"


def test_second_connection_name(sqlite_db: Any) -> None:
    with request_scope():
        s = Note.session
        assert s is not User.session and s.connection_name == "other"
        s.add(Note(body="hello"))
        s.commit()
        assert Note.Q.one().body == "hello"
        assert whoami(s) == "primary:other"
    assert [t.name for t in tables_for("other")] == ["tg_notes"]
    assert "tg_notes" not in [t.name for t in tables_for("default")]


def test_scopes_give_separate_sessions_and_close_them(sqlite_db: Any) -> None:
    with request_scope() as scope1:
        s1 = User.session
        assert User.session is s1 and get_session() is s1
        s1.execute(text("select 1"))
        with request_scope():
            assert User.session is not s1
        assert User.session is s1
        assert len(scope1) == 1
    assert len(scope1) == 0
    assert not s1.in_transaction()  # closed: its connections went back to the pool
    pool = sqlite_db.replicas[0].sync_engine.pool
    assert pool.checkedout() == 0


def test_default_scope_outside_a_request(sqlite_db: Any) -> None:
    from torngas.db import remove_sessions

    s = User.session
    assert isinstance(s, RoutingSession)
    assert User.session is s
    s.using_master().add(User(name="script"))
    s.commit()
    remove_sessions()
    assert User.session is not s


def test_thread_pool_sees_the_request_scope(sqlite_db: Any) -> None:
    async def main() -> None:
        async with request_scope():
            s = User.session
            assert await run_in_threadpool(lambda: User.session) is s

    asyncio.run(main())


def test_replica_down_falls_back_to_other_replica_then_primary(
    tmp_path: Path, db_warnings: pytest.LogCaptureFixture
) -> None:
    conf = sqlite_settings(tmp_path)
    conns = conf["DATABASE_CONNECTION"]["default"]["connections"]
    conns[1]["DATABASE"] = str(tmp_path / "missing-dir" / "replica0.db")  # cannot be opened
    with override_settings(**conf):
        connections.reset()
        group = connections["default"]
        with group.primary.sync_engine.begin() as c:
            c.execute(text("CREATE TABLE tg_whoami (name TEXT)"))
            c.execute(text("INSERT INTO tg_whoami VALUES ('primary')"))
        with group.replicas[1].sync_engine.begin() as c:
            c.execute(text("CREATE TABLE tg_whoami (name TEXT)"))
            c.execute(text("INSERT INTO tg_whoami VALUES ('replica1')"))
        answers = []
        for _ in range(4):
            with request_scope():
                answers.append(whoami(User.session))
        assert answers == ["replica1"] * 4
        down = [r for r in db_warnings.records if "is unreachable" in r.getMessage()]
        assert len(down) == 1 and "replica0.db" in down[0].getMessage()
        # every replica down → the primary, with a warning
        (tmp_path / "replica1.db").unlink()
        (tmp_path / "replica1.db").mkdir()  # now not openable as a database either
        group.replicas[1].dispose()
        with request_scope():
            assert whoami(User.session) == "primary"
        assert any("no replica reachable" in r.getMessage() for r in db_warnings.records)
        connections.reset()


def test_primary_down_is_a_clear_error(tmp_path: Path) -> None:
    conf = sqlite_settings(tmp_path, replicas=0)
    conf["DATABASE_CONNECTION"]["default"]["connections"][0]["DATABASE"] = str(
        tmp_path / "nope" / "p.db"
    )
    with override_settings(**conf), request_scope():
        connections.reset()
        s = User.session
        s.add(User(name="x"))
        with pytest.raises(DatabaseUnavailable, match=r"'default': the primary sqlite:///.*p\.db"):
            s.commit()
        s.rollback()
        connections.reset()


def test_async_session(sqlite_db: Any) -> None:
    async def main() -> None:
        async with request_scope():
            s = User.asession
            assert User.asession is s
            assert (await s.execute(WHOAMI)).scalar_one().startswith("replica:")
            s.add(User(name="async"))
            await s.commit()
            # after a write the session reads the primary
            assert (await s.execute(WHOAMI)).scalar_one() == "primary:primary"
            names = (await s.scalars(select(User.name))).all()
            assert names == ["async"]
        async with request_scope():
            s = User.asession
            assert (await s.scalars(select(User))).all() == []  # replica
            await s.rollback()
        async with request_scope():
            rows = (await User.asession.using_master().scalars(select(User))).all()
            assert [u.name for u in rows] == ["async"]
        await connections.areset()

    asyncio.run(main())


def test_async_scopes_are_per_task(sqlite_db: Any) -> None:
    async def one(i: int) -> tuple[Any, str]:
        async with request_scope():
            s = User.asession
            await asyncio.sleep(0.01)
            return s, (await s.execute(WHOAMI)).scalar_one()

    async def main() -> None:
        results = await asyncio.gather(*(one(i) for i in range(4)))
        sessions = {id(s) for s, _ in results}
        assert len(sessions) == 4
        assert {w for _, w in results} == {"replica:replica0", "replica:replica1"}
        await connections.areset()

    asyncio.run(main())


def test_create_all_only_creates_that_connections_tables(tmp_path: Path) -> None:
    with override_settings(**sqlite_settings(tmp_path, replicas=0)):
        connections.reset()
        create_all("default")
        with connections["default"].primary.sync_engine.connect() as c:
            names = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master"))}
        assert "tg_users" in names and "tg_notes" not in names
        connections.reset()
