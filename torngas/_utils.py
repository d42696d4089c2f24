"""Small internal helpers (stdlib and tornado.util only)."""

from __future__ import annotations

import importlib
from typing import Any

from torngas.exceptions import ImproperlyConfigured


def import_object(dotted: str | Any, *, what: str = "object") -> Any:
    """Import ``package.module.Name`` (or a module) from a dotted path.

    Objects that are not strings are returned unchanged, so settings may hold
    either a class or its dotted path. Failures raise
    :class:`~torngas.exceptions.ImproperlyConfigured` naming the path and cause.
    """
    if not isinstance(dotted, str):
        return dotted
    if not dotted or dotted.startswith(".") or dotted.endswith("."):
        raise ImproperlyConfigured(f"{what} path {dotted!r} is not a dotted path")
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        # Only fall through when it is *this* path that is missing, not
        # something the module itself imports.
        if exc.name is None or not (dotted == exc.name or dotted.startswith(exc.name + ".")):
            raise ImproperlyConfigured(
                f"cannot import {what} {dotted!r}: {type(exc).__name__}: {exc}"
            ) from exc
    except Exception as exc:
        raise ImproperlyConfigured(
            f"cannot import {what} {dotted!r}: {type(exc).__name__}: {exc}"
        ) from exc
    module_path, _, name = dotted.rpartition(".")
    if not module_path:
        raise ImproperlyConfigured(f"cannot import {what} {dotted!r}: no module named {dotted!r}")
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"cannot import {what} {dotted!r}: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        return getattr(module, name)
    except AttributeError:
        raise ImproperlyConfigured(
            f"cannot import {what} {dotted!r}: module {module_path!r} has no attribute {name!r}"
        ) from None
