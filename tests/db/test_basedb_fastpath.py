"""basedb's DBAPI fast path against its SQLAlchemy path, on SQLite and the shared
MariaDB and PostgreSQL servers: same rows (keys, values, types), same return
values for writes, same exception classes and messages, committed writes, a
connection killed server-side recovered, nothing left checked out of the pool.

``db.fast_path = False`` sends every call through SQLAlchemy's
``Connection.execute``; that is the reference each fast result is compared to.
"""

from __future__ import annotations

import datetime
import decimal
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, exc, text

from tests.db.backends import backend_url
from torngas.db import basedb

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.needs_mysql),
    pytest.param("postgres", id="postgres", marks=pytest.mark.needs_postgres),
]

COLUMNS = {
    "sqlite": (
        "id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100), n INTEGER, f REAL,"
        " d NUMERIC(10, 2), day DATE, ts DATETIME, flag BOOLEAN, data BLOB"
    ),
    "mysql": (
        "id INTEGER PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), n INTEGER, f DOUBLE,"
        " d NUMERIC(10, 2), day DATE, ts DATETIME(6), flag BOOLEAN, data VARBINARY(100)"
    ),
    "postgres": (
        "id SERIAL PRIMARY KEY, name VARCHAR(100), n INTEGER, f DOUBLE PRECISION,"
        " d NUMERIC(10, 2), day DATE, ts TIMESTAMP, flag BOOLEAN, data BYTEA"
    ),
}

TS = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
ROWS: list[dict[str, Any]] = [
    {
        "name": "alpha",
        "n": 1,
        "f": 1.5,
        "d": decimal.Decimal("10.25"),
        "day": datetime.date(2024, 1, 2),
        "ts": TS,
        "flag": True,
        "data": b"\x00\x01\xff",
    },
    {
        "name": "b\u00e9ta 10:30 $x %s",
        "n": 2,
        "f": -0.25,
        "d": decimal.Decimal("-3.50"),
        "day": datetime.date(2023, 12, 31),
        "ts": TS + datetime.timedelta(days=1),
        "flag": False,
        "data": b"",
    },
    dict.fromkeys(("name", "n", "f", "d", "day", "ts", "flag", "data")),  # all NULL
    {
        "name": "gamma",
        "n": 2,
        "f": 3.0,
        "d": decimal.Decimal("0"),
        "day": datetime.date(2024, 1, 2),
        "ts": TS,
        "flag": True,
        "data": None,
    },
]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    d = basedb.database(url=backend_url(request.param, tmp_path))
    t = f"tg_fast_{uuid.uuid4().hex[:8]}"
    with d.engine.begin() as c:
        c.execute(text(f"CREATE TABLE {t} ({COLUMNS[request.param]})"))
    d.fast_path = False
    cols = list(ROWS[0])
    insert = f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('$' + c for c in cols)})"
    for row in ROWS:
        d.query(insert, vars=row)  # typed binds (insert() binds untyped: no Decimal on SQLite)
    d.fast_path = True
    d.t = t  # type: ignore[attr-defined]
    d.kind = request.param  # type: ignore[attr-defined]
    try:
        yield d
    finally:
        d.fast_path = True
        with d.engine.begin() as c:
            c.execute(text(f"DROP TABLE IF EXISTS {t}"))
        d.engine.dispose()


def typed(result: Any) -> Any:
    """Rows with each value's type, so 1 and True or 1 and 1.0 differ."""
    if isinstance(result, list):
        return [[(k, type(v), v) for k, v in row.items()] for row in result]
    return (type(result), result)


def both(db: Any, call: Callable[[], Any]) -> tuple[Any, Any]:
    """(fast, slow) outcome of ``call``: its result, or the exception's class and text."""

    def run() -> Any:
        try:
            return typed(call())
        except Exception as e:
            return ("raised", type(e), str(e))

    db.fast_path = True
    fast = run()
    db.fast_path = False
    try:
        slow = run()
    finally:
        db.fast_path = True
    return fast, slow


