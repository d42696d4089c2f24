"""The ORM facade: :class:`Model`, :class:`BaseQuery`, pagination, sessions.

::

    from sqlalchemy import Column, Integer, String
    from torngas.db.dbalchemy import Model

    class BaseModel(Model):
        __abstract__ = True
        __connection_name__ = "default"      # a DATABASE_CONNECTION name
        id = Column(Integer, primary_key=True)

    class User(BaseModel):
        __tablename__ = "users"
        name = Column(String(32), nullable=False)

    User.Q.filter(User.name == "jack").all()          # read: a replica
    page = User.Q.order_by(User.id).paginate(2, 20)   # Pagination or None
    s = User.session.using_master()                   # force the primary
    s.add(User(name="rose")); s.commit()              # writes: the primary

    # async (native, does not block the event loop)
    rows = (await User.asession.scalars(select(User))).all()

``Model.session`` / ``Model.asession`` are the session of the *current scope*
(the running request when :class:`~torngas.middleware.dbalchemy.DBAlchemyMiddleware`
is installed, else a per-thread default scope, see :mod:`torngas.db.scope`).
The sync session blocks: from a handler, run sync work through
:func:`torngas.concurrent.run_in_threadpool`, or use ``asession``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase, Query
from sqlalchemy.orm.decl_api import DeclarativeAttributeIntercept

from torngas.db.connection import connections
from torngas.db.pagination import Pagination, apaginate, paginate_query
from torngas.db.routing import RoutingSession
from torngas.db.scope import current_scope, request_scope
from torngas.exceptions import Http404

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "Model",
    "BaseQuery",
    "Pagination",
    "SQLAlchemy",
    "get_session",
    "get_async_session",
    "paginate_or_404",
    "apaginate",
    "apaginate_or_404",
    "create_all",
    "drop_all",
    "acreate_all",
    "adrop_all",
    "tables_for",
    "request_scope",
]

_MISSING: Any = object()


class BaseQuery(Query):  # type: ignore[type-arg]
    """The query class of torngas sessions: a :class:`~sqlalchemy.orm.Query` with paginate."""

    def paginate(
        self,
        page: Any = 1,
        per_page: Any = 20,
        default: Any = None,
        *,
        max_per_page: int | None = None,
    ) -> Pagination[Any] | Any:
        """One page of this query, or ``default`` if ``page``/``per_page`` is unusable.

        ``default`` is returned for a page that is not a whole number, is below 1
        or past the last page, and for ``per_page`` below 1 or above
        ``max_per_page`` (1000 unless given). It never raises for bad input.
        """
        return paginate_query(self, page, per_page, default, max_per_page=max_per_page)


def _sync_factory(name: str) -> RoutingSession:
    connections[name]  # fail early, with the list of defined names
    return RoutingSession(connection_name=name, query_cls=BaseQuery)


def _async_session_class() -> type[AsyncSession]:
    global _AsyncRoutingSession
    if _AsyncRoutingSession is None:
        from sqlalchemy.ext.asyncio import AsyncSession

        class AsyncRoutingSession(AsyncSession):
            """:class:`AsyncSession` over a :class:`RoutingSession` (same routing)."""

            sync_session: RoutingSession

            def using_master(self) -> AsyncRoutingSession:
                """Send every later statement of this session to the primary; returns self."""
                self.sync_session.using_master()
                return self

            using_primary = using_master

        _AsyncRoutingSession = AsyncRoutingSession
    return _AsyncRoutingSession  # type: ignore[no-any-return]


_AsyncRoutingSession: Any = None


def _async_factory(name: str) -> AsyncSession:
    connections[name]
    return _async_session_class()(
        sync_session_class=RoutingSession,
        connection_name=name,
        use_async=True,
        expire_on_commit=False,  # an expired attribute would need IO on access
    )


def get_session(name: str = "default") -> RoutingSession:
    """The synchronous routing session of ``name`` in the current scope."""
    return current_scope().get(("sync", name), lambda: _sync_factory(name))  # type: ignore[no-any-return]


def get_async_session(name: str = "default") -> AsyncSession:
    """The :class:`AsyncSession` of ``name`` in the current scope (same routing)."""
    return current_scope().get(("async", name), lambda: _async_factory(name))  # type: ignore[no-any-return]


class _ModelMeta(DeclarativeAttributeIntercept):
    """Gives model classes ``Q``, ``session`` and ``asession``."""

    @property
    def session(cls) -> RoutingSession:
        """The request-scoped sync session for this model's connection."""
        return get_session(cls.__connection_name__)  # type: ignore[attr-defined]

    @property
    def asession(cls) -> AsyncSession:
        """The request-scoped :class:`AsyncSession` for this model's connection."""
        return get_async_session(cls.__connection_name__)  # type: ignore[attr-defined]

    @property
    def Q(cls) -> BaseQuery:  # noqa: N802 - the 1.8 name
        """``cls.session.query(cls)``: a new query on each access."""
        return cls.session.query(cls)  # type: ignore[return-value]


