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
- Rows are keyed by the driver's column names (``what="count(*) AS n"`` →
  ``row.n``), on every path.

Fast path: ``query()``, ``select()`` and ``where()`` outside ``transaction()``
with plain values (no list, only None/bool/int/float/str/bytes/Decimal/
date/datetime/time/timedelta/UUID) on SQLite, PyMySQL or psycopg, with no
connection-event listener, no SQL logging and no engine execution options,
run on a DBAPI connection of the engine's pool with the statement and bind
processing SQLAlchemy compiles for them (once per SQL text and value types);
results, errors, disconnect handling and commit are SQLAlchemy's. Everything
else, and ``db.fast_path = False``, goes through ``Connection.execute``.
See docs/database.md.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, NamedTuple

from sqlalchemy import bindparam, column, create_engine, literal_column, table, text
from sqlalchemy import delete as sa_delete
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.sql import ClauseElement, type_api
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.util import is_exit_exception

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


# -- the DBAPI fast path ---------------------------------------------------------
#
# ``query()`` and ``select()``/``where()`` outside ``transaction()`` skip
# SQLAlchemy's per-execute machinery (Connection, transaction object, compile
# cache lookup, execution context, result metadata) and run on a DBAPI
# connection checked out from the engine's own pool. What reaches the driver
# is what SQLAlchemy would send: the statement is compiled by SQLAlchemy itself
# (once per SQL text, dialect and resolved value types: on PostgreSQL the
# rendered casts depend on the value types), and the values go through the
# same bind processors SQLAlchemy applies. Errors are wrapped and disconnects
# invalidate the pool exactly as ``Connection._handle_dbapi_exception`` does.
# Anything the fast path cannot reproduce takes the SQLAlchemy path.

# (dialect name, driver) pairs whose stock SQLAlchemy dialect the fast path was
# checked against (tests/db/test_basedb_fastpath.py)
_FAST_DRIVERS = frozenset(
    {
        ("sqlite", "pysqlite"),
        ("mysql", "pymysql"),
        ("mariadb", "pymysql"),
        ("postgresql", "psycopg"),
    }
)
_resolve_type: Callable[[Any], Any] | None = getattr(type_api, "_resolve_value_to_type", None)
_NULLTYPE = type_api.NULLTYPE
_EXPANDING = (list, tuple, set, frozenset)
# ConnectionEvents the fast path would skip: any listener sends calls the slow way
_CONNECTION_EVENTS = (
    "engine_connect",
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
    "begin",
    "commit",
    "rollback",
    "set_connection_execution_options",
)
_SLOW: Any = object()  # "take the SQLAlchemy path"
_MISS: Any = object()


def _fast_types() -> dict[int, Any]:
    """The (shared) SQLAlchemy types plain Python values resolve to; a value
    resolving to anything else (an Enum, a str subclass, an object) is slow."""
    if _resolve_type is None:
        return {}
    utc = datetime.UTC
    samples = (
        None, True, 1, 1 << 40, 1.5, "a", "\u00e9", b"b", decimal.Decimal("1.5"),
        datetime.date(2000, 1, 1), datetime.datetime(2000, 1, 1),
        datetime.datetime(2000, 1, 1, tzinfo=utc), datetime.time(1),
        datetime.time(1, tzinfo=utc), datetime.timedelta(1), uuid.UUID(int=1),
    )  # fmt: skip
    return {id(t): t for t in map(_resolve_type, samples)}


_FAST_TYPES = _fast_types()


def _fast_driver(engine: Engine) -> bool:
    """Can this engine's dialect take the fast path at all (static checks)?"""
    from sqlalchemy.engine.default import DefaultDialect, DefaultExecutionContext
    from sqlalchemy.engine.interfaces import BindTyping

    d = engine.dialect
    ctx = d.execution_ctx_cls
    return bool(
        _FAST_TYPES
        and (d.name, d.driver) in _FAST_DRIVERS
        and type(d).__module__.startswith("sqlalchemy.dialects.")  # not a user subclass
        and all(
            getattr(type(d), m) is getattr(DefaultDialect, m)
            for m in ("do_execute", "do_begin", "do_commit", "do_rollback")
        )
        # (post_exec is not checked: MySQL's only acts on DELETE…RETURNING
        # constructs, which never come this way)
        and all(
            getattr(ctx, m) is getattr(DefaultExecutionContext, m)
            for m in ("pre_exec", "create_cursor", "create_default_cursor", "get_result_processor")
        )
        and not d.server_side_cursors
        and d.bind_typing is not BindTyping.SETINPUTSIZES
        and not getattr(d, "_broken_dotted_colnames", False)  # SQLite < 3.10 renames columns
    )


