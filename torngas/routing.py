"""A router that keeps Tornado's matching rules but does not scan every route.

Tornado tries each rule's regex in order, so the cost of a request grows with the
number of routes (1000 routes cost ~2x a 10-route app). :class:`IndexedRouter`
gives the same answer — the first rule in declared order whose pattern matches —
while trying only the rules that *can* match: each pattern's literal prefix is
read once at start-up, and a pattern whose prefix fixes the first path segment
(``/user/…``, or the whole literal path ``/plaintext``) is filed under that
segment. A request tries the rules filed under its first segment merged, in
declared order, with the rules that could match any path (regexes that start
early, alternations, inline flags). A pattern that is a whole literal path
(``/plaintext``) whose rule is, for that very path, the first that matches is
also found by one dictionary look-up (worked out at start-up by trying that
path against the rules before it). Nothing is cached per request path, so the
memory does not grow with the traffic.

For an application's router the usual rule (a plain ``PathMatches`` and a
``RequestHandler`` class) is also *dispatched* here: the matched rule's
delegate is built directly (see :class:`IndexedRouterMixin`), and
``Application.find_handler`` asks this router first when there are no host
rules, so a request goes from the index to its handler's delegate in one step.
"""

from __future__ import annotations

import asyncio
import re
from contextvars import copy_context
from typing import Any

from tornado.ioloop import IOLoop
from tornado.routing import PathMatches, Rule, _unquote_or_none
from tornado.web import _HandlerDelegate

__all__ = ["HandlerDelegate", "IndexedRouter", "literal_prefix", "segment_key"]

_get_running_loop = asyncio._get_running_loop  # noqa: SLF001 - None outside a loop
#: Where Tornado keeps a strong reference to each handler task it starts.
_PENDING_TASKS: set[Any] = IOLoop._pending_tasks  # noqa: SLF001
_META = set(".^$*+?{}[]|()\\")
_QUANT = set("*+?{")
#: Escapes that stand for one literal character.
_LITERAL_ESCAPES = set("/.-_~!@#%&=:;,'\"<>`")


def literal_prefix(pattern: str) -> tuple[str, bool]:
    """The literal text every match of ``pattern`` starts with, and whether the
    pattern is *only* that literal (followed by ``$``).

    Conservative: when in doubt the prefix is shorter (``"/users?/"`` gives
    ``"/user"``, since ``s`` is optional).
    """
    if "|" in pattern or pattern.startswith("(?"):
        return "", False
    if pattern.startswith("^"):
        pattern = pattern[1:]
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 < n and pattern[i + 1] in _LITERAL_ESCAPES:
                lit, step = pattern[i + 1], 2
            else:
                break
        elif ch in _META:
            break
        else:
            lit, step = ch, 1
        if i + step < n and pattern[i + step] in _QUANT:
            break  # this character is optional or repeated
        out.append(lit)
        i += step
    rest = pattern[i:]
    return "".join(out), rest in ("$", "")


def segment_key(path: str) -> str:
    """The first segment of a request path: ``/user/42`` → ``user``."""
    end = path.find("/", 1)
    return path[1:] if end < 0 else path[1:end]


def _rule_key(rule: Rule) -> str | None:
    """The first path segment every path this rule matches has, or None."""
    matcher = rule.matcher
    if type(matcher) is not PathMatches:
        return None
    regex = matcher.regex
    if regex.flags & re.IGNORECASE:
        return None
    prefix, complete = literal_prefix(regex.pattern)
    if not prefix.startswith("/"):
        return None
    end = prefix.find("/", 1)
    if end >= 0:
        return prefix[1:end]
    return prefix[1:] if complete else None