class Model(DeclarativeBase, metaclass=_ModelMeta):
    """Declarative base of torngas models.

    Class attributes: ``__connection_name__`` (default ``"default"``) picks the
    ``DATABASE_CONNECTION`` entry; ``__abstract__ = True`` makes a base class
    without a table. ``Model.Q``, ``Model.session`` and ``Model.asession`` are
    available on every model class.
    """

    __connection_name__ = "default"


def tables_for(name: str = "default", base: type[DeclarativeBase] = Model) -> list[Table]:
    """The tables of the models whose ``__connection_name__`` is ``name``."""
    tables: list[Table] = []
    for mapper in base.registry.mappers:
        cls = mapper.class_
        table = mapper.local_table
        if (
            getattr(cls, "__connection_name__", "default") == name
            and isinstance(table, Table)
            and table not in tables
        ):
            tables.append(table)
    return tables


def metadata_for(name: str = "default", base: type[DeclarativeBase] = Model) -> MetaData:
    """A :class:`MetaData` holding only the tables of connection ``name`` (for alembic)."""
    meta = MetaData(naming_convention=base.metadata.naming_convention)
    for table in tables_for(name, base):
        table.to_metadata(meta)
    return meta


def create_all(name: str = "default") -> None:
    """Create the tables of connection ``name`` on its primary (tests, quick starts)."""
    engine = connections[name].primary.sync_engine
    Model.metadata.create_all(engine, tables=tables_for(name))


def drop_all(name: str = "default") -> None:
    engine = connections[name].primary.sync_engine
    Model.metadata.drop_all(engine, tables=tables_for(name))


async def acreate_all(name: str = "default") -> None:
    engine = connections[name].primary.async_engine
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: Model.metadata.create_all(c, tables=tables_for(name)))


async def adrop_all(name: str = "default") -> None:
    engine = connections[name].primary.async_engine
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: Model.metadata.drop_all(c, tables=tables_for(name)))


def paginate_or_404(
    query: Any, page: Any, per_page: Any, *, max_per_page: int | None = None
) -> Pagination[Any]:
    """Like ``query.paginate`` but raise :class:`~torngas.exceptions.Http404` where
    ``paginate`` would return ``default`` (bad or out-of-range page)."""
    result = paginate_query(query, page, per_page, _MISSING, max_per_page=max_per_page)
    if result is _MISSING:
        raise Http404(f"page {page!r} (per_page {per_page!r}) does not exist")
    return result


async def apaginate_or_404(
    session: Any, statement: Any, page: Any, per_page: Any, *, max_per_page: int | None = None
) -> Pagination[Any]:
    """Async twin of :func:`paginate_or_404` for a ``select()``."""
    result = await apaginate(
        session, statement, page, per_page, _MISSING, max_per_page=max_per_page
    )
    if result is _MISSING:
        raise Http404(f"page {page!r} (per_page {per_page!r}) does not exist")
    return result


class SQLAlchemy:
    """The 1.8 connector object, kept small: engines and sessions by name."""

    Model = Model

    def get_engine(self, name: str = "default", role: str = "primary") -> Any:
        group = connections[name]
        if role in ("primary", "master"):
            return group.primary.sync_engine
        return [slot.sync_engine for slot in group.replicas]

    def session(self, name: str = "default") -> RoutingSession:
        return get_session(name)

    create_all = staticmethod(create_all)
    drop_all = staticmethod(drop_all)

    def dispose(self) -> None:
        connections.reset()
