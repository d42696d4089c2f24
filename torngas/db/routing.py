"""Read/write routing for ORM sessions (SQLAlchemy's ``get_bind`` recipe).

A :class:`RoutingSession` belongs to one connection name. For each statement:

- writes go to the **primary**: a flush, an ``INSERT``/``UPDATE``/``DELETE``
  (Core or ``text()``), ``SELECT ... FOR UPDATE``;
- reads go to a **replica**, chosen round-robin when the session first reads
  and kept for the session's life; a replica that cannot be reached is marked
  down (a warning is logged) and the next one, finally the primary, is used;
- after :meth:`RoutingSession.using_master` *or after the session's first
  write*, every later statement of the session goes to the primary too
  (read-your-writes: a replica may lag behind the commit just made). The
  session is request-scoped, so this lasts until the end of the request.

If the primary cannot be reached, :class:`~torngas.db.exceptions.DatabaseUnavailable`
is raised with the server's address; the next statement tries again (the pool
pre-pings), so service resumes on its own when the server is back.

The same class serves :class:`~sqlalchemy.ext.asyncio.AsyncSession` (as its
``sync_session_class``), then binding the async engines.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.util.concurrency import in_greenlet

from torngas.db.connection import ConnectionGroup, EngineSlot, connections
from torngas.db.exceptions import DatabaseUnavailable

__all__ = ["RoutingSession", "is_write", "CONNECT_ERRORS"]

#: Errors that mean "this server cannot be reached" when opening a connection.
#: (The pool's own TimeoutError means the pool is exhausted, not the server down.)
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.DBAPIError,
    sa_exc.DisconnectionError,
    OSError,
    TimeoutError,
)

_READ_KEYWORDS = ("select", "show", "explain", "describe", "values")


def is_write(clause: Any) -> bool:
    """Whether a statement must run on the primary."""
    if clause is None:
        return False
    if isinstance(clause, TextClause):
        head = clause.text.lstrip(" \t\r\n(").split(None, 1)
        if not head or head[0].lower() not in _READ_KEYWORDS:
            return True
        return " for update" in clause.text.lower() or " for share" in clause.text.lower()
    if getattr(clause, "is_dml", False):
        return True
    if getattr(clause, "_for_update_arg", None) is not None:
        return True
    if isinstance(clause, ClauseElement) and getattr(clause, "is_select", False):
        return False
    # DDL and anything unrecognised: the primary (safe default).
    return not getattr(clause, "is_select", False)


class RoutingSession(Session):
    """A :class:`~sqlalchemy.orm.Session` that routes reads and writes.

    :param connection_name: the ``DATABASE_CONNECTION`` name this session serves.
    :param use_async: bind the async engines (when wrapped by an ``AsyncSession``).
    """

    def __init__(self, *, connection_name: str = "default", use_async: bool = False, **kw: Any):
        super().__init__(**kw)
        self.connection_name = connection_name
        self.use_async = use_async
        self._force_primary = False
        self._wrote = False
        self._replica: dict[str, Engine] = {}

    # -- public -------------------------------------------------------------
    def using_master(self) -> RoutingSession:
        """Send every later statement of this session to the primary; returns self.

        Objects loaded earlier stay attached, so they can be changed and
        committed through the returned (same) session.
        """
        self._force_primary = True
        return self

    using_primary = using_master

    @property
    def group(self) -> ConnectionGroup:
        return connections[self.connection_name]

    def close(self) -> None:
        super().close()
        self._force_primary = False
        self._wrote = False
        self._replica.clear()

    # -- routing ------------------------------------------------------------
    def get_bind(
        self,
        mapper: Any = None,
        *,
        clause: Any = None,
        bind: Any = None,
        **kw: Any,
    ) -> Engine:
        if bind is not None:
            return bind  # type: ignore[no-any-return]
        group = self._group_for(mapper)
        if self._force_primary or self._wrote or self._flushing or is_write(clause):
            if not self._force_primary:
                self._wrote = True
            return self._connect(group.primary)
        if not group.replicas:
            return self._connect(group.primary)
        chosen = self._replica.get(group.name)
        if chosen is not None:
            return chosen
        for slot in group.replica_candidates():
            try:
                engine = self._connect(slot)
            except DatabaseUnavailable as exc:
                slot.mark_down(exc.__cause__ or exc)
                continue
            slot.mark_up()
            self._replica[group.name] = engine
            return engine
        group.warn_fallback()
        return self._connect(group.primary)

    def _group_for(self, mapper: Any) -> ConnectionGroup:
        if mapper is not None:
            cls = getattr(mapper, "class_", None)
            name = getattr(cls, "__connection_name__", None)
            if name and name != self.connection_name:
                return connections[name]
        return self.group

    def _connect(self, slot: EngineSlot) -> Engine:
        """The slot's engine, with a connection already open in this session.

        Opening it here (rather than when the statement runs) is what lets a
        read move to another server when this one is down.
        """
        engine = slot.engine(self.use_async)
        trans = self._transaction
        if trans is not None and engine in trans._connections:
            return engine
        if self.use_async and not in_greenlet():
            return engine  # called directly by user code: nothing to probe here
        try:
            self._connection_for_bind(engine, execution_options=None)
        except sa_exc.TimeoutError:
            raise  # pool exhausted: not a server failure
        except CONNECT_ERRORS as exc:
            role = "primary" if slot.role == "primary" else "replica"
            raise DatabaseUnavailable(
                f"database {slot.group.name!r}: the {role} {slot.describe()} is unreachable "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                connection_name=slot.group.name,
                role=role,
            ) from exc
        return engine