class IndexedRouterMixin:
    """Replaces ``RuleRouter.find_handler``'s linear scan (see the module doc).

    When the router belongs to an application (Tornado's ``_ApplicationRouter``)
    whose ``get_handler_delegate`` is Tornado's, a rule with a plain
    ``PathMatches`` matcher and a ``RequestHandler`` class as target is
    dispatched directly: its regex is matched, the path arguments decoded as
    ``PathMatches.match`` does, and the application's delegate built with what
    was read from the rule at start-up (no ``get_target_delegate`` hops). Any
    other rule (host matchers, nested routers, callables, custom matchers) goes
    through Tornado's ``get_target_delegate`` as before.
    """

    rules: list[Rule]
    _index: dict[str, tuple[_Entry, ...]] | None = None
    _anywhere: tuple[_Entry, ...] = ()
    #: literal path -> (rule, make, handler_class, stream) of the rule that
    #: answers exactly that path (see :func:`_exact_paths`).
    _exact: dict[str, tuple[Rule, Any, Any, bool]] = {}  # noqa: RUF012 - replaced, never mutated

    def _build_index(self) -> dict[str, tuple[_Entry, ...]]:
        buckets: dict[str, list[tuple[int, _Entry]]] = {}
        anywhere: list[tuple[int, _Entry]] = []
        make = self._direct_factory()
        for pos, rule in enumerate(self.rules):
            entry = _entry(rule, make)
            key = _rule_key(rule)
            if key is None:
                anywhere.append((pos, entry))
            else:
                buckets.setdefault(key, []).append((pos, entry))
        index = {
            key: tuple(e for _, e in sorted(items + anywhere, key=lambda item: item[0]))
            for key, items in buckets.items()
        }
        self._anywhere = tuple(e for _, e in anywhere)
        self._exact = _exact_paths(index, self._anywhere)
        self._index = index
        return index

    def _direct_factory(self) -> Any:
        """``make(request, handler_class, kwargs, args, path_kwargs, stream)``
        building the application's delegate, or None when rules must go
        through ``get_target_delegate`` (not an application router, or an
        application with its own ``get_handler_delegate``)."""
        app = getattr(self, "application", None)
        if app is None:
            return None
        factory = getattr(app, "direct_delegate_factory", None)
        return factory() if factory is not None else None

    def add_rules(self, rules: Any) -> None:
        super().add_rules(rules)  # type: ignore[misc]
        self._index = None

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        index = self._index
        if index is None:
            index = self._build_index()
        path = request.path
        hit = self._exact.get(path)
        if hit is not None:
            rule, make, handler_class, stream = hit
            request._torngas_rule = rule  # which route matched (HTTP modules use it)
            return make(request, handler_class, rule.target_kwargs or {}, [], {}, stream)
        end = path.find("/", 1)
        candidates = index.get(path[1:] if end < 0 else path[1:end])
        if candidates is None:
            if end < 0 and path.endswith("\n"):
                # A pattern's "$" also matches before a final newline.
                candidates = index.get(path[1:-1], self._anywhere)
            else:
                candidates = self._anywhere
        for rule, match, groups, make, handler_class, stream in candidates:
            if match is not None:
                found = match(path)
                if found is None:
                    continue
                request._torngas_rule = rule  # which route matched (HTTP modules use it)
                tkw = rule.target_kwargs or {}
                if groups == 0:
                    return make(request, handler_class, tkw, [], {}, stream)
                if groups > 0:
                    return make(
                        request,
                        handler_class,
                        tkw,
                        [_unquote_or_none(s) for s in found.groups()],
                        {},
                        stream,
                    )
                return make(
                    request,
                    handler_class,
                    tkw,
                    [],
                    {str(k): _unquote_or_none(v) for k, v in found.groupdict().items()},
                    stream,
                )
            target_params = rule.matcher.match(request)
            if target_params is not None:
                request._torngas_rule = rule
                if rule.target_kwargs:
                    target_params["target_kwargs"] = rule.target_kwargs
                delegate = self.get_target_delegate(  # type: ignore[attr-defined]
                    rule.target, request, **target_params
                )
                if delegate is not None:
                    return delegate
        return None


#: ``(rule, regex.match or None, groups, make, handler_class, stream_request_body)``;
#: groups: 0 none, > 0 positional, -1 named.
_Entry = tuple[Rule, Any, int, Any, Any, bool]


_PLAIN_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE


