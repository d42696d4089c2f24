import os

INSTALLED_APPS = ("tests.test_apps.hello",)
MIDDLEWARE_CLASSES = ()
SHUTDOWN_TIMEOUT = float(os.environ.get("TEST_SHUTDOWN_TIMEOUT", "10"))
