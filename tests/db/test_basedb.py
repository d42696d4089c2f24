"""torngas.db.basedb on SQLite and the shared MariaDB and PostgreSQL servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.db.backends import backend_url
from torngas.db import basedb

HOSTILE = [
    "O'Reilly",
    "'; DROP TABLE {t}; --",
    '"; DROP TABLE {t}; --',
    "\\'; DELETE FROM {t} WHERE '1'='1",
    "$name :name %s %(x)s ?",
    "1 OR 1=1",
    "ünï©ødé ✓",
]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.needs_mysql),
    pytest.param("postgres", id="postgres", marks=pytest.mark.needs_postgres),
]


@pytest.fixture(params=[True, False], ids=["fast", "slow"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Each test runs on basedb's DBAPI fast path and on its SQLAlchemy path."""
    return bool(request.param)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path, fast_path: bool) -> Iterator[Any]:
    url = backend_url(request.param, tmp_path)
    d = basedb.database(url=url)
    d.fast_path = fast_path
    t = f"tg_bdb_{uuid.uuid4().hex[:8]}"
    pk = {
        "sqlite": "id INTEGER PRIMARY KEY AUTOINCREMENT",
        "mysql": "id INTEGER PRIMARY KEY AUTO_INCREMENT",
        "postgres": "id SERIAL PRIMARY KEY",
    }[request.param]
    with d.engine.begin() as c:
        c.execute(text(f"CREATE TABLE {t} ({pk}, name VARCHAR(100), n INTEGER)"))
    d.t = t  # type: ignore[attr-defined]
    try:
        yield d
    finally:
        with d.engine.begin() as c:
            c.execute(text(f"DROP TABLE IF EXISTS {t}"))
        d.engine.dispose()


def count(db: Any) -> int:
    return int(db.query(f"SELECT count(*) AS c FROM {db.t}").first().c)


def test_insert_select_update_delete(db: Any) -> None:
    t = db.t
    a = db.insert(t, name="a", n=1)
    b = db.insert(t, name="b", n=2)
    assert isinstance(a, int) and b == a + 1
    rows = db.select(t, order="id")
    assert [(r.name, r.n) for r in rows] == [("a", 1), ("b", 2)]
    assert db.select(t, where="n > $n", vars={"n": 1}).first().name == "b"
    assert db.select(t, what="name", where={"id": a}).first() == {"name": "a"}
    assert db.where(t, name="b", n=2).first().id == b
    assert db.where(t, name=None).first() is None
    assert [r.name for r in db.select(t, order="id DESC", limit=1, offset=1)] == ["a"]
    assert [r.name for r in db.select(t, order="id", offset=1)] == ["b"]
    assert db.update(t, where="id = $id", vars={"id": a}, name="A") == 1
    assert db.where(t, id=a).first().name == "A"
    assert db.update(t, where={"n": [1, 2]}, n=5) == 2
    assert (
        db.query(f"SELECT count(*) AS c FROM {t} WHERE id IN $ids", vars={"ids": [a, b]}).first().c
        == 2
    )
    assert db.delete(t, where="id = $id", vars={"id": a}) == 1
    assert count(db) == 1
    assert db.multiple_insert(t, [{"name": "x", "n": 1}, {"name": "y", "n": 2}]) == 2
    assert count(db) == 3
    assert db.query(f"UPDATE {t} SET n = $n", vars={"n": 0}) == 3


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_values_are_stored_verbatim_and_never_run(db: Any, template: str) -> None:
    t = db.t
    value = template.format(t=t)
    rid = db.insert(t, name=value, n=1)
    assert db.where(t, name=value).first().id == rid
    assert db.select(t, where="name = $v", vars={"v": value}).first().name == value
    assert db.select(t, where={"name": value}).first().name == value
    db.update(t, where="id = $id", vars={"id": rid}, name=value + "!")
    assert db.where(t, id=rid).first().name == value + "!"
    assert db.delete(t, where="name = $v", vars={"v": "1' OR '1'='1"}) == 0
    assert db.query(f"SELECT name FROM {t} WHERE name = $v", vars={"v": value + "!"}).first()
    assert count(db) == 1  # nothing was deleted, the table still exists


def test_dollar_inside_literals_and_colons_are_left_alone(db: Any) -> None:
    t = db.t
    db.insert(t, name="$x 10:30", n=1)
    rows = db.select(t, where="name = '$x 10:30' AND n = $n", vars={"n": 1})
    assert rows.first().name == "$x 10:30"
    with pytest.raises(KeyError, match=r"\$missing"):
        db.select(t, where="n = $missing")


def test_identifiers_are_validated(db: Any) -> None:
    t = db.t
    for bad in ("users; DROP TABLE x", "a b c d", "t--", 'x"y'):
        with pytest.raises(ValueError, match="invalid"):
            db.select(bad)
    with pytest.raises(ValueError, match="column name"):
        db.insert(t, **{"name) VALUES ('x'); --": 1})
    with pytest.raises(ValueError, match="column name"):
        db.where(t, **{"1=1 OR name": "x"})
    with pytest.raises(ValueError, match="integer"):
        db.select(t, limit="1; DROP TABLE x")
    with pytest.raises(ValueError, match="where"):
        db.delete(t, where=None)
    assert count(db) == 0


def test_transactions_commit_rollback_and_savepoints(db: Any) -> None:
    t = db.t
    with db.transaction():
        db.insert(t, name="kept", n=1)
    with pytest.raises(RuntimeError), db.transaction():
        db.insert(t, name="lost", n=2)
        raise RuntimeError("boom")
    assert [r.name for r in db.select(t)] == ["kept"]
    with db.transaction():
        db.insert(t, name="outer", n=3)
        with pytest.raises(RuntimeError), db.transaction():
            db.insert(t, name="inner", n=4)
            raise RuntimeError("inner boom")
    assert sorted(r.name for r in db.select(t)) == ["kept", "outer"]
    tx = db.transaction()
    db.insert(t, name="manual", n=5)
    tx.rollback()
    assert count(db) == 2
    assert db.engine.pool.checkedout() == 0


def test_database_factory_forms(tmp_path: Path) -> None:
    d = basedb.database(dbn="sqlite", db=str(tmp_path / "f.db"))
    d.query("CREATE TABLE x (a INTEGER)")
    d.insert("x", a=1)
    assert d.select("x").first().a == 1
    assert "f.db" in repr(d)
    d.engine.dispose()
    with pytest.raises(ValueError):
        basedb.database()
