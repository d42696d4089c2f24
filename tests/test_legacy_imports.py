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
    ("torngas.middleware.session.SignalMiddleware", "torngas.middleware.signal.SignalMiddleware"),
    (
        "torngas.mixins.flash_message.FlashMessageMixIn",
        "torngas.mixins.flash_message.FlashMessageMixIn",
    ),
    (
        "torngas.middleware.session.SessionMiddleware",
        "torngas.middleware.session.SessionMiddleware",
    ),
    (
        "torngas.httpmodule.httpmodule.HttpModuleMiddleware",
        "torngas.httpmodule.middleware.HttpModuleMiddleware",
    ),
    ("torngas.httpmodule.BaseHttpModule", "torngas.httpmodule.base.BaseHttpModule"),
    (
        "torngas.cache.backends.rediscache.RedisCache",
        "torngas.cache.backends.rediscache.RedisCache",
    ),
    (
        "torngas.cache.backends.rediscache.RedisClient",
        "torngas.cache.backends.rediscache.RedisClient",
    ),
    (
        "torngas.cache.backends.memcached.MemcachedCache",
        "torngas.cache.backends.memcached.MemcachedCache",
    ),
    (
        "torngas.cache.backends.localcache.LocalCache",
        "torngas.cache.backends.localcache.LocMemCache",
    ),
    ("torngas.db.dbalchemy.Model", "torngas.db.dbalchemy.Model"),
    (
        "torngas.middleware.dbalchemy.DBAlchemyMiddleware",
        "torngas.middleware.dbalchemy.DBAlchemyMiddleware",
    ),
    (
        "torngas.template.jinja2_loader.Jinja2TemplateLoader",
        "torngas.template.jinja2_loader.Jinja2TemplateLoader",
    ),
    (
        "torngas.template.mako_loader.MakoTemplateLoader",
        "torngas.template.mako_loader.MakoTemplateLoader",
    ),
    ("torngas.logger.syslogger", "torngas.logger.syslogger"),
    (
        "torngas.logger.ProcessLogTimedFileHandler",
        "torngas.logger.loggers.ProcessLogTimedFileHandler",
    ),
    ("torngas.dispatch.Signal", "torngas.dispatch.dispatcher.Signal"),
    ("torngas.dispatch.receiver", "torngas.dispatch.dispatcher.receiver"),
    ("torngas.signal.call_started", "torngas.signal.call_started"),
    ("torngas.middleware.signal.SignalMiddleware", "torngas.middleware.signal.SignalMiddleware"),
    (
        "torngas.decorators.async_execute.async_execute",
        "torngas.decorators.async_execute.async_execute",
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
