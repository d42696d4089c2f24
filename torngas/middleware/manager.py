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

from torngas._utils import import_object
from torngas.exceptions import ImproperlyConfigured, MiddlewareNotUsed, TorngasError

__all__ = ["MiddlewareManager", "MiddlewareError", "RequestChain", "HOOKS"]

log = logging.getLogger("torngas.middleware")

HOOKS = (
    "process_init",
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
        hooks: dict[str, tuple[Hook, ...]] = {}
        for hook in HOOKS:
            ordered = reversed(self.middlewares) if hook in _REVERSED else self.middlewares
            hooks[hook] = tuple(
                (f"{_name(m)}.{hook}", getattr(m, hook))
                for m in ordered
                if callable(getattr(m, hook, None)) and not _is_base_noop(m, hook)
            )
        self.init_hooks = hooks["process_init"]
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

    # ------------------------------------------------------------------ call
    def run_call(self, request: Any, chain: RequestChain) -> None:
        for name, fn in self.call_hooks:
            if chain.cleared:
                return
            try:
                if fn(request, chain):
                    return
            except Exception as exc:
                raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc

    # --------------------------------------------------------------- request
    def run_request(self, handler: Any, chain: RequestChain) -> Awaitable[Any] | None:
        """Run ``process_request`` hooks; returns an awaitable only if a hook is async."""
        hooks = self.request_hooks
        for i, (name, fn) in enumerate(hooks):
            if chain.cleared or handler._finished:
                return None
            try:
                result = fn(handler, chain)
            except Exception as exc:
                raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc
            if inspect.isawaitable(result):
                return self._continue_request(handler, chain, name, result, i + 1)
            if result:
                return None
        return None

    async def _continue_request(
        self, handler: Any, chain: RequestChain, name: str, pending: Awaitable[Any], start: int
    ) -> None:
        try:
            result = await pending
        except Exception as exc:
            raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc
        if result:
            return
        for name, fn in self.request_hooks[start:]:
            if chain.cleared or handler._finished:
                return
            try:
                result = fn(handler, chain)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:
                raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc
            if result:
                return

    # ---------------------------------------------------- render / response
    def run_render(
        self, handler: Any, chain: RequestChain, template_name: str, kwargs: Any
    ) -> None:
        for name, fn in self.render_hooks:
            if chain.cleared:
                return
            try:
                if fn(handler, chain, template_name, **kwargs):
                    return
            except Exception as exc:
                raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc

    def run_response(self, handler: Any, chain: RequestChain, chunk: list[bytes]) -> None:
        for name, fn in self.response_hooks:
            if chain.cleared:
                return
            try:
                if fn(handler, chain, chunk):
                    return
            except Exception as exc:
                raise MiddlewareError(f"{name} raised {type(exc).__name__}: {exc}") from exc

    # ----------------------------------------------------- endcall / exception
    def run_endcall(self, handler: Any, chain: RequestChain) -> None:
        """Every hook runs even if one raises (each failure is logged by name)."""
        for name, fn in self.endcall_hooks:
            if chain.cleared:
                return
            try:
                if fn(handler, chain):
                    return
            except Exception:
                log.exception("middleware hook %s raised", name)

    def run_exception(
        self, handler: Any, chain: RequestChain, typ: Any, value: Any, tb: Any
    ) -> bool:
        """True when a hook handled the exception (returned truthy)."""
        for name, fn in self.exception_hooks:
            if chain.cleared:
                return False
            try:
                if fn(handler, chain, typ, value, tb):
                    return True
            except Exception:
                log.exception("middleware hook %s raised while handling %r", name, value)
        return False


def _is_base_noop(middleware: object, hook: str) -> bool:
    """True when ``hook`` is BaseMiddleware's documented no-op (not overridden)."""
    from torngas.middleware import BaseMiddleware

    fn = getattr(type(middleware), hook, None)
    return fn is getattr(BaseMiddleware, hook, None)
