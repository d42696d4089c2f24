"""A small SQL layer in the style of web.py's ``web.db``, on SQLAlchemy Core.

::

    from torngas.db import basedb

    db = basedb.database(dbn="sqlite", db="app.db")         # or url=..., or connection="default"
    uid = db.insert("users", name="jack", email="j@x.org")  # → new id
    rows = db.select("users", where="name = $name", vars={"name": "jack"}, limit=10)
    db.where("users", name="jack").first()
    db.update("users", where="id = $id", vars={"id": uid}, email="jack@x.org")
    db.delete("users", where={"id": uid})
    db.query("SELECT count(*) AS n FROM users WHERE id IN $ids", vars={"ids": [1, 2]})
    with db.transaction():
        db.insert(...); db.update(...)                     # one transaction; nested = savepoint

Safety, and where we differ from web.py / torngas 1.8:

- **Values are always bound parameters.** ``$name`` in a ``where`` string or a
  ``query`` becomes a bind parameter taking ``vars["name"]`` (a list or tuple
  becomes an expanding ``IN`` list); ``**values`` of ``insert``/``update`` and a
  ``where`` dict are bound too. Nothing a caller passes as a *value* is ever put
  into the SQL text. ``$name`` inside a quoted SQL literal is left alone.
- Table and column names must be plain identifiers (``name`` or
  ``schema.name``, letters, digits, ``_``); anything else raises ``ValueError``.
  They are quoted by the dialect.
- ``what``, ``order``, ``group`` and a ``where`` string are SQL *code* written by
  the programmer; never build them from user input (use ``$vars``).
- ``limit``/``offset`` must be integers and are bound.
- Every call without an open ``transaction()`` runs in its own short
  transaction (autocommit). The API is synchronous: from a handler, call it
  through :func:`torngas.concurrent.run_in_threadpool`.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import bindparam, column, create_engine, literal_column, table, text
from sqlalchemy import delete as sa_delete
from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import TextClause

__all__ = ["DB", "Storage", "ResultSet", "Transaction", "database", "sqlwhere"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
# a quoted literal (kept as is) or a $name / $name.attr placeholder
_TOKEN = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|\$([A-Za-z_][A-Za-z0-9_]*)""")

_DBN = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "sqlite": "sqlite",
}


