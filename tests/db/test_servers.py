"""Model CRUD and read/write routing on real MariaDB and PostgreSQL replication pairs.

Each pair is a private primary + read-only replica (tests/services/mariadb.py,
postgres.py) reached through a fault proxy each, so "down" is a refused and cut
connection, and "up again" needs no restart of anything.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.db.conftest import Routed
from tests.db.models import User
from torngas.db import DatabaseUnavailable, request_scope
from torngas.db.connection import connections


def served_by(session: Any, routed: Routed) -> str:
    port = int(session.execute(text(routed.servers.whoami_sql)).scalar_one())
    return {routed.servers.primary_port: "primary", routed.servers.replica_port: "replica"}[port]


async def aserved_by(session: Any, routed: Routed) -> str:
    port = int((await session.execute(text(routed.servers.whoami_sql))).scalar_one())
    return {routed.servers.primary_port: "primary", routed.servers.replica_port: "replica"}[port]


def test_crud_reads_replica_writes_primary(routed: Routed) -> None:
    with request_scope():
        s = User.session
        assert served_by(s, routed) == "replica"
        s.add_all([User(name="jack"), User(name="it's'; DROP TABLE tg_users; --")])
        s.commit()  # a write through the plain session goes to the primary …
        assert served_by(s, routed) == "primary"  # … and the session stays there
    routed.servers.wait_replicated()
    with request_scope():
        assert served_by(User.session, routed) == "replica"
        names = sorted(u.name for u in User.Q.all())  # replicated rows, read on the replica
        assert names == ["it's'; DROP TABLE tg_users; --", "jack"]
        u = User.Q.filter_by(name="jack").one()
        s = User.session.using_master()
        u.bio = "updated"
        s.commit()
        s.delete(User.Q.filter(User.name != "jack").one())
        s.commit()
    routed.servers.wait_replicated()
    with request_scope():
        assert [(u.name, u.bio) for u in User.Q.all()] == [("jack", "updated")]
        assert User.Q.order_by(User.id).paginate(1, 10).total == 1
        assert User.Q.paginate(2, 10) is None


def test_the_replica_really_refuses_writes(routed: Routed) -> None:
    """Proves the routing matters: had a write gone to the replica, it would fail."""
    engine = routed.group.replicas[0].sync_engine
    with pytest.raises(Exception, match="(?i)read.only|read-only"), engine.begin() as conn:
        conn.execute(text("INSERT INTO tg_users (name) VALUES ('x')"))


def test_async_crud_and_routing(routed: Routed) -> None:
    async def main() -> None:
        async with request_scope():
            s = User.asession
            assert await aserved_by(s, routed) == "replica"
            s.add(User(name="async"))
            await s.commit()
            assert await aserved_by(s, routed) == "primary"
        await asyncio.to_thread(routed.servers.wait_replicated)
        async with request_scope():
            s = User.asession
            rows = (await s.scalars(select(User))).all()
            assert [u.name for u in rows] == ["async"]
            assert await aserved_by(s, routed) == "replica"
            rows[0].bio = "b"
            await s.using_master().commit()
        async with request_scope():
            got = await User.asession.using_master().scalar(select(User.bio))
            assert got == "b"
        await connections.areset()

    asyncio.run(main())


@pytest.mark.fault
@pytest.mark.timeout(30)
def test_replica_down_reads_fall_back_and_return(routed: Routed, db_warnings: Any) -> None:
    with request_scope():
        assert served_by(User.session, routed) == "replica"
    routed.down(routed.replica_proxy)
    t0 = time.monotonic()
    with request_scope():
        assert served_by(User.session, routed) == "primary"
        assert User.Q.count() == 0
    assert time.monotonic() - t0 < 3
    assert any("unreachable" in r.getMessage() for r in db_warnings.records)
    with request_scope():  # marked down: skipped without another connect attempt
        accepted = routed.replica_proxy.accepted
        assert served_by(User.session, routed) == "primary"
        assert routed.replica_proxy.accepted == accepted
    routed.up(routed.replica_proxy)
    time.sleep(0.6)  # REPLICA_RETRY
    with request_scope():
        assert served_by(User.session, routed) == "replica"
    assert any("is back" in r.getMessage() for r in db_warnings.records)


@pytest.mark.fault
@pytest.mark.timeout(30)
def test_primary_down_is_a_clear_error_and_recovers(routed: Routed) -> None:
    with request_scope():
        s = User.session.using_master()
        s.add(User(name="before"))
        s.commit()
    routed.down(routed.primary_proxy)
    t0 = time.monotonic()
    with request_scope():
        s = User.session
        s.add(User(name="during"))
        with pytest.raises(DatabaseUnavailable) as info:
            s.commit()
        s.rollback()
    assert time.monotonic() - t0 < 3
    err = info.value
    assert err.role == "primary" and err.connection_name == "default"
    assert f":{routed.primary_proxy.port}/test" in str(err) and "unreachable" in str(err)
    assert ":tg@" not in str(err)  # no password in the message
    with request_scope():  # reads keep working from the replica
        assert served_by(User.session, routed) == "replica"
    routed.up(routed.primary_proxy)
    with request_scope():  # no restart, no reset: the pool recovers by itself
        s = User.session
        s.add(User(name="after"))
        s.commit()
        assert sorted(u.name for u in User.session.query(User)) == ["after", "before"]


@pytest.mark.fault
@pytest.mark.timeout(30)
def test_async_primary_and_replica_down(routed: Routed) -> None:
    async def main() -> None:
        async with request_scope():
            assert await aserved_by(User.asession, routed) == "replica"
        routed.down(routed.replica_proxy)
        async with request_scope():
            assert await aserved_by(User.asession, routed) == "primary"
        routed.down(routed.primary_proxy)
        async with request_scope():
            s = User.asession
            s.add(User(name="x"))
            with pytest.raises(DatabaseUnavailable):
                await s.commit()
            await s.rollback()
        routed.up(routed.primary_proxy)
        routed.up(routed.replica_proxy)
        await asyncio.sleep(0.6)
        async with request_scope():
            s = User.asession
            s.add(User(name="y"))
            await s.commit()
            assert (await s.scalars(select(User.name))).all() == ["y"]
        async with request_scope():
            assert await aserved_by(User.asession, routed) == "replica"
        await connections.areset()

    asyncio.run(main())
