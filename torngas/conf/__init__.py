"""Lazy settings, as in Django.

``from torngas import settings`` gives a proxy. Nothing is read until the first
attribute access; then the settings module is chosen, in this order:

1. :func:`LazySettings.configure` (``Server.parse_command`` calls it for
   ``--settings=``; tests call it through :func:`override_settings`),
2. the ``TORNGAS_APP_SETTINGS`` environment variable,
3. only the defaults in :mod:`torngas.conf.global_settings`.

The user's module overrides the defaults name by name (UPPER_CASE names only).
Reading a name that neither defines raises
:class:`~torngas.exceptions.SettingNotFound`, which names the setting and the
module that was searched.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

from torngas.conf import global_settings
from torngas.exceptions import ImproperlyConfigured, SettingNotFound

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "LazySettings",
    "Settings",
    "settings",
    "override_settings",
]

ENVIRONMENT_VARIABLE = "TORNGAS_APP_SETTINGS"

_F = TypeVar("_F", bound=Callable[..., Any])


def _upper_names(module: ModuleType | type | object) -> Iterator[str]:
    for name in dir(module):
        if name.isupper() and not name.startswith("_"):
            yield name


class Settings:
    """Defaults from :mod:`global_settings` overridden by one user module."""

    def __init__(self, settings_module: str | None = None, **options: Any) -> None:
        for name in _upper_names(global_settings):
            setattr(self, name, getattr(global_settings, name))
        self.SETTINGS_MODULE = settings_module
        self._explicit: set[str] = set()
        if settings_module:
            module = self._import(settings_module)
            for name in _upper_names(module):
                setattr(self, name, getattr(module, name))
                self._explicit.add(name)
        for name, value in options.items():
            if not name.isupper():
                raise ImproperlyConfigured(f"setting names are UPPER_CASE; got {name!r}")
            setattr(self, name, value)
            self._explicit.add(name)
        if self.PROJECT_PATH is None:
            self.PROJECT_PATH = _guess_project_path(settings_module)
        if not isinstance(self.INSTALLED_APPS, list | tuple):
            raise ImproperlyConfigured(
                f"INSTALLED_APPS must be a list or tuple, not {type(self.INSTALLED_APPS).__name__}"
            )
        if not isinstance(self.MIDDLEWARE_CLASSES, list | tuple):
            raise ImproperlyConfigured(
                "MIDDLEWARE_CLASSES must be a list or tuple, "
                f"not {type(self.MIDDLEWARE_CLASSES).__name__}"
            )

    @staticmethod
    def _import(name: str) -> ModuleType:
        try:
            return importlib.import_module(name)
        except Exception as exc:
            hint = ""
            if isinstance(exc, ModuleNotFoundError) and exc.name and name.startswith(exc.name):
                hint = (
                    " (is the project directory on sys.path? run from the directory "
                    "that holds runserver.py, or set PYTHONPATH)"
                )
            raise ImproperlyConfigured(
                f"cannot import settings module {name!r}: {type(exc).__name__}: {exc}{hint}"
            ) from exc

    def is_overridden(self, name: str) -> bool:
        return name in self._explicit

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails.
        if name.startswith("__"):
            raise AttributeError(name)
        where = (
            f"settings module {self.SETTINGS_MODULE!r}"
            if self.SETTINGS_MODULE
            else (f"the defaults (no settings module: use --settings= or {ENVIRONMENT_VARIABLE})")
        )
        raise SettingNotFound(f"setting {name!r} is not defined in {where}")

    def __repr__(self) -> str:
        return f"<Settings {self.SETTINGS_MODULE!r}>"


def _guess_project_path(settings_module: str | None) -> str:
    if settings_module:
        try:
            top = importlib.import_module(settings_module.split(".")[0])
        except Exception:  # already reported by _import
            return os.getcwd()
        path = getattr(top, "__file__", None)
        if path:
            path = os.path.dirname(os.path.abspath(path))
            # a package `settings/__init__.py` lives one directory below the project
            if os.path.basename(path) == settings_module.split(".")[0]:
                return os.path.dirname(path)
            return path
    return os.getcwd()


class LazySettings:
    """The ``settings`` proxy. Attribute reads are cached after the first."""

    _wrapped: Settings | None = None

    def __init__(self) -> None:
        self.__dict__["_wrapped"] = None
        self.__dict__["_module"] = None

    # -- set-up -----------------------------------------------------------
    def _setup(self) -> Settings:
        module = self.__dict__["_module"] or os.environ.get(ENVIRONMENT_VARIABLE) or None
        wrapped = Settings(module)
        self.__dict__["_wrapped"] = wrapped
        return wrapped

    def configure(self, settings_module: str | None = None, **options: Any) -> None:
        """Choose the settings module (and optional overrides) explicitly.

        Called by ``Server.parse_command`` for ``--settings=``; may be called
        again (e.g. by tests) to start from a fresh :class:`Settings`.
        """
        self._clear_cache()
        self.__dict__["_module"] = settings_module
        self.__dict__["_wrapped"] = Settings(
            settings_module or os.environ.get(ENVIRONMENT_VARIABLE) or None, **options
        )

    def reset(self) -> None:
        """Forget the loaded settings; the next read sets them up again."""
        self._clear_cache()
        self.__dict__["_module"] = None
        self.__dict__["_wrapped"] = None

    @property
    def configured(self) -> bool:
        return self.__dict__["_wrapped"] is not None

    def _clear_cache(self) -> None:
        for name in [n for n in self.__dict__ if n.isupper()]:
            del self.__dict__[name]

    # -- access -----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        wrapped = self.__dict__["_wrapped"] or self._setup()
        value = getattr(wrapped, name)
        if name.isupper():
            self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        wrapped = self.__dict__["_wrapped"] or self._setup()
        setattr(wrapped, name, value)
        self.__dict__.pop(name, None)

    def __delattr__(self, name: str) -> None:
        raise TypeError("settings cannot be deleted; use override_settings in tests")

    def __dir__(self) -> list[str]:
        wrapped = self.__dict__["_wrapped"] or self._setup()
        return sorted(_upper_names(wrapped))

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def __repr__(self) -> str:
        wrapped = self.__dict__["_wrapped"]
        return f"<LazySettings {'unconfigured' if wrapped is None else repr(wrapped)}>"


settings = LazySettings()


class _OverrideHolder:
    """A :class:`Settings` stand-in: overrides first, then the one underneath."""

    def __init__(self, base: Settings, overrides: dict[str, Any]) -> None:
        self.__dict__["_base"] = base
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_base"], name)

    def is_overridden(self, name: str) -> bool:
        return name in self.__dict__ or self.__dict__["_base"].is_overridden(name)


class override_settings(contextlib.ContextDecorator):
    """Override settings for a ``with`` block, a test function or a test class.

    Sends ``torngas.signal.setting_changed`` for every changed name on enter and
    exit, so caches and other lazily built objects reset themselves.
    """

    def __init__(self, **overrides: Any) -> None:
        self.overrides = overrides
        self._saved: list[Any] = []

    def __enter__(self) -> override_settings:
        base = settings.__dict__["_wrapped"] or settings._setup()
        self._saved.append(base)
        settings._clear_cache()
        settings.__dict__["_wrapped"] = _OverrideHolder(base, self.overrides)
        self._notify(enter=True)
        return self

    def __exit__(self, *exc: object) -> None:
        settings._clear_cache()
        settings.__dict__["_wrapped"] = self._saved.pop()
        self._notify(enter=False)

    def _notify(self, *, enter: bool) -> None:
        try:
            from torngas.signal import setting_changed
        except ImportError:  # pragma: no cover - signal module always ships
            return
        for name, value in self.overrides.items():
            setting_changed.send_robust(
                sender=settings.__class__,
                setting=name,
                value=value if enter else getattr(settings, name, None),
                enter=enter,
            )

    def __call__(self, func: _F) -> _F:  # type: ignore[override]
        if inspect.isclass(func):
            return self._decorate_class(func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def inner(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)

            return inner  # type: ignore[return-value]
        return super().__call__(func)

    def _recreate_cm(self) -> override_settings:
        return override_settings(**self.overrides)

    def _decorate_class(self, cls: type) -> type:
        if hasattr(cls, "setUp") and hasattr(cls, "tearDown"):
            orig_setup, orig_teardown = cls.setUp, cls.tearDown
            overrides = self.overrides

            def setUp(inner_self: Any) -> None:  # noqa: N802
                cm = override_settings(**overrides)
                cm.__enter__()
                inner_self._torngas_override = getattr(inner_self, "_torngas_override", [])
                inner_self._torngas_override.append(cm)
                orig_setup(inner_self)

            def tearDown(inner_self: Any) -> None:  # noqa: N802
                try:
                    orig_teardown(inner_self)
                finally:
                    inner_self._torngas_override.pop().__exit__(None, None, None)

            cls.setUp = setUp  # type: ignore[attr-defined]
            cls.tearDown = tearDown  # type: ignore[attr-defined]
            return cls
        for name, attr in list(vars(cls).items()):
            if name.startswith("test") and callable(attr):
                setattr(cls, name, self._recreate_cm()(attr))
        return cls
