"""Settings of the torngas bench project, chosen by environment variables.

``BENCH_ACCESSLOG=1``   AccessLogMiddleware first (it logs to access.log in
                        ``BENCH_LOG_DIR``, INFO, no stderr).
``BENCH_MIDDLEWARES=N`` N no-op middlewares (bench.apps.torngas_app.middleware).
``BENCH_ROUTES=N``      N routes in total, the benchmarked ones last.

Without ``BENCH_ACCESSLOG`` the ``tornado.access`` logger is at WARNING, as raw
Tornado's is when logging is not configured: the "no middleware" contender
pays for exactly what raw Tornado pays for.
"""

import os

PROJECT_PATH = os.path.dirname(os.path.abspath(__file__))
DEBUG = False
INSTALLED_APPS = ("bench.apps.torngas_app.benchapp",)

_access = os.environ.get("BENCH_ACCESSLOG", "") == "1"
_noops = int(os.environ.get("BENCH_MIDDLEWARES", "0") or 0)
MIDDLEWARE_CLASSES = (
    ("torngas.middleware.accesslog.AccessLogMiddleware",) if _access else ()
) + tuple(f"bench.apps.torngas_app.middleware.Noop{i}" for i in range(_noops))

TORNADO_CONF = {"xsrf_cookies": False, "cookie_secret": None}

LOGGING_DIR = os.environ.get("BENCH_LOG_DIR") or None
LOGGING = (
    {"name": "tornado", "level": "WARNING", "log_to_stderr": True, "filename": "tornado.log"},
    {
        "name": "tornado.access",
        "level": "INFO" if _access else "WARNING",
        "log_to_stderr": False,
        "filename": "access.log",
    },
    {"name": "torngas", "level": "WARNING", "log_to_stderr": True, "filename": "torngas.log"},
)

#: /full: the session store until torngas.sessions lands (torngas.cache RedisCache).
CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
        "LOCATION": "default",
    },
    "session": {
        "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "KEY_PREFIX": "torngas-session",
        "TIMEOUT": 3600,
    },
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