class Storage(dict[str, Any]):
    """A dict whose keys are also attributes (``row.name``), as web.py's storage."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __repr__(self) -> str:
        return f"<Storage {dict.__repr__(self)}>"


class ResultSet(list[Storage]):
    """The rows of a query, as :class:`Storage` objects."""

    def first(self, default: Any = None) -> Any:
        return self[0] if self else default


def _ident(name: str, what: str = "identifier") -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"invalid SQL {what} {name!r}: use letters, digits and '_' only")
    return name


_PARSED_MAX = 512
# (sql, prefix) -> (text for text() with ":name" binds, names in order of first use)
_parsed: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
# (sql, prefix, expanding flags) -> TextClause with its bind parameters declared
_clauses: dict[tuple[str, str, tuple[bool, ...]], TextClause] = {}


def _parse(sql: str, prefix: str) -> tuple[str, tuple[str, ...]]:
    """``$name`` placeholders → ``:prefixname``; quoted literals kept. Cached:
    the same SQL text is parsed once (bounded; the values never enter the cache)."""
    key = (sql, prefix)
    hit = _parsed.get(key)
    if hit is not None:
        return hit
    names: list[str] = []
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(sql):
        out.append(sql[pos : m.start()].replace(":", r"\:"))
        pos = m.end()
        if m.group(1) is not None:  # a quoted literal: copy, escaping ':' for text()
            out.append(m.group(1).replace(":", r"\:"))
            continue
        name = m.group(2)
        if name not in names:
            names.append(name)
        out.append(f":{prefix}{name}")
    out.append(sql[pos:].replace(":", r"\:"))
    parsed = ("".join(out), tuple(names))
    if len(_parsed) >= _PARSED_MAX:
        _parsed.clear()
    _parsed[key] = parsed
    return parsed


def _bind_text(sql: str, vars: Mapping[str, Any] | None, prefix: str = "") -> TextClause:
    """Turn ``$name`` placeholders into bound parameters (``prefix`` avoids clashes)."""
    vars = vars or {}
    clause_text, names = _parse(sql, prefix)
    for name in names:
        if name not in vars:
            raise KeyError(f"${name} is used in the SQL but not given in vars")
    if not names:
        return text(clause_text)
    values = [vars[name] for name in names]
    expanding = tuple(isinstance(v, list | tuple | set | frozenset) for v in values)
    key = (sql, prefix, expanding)
    clause = _clauses.get(key)
    if clause is None:
        clause = text(clause_text).bindparams(
            *(
                bindparam(f"{prefix}{name}", expanding=exp)
                for name, exp in zip(names, expanding, strict=True)
            )
        )
        if len(_clauses) >= _PARSED_MAX:
            _clauses.clear()
        _clauses[key] = clause
    return clause.bindparams(
        **{
            f"{prefix}{name}": list(v) if exp else v
            for name, v, exp in zip(names, values, expanding, strict=True)
        }
    )


def sqlwhere(where: Any, vars: Mapping[str, Any] | None = None, prefix: str = "_w_") -> Any:
    """A ``where`` argument → a SQL clause.

    ``where`` may be a string with ``$vars``, a dict (``column = value`` joined
    with AND; a list value means ``IN``), or a SQLAlchemy expression.
    """
    if where is None:
        return None
    if isinstance(where, ClauseElement):
        return where
    if isinstance(where, Mapping):
        from sqlalchemy import and_

        parts: list[Any] = []
        for i, (key, value) in enumerate(where.items()):
            col: Any = column(_ident(key, "column name"))
            name = f"{prefix}{i}"
            if isinstance(value, list | tuple | set | frozenset):
                parts.append(col.in_(bindparam(name, value=list(value), expanding=True)))
            elif value is None:
                parts.append(col.is_(None))
            else:
                parts.append(col == bindparam(name, value=value))
        return and_(*parts) if parts else None
    if isinstance(where, str):
        return _bind_text(where, vars, prefix)
    raise TypeError(f"where must be a string, a dict or a SQL expression, not {type(where)}")


def _table(name: str, columns: Iterable[str] = ()) -> Any:
    schema, _, tname = name.rpartition(".")
    return table(tname, *[column(_ident(c, "column name")) for c in columns], schema=schema or None)


class Transaction:
    """A transaction (or a savepoint when nested). Commit on normal exit of
    ``with``, roll back on an exception; or call :meth:`commit`/:meth:`rollback`."""

    def __init__(self, db: DB) -> None:
        self.db = db
        parent = db._conn.get()
        self._outer = parent is None
        self._trans: Any
        if parent is None:
            self.conn = db.engine.connect()
            self._trans = self.conn.begin()
        else:
            self.conn = parent
            self._trans = parent.begin_nested()
        self._token = db._conn.set(self.conn)
        self._done = False

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            self.db._conn.reset(self._token)
        except ValueError:
            self.db._conn.set(None if self._outer else self.conn)
        if self._outer:
            self.conn.close()

    def commit(self) -> None:
        try:
            self._trans.commit()
        finally:
            self._finish()

    def rollback(self) -> None:
        try:
            self._trans.rollback()
        finally:
            self._finish()

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._done:
            return
        if typ is None:
            self.commit()
        else:
            self.rollback()


class DB:
    """web.py-style database access on one SQLAlchemy :class:`Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"torngas_basedb_{id(self)}", default=None
        )

    def __repr__(self) -> str:
        return f"<DB {self.engine.url.render_as_string(hide_password=True)}>"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _q(self, name: str) -> str:
        prep = self.engine.dialect.identifier_preparer
        return ".".join(prep.quote(part) for part in _ident(name).split("."))

    def _run(self, stmt: Any, *, rows: bool | None = None) -> Any:
        conn = self._conn.get()
        if conn is not None:
            return self._collect(conn.execute(stmt), rows)
        with self.engine.begin() as conn:
            return self._collect(conn.execute(stmt), rows)

    @staticmethod
    def _collect(result: Any, rows: bool | None) -> Any:
        if rows or (rows is None and result.returns_rows):
            keys = tuple(result.keys())
            return ResultSet([Storage(zip(keys, row, strict=True)) for row in result.fetchall()])
        return result

    # -- transactions ------------------------------------------------------
    def transaction(self) -> Transaction:
        """Start a transaction; nested calls make savepoints."""
        return Transaction(self)

    # -- reads -------------------------------------------------------------
    def select(
        self,
        tables: str | Sequence[str],
        vars: Mapping[str, Any] | None = None,
        what: str = "*",
        where: Any = None,
        order: str | None = None,
        group: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        _test: bool = False,
    ) -> Any:
        """``SELECT what FROM tables [WHERE where] [GROUP BY] [ORDER BY] [LIMIT] [OFFSET]``."""
        from sqlalchemy import select as sa_select

        names = [t.strip() for t in tables.split(",")] if isinstance(tables, str) else tables
        refs = ", ".join(self._table_ref(t) for t in names)
        stmt: Any = sa_select(literal_column(_escape(what))).select_from(text(refs))
        clause = sqlwhere(where, vars)
        if clause is not None:
            stmt = stmt.where(clause)
        if group:
            stmt = stmt.group_by(text(_escape(group)))
        if order:
            stmt = stmt.order_by(text(_escape(order)))
        if limit is not None:
            stmt = stmt.limit(_int(limit, "limit"))
        if offset is not None:
            stmt = stmt.offset(_int(offset, "offset"))
        if _test:
            return stmt
        return self._run(stmt, rows=True)

    def where(
        self,
        table: str,
        what: str = "*",
        order: str | None = None,
        group: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        _test: bool = False,
        **kwargs: Any,
    ) -> Any:
        """``select`` with ``column = value`` conditions (``None``: IS NULL; a list: IN)."""
        return self.select(
            table,
            what=what,
            where=dict(kwargs) or None,
            order=order,
            group=group,
            limit=limit,
            offset=offset,
            _test=_test,
        )

    def query(self, sql: str, vars: Mapping[str, Any] | None = None, _test: bool = False) -> Any:
        """Run SQL with ``$vars`` bound. Rows → :class:`ResultSet`; else the rowcount."""
        stmt = _bind_text(sql, vars)
        if _test:
            return stmt
        result = self._run(stmt)
        return result if isinstance(result, ResultSet) else result.rowcount

    # -- writes ------------------------------------------------------------
    def insert(
        self, tablename: str, seqname: Any = None, _test: bool = False, **values: Any
    ) -> Any:
        """Insert one row; return its id (``seqname=False``: return nothing).

        The id is ``lastrowid`` on SQLite and MySQL/MariaDB. On PostgreSQL the
        statement uses ``RETURNING``: the ``id`` column (or the column named
        by ``seqname`` when it is a column name; a sequence name ending in
        ``_seq`` is read with ``currval``).
        """
        t = _table(tablename, values)
        stmt = sa_insert(t).values(**values) if values else sa_insert(t)
        pg = self.dialect == "postgresql"
        if (
            pg
            and seqname is not False
            and not (isinstance(seqname, str) and seqname.endswith("_seq"))
        ):
            stmt = stmt.returning(literal_column("*"))
        if _test:
            return stmt
        conn = self._conn.get()
        if conn is None:
            with self.engine.begin() as conn:
                return self._insert_id(conn, stmt, seqname, pg)
        return self._insert_id(conn, stmt, seqname, pg)

    @staticmethod
    def _insert_id(conn: Connection, stmt: Any, seqname: Any, pg: bool) -> Any:
        result = conn.execute(stmt)
        if seqname is False:
            return None
        if pg:
            if isinstance(seqname, str) and seqname.endswith("_seq"):
                return conn.execute(text("SELECT currval(:s)"), {"s": seqname}).scalar()
            row = result.mappings().first()
            if row is None:
                return None
            key = seqname if isinstance(seqname, str) else "id"
            return row[key] if key in row else next(iter(row.values()))
        return result.lastrowid

    def multiple_insert(
        self,
        tablename: str,
        values: Sequence[Mapping[str, Any]],
        seqname: Any = None,
        _test: bool = False,
    ) -> Any:
        """Insert many rows (one executemany); return the number of rows."""
        if not values:
            return 0
        keys = list(values[0])
        if any(list(v) != keys for v in values):
            raise ValueError("multiple_insert: every row must have the same keys")
        stmt = sa_insert(_table(tablename, keys))
        if _test:
            return stmt
        conn = self._conn.get()
        rows = [dict(v) for v in values]
        if conn is None:
            with self.engine.begin() as conn:
                conn.execute(stmt, rows)
        else:
            conn.execute(stmt, rows)
        return len(rows)  # all inserted, or an exception (drivers' rowcount varies)

    def update(
        self,
        tables: str,
        where: Any,
        vars: Mapping[str, Any] | None = None,
        _test: bool = False,
        **values: Any,
    ) -> Any:
        """``UPDATE tables SET values WHERE where``; returns the number of rows."""
        if not values:
            raise ValueError("update needs at least one column=value")
        stmt = sa_update(_table(tables, values)).values(**values)
        clause = sqlwhere(where, vars)
        if clause is not None:
            stmt = stmt.where(clause)
        if _test:
            return stmt
        return self._run(stmt, rows=False).rowcount

    def delete(
        self,
        table: str,
        where: Any,
        using: str | None = None,
        vars: Mapping[str, Any] | None = None,
        _test: bool = False,
    ) -> Any:
        """``DELETE FROM table WHERE where``; returns the number of rows.

        ``where`` is required (``where="1=1"`` deletes everything, on purpose).
        """
        if using:
            raise NotImplementedError("delete(using=...) is not supported; use query()")
        if where is None or where == "" or where == {}:
            raise ValueError("delete without where would empty the table; pass where='1=1'")
        stmt = sa_delete(_table(table)).where(sqlwhere(where, vars))
        if _test:
            return stmt
        return self._run(stmt, rows=False).rowcount

    # -- helpers -------------------------------------------------------------
    def _table_ref(self, ref: str) -> str:
        parts = ref.split()
        if len(parts) == 1:
            return self._q(parts[0])
        if len(parts) == 2 or (len(parts) == 3 and parts[1].lower() == "as"):
            return f"{self._q(parts[0])} {self._q(parts[-1])}"
        raise ValueError(f"invalid table reference {ref!r}")


def _escape(code: str) -> str:
    return code.replace(":", r"\:")


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{what} must be an integer, not {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} must be an integer, not {value!r}") from None


def database(
    dbn: str | None = None,
    *,
    url: str | None = None,
    connection: str | None = None,
    role: str = "primary",
    **params: Any,
) -> DB:
    """Build a :class:`DB`, web.py style.

    - ``database(dbn="mysql", db="test", user="root", pw="", host="127.0.0.1", port=3306)``
      (``dbn``: mysql, mariadb, postgres, sqlite; for sqlite ``db`` is the file);
    - ``database(url="postgresql+psycopg://...")``;
    - ``database(connection="default")``: the primary (or ``role="replica"``: the
      first replica) engine of a ``DATABASE_CONNECTION`` name, sharing its pool.

    Extra keyword arguments go to ``create_engine`` (``pool_size``…).
    """
    if connection is not None:
        from torngas.db.connection import connections

        group = connections[connection]
        slot = group.primary if role == "primary" or not group.replicas else group.replicas[0]
        return DB(slot.sync_engine)
    engine_kwargs = {k: params.pop(k) for k in list(params) if k.startswith("pool") or k == "echo"}
    if url is None:
        if not dbn:
            raise ValueError("database() needs dbn=, url= or connection=")
        from sqlalchemy.engine import URL

        drivername = _DBN.get(dbn, dbn)
        url_obj = URL.create(
            drivername,
            username=params.pop("user", None),
            password=params.pop("pw", None) or params.pop("password", None),
            host=params.pop("host", None),
            port=params.pop("port", None),
            database=params.pop("db", None),
            query={k: str(v) for k, v in params.items()},
        )
    else:
        url_obj = make_url(url)
    if url_obj.get_backend_name() != "sqlite":  # no server to lose: nothing to ping
        engine_kwargs.setdefault("pool_pre_ping", True)
    return DB(create_engine(url_obj, **engine_kwargs))
