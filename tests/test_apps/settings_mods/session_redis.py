"""The session test app on Redis, configured from the environment (as in production).

TORNGAS_TEST_REDIS      Redis LOCATION ("127.0.0.1:6380", several separated by ",")
TORNGAS_COOKIE_SECRET   TORNADO_CONF['cookie_secret']
TORNGAS_SESSION_SECRET  SESSION['secret_key']
"""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))

DEBUG = False
INSTALLED_APPS = ("tests.test_apps.sessionapp",)
MIDDLEWARE_CLASSES = ("torngas.middleware.session.SessionMiddleware",)
TORNADO_CONF = {
    "template_path": os.path.join(os.path.dirname(_HERE), "sessionapp", "templates"),
    "cookie_secret": os.environ.get("TORNGAS_COOKIE_SECRET"),
    "xsrf_cookies": True,
    "login_url": "/login",
}
CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
        "LOCATION": os.environ.get("TORNGAS_TEST_REDIS", "127.0.0.1:6379"),
        "KEY_PREFIX": "app",
    }
}
SESSION = {
    "secret_key": os.environ.get("TORNGAS_SESSION_SECRET"),
    "store_timeout": 2.0,
}
SHUTDOWN_TIMEOUT = 2
