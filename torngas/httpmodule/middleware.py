"""``HttpModuleMiddleware``: runs the HTTP modules chosen for each route.

Resolution happens once, in ``process_init``, for every route of the
application:

* ``COMMON_MODULES`` apply to every route (and to unmatched URLs), in order;
* ``ROUTE_MODULES`` maps a key to a list of modules. A key is a **route name**
  when a route has that name; otherwise it is a **regular expression** matched
  with :func:`re.match` (anchored at the start only; add ``$`` to anchor the
  end) **against the route's pattern as declared** (without the ``$`` Tornado
  appends), so ``'^/user/.*$'`` selects the route ``r'/user/(\\d+)'`` and
  ``'^/plain$'`` the route ``r'/plain'``. Named and unnamed routes are matched
  alike.
* ``'!path.Module'`` removes that common module from the matching routes;
  ``'!all'`` removes every common module. Naming a module that is not in
  ``COMMON_MODULES`` fails at start-up.

Per route the list is: common modules (minus exclusions), then route modules,
each once. Per request the middleware only looks the list up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Sequence
from typing import Any

from torngas._utils import import_object
from torngas.conf import settings
from torngas.exceptions import ImproperlyConfigured
from torngas.httpmodule.base import BaseHttpModule
from torngas.middleware.manager import (
    Hook,
    RequestChain,
    hook_table,
    run_hooks,
    run_isolated,
    run_request_hooks,
)

__all__ = ["HttpModuleMiddleware", "ModuleSet"]

log = logging.getLogger("torngas.httpmodule")


class ModuleSet:
    """The hook tables of one route's modules."""

    __slots__ = ("modules", "begin_request", "begin_render", "begin_response", "complete_response")

    def __init__(self, modules: Sequence[Any]) -> None:
        self.modules = tuple(modules)
        self.begin_request: tuple[Hook, ...] = hook_table(modules, "begin_request", BaseHttpModule)
        self.begin_render: tuple[Hook, ...] = hook_table(modules, "begin_render", BaseHttpModule)
        self.begin_response: tuple[Hook, ...] = hook_table(
            modules, "begin_response", BaseHttpModule
        )
        self.complete_response: tuple[Hook, ...] = hook_table(
            modules, "complete_response", BaseHttpModule
        )


def _key(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    return f"{entry.__module__}.{entry.__qualname__}"


class HttpModuleMiddleware:
    def __init__(self) -> None:
        self._instances: dict[str, Any] = {}
        self._per_rule: dict[int, ModuleSet] = {}
        self._default = ModuleSet(())

    # ------------------------------------------------------------ start-up
    def _load(self, entry: Any) -> Any:
        key = _key(entry)
        if key not in self._instances:
            cls = import_object(entry, what="HTTP module")
            if not isinstance(cls, type):
                raise ImproperlyConfigured(f"HTTP module {key!r} is not a class")
            try:
                self._instances[key] = cls()
            except Exception as exc:
                raise ImproperlyConfigured(
                    f"HTTP module {key!r} failed to initialise: {type(exc).__name__}: {exc}"
                ) from exc
        return self._instances[key]

    def process_init(self, application: Any) -> None:
        common_entries = list(settings.COMMON_MODULES or ())
        route_cfg: dict[str, Sequence[Any]] = dict(settings.ROUTE_MODULES or {})
        common = [(_key(e), self._load(e)) for e in common_entries]
        common_keys = {k for k, _ in common} | {_key(type(m)) for _, m in common}
        for key, entries in route_cfg.items():
            if isinstance(entries, str | type):
                raise ImproperlyConfigured(f"ROUTE_MODULES[{key!r}] must be a list of modules")
            for e in entries:
                if isinstance(e, str) and e.startswith("!") and e != "!all":
                    if e[1:] not in common_keys:
                        raise ImproperlyConfigured(
                            f"ROUTE_MODULES[{key!r}]: {e!r} excludes {e[1:]!r}, which is not "
                            "in COMMON_MODULES"
                        )
                elif not (isinstance(e, str) and e.startswith("!")):
                    self._load(e)
        rules = list(application.wildcard_router.rules)
        names = {r.name for r in rules if r.name}
        matchers: list[tuple[str, Any]] = []
        for key in route_cfg:
            if key in names:
                matchers.append((key, None))
            else:
                try:
                    matchers.append((key, re.compile(key)))
                except re.error as exc:
                    raise ImproperlyConfigured(
                        f"ROUTE_MODULES key {key!r} is neither a route name nor a valid "
                        f"regular expression: {exc}"
                    ) from exc
        used: set[str] = set()
        self._default = ModuleSet([m for _, m in common])
        for rule in rules:
            pattern = getattr(getattr(rule.matcher, "regex", None), "pattern", None)
            if pattern is not None and pattern.endswith("$"):
                pattern = pattern[:-1]  # as declared: Tornado appended the "$"
            excluded: set[str] = set()
            exclude_all = False
            extra: list[Any] = []
            for key, regex in matchers:
                hit = (
                    rule.name == key
                    if regex is None
                    else (pattern is not None and regex.match(pattern) is not None)
                )
                if not hit:
                    continue
                used.add(key)
                for e in route_cfg[key]:
                    if e == "!all":
                        exclude_all = True
                    elif isinstance(e, str) and e.startswith("!"):
                        excluded.add(e[1:])
                    else:
                        extra.append(self._load(e))
            modules: list[Any] = []
            if not exclude_all:
                modules = [
                    m for k, m in common if k not in excluded and _key(type(m)) not in excluded
                ]
            for m in extra:
                if m not in modules:
                    modules.append(m)
            self._per_rule[id(rule)] = ModuleSet(modules)
        for key in route_cfg:
            if key not in used:
                log.warning("ROUTE_MODULES key %r matches no route", key)

    # ---------------------------------------------------------- per request
    def modules_for(self, handler: Any) -> ModuleSet:
        rule = handler.request.__dict__.get("_torngas_rule")
        if rule is None:
            return self._default
        return self._per_rule.get(id(rule), self._default)

    def process_request(self, handler: Any, clear: RequestChain) -> Awaitable[Any] | None:
        hooks = self.modules_for(handler).begin_request
        if not hooks:
            return None
        pending = run_request_hooks(hooks, handler, clear)
        return pending  # awaited by the manager when a module was async

    def process_render(
        self, handler: Any, clear: RequestChain, template_name: str, **kwargs: Any
    ) -> None:
        hooks = self.modules_for(handler).begin_render
        if hooks:
            run_hooks(hooks, clear, handler, template_name, **kwargs)

    def process_response(self, handler: Any, clear: RequestChain, chunk: list[bytes]) -> None:
        hooks = self.modules_for(handler).begin_response
        if hooks:
            run_hooks(hooks, clear, handler, chunk)

    def process_endcall(self, handler: Any, clear: RequestChain) -> None:
        hooks = self.modules_for(handler).complete_response
        if hooks:
            run_isolated(hooks, clear, handler)
