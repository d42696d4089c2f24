"""The thread pool for blocking calls (``THREADS_NUM`` threads).

Use :func:`run_in_threadpool` (or the ``@async_execute`` decorator,
:mod:`torngas.decorators.async_execute`) for work that would block the event
loop: a blocking database driver, file I/O, CPU-bound code that releases the
GIL. The event loop keeps serving other requests while the call runs.

Guarantees:

* the caller's context variables are copied into the worker, as
  :func:`asyncio.to_thread` does, so request-scoped state (the DB session, the
  current request for logging) is seen there; changes the worker makes to them
  stay in the worker;
* the function's return value or exception is delivered to the awaiting
  coroutine (the traceback includes the worker's frames);
* at most ``THREADS_NUM`` calls run at once (default: the CPU count); more wait
  in the pool's queue.

Not guaranteed: cancelling the awaiting coroutine does not stop a call that
has started (Python threads cannot be interrupted); it only stops waiting.

The pool is torngas's own (not Tornado's resolver pool). It is built on first
use, rebuilt when ``THREADS_NUM`` changes through ``override_settings``, shut
down by :func:`shutdown` (the server calls it when it stops), and never shared
with a forked child process.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from torngas.exceptions import ImproperlyConfigured
from torngas.signal import setting_changed

__all__ = ["get_executor", "run_in_threadpool", "shutdown", "threads_num"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def threads_num() -> int:
    """The pool size: ``settings.THREADS_NUM``, or the CPU count when it is None."""
    from torngas.conf import settings

    value = settings.get("THREADS_NUM")
    if value is None:
        return os.cpu_count() or 4
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(
            f"THREADS_NUM must be a positive integer or None (the CPU count), got {value!r}"
        )
    return value


def get_executor() -> ThreadPoolExecutor:
    """The shared pool, built on first use with :func:`threads_num` threads."""
    global _executor
    executor = _executor
    if executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    max_workers=threads_num(), thread_name_prefix="torngas-pool"
                )
            executor = _executor
    return executor


def submit(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> asyncio.Future[_T]:
    """Start ``func(*args, **kwargs)`` in the pool now; return an asyncio future.

    Must be called with an event loop running in this thread. The call starts
    even if nobody awaits the future (its exception is then logged by asyncio).
    """
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, func, *args, **kwargs)
    return loop.run_in_executor(get_executor(), call)


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``func(*args, **kwargs)`` in the pool and await its result.

    Exceptions propagate to the awaiting coroutine. The event loop keeps serving
    other requests meanwhile. Works with ``await`` and with ``yield`` inside a
    ``tornado.gen.coroutine``.
    """
    return await submit(func, *args, **kwargs)


def shutdown(wait: bool = True, cancel_futures: bool = False) -> None:
    """Shut the pool down; the next use builds a new one.

    :param wait: block until the running calls have finished.
    :param cancel_futures: cancel the calls still queued (their awaiters get
        :class:`asyncio.CancelledError`) instead of running them.
    """
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=wait, cancel_futures=cancel_futures)


def _on_setting_changed(setting: str = "", **kwargs: Any) -> None:
    if setting == "THREADS_NUM":
        # Calls already submitted finish on the old pool; new ones use a new pool.
        shutdown(wait=False)


setting_changed.connect(_on_setting_changed, dispatch_uid="torngas.concurrent.threads_num")


def _reset_after_fork() -> None:  # a forked worker must not share the parent's threads
    global _executor, _lock
    _executor = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)