def _exact_paths(
    index: dict[str, tuple[_Entry, ...]], anywhere: tuple[_Entry, ...]
) -> dict[str, tuple[Rule, Any, Any, bool]]:
    """For each directly dispatched rule without groups whose pattern is one
    literal path: that path, if this rule is what ``find_handler``'s scan
    would pick for it. The scan is replayed once here, on the literal path: the
    candidates are tried in order, and a rule whose matcher needs more than the
    path (host rules, custom matchers, nested routers) ends the replay, since
    its answer depends on the request."""
    exact: dict[str, tuple[Rule, Any, Any, bool]] = {}
    seen: set[str] = set()
    for entries in (*index.values(), anywhere):
        for rule, match, groups, *_ in entries:
            if match is None or groups != 0:
                continue
            regex = rule.matcher.regex
            if regex.flags & _PLAIN_FLAGS:
                continue
            path, complete = literal_prefix(regex.pattern)
            if not complete or not path.startswith("/") or path in seen:
                continue
            seen.add(path)
            for cand in index.get(segment_key(path), anywhere):
                if cand[1] is None:
                    break  # depends on more than the path
                if cand[1](path) is not None:
                    if cand[2] == 0:
                        exact[path] = (cand[0], cand[3], cand[4], cand[5])
                    break
    return exact


def _entry(rule: Rule, make: Any) -> _Entry:
    """How :meth:`IndexedRouterMixin.find_handler` tries ``rule``."""
    from tornado.web import RequestHandler, _has_stream_request_body

    matcher = rule.matcher
    target = rule.target
    if (
        make is None
        or type(matcher) is not PathMatches
        or not isinstance(target, type)
        or not issubclass(target, RequestHandler)
    ):
        return (rule, None, 0, None, None, False)
    regex = matcher.regex
    groups = 0 if not regex.groups else -1 if regex.groupindex else regex.groups
    return (rule, regex.match, groups, make, target, _has_stream_request_body(target))


class HandlerDelegate(_HandlerDelegate):
    """Tornado's ``_HandlerDelegate`` with a cheaper ``execute`` for the usual
    request (template and static caches on, no ``@stream_request_body``, on
    a running loop): no settings look-ups, and

    - a torngas handler's steps run at once, in a copy of the current context
      (as a task of their own would), up to the first one that has to wait
      (``WebHandler._execute_now``): a handler that never waits costs no task;
      the rest, if any, becomes a task in that same context;
    - any other handler's coroutine becomes a task of the running loop directly,
      as ``gen.convert_yielded`` makes it.

    A task is kept in ``IOLoop._pending_tasks`` until done; an exception
    escaping it is raised in its done callback, for the loop to log."""

    def execute(self) -> Any:
        app = self.application
        loop = _get_running_loop()
        if self.stream_request_body or loop is None or not getattr(app, "_fast_delegate", False):
            return super().execute()
        request = self.request
        handler = self.handler = self.handler_class(app, request, **self.handler_kwargs)
        factories = app.transforms
        transforms = [t(request) for t in factories] if factories else []
        if getattr(handler, "_execute_now_ok", False):
            context = copy_context()
            rest = context.run(
                handler._execute_now,  # noqa: SLF001
                transforms,
                self.path_args,
                self.path_kwargs,
            )
            if rest is None:
                return None
            task = loop.create_task(rest, context=context)
        else:
            task = loop.create_task(
                handler._execute(transforms, *self.path_args, **self.path_kwargs)  # noqa: SLF001
            )
        _PENDING_TASKS.add(task)
        task.add_done_callback(_task_done)
        return None


def _task_done(fut: asyncio.Future[Any]) -> None:
    # Tornado's two callbacks: IOLoop._unregister_task, then
    # ``lambda f: f.cancelled() or f.result()`` (an exception that escaped
    # _execute is raised here, and so logged by the loop).
    _PENDING_TASKS.discard(fut)
    if not fut.cancelled():
        fut.result()


def make_indexed_router(base: type) -> type:
    """An ``IndexedRouter`` class over Tornado's router class ``base``."""
    return type("IndexedRouter", (IndexedRouterMixin, base), {})


def _application_router() -> type:
    from tornado.web import _ApplicationRouter  # noqa: PLC2701 - the class Application uses

    return make_indexed_router(_ApplicationRouter)


IndexedRouter: type = _application_router()
