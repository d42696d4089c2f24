"""torngas: a Django-like application framework on top of Tornado 6."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "2.0.0.dev0"
version = __version__

if TYPE_CHECKING:
    from torngas.conf import settings  # noqa: F401
    from torngas.exceptions import ArgumentError, ConfigError  # noqa: F401
    from torngas.urlhelper import Url, include, route  # noqa: F401
    from torngas.webserver import Server, run  # noqa: F401

_LAZY = {
    "settings": ("torngas.conf", "settings"),
    "Server": ("torngas.webserver", "Server"),
    "run": ("torngas.webserver", "run"),
    "Url": ("torngas.urlhelper", "Url"),
    "route": ("torngas.urlhelper", "route"),
    "include": ("torngas.urlhelper", "include"),
    "ConfigError": ("torngas.exceptions", "ConfigError"),
    "ArgumentError": ("torngas.exceptions", "ArgumentError"),
}

__all__ = [  # noqa: F822 - resolved lazily by __getattr__
    "__version__",
    "settings",
    "Server",
    "run",
    "Url",
    "route",
    "include",
    "ConfigError",
    "ArgumentError",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'torngas' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value