def plans(db: Any) -> int:
    """Statements planned for the fast path (a slow-path call plans nothing)."""
    return len(db._plans)


def all_fast(db: Any) -> bool:
    """Every planned statement could be run on the fast path (none fell back)."""
    return all(plan is not None for plan in db._plans.values())


def query_cases(t: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"SELECT * FROM {t} ORDER BY id", {}),
        (f"SELECT id, name, n FROM {t} WHERE n = $n ORDER BY id", {"n": 2}),
        (f"SELECT id FROM {t} WHERE name = $s", {"s": "b\u00e9ta 10:30 $x %s"}),
        (f"SELECT id FROM {t} WHERE name = $s", {"s": "alpha"}),
        (f"SELECT id, name FROM {t} WHERE name = '$x 10:30' OR n = $n ORDER BY id", {"n": 1}),
        (f"SELECT name, '100%' AS pct, ':x' AS colon FROM {t} WHERE id = $id", {"id": 1}),
        (f"SELECT name FROM {t} WHERE name LIKE $p ORDER BY id", {"p": "%a%"}),
        (f"SELECT id FROM {t} WHERE id = $a OR n = $a ORDER BY id", {"a": 2}),
        (f"SELECT id FROM {t} WHERE f > $f ORDER BY id", {"f": 0.5}),
        (f"SELECT id FROM {t} WHERE d < $d ORDER BY id", {"d": decimal.Decimal("5")}),
        (f"SELECT id FROM {t} WHERE day = $day ORDER BY id", {"day": datetime.date(2024, 1, 2)}),
        (f"SELECT id, ts FROM {t} WHERE ts >= $ts ORDER BY id", {"ts": TS}),
        (f"SELECT id FROM {t} WHERE flag = $b ORDER BY id", {"b": True}),
        (f"SELECT id FROM {t} WHERE data = $blob", {"blob": b"\x00\x01\xff"}),
        (f"SELECT id FROM {t} WHERE n > $big ORDER BY id", {"big": 1 << 40}),
        (f"SELECT id FROM {t} WHERE name IS NULL AND $v IS NULL", {"v": None}),
        (f"SELECT name, name AS name2, n AS name FROM {t} ORDER BY id", {}),
        (f"SELECT count(*) AS c, sum(n) AS s, max(ts) AS m FROM {t}", {}),
        (f"SELECT n, count(*) AS c FROM {t} GROUP BY n ORDER BY n", {}),
        ("SELECT $i AS i, $s AS s, $f AS f", {"i": 7, "s": "x", "f": 2.5}),
        ("SELECT $v AS v", {"v": None}),
    ]


def test_query_rows_identical(db: Any) -> None:
    for sql, vars in query_cases(db.t):
        before = plans(db)
        fast, slow = both(db, lambda sql=sql, vars=vars: db.query(sql, vars=vars))
        assert fast == slow, sql
        assert plans(db) >= before  # (a new text is planned once)
    assert plans(db) == len(
        query_cases(db.t)
    )  # one plan each ("alpha": String, "b\u00e9ta": Unicode)
    assert all_fast(db)
    assert db.engine.pool.checkedout() == 0


def test_select_and_where_rows_identical(db: Any) -> None:
    t = db.t
    calls: list[Callable[[], Any]] = [
        lambda: db.select(t, order="id"),
        lambda: db.select(t, what="id, name", where="n = $n", vars={"n": 2}, order="id"),
        lambda: db.select(t, where="name = '$x 10:30' OR n > $n", vars={"n": 1}, order="id"),
        lambda: db.select(t, what="count(*) AS c"),
        lambda: db.select(t, what="n, count(*) AS c", group="n", order="n"),
        lambda: db.select(t, order="id", limit=2),
        lambda: db.select(t, order="id", limit=2, offset=1),
        lambda: db.select(t, order="id DESC", limit=1, offset=2),
        lambda: db.select(
            f"{t} a, {t} b", what="a.id, b.id AS bid", where="a.id = b.id", order="a.id"
        ),
        lambda: db.select(t, where={"n": 2, "flag": True}, order="id"),
        lambda: db.select(t, where={"name": None}),
        lambda: db.select(t, where={"ts": TS, "day": datetime.date(2024, 1, 2)}, order="id"),
        lambda: db.where(t, name="alpha"),
        lambda: db.where(t, n=2, order="id", limit=1),
        lambda: db.where(t, name=None, n=None),
    ]
    for i, call in enumerate(calls):
        fast, slow = both(db, call)
        assert fast == slow, i
    assert plans(db) == len(calls)
    assert all_fast(db)
    assert db.engine.pool.checkedout() == 0


