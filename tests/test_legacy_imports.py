"""Every documented 1.8 import path works and is the same object as its real home."""

import importlib

import pytest

SAME = [
    ("torngas.settings", "torngas.conf.settings"),
    ("torngas.Server", "torngas.webserver.Server"),
    ("torngas.run", "torngas.webserver.run"),
    ("torngas.Url", "torngas.urlhelper.Url"),
    ("torngas.route", "torngas.urlhelper.route"),
    ("torngas.include", "torngas.urlhelper.include"),
    ("torngas.ConfigError", "torngas.exceptions.ImproperlyConfigured"),
    ("torngas.ArgumentError", "torngas.exceptions.ArgumentError"),
    ("torngas.exception.ConfigError", "torngas.exceptions.ImproperlyConfigured"),
    ("torngas.settings_manager.settings", "torngas.conf.settings"),
    ("torngas.handler.WebHandler", "torngas.handler.WebHandler"),
    ("torngas.handler.ApiHandler", "torngas.handler.ApiHandler"),
    ("torngas.application.Application", "torngas.application.Application"),
    ("torngas.webserver.run", "torngas.webserver.run"),
    (
        "torngas.middleware.accesslog.AccessLogMiddleware",
        "torngas.middleware.accesslog.AccessLogMiddleware",
    ),
]


def resolve(path):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("legacy,real", SAME)
def test_legacy_path_is_the_real_object(legacy, real):
    assert resolve(legacy) is resolve(real)


def test_decorators_package_does_not_shadow_submodule():
    import torngas.decorators.async_execute as m

    assert callable(m.async_execute)
    assert m.__name__ == "torngas.decorators.async_execute"
