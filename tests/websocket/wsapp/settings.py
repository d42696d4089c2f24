"""Settings for the chat app run as a separate process (tests/websocket/test_broadcast_redis.py).

The Redis URL comes from TEST_BROADCAST_REDIS.
"""

import os

INSTALLED_APPS = ("tests.websocket.wsapp",)
MIDDLEWARE_CLASSES = ("torngas.middleware.session.SessionMiddleware",)
DEBUG = False
TORNADO_CONF = {
    "cookie_secret": "ws-test-cookie-secret-0123456789abcdef0123456789",
    "xsrf_cookies": False,
    "autoreload": False,
}
SESSION = {"secret_key": "ws-test-session-secret-0123456789abcdef0123456789"}
BROADCAST = {
    "BACKEND": "torngas.broadcast.RedisBroadcast",
    "LOCATION": os.environ.get("TEST_BROADCAST_REDIS", "redis://127.0.0.1:6379/0"),
    "OPTIONS": {"HEALTH_CHECK_INTERVAL": 1, "RECONNECT_MAX": 0.5},
}
LOGGING_DIR = None