def _value_types(values: Sequence[Any]) -> tuple[Any, ...] | None:
    """The SQLAlchemy type each value binds as (part of the plan key), or None: slow."""
    assert _resolve_type is not None
    out = []
    for v in values:
        if isinstance(v, _EXPANDING):
            return None
        try:
            t = _resolve_type(v)
        except Exception:
            return None
        if id(t) not in _FAST_TYPES or (t is _NULLTYPE and v is not None):
            return None
        out.append(t)
    return tuple(out)


class _Plan(NamedTuple):
    """A compiled statement and how to turn the call's values into its parameters."""

    statement: str
    positional: bool
    # (dict key or None, index into the call's values + consts, bind processor or None)
    binds: tuple[tuple[str | None, int, Callable[[Any], Any] | None], ...]
    sequence: Callable[[list[Any]], Any]
    # values of binds the compiler added itself (SQLite renders LIMIT n as LIMIT ? OFFSET ?)
    consts: tuple[Any, ...]

    def params(self, values: Sequence[Any]) -> Any:
        if self.consts:
            values = [*values, *self.consts]
        if self.positional:
            return self.sequence(
                [values[i] if p is None else p(values[i]) for _, i, p in self.binds]
            )
        return {k: values[i] if p is None else p(values[i]) for k, i, p in self.binds}


