"""DBAlchemyMiddleware: one database scope per request, 503 when the database is down.

Add ``"torngas.middleware.dbalchemy.DBAlchemyMiddleware"`` to
``MIDDLEWARE_CLASSES``. For each request it

- opens a :class:`~torngas.db.scope.request_scope` in ``process_request``
  (step 3), so ``Model.session`` / ``Model.asession`` are this request's own
  sessions, also inside :func:`~torngas.concurrent.run_in_threadpool`;
- closes it in ``process_endcall`` (step 6, after the response, also after an
  exception): every session is closed and its connections go back to the pool.
  If another middleware cut the chain before this hook ran, the scope is
  closed anyway when the request's task ends;
- in ``process_exception`` (step 7), turns "the database cannot be reached"
  (:class:`~torngas.db.DatabaseUnavailable`, SQLAlchemy's ``OperationalError``,
  ``DisconnectionError``, ``InterfaceError``, a pool ``TimeoutError``) into a
  ``503 Service Unavailable`` response with a one-line warning instead of a
  500 and a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from torngas.db.exceptions import DatabaseUnavailable
from torngas.db.scope import request_scope
from torngas.middleware import BaseMiddleware

if TYPE_CHECKING:
    from tornado.web import RequestHandler

__all__ = ["DBAlchemyMiddleware", "is_database_unavailable"]

log = logging.getLogger("torngas.db")

_ATTR = "_torngas_db_scope"


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) means "database unreachable"."""
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency of torngas.db
        kinds: tuple[type[BaseException], ...] = (DatabaseUnavailable,)
    else:
        kinds = (
            DatabaseUnavailable,
            sa_exc.OperationalError,
            sa_exc.InterfaceError,
            sa_exc.DisconnectionError,
            sa_exc.TimeoutError,
        )
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, kinds):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


class DBAlchemyMiddleware(BaseMiddleware):
    """Request-scoped database sessions; see the module docstring."""

    def process_request(self, handler: RequestHandler, clear: Any) -> None:
        scope = request_scope()
        scope.enter()
        setattr(handler, _ATTR, scope)
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is not None:  # safety net if process_endcall is skipped
            task.add_done_callback(functools.partial(self._close_after, handler))

    def process_endcall(self, handler: RequestHandler, clear: Any) -> None:
        self._close(handler)

    @classmethod
    def _close_after(cls, handler: RequestHandler, task: asyncio.Task[Any]) -> None:
        cls._close(handler)

    @staticmethod
    def _close(handler: RequestHandler) -> None:
        scope: request_scope | None = handler.__dict__.pop(_ATTR, None)
        if scope is not None:
            scope.exit()

    def process_exception(
        self,
        handler: RequestHandler,
        clear: Any,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        if not is_database_unavailable(value):
            return None
        first_line = str(value).splitlines()[0] if value is not None and str(value) else ""
        log.warning(
            "%s %s: database unavailable, answering 503 (%s: %s)",
            handler.request.method,
            handler.request.uri,
            type(value).__name__,
            first_line,
        )
        if not handler._finished:
            handler.send_error(503)
        return True
