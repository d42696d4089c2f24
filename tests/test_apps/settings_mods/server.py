import os
import secrets

INSTALLED_APPS = ("tests.test_apps.hello",)
MIDDLEWARE_CLASSES = ()
SHUTDOWN_TIMEOUT = float(os.environ.get("TEST_SHUTDOWN_TIMEOUT", "10"))
# DEBUG is off: the server refuses to start without a real secret.
TORNADO_CONF = {"cookie_secret": secrets.token_urlsafe(32)}
GC_FREEZE = os.environ.get("TEST_GC_FREEZE", "1") == "1"