def test_select_keys_are_column_names(db: Any) -> None:
    """``what="count(*) AS c"`` gives ``row.c`` (web.py), on both paths."""
    for fast in (True, False):
        db.fast_path = fast
        assert db.select(db.t, what="count(*) AS c").first().c == 4
        assert db.select(db.t, what=f"{db.t}.name", where={"n": 1}).first() == {"name": "alpha"}


def test_writes_return_and_commit_the_same(db: Any) -> None:
    t = db.t
    other = create_engine(db.engine.url)  # another pool: sees only committed data

    def committed(sql: str) -> Any:
        with other.connect() as c:
            return c.execute(text(sql)).scalar()

    try:
        for fast in (True, False):
            db.fast_path = fast
            ins = f"INSERT INTO {t} (name, n) VALUES ($name, $n)"
            assert db.query(ins, vars={"name": f"w{fast}", "n": 50}) == 1
            assert committed(f"SELECT count(*) FROM {t} WHERE name = 'w{fast}'") == 1
            upd = f"UPDATE {t} SET n = n + 1 WHERE n >= $n"
            assert db.query(upd, vars={"n": 50}) == (1 if fast else 2)
            assert committed(f"SELECT count(*) FROM {t} WHERE n = 52") == (0 if fast else 1)
            assert db.query(f"DELETE FROM {t} WHERE name = $x", vars={"x": "nobody"}) == 0
        db.fast_path = True
        assert db.query(f"DELETE FROM {t} WHERE n >= $n", vars={"n": 50}) == 2
        assert committed(f"SELECT count(*) FROM {t} WHERE n >= 50") == 0
        if db.kind == "postgres":
            fast, slow = both(
                db,
                lambda: db.query(
                    f"INSERT INTO {t} (name, n) VALUES ($v, 9) RETURNING name, n", vars={"v": "r"}
                ),
            )
            assert fast == slow == [[("name", str, "r"), ("n", int, 9)]]
            assert committed(f"SELECT count(*) FROM {t} WHERE name = 'r'") == 2
    finally:
        other.dispose()
    assert db.engine.pool.checkedout() == 0


def test_errors_keep_their_types_and_text(db: Any) -> None:
    t = db.t
    db.query(f"CREATE UNIQUE INDEX {t}_name ON {t} (name)")
    cases: list[Callable[[], Any]] = [
        lambda: db.query(f"SELEC id FROM {t} WHERE n = $n", vars={"n": 1}),
        lambda: db.query(f"SELECT nope FROM {t} WHERE n = $n", vars={"n": 1}),
        lambda: db.query("SELECT id FROM tg_no_such_table WHERE n = $n", vars={"n": 1}),
        lambda: db.query(f"INSERT INTO {t} (name) VALUES ($name)", vars={"name": "alpha"}),
        lambda: db.select(t, where="nope = $n", vars={"n": 1}),
        lambda: db.where(t, nope=1),
    ]
    if db.kind == "postgres":
        cases.append(lambda: db.query("SELECT 1 / $z AS x", vars={"z": 0}))
        cases.append(lambda: db.query(f"SELECT id FROM {t} WHERE n = $s", vars={"s": "2"}))
    for i, call in enumerate(cases):
        fast, slow = both(db, call)
        assert fast[0] == "raised", i
        assert fast == slow, i
        assert issubclass(fast[1], exc.DBAPIError)
        assert db.engine.pool.checkedout() == 0
    # the transaction was rolled back: the connection is usable (PostgreSQL would
    # refuse everything in an aborted transaction) and nothing was written
    assert db.query(f"SELECT count(*) AS c FROM {t}").first().c == 4
    with pytest.raises(exc.IntegrityError) as info:
        db.query(f"INSERT INTO {t} (name) VALUES ($name)", vars={"name": "alpha"})
    assert info.value.connection_invalidated is False
    assert "alpha" in str(info.value)  # the statement and its parameters, as SQLAlchemy shows
    # a missing $var is the slow path's KeyError
    with pytest.raises(KeyError, match=r"\$missing"):
        db.query(f"SELECT id FROM {t} WHERE n = $missing", vars={})


