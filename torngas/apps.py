"""Installed apps: each app in ``INSTALLED_APPS`` contributes the routes of its ``urls.py``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from tornado.web import URLSpec

from torngas.exceptions import ImproperlyConfigured, UrlError
from torngas.urlhelper import route

__all__ = ["load_app_urls", "load_urls", "check_routes"]


def load_app_urls(app: str) -> list[URLSpec]:
    """Import ``<app>.urls`` and return its ``urls`` (or ``URLS``) list."""
    if not isinstance(app, str) or not app:
        raise ImproperlyConfigured(f"INSTALLED_APPS entries are dotted module names; got {app!r}")
    try:
        importlib.import_module(app)
    except ModuleNotFoundError as exc:
        if exc.name and app.startswith(exc.name):
            raise ImproperlyConfigured(
                f"installed app {app!r} cannot be imported: no module named {exc.name!r} "
                "(is the project directory on sys.path?)"
            ) from exc
        raise ImproperlyConfigured(
            f"installed app {app!r} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        raise ImproperlyConfigured(
            f"installed app {app!r} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    module_name = f"{app}.urls"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise UrlError(
                f"installed app {app!r} has no urls.py (expected module {module_name!r})"
            ) from exc
        raise UrlError(f"{module_name}: {type(exc).__name__}: {exc}") from exc
    except UrlError as exc:
        raise UrlError(f"{module_name}: {exc}") from exc
    except Exception as exc:
        raise UrlError(f"{module_name} failed to import: {type(exc).__name__}: {exc}") from exc
    urls: Any = getattr(module, "urls", None)
    if urls is None:
        urls = getattr(module, "URLS", None)
    if urls is None:
        raise UrlError(f"{module_name} defines neither 'urls' nor 'URLS'")
    try:
        return route(*urls)
    except UrlError as exc:
        raise UrlError(f"{module_name}: {exc}") from exc


def load_urls(installed_apps: Sequence[str]) -> list[URLSpec]:
    """Routes of every installed app, in order; checks names are unique."""
    routes: list[URLSpec] = []
    origin: dict[int, str] = {}
    for app in installed_apps:
        for spec in load_app_urls(app):
            origin[id(spec)] = app
            routes.append(spec)
    check_routes(routes, origin)
    return routes


def check_routes(routes: Sequence[URLSpec], origin: dict[int, str] | None = None) -> None:
    seen: dict[str, URLSpec] = {}
    origin = origin or {}
    for spec in routes:
        if spec.name is None:
            continue
        if spec.name in seen:
            first = seen[spec.name]
            a = origin.get(id(first), "?")
            b = origin.get(id(spec), "?")
            raise UrlError(
                f"duplicate route name {spec.name!r}: {first.regex.pattern!r} (app {a!r}) "
                f"and {spec.regex.pattern!r} (app {b!r})"
            )
        seen[spec.name] = spec