def _compile_plan(
    stmt: Any,
    dialect: Any,
    nvalues: int,
    fixed: Mapping[str, int],
    objs: Sequence[tuple[Any, int]],
) -> _Plan | None:
    """Compile ``stmt`` as ``Connection.execute`` would. ``fixed`` maps bind
    names to indexes into the call's ``nvalues`` values, ``objs`` gives
    (BindParameter, index) for binds with generated names (limit/offset).
    None: the statement needs the slow path."""
    from sqlalchemy.sql import compiler

    compiled = stmt.compile(
        dialect=dialect, linting=dialect.compiler_linting | compiler.WARN_LINTING
    )
    if (
        compiled.literal_execute_params
        or compiled.post_compile_params
        or getattr(compiled, "schema_translate_map", None)
        or compiled.insert_prefetch
        or compiled.update_prefetch
    ):
        return None
    index_of = dict(fixed)
    for obj, i in objs:
        name = compiled.bind_names.get(obj)
        if name is None:  # not the object we made: cannot tell which value it takes
            return None
        index_of[name] = i
    consts: list[Any] = []
    for bp, name in compiled.bind_names.items():
        if name not in index_of:
            if bp.callable is not None or bp.required or not bp.key.startswith("%("):
                return None  # only anonymous literals the compiler made are constants
            index_of[name] = nvalues + len(consts)
            consts.append(bp.value)
    procs = compiled._bind_processors
    if compiled.positional:
        names: Sequence[str] = compiled.positiontup or ()
    else:
        names = list(dict.fromkeys(compiled.bind_names.values()))
    escaped = compiled.escaped_bind_names
    binds = []
    for name in names:
        if name not in index_of:
            return None
        key = None if compiled.positional else escaped.get(name, name)
        binds.append((key, index_of[name], procs.get(name)))
    return _Plan(
        compiled.string,
        bool(compiled.positional),
        tuple(binds),
        dialect.execute_sequence_format,
        tuple(consts),
    )


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

    def __init__(self, engine: Engine, *, fast_path: bool = True) -> None:
        self.engine = engine
        #: run plain calls on the DBAPI connection (see docs/database.md); False:
        #: every call goes through SQLAlchemy's Connection.execute
        self.fast_path = fast_path
        self._conn: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"torngas_basedb_{id(self)}", default=None
        )
        self._fast_driver = _fast_driver(engine)
        # plan key -> _Plan, or None when that statement must take the slow path
        self._plans: dict[tuple[Any, ...], _Plan | None] = {}

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
            # the driver's column names, as web.py: for a select() whose ``what``
            # is one expression SQLAlchemy would key the row by that text
            # ("count(*) AS n"), not by the column's name ("n")
            keys = tuple(d[0] for d in result.cursor.description)
            return ResultSet([Storage(zip(keys, row, strict=True)) for row in result.fetchall()])
        return result

    # -- the fast path (see _FAST_DRIVERS) -------------------------------------
    def _fast_ready(self) -> bool:
        """Per call: may this call skip SQLAlchemy's execute path?"""
        if not (self.fast_path and self._fast_driver) or self._conn.get() is not None:
            return False  # another driver, or inside transaction(): its Connection
        engine = self.engine
        if engine._execution_options:
            return False
        if engine._has_events:  # stays True once a listener was added: look at the listeners
            d = engine.dispatch
            if any(getattr(d, name) for name in _CONNECTION_EVENTS):
                return False
        dialect = engine.dialect
        if dialect._has_events:  # do_connect listeners are fine: the pool runs them
            d = dialect.dispatch
            if d.do_execute or d.do_execute_no_params or d.handle_error:
                return False
        return not engine._should_log_info()  # echo / sqlalchemy.engine at INFO: log it all

    def _fast_call(
        self,
        key: tuple[Any, ...],
        values: Sequence[Any],
        build: Callable[[], tuple[Any, Mapping[str, int], Sequence[tuple[Any, int]]]],
        rows: bool | None,
    ) -> Any:
        plan = self._plans.get(key, _MISS)
        if plan is None:
            return _SLOW
        if plan is _MISS:
            stmt, fixed, objs = build()  # raises what the slow path raises (bad identifiers…)
            fairy = self._checkout()  # compile after connecting: the dialect is initialized
            try:
                plan = _compile_plan(stmt, self.engine.dialect, len(values), fixed, objs)
            except BaseException:
                fairy.close()
                raise
            if len(self._plans) >= _PARSED_MAX:
                self._plans.clear()
            self._plans[key] = plan
            if plan is None:
                fairy.close()
                return _SLOW
        else:
            fairy = self._checkout()
        try:
            params = plan.params(values)
        except Exception:  # a bind processor refused the value: let SQLAlchemy say so
            fairy.close()
            return _SLOW
        return self._fast_execute(fairy, plan.statement, params, rows)

    def _checkout(self) -> Any:
        """A pooled DBAPI connection, errors wrapped as ``Connection()`` wraps them."""
        engine = self.engine
        try:
            return engine.raw_connection()
        except engine.dialect.loaded_dbapi.Error as err:
            Connection._handle_dbapi_exception_noconnection(err, engine.dialect, engine)
            raise

    def _fast_execute(self, fairy: Any, statement: str, params: Any, rows: bool | None) -> Any:
        """``engine.begin()`` + execute + fetch + commit, on the DBAPI connection."""
        try:
            cursor = fairy.cursor()
        except BaseException as e:
            self._fast_fail(fairy, None, e, statement, params, no_context=True)
        try:
            cursor.execute(statement, params)  # DefaultDialect.do_execute
        except BaseException as e:
            self._fast_fail(fairy, cursor, e, statement, params)
        try:
            desc = cursor.description
            if rows or (rows is None and desc):
                keys = tuple(d[0] for d in desc)
                result: Any = ResultSet(
                    [Storage(zip(keys, row, strict=False)) for row in cursor.fetchall()]
                )
            else:
                result = cursor.rowcount
        except BaseException as e:
            self._fast_fail(fairy, cursor, e, None, None)
        self._close_cursor(cursor)
        try:
            fairy.commit()  # DefaultDialect.do_commit
        except BaseException as e:
            self._fast_fail(fairy, None, e, None, None)
        # committed: back to the pool without the reset-on-return rollback, as
        # Connection.close() does after its transaction ended
        close = getattr(fairy, "_close_special", None)
        if close is not None:
            close(transaction_reset=True)
        else:  # pragma: no cover - another SQLAlchemy version
            fairy.close()
        return result

    def _close_cursor(self, cursor: Any) -> None:
        try:
            cursor.close()
        except Exception:
            self.engine.pool.logger.error("Error closing cursor", exc_info=True)

    def _fast_fail(
        self,
        fairy: Any,
        cursor: Any,
        e: BaseException,
        statement: str | None,
        params: Any,
        *,
        no_context: bool = False,
        rollback: bool = True,
    ) -> Any:
        """Raise ``e`` as ``Connection._handle_dbapi_exception`` would, then do
        what leaving ``engine.begin()`` does: roll back and return the
        connection, or invalidate it (and the pool's older connections) when
        the error means the server connection is gone."""
        engine = self.engine
        dialect = engine.dialect
        error_cls = dialect.loaded_dbapi.Error
        exit_exc = is_exit_exception(e)
        dbapi_error = isinstance(e, error_cls)
        valid = fairy.is_valid
        disconnect = valid and (
            (dbapi_error and dialect.is_disconnect(e, fairy, cursor)) or exit_exc
        )
        wrapped = None
        if dbapi_error or (
            no_context
            and statement is not None
            and not exit_exc
            and not isinstance(e, sa_exc.StatementError)
        ):
            wrapped = sa_exc.DBAPIError.instance(
                statement,
                params,
                e,  # type: ignore[arg-type]
                error_cls,
                hide_parameters=engine.hide_parameters,
                connection_invalidated=disconnect,
                dialect=dialect,
                ismulti=False,
            )
        tb = e.__traceback__
        if disconnect:
            if not exit_exc:
                engine.pool._invalidate(fairy, e)
            if fairy.is_valid:
                fairy.invalidate(e)  # also returns it to the pool
        elif not valid:
            fairy.close()
        else:
            if cursor is not None:
                self._close_cursor(cursor)
            if rollback:
                try:
                    fairy.rollback()  # DefaultDialect.do_rollback
                except BaseException as e2:
                    self._fast_fail(fairy, None, e2, None, None, rollback=False)
                close = getattr(fairy, "_close_special", None)
                if close is not None:
                    close(transaction_reset=True)
                else:  # pragma: no cover
                    fairy.close()
            else:  # the rollback itself failed: the pool resets (or invalidates) it
                fairy.close()
        if wrapped is not None:
            raise wrapped.with_traceback(tb) from e
        raise e.with_traceback(tb)

    def _fast_select(
        self,
        tables: Any,
        vars: Mapping[str, Any] | None,
        what: Any,
        where: Any,
        order: Any,
        group: Any,
        limit: Any,
        offset: Any,
    ) -> Any:
        try:
            tkey = tables if isinstance(tables, str) else tuple(tables)
            lim = None if limit is None else _int(limit, "limit")
            off = None if offset is None else _int(offset, "offset")
        except (TypeError, ValueError):
            return _SLOW  # the slow path raises its error, in its order
        wkey: Any
        if where is None:
            wkey, wvals, fixed = None, [], {}
        elif isinstance(where, str):
            _, names = _parse(where, "_w_")
            given = vars or {}
            try:
                wvals = [given[name] for name in names]
            except KeyError:
                return _SLOW
            wkey, fixed = ("s", where), {f"_w_{n}": i for i, n in enumerate(names)}
        elif isinstance(where, Mapping):
            wkey, wvals = ("d", tuple(where)), list(where.values())
            fixed = {f"_w_{i}": i for i in range(len(wvals))}
        else:
            return _SLOW  # a SQLAlchemy expression
        types = _value_types(wvals)
        if types is None:
            return _SLOW
        key = ("s", tkey, what, wkey, order, group, lim is None, off is None, types)
        try:
            hash(key)
        except TypeError:
            return _SLOW
        values = wvals + [v for v in (lim, off) if v is not None]

        def build() -> Any:
            stmt = self.select(tables, vars, what, where, order, group, limit, offset, _test=True)
            objs, i = [], len(wvals)
            if lim is not None:
                objs.append((stmt._limit_clause, i))
                i += 1
            if off is not None:
                objs.append((stmt._offset_clause, i))
            return stmt, fixed, objs

        return self._fast_call(key, values, build, True)

    def _fast_query(self, sql: str, vars: Mapping[str, Any] | None) -> Any:
        _, names = _parse(sql, "")
        if vars is None:
            vars = {}
        try:
            values = [vars[name] for name in names]
        except KeyError:
            return _SLOW  # the slow path raises its KeyError
        types = _value_types(values)
        if types is None:
            return _SLOW

        def build() -> Any:
            return _bind_text(sql, vars), {n: i for i, n in enumerate(names)}, ()

        return self._fast_call(("q", sql, types), values, build, None)

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
        if not _test and self._fast_ready():
            fast = self._fast_select(tables, vars, what, where, order, group, limit, offset)
            if fast is not _SLOW:
                return fast
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
        if not _test and self._fast_ready():
            fast = self._fast_query(sql, vars)
            if fast is not _SLOW:
                return fast
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
    fast_path: bool = True,
    **params: Any,
) -> DB:
    """Build a :class:`DB`, web.py style.

    - ``database(dbn="mysql", db="test", user="root", pw="", host="127.0.0.1", port=3306)``
      (``dbn``: mysql, mariadb, postgres, sqlite; for sqlite ``db`` is the file);
    - ``database(url="postgresql+psycopg://...")``;
    - ``database(connection="default")``: the primary (or ``role="replica"``: the
      first replica) engine of a ``DATABASE_CONNECTION`` name, sharing its pool.

    Extra keyword arguments go to ``create_engine`` (``pool_size``…).
    ``fast_path=False`` sends every call through SQLAlchemy's ``Connection``
    (see :attr:`DB.fast_path`).
    """
    if connection is not None:
        from torngas.db.connection import connections

        group = connections[connection]
        slot = group.primary if role == "primary" or not group.replicas else group.replicas[0]
        return DB(slot.sync_engine, fast_path=fast_path)
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
    return DB(create_engine(url_obj, **engine_kwargs), fast_path=fast_path)
