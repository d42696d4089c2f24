"""Demo settings: embedded defaults only (local-memory cache, no servers)."""

import os

PROJECT_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEBUG = True

INSTALLED_APPS = ("helloworld",)

MIDDLEWARE_CLASSES = ("torngas.middleware.accesslog.AccessLogMiddleware",)

TORNADO_CONF = {
    "static_path": "statics",
    "template_path": "templates",
    "xsrf_cookies": True,
    # Demo only: a real project reads its secret from the environment.
    "cookie_secret": os.environ.get("TORNGAS_COOKIE_SECRET", "demo-only-not-secret"),
}
