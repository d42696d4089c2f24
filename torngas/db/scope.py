"""Where sessions live: one *scope* per request, not per thread.

Tornado serves every request on one thread, so SQLAlchemy's thread-local
``scoped_session`` would hand all concurrent requests the same session. torngas
keeps the sessions of a unit of work in a :class:`Scope` held by a
:class:`~contextvars.ContextVar`:

- :class:`~torngas.middleware.dbalchemy.DBAlchemyMiddleware` opens a scope in
  ``process_request`` and closes it in ``process_endcall`` (after the response,
  also after an exception), so every session a request used is closed and its
  connections go back to the pool.
- Code outside a request (a script, a worker) can use ``with request_scope():``
  or ``async with request_scope():``. With no scope open, a coroutine gets a
  scope of its asyncio task (closed when the task ends), and other code a
  per-thread *default scope* that :func:`remove_sessions` (or
  :func:`aremove_sessions`) closes.
- :func:`torngas.concurrent.run_in_threadpool` copies the context, so a worker
  thread running part of a request sees that request's scope.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import weakref
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any

__all__ = [
    "Scope",
    "request_scope",
    "current_scope",
    "remove_sessions",
    "aremove_sessions",
    "wait_closed",
]

log = logging.getLogger("torngas.db")

_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "torngas_db_scope", default=None
)
_default = threading.local()
# Strong references to closing tasks (asyncio only keeps weak ones).
_pending: set[asyncio.Task[None]] = set()


class Scope:
    """The sessions of one unit of work, keyed by ``(kind, connection name)``.

    Sessions are built on first use by the factory passed to :meth:`get` and
    closed together by :meth:`close` / :meth:`aclose`. A closed scope may be
    used again: it then builds fresh sessions.
    """

    def __init__(self) -> None:
        self._sessions: dict[Hashable, Any] = {}

    def get(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        session = self._sessions.get(key)
        if session is None:
            session = self._sessions[key] = factory()
        return session

    def __len__(self) -> int:
        return len(self._sessions)

    def _take(self) -> tuple[list[Any], list[Any]]:
        sessions, self._sessions = list(self._sessions.values()), {}
        sync: list[Any] = []
        async_: list[Any] = []
        for s in sessions:
            (async_ if hasattr(s, "sync_session") else sync).append(s)
        return sync, async_

    @staticmethod
    def _close_sync(sessions: list[Any]) -> None:
        for s in sessions:
            try:
                s.close()
            except Exception:  # a dead connection must not stop the others closing
                log.warning("error while closing a database session", exc_info=True)

    @staticmethod
    async def _close_async(sessions: list[Any]) -> None:
        for s in sessions:
            try:
                await s.close()
            except Exception:
                log.warning("error while closing an async database session", exc_info=True)

    def close(self) -> asyncio.Task[None] | None:
        """Close every session now; async sessions are closed by a task.

        Synchronous sessions are closed before this returns. Async sessions
        need the event loop: when one is running, a task closes them and is
        returned (:func:`wait_closed` awaits all such tasks); otherwise they
        are closed with ``asyncio.run``.
        """
        sync, async_ = self._take()
        self._close_sync(sync)
        if not async_:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._close_async(async_))
            return None
        task = loop.create_task(self._close_async(async_))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
        return task

    async def aclose(self) -> None:
        """Close every session, awaiting the async ones."""
        sync, async_ = self._take()
        self._close_sync(sync)
        await self._close_async(async_)


def current_scope() -> Scope:
    """The scope sessions belong to right now.

    1. the scope opened by :class:`request_scope` (the middleware opens one per
       request) — also seen by thread-pool workers, which copy the context;
    2. else, inside an asyncio task, a scope of that task, closed when the
       task ends (each Tornado request runs in its own task, so even without
       the middleware two requests never share a session);
    3. else (a script, a plain thread) this thread's default scope, closed by
       :func:`remove_sessions`.
    """
    scope = _current.get()
    if scope is not None:
        return scope
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    if task is not None:
        scope = _task_scopes.get(task)
        if scope is None:
            scope = _task_scopes[task] = Scope()
            task.add_done_callback(_close_task_scope)
        return scope
    scope = getattr(_default, "scope", None)
    if scope is None:
        scope = _default.scope = Scope()
    return scope


_task_scopes: weakref.WeakKeyDictionary[asyncio.Task[Any], Scope] = weakref.WeakKeyDictionary()


def _close_task_scope(task: asyncio.Task[Any]) -> None:
    scope = _task_scopes.pop(task, None)
    if scope is not None:
        scope.close()


class request_scope:  # noqa: N801 - used like a function, as contextlib helpers are
    """Open a fresh scope; close its sessions on exit.

    Use ``with request_scope():`` around synchronous work and
    ``async with request_scope():`` around async work (the async form awaits
    the closing of async sessions). The middleware uses :meth:`enter` and
    :meth:`exit` directly because its two hooks are separate calls.
    """

    def __init__(self) -> None:
        self.scope = Scope()
        self._token: contextvars.Token[Scope | None] | None = None

    def enter(self) -> Scope:
        self._token = _current.set(self.scope)
        return self.scope

    def _reset(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            try:
                _current.reset(token)
            except ValueError:
                # Reset from another context (a callback outside the request's
                # task): the request's context dies with its task anyway.
                pass

    def exit(self) -> asyncio.Task[None] | None:
        """Close the scope's sessions and restore the previous scope."""
        try:
            return self.scope.close()
        finally:
            self._reset()

    async def aexit(self) -> None:
        try:
            await self.scope.aclose()
        finally:
            self._reset()

    def __enter__(self) -> Scope:
        return self.enter()

    def __exit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.exit()

    async def __aenter__(self) -> Scope:
        return self.enter()

    async def __aexit__(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aexit()


def remove_sessions() -> None:
    """Close the sessions of the current scope (the default scope in a script)."""
    current_scope().close()


async def aremove_sessions() -> None:
    """Close the sessions of the current scope, awaiting async ones."""
    await current_scope().aclose()


async def wait_closed() -> None:
    """Wait until every scheduled closing of async sessions has finished."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
