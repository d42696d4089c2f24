"""Settings of the torngas bench project, chosen by environment variables.

``BENCH_STACK=default`` the default stack: AccessLogMiddleware, SessionMiddleware
                        (sessions in Redis), HttpModuleMiddleware, SignalMiddleware.
``BENCH_ACCESSLOG=1``   AccessLogMiddleware first.
``BENCH_MIDDLEWARES=N`` N no-op middlewares (bench.apps.torngas_app.middleware).
``BENCH_ROUTES=N``      N routes in total, the benchmarked one last.

The access log goes to access.log in ``BENCH_LOG_DIR`` (INFO, not to stderr).
Without an access log the ``tornado.access``/``torngas.access`` loggers are at
WARNING, as raw Tornado's is when logging is not configured: the "no
middleware" contender pays for exactly what raw Tornado pays for.
"""

import os

from bench import common
from torngas.conf import global_settings as _defaults

PROJECT_PATH = os.path.dirname(os.path.abspath(__file__))
DEBUG = False
INSTALLED_APPS = ("bench.apps.torngas_app.benchapp",)

_stack = os.environ.get("BENCH_STACK", "")
_access = os.environ.get("BENCH_ACCESSLOG", "") == "1" or _stack == "default"
_noops = int(os.environ.get("BENCH_MIDDLEWARES", "0") or 0)

if _stack == "default":
    MIDDLEWARE_CLASSES = (
        "torngas.middleware.accesslog.AccessLogMiddleware",
        "torngas.middleware.session.SessionMiddleware",
        "torngas.httpmodule.httpmodule.HttpModuleMiddleware",
        "torngas.middleware.signal.SignalMiddleware",
    )
else:
    MIDDLEWARE_CLASSES = ("torngas.middleware.accesslog.AccessLogMiddleware",) if _access else ()
MIDDLEWARE_CLASSES += tuple(f"bench.apps.torngas_app.middleware.Noop{i}" for i in range(_noops))

# Benchmark secrets: nothing here protects real data. A project reads its own
# from the environment (torngas refuses to start without them when DEBUG is off).
_SECRET = "bench-only-0c6f1d2a9b7e4f3c8a5d6e7f1a2b3c4d5e6f7a8b9c0d1e2f"
TORNADO_CONF = {
    "xsrf_cookies": False,
    "cookie_secret": os.environ.get("TORNGAS_COOKIE_SECRET", _SECRET),
    "template_path": common.TEMPLATE_DIR,
}
TEMPLATE_CONFIG = {
    "template_engine": "torngas.template.jinja2_loader.Jinja2TemplateLoader",
    "filesystem_checks": False,  # production: templates do not change under a server
    "cache_size": 400,
    "autoescape": True,
}

# torngas's default LOGGING entries (files, rotation, batching of the access
# log), with the levels above and the access log kept off stderr.
_level = "INFO" if _access else "WARNING"
_ACCESS_LOGGERS = ("tornado.access", "torngas.access")
LOGGING_DIR = os.environ.get("BENCH_LOG_DIR") or None
LOGGING = tuple(
    {
        **entry,
        "level": _level if entry["name"] in _ACCESS_LOGGERS else "WARNING",
        "log_to_stderr": entry["name"] not in _ACCESS_LOGGERS,
    }
    for entry in _defaults.LOGGING
)

_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
        "LOCATION": "default",
    },
    # /full without SessionMiddleware keeps its counter here directly.
    "session": {
        "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
        "LOCATION": _REDIS,
        "KEY_PREFIX": "bench-counter",
        "TIMEOUT": 3600,
    },
}
SESSION = {
    "session_cache_alias": "session",
    "session_name": "sid",
    "secret_key": os.environ.get("TORNGAS_SESSION_SECRET", _SECRET[::-1]),
}

DATABASE_CONNECTION = {
    "default": {
        "connections": [
            {
                "ROLE": "master",
                "DRIVER": "sqlite",
                "DATABASE": os.environ.get("BENCH_SQLITE", "bench.sqlite3"),
            }
        ],
    },
}