def test_errors_do_not_leak_connections(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    d = basedb.database(
        url=backend_url("sqlite", tmp_path), pool_size=1, max_overflow=0, pool_timeout=1
    )
    d.query("CREATE TABLE x (a INTEGER UNIQUE)")
    d.query("INSERT INTO x (a) VALUES ($a)", vars={"a": 1})
    for _ in range(20):
        with pytest.raises(exc.IntegrityError):
            d.query("INSERT INTO x (a) VALUES ($a)", vars={"a": 1})
        with pytest.raises(exc.OperationalError):
            d.query("SELECT nope FROM x WHERE a = $a", vars={"a": 1})
    assert d.query("SELECT a FROM x WHERE a = $a", vars={"a": 1}) == [{"a": 1}]
    assert d.engine.pool.checkedout() == 0
    d.engine.dispose()


@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_server_down_raises_the_same(kind: str) -> None:
    """Connecting fails (nothing listens on the port): the error SQLAlchemy raises."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    url = {
        "mysql": f"mysql+pymysql://root@127.0.0.1:{port}/test",
        "postgres": f"postgresql+psycopg://postgres@127.0.0.1:{port}/test",
    }[kind]
    d = basedb.database(url=url, connect_args={"connect_timeout": 2})
    fast, slow = both(d, lambda: d.query("SELECT 1 AS one WHERE 1 = $a", vars={"a": 1}))
    assert fast[0] == "raised" and issubclass(fast[1], exc.OperationalError)
    assert fast == slow
    fast, slow = both(d, lambda: d.where("t", a=1))
    assert fast[0] == "raised" and fast == slow
    assert d.engine.pool.checkedout() == 0
    d.engine.dispose()


def test_database_fast_path_argument(tmp_path: Path) -> None:
    d = basedb.database(url=backend_url("sqlite", tmp_path), fast_path=False)
    assert d.fast_path is False
    assert d.query("SELECT 1 AS one WHERE 1 = $a", vars={"a": 1}) == [{"one": 1}]
    assert plans(d) == 0
    d.engine.dispose()


# ------------------------------------------------------------------ slow path
def test_listener_takes_the_slow_path(db: Any) -> None:
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sql = f"SELECT id FROM {db.t} WHERE n = $n"
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert [r.id for r in db.query(sql, vars={"n": 1})] == [1]
        assert db.where(db.t, n=1).first().id == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 2 and "WHERE n =" in seen[0] and "WHERE" in seen[1]
    assert plans(db) == 0  # nothing went the fast way
    db.query(sql, vars={"n": 1})
    assert plans(db) == 1  # listener gone: fast again
    assert len(seen) == 2


def test_echo_and_info_logging_take_the_slow_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = basedb.database(url=backend_url("sqlite", tmp_path), echo=True)
    d.query("CREATE TABLE x (a INTEGER)")
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        d.query("SELECT a FROM x WHERE a = $a", vars={"a": 12345})
    assert any("SELECT a FROM x WHERE a = ?" in r.getMessage() for r in caplog.records)
    assert plans(d) == 0
    d.engine.dispose()

    caplog.clear()
    d = basedb.database(url=backend_url("sqlite", tmp_path))
    d.query("SELECT 1 AS one")
    assert plans(d) == 1
    logger = logging.getLogger("sqlalchemy.engine.Engine")
    old = logger.level
    logger.setLevel(logging.INFO)  # logging configured by hand, not echo=
    try:
        d.query("SELECT 2 AS two WHERE 1 = $a", vars={"a": 1})
    finally:
        logger.setLevel(old)
    assert any("SELECT 2 AS two WHERE 1 = ?" in r.getMessage() for r in caplog.records)
    assert plans(d) == 1
    d.engine.dispose()


def test_expanding_lists_and_odd_values_take_the_slow_path(db: Any) -> None:
    t = db.t
    rows = db.query(f"SELECT id FROM {t} WHERE id IN $ids ORDER BY id", vars={"ids": [1, 3]})
    assert [r.id for r in rows] == [1, 3]
    assert [r.id for r in db.where(t, id=(2, 4), order="id")] == [2, 4]
    assert plans(db) == 0

    class Name(str):
        pass

    assert db.query(f"SELECT id FROM {t} WHERE name = $n", vars={"n": Name("alpha")}) == [{"id": 1}]
    assert plans(db) == 0


def test_transaction_takes_the_slow_path(db: Any) -> None:
    t = db.t
    with db.transaction():
        db.query(f"UPDATE {t} SET n = $n WHERE id = 1", vars={"n": 99})
        # read on the transaction's connection: sees its own uncommitted write
        assert db.query(f"SELECT n FROM {t} WHERE id = $id", vars={"id": 1}).first().n == 99
        assert db.where(t, id=1).first().n == 99
        assert plans(db) == 0
    assert db.query(f"SELECT n FROM {t} WHERE id = $id", vars={"id": 1}).first().n == 99
    with pytest.raises(RuntimeError), db.transaction():
        db.query(f"UPDATE {t} SET n = $n WHERE id = 1", vars={"n": 7})
        raise RuntimeError("roll back")
    assert db.where(t, id=1).first().n == 99
    assert db.engine.pool.checkedout() == 0


def test_threads_share_the_pool(tmp_path: Path) -> None:
    d = basedb.database(url=backend_url("sqlite", tmp_path), pool_size=2, max_overflow=0)
    d.query("CREATE TABLE x (a INTEGER)")
    d.query("INSERT INTO x (a) VALUES ($a)", vars={"a": 5})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(200):
                assert d.query("SELECT a + $i AS s FROM x", vars={"i": i}).first().s == 5 + i
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert d.engine.pool.checkedout() == 0
    d.engine.dispose()


# ------------------------------------------------------- killed connections
KILLERS = [
    pytest.param("mysql", id="mariadb", marks=pytest.mark.needs_mysql),
    pytest.param("postgres", id="postgres", marks=pytest.mark.needs_postgres),
]


@pytest.mark.parametrize("kind", KILLERS)
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
def test_connection_killed_server_side_recovers(kind: str, fast: bool, tmp_path: Path) -> None:
    """No pre-ping: the next call hits the dead connection, fails as a disconnect
    (the pool is invalidated), and the call after it gets a new connection."""
    url = backend_url(kind, tmp_path)
    d = basedb.database(url=url, pool_pre_ping=False, pool_size=2, max_overflow=0)
    d.fast_path = fast
    who = "SELECT CONNECTION_ID() AS id" if kind == "mysql" else "SELECT pg_backend_pid() AS id"
    kill = "KILL $id" if kind == "mysql" else "SELECT pg_terminate_backend($id)"
    killer = basedb.database(url=url)
    try:
        first = d.query(who).first().id
        killer.query(kill, vars={"id": first})
        with pytest.raises(exc.DBAPIError) as info:
            d.query("SELECT 1 AS one WHERE 1 = $a", vars={"a": 1})
        assert isinstance(info.value, exc.OperationalError | exc.InterfaceError)
        assert info.value.connection_invalidated is True
        assert d.engine.pool.checkedout() == 0
        assert d.query("SELECT 1 AS one WHERE 1 = $a", vars={"a": 1}) == [{"one": 1}]
        assert d.query(who).first().id != first
        assert d.engine.pool.checkedout() == 0
    finally:
        d.engine.dispose()
        killer.engine.dispose()
