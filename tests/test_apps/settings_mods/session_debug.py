"""session_redis with DEBUG on and the LocMem cache (no Redis needed)."""

from tests.test_apps.settings_mods.session_redis import *  # noqa: F403

DEBUG = True
TORNADO_CONF = {**TORNADO_CONF, "autoreload": False}  # noqa: F405
CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
        "LOCATION": "session-debug",
    }
}
