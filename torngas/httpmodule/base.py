"""``BaseHttpModule``: per-route hooks, configured by ``COMMON_MODULES`` and ``ROUTE_MODULES``."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from torngas.middleware import Clear

__all__ = ["BaseHttpModule"]


class BaseHttpModule:
    """An HTTP module: like a middleware, but chosen per route.

    Override any of the four hooks (only overridden hooks are run). One instance
    of each module class serves every request. Phases map onto the middleware
    lifecycle (see :mod:`torngas.middleware`); ``HttpModuleMiddleware`` must be
    in ``MIDDLEWARE_CLASSES``. Unlike middleware, modules run in declared order in
    *every* phase, common modules first. A truthy return skips the remaining
    modules' same hook; ``clear()`` drops every remaining hook (modules and
    middleware) for this request.
    """

    def begin_request(self, handler: Any, clear: Clear) -> Any | Awaitable[Any]:
        """Step 3 (``process_request``). May be ``async def``. May ``finish()`` the
        response (then return truthy): the handler method does not run."""

    def begin_render(self, handler: Any, clear: Clear, template_name: str, **kwargs: Any) -> Any:
        """Step 4 (``process_render``): before a template is rendered. Synchronous."""

    def begin_response(self, handler: Any, clear: Clear, chunk: list[bytes]) -> Any:
        """Step 5 (``process_response``): before the response is written; may set
        headers and rewrite ``chunk``. Synchronous."""

    def complete_response(self, handler: Any, clear: Clear) -> Any:
        """Step 6 (``process_endcall``): after the response was sent. A module that
        raises here is logged and the others still run."""
