"""Builds the hook lists once and runs them per request.

Hooks are collected when the application is built, in the documented order
(``process_call``/``process_request`` declared; the rest reversed). Only
methods a middleware actually defines are listed, so an unused hook costs
nothing per request.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tornado.web import HTTPError

from torngas._utils import import_object
from torngas.exceptions import ImproperlyConfigured, MiddlewareNotUsed, TorngasError

__all__ = [
    "HOOKS",
    "MiddlewareError",
    "MiddlewareManager",
    "RequestChain",
    "hook_table",
    "run_hooks",
    "run_isolated",
    "run_async_capable",
    "run_request_hooks",
]

log = logging.getLogger("torngas.middleware")

HOOKS = (
    "process_init",
    "process_shutdown",
    "process_call",
    "process_request",
    "process_render",
    "process_response",
    "process_endcall",
    "process_exception",
)
_REVERSED = {"process_render", "process_response", "process_endcall", "process_exception"}


class MiddlewareError(TorngasError):
    """A middleware hook raised; the message names the middleware and hook."""


class RequestChain:
    """Per-request state of the chain; calling it is ``clear()``."""

    __slots__ = ("cleared",)

    def __init__(self) -> None:
        self.cleared = False

    def __call__(self) -> None:
        self.cleared = True


Hook = tuple[str, Callable[..., Any]]


def _name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


class MiddlewareManager:
    """Loads ``MIDDLEWARE_CLASSES`` and runs their hooks."""

    def __init__(self, classes: Sequence[Any]) -> None:
        self.middlewares: list[Any] = []
        for entry in classes:
            cls = import_object(entry, what="middleware")
            if not callable(cls):
                raise ImproperlyConfigured(f"middleware {entry!r} is not a class")
            try:
                instance = cls()
            except MiddlewareNotUsed as exc:
                log.debug("middleware %r not used: %s", entry, exc)
                continue
            except Exception as exc:
                raise ImproperlyConfigured(
                    f"middleware {entry!r} failed to initialise: {type(exc).__name__}: {exc}"
                ) from exc
            self.middlewares.append(instance)
        from torngas.middleware import BaseMiddleware

        hooks: dict[str, tuple[Hook, ...]] = {
            hook: hook_table(self.middlewares, hook, BaseMiddleware, reverse=hook in _REVERSED)
            for hook in HOOKS
        }
        self.init_hooks = hooks["process_init"]
        self.shutdown_hooks = hooks["process_shutdown"]
        self.call_hooks = hooks["process_call"]
        self.request_hooks = hooks["process_request"]
        self.render_hooks = hooks["process_render"]
        self.response_hooks = hooks["process_response"]
        self.endcall_hooks = hooks["process_endcall"]
        self.exception_hooks = hooks["process_exception"]
        #: True when any per-request hook exists (the handler's fast path checks it).
        self.active = any(hooks[h] for h in HOOKS if h != "process_init")
        self._initialised = False

    # ------------------------------------------------------------------ init
    def run_init(self, application: Any) -> None:
        """Run every ``process_init`` once (idempotent)."""
        if self._initialised:
            return
        self._initialised = True
        for name, fn in self.init_hooks:
            try:
                fn(application)
            except Exception as exc:
                raise ImproperlyConfigured(f"{name} failed: {type(exc).__name__}: {exc}") from exc

    async def run_shutdown(self, application: Any) -> None:
        """Run every ``process_shutdown`` (reverse order; awaited if async; one
        failing does not stop the others)."""
        for name, fn in reversed(self.shutdown_hooks):
            try:
                result = fn(application)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("hook %s raised", name)

    # ----------------------------------------------------------- per request
    def run_call(self, request: Any, chain: RequestChain) -> None:
        run_hooks(self.call_hooks, chain, request)

    def run_request(self, handler: Any, chain: RequestChain) -> Awaitable[Any] | None:
        """Run ``process_request`` hooks; returns an awaitable only if a hook is async."""
        return run_request_hooks(self.request_hooks, handler, chain)

    def run_render(
        self, handler: Any, chain: RequestChain, template_name: str, kwargs: Any
    ) -> None:
        run_hooks(self.render_hooks, chain, handler, template_name, **kwargs)

    def run_response(
        self, handler: Any, chain: RequestChain, chunk: list[bytes]
    ) -> Awaitable[Any] | None:
        """Run ``process_response`` hooks; an awaitable when one of them is async."""
        return run_async_capable(self.response_hooks, chain, handler, chunk)

    def run_endcall(self, handler: Any, chain: RequestChain) -> None:
        """Every hook runs even if one raises (each failure is logged by name)."""
        run_isolated(self.endcall_hooks, chain, handler)

    def run_exception(
        self, handler: Any, chain: RequestChain, typ: Any, value: Any, tb: Any
    ) -> bool:
        """True when a hook handled the exception (returned truthy)."""
        return run_isolated(self.exception_hooks, chain, handler, typ, value, tb)


# ---------------------------------------------------------------- runners
# Shared by the middleware manager and the HTTP modules. ``hooks`` is a tuple of
# ``(dotted name, bound method)``; each is called as ``fn(target, clear, *args)``.


def run_hooks(
    hooks: tuple[Hook, ...], chain: RequestChain, target: Any, *args: Any, **kwargs: Any
) -> bool:
    """Call hooks in order until one returns truthy (True) or ``clear()`` was called.

    A hook that raises stops the chain with :class:`MiddlewareError` naming it.
    """
    for name, fn in hooks:
        if chain.cleared:
            return True
        try:
            if fn(target, chain, *args, **kwargs):
                return True
        except HTTPError:
            raise  # a deliberate answer (e.g. 403, 503), not a failure of the hook
        except Exception as exc:
            raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc
    return False


def run_isolated(hooks: tuple[Hook, ...], chain: RequestChain, target: Any, *args: Any) -> bool:
    """Like :func:`run_hooks`, but a hook that raises is logged and the next runs."""
    for name, fn in hooks:
        if chain.cleared:
            return False
        try:
            if fn(target, chain, *args):
                return True
        except Exception:
            log.exception("hook %s raised", name)
    return False


def run_request_hooks(
    hooks: tuple[Hook, ...], handler: Any, chain: RequestChain
) -> Awaitable[Any] | None:
    """Run request-phase hooks, which may be coroutines. Stops at a truthy
    return, ``clear()`` or a finished handler. Returns an awaitable only when
    a hook was asynchronous (the synchronous path allocates nothing)."""
    return run_async_capable(hooks, chain, handler, stop_when_finished=True)


def run_async_capable(
    hooks: tuple[Hook, ...],
    chain: RequestChain,
    target: Any,
    *args: Any,
    stop_when_finished: bool = False,
) -> Awaitable[Any] | None:
    """Like :func:`run_hooks` for hooks that may return awaitables: runs
    synchronously until a hook returns one, then returns a coroutine that awaits
    it and runs the rest. :class:`tornado.web.HTTPError` passes through."""
    for i, (name, fn) in enumerate(hooks):
        if chain.cleared or (stop_when_finished and target._finished):
            return None
        try:
            result = fn(target, chain, *args)
        except HTTPError:
            raise
        except Exception as exc:
            raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc
        if result is None:  # the common case; isawaitable() is not free
            continue
        if inspect.isawaitable(result):
            return _continue(hooks[i + 1 :], chain, target, args, name, result, stop_when_finished)
        if result:
            return None
    return None


async def _continue(
    hooks: tuple[Hook, ...],
    chain: RequestChain,
    target: Any,
    args: tuple[Any, ...],
    name: str,
    pending: Awaitable[Any],
    stop_when_finished: bool,
) -> None:
    try:
        result = await pending
    except HTTPError:
        raise
    except Exception as exc:
        raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc
    if result:
        return
    rest = run_async_capable(hooks, chain, target, *args, stop_when_finished=stop_when_finished)
    if rest is not None:
        await rest


def hook_table(
    objects: Any, hook: str, base: type | None, reverse: bool = False
) -> tuple[Hook, ...]:
    """``(name, bound method)`` for each object defining ``hook`` (not ``base``'s no-op)."""
    ordered = reversed(list(objects)) if reverse else objects
    table = []
    for obj in ordered:
        fn = getattr(obj, hook, None)
        if not callable(fn):
            continue
        if base is not None and getattr(type(obj), hook, None) is getattr(base, hook, None):
            continue
        table.append((f"{_name(obj)}.{hook}", fn))
    return tuple(table)
