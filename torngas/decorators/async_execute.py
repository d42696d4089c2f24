"""``@async_execute``: run a blocking function or method in the thread pool.

::

    from torngas.decorators.async_execute import async_execute

    class ReportHandler(WebHandler):
        async def get(self):
            rows = await self.slow_query(42)      # or: rows = yield self.slow_query(42)
            self.finish({"rows": rows})           #     inside @tornado.gen.coroutine

        @async_execute
        def slow_query(self, user_id):            # runs in a pool thread
            return blocking_db.fetch(user_id)

The decorated function starts in the pool (``THREADS_NUM`` threads, see
:mod:`torngas.concurrent`) as soon as it is called, with a copy of the caller's
context variables, and returns an :class:`asyncio.Future` for its result: await
it (or ``yield`` it in a ``tornado.gen.coroutine``) to get the value or the
exception. Called with no event loop running in the thread (a script), it
returns a :class:`concurrent.futures.Future` instead (use ``.result()``).

Keep ``torngas/decorators/__init__.py`` empty: re-exporting ``async_execute``
there would replace this submodule with the function as the package attribute.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from torngas.concurrent import get_executor, submit

__all__ = ["async_execute"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def async_execute(
    func: Callable[_P, _T],
) -> Callable[_P, asyncio.Future[_T] | concurrent.futures.Future[_T]]:
    """Decorate a blocking function or method so calling it runs it in the pool.

    Raises :class:`TypeError` for a coroutine function: it is already
    asynchronous, and running it in a thread would only hide the mistake.
    """
    if inspect.iscoroutinefunction(func):
        raise TypeError(
            f"@async_execute is for blocking functions; {func.__qualname__} is a coroutine function"
        )

    @functools.wraps(func)
    def wrapper(
        *args: _P.args, **kwargs: _P.kwargs
    ) -> asyncio.Future[_T] | concurrent.futures.Future[_T]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop in this thread
            call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
            return get_executor().submit(call)
        return submit(func, *args, **kwargs)

    return wrapper
