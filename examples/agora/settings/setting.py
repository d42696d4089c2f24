"""Agora on embedded defaults: SQLite file, in-process cache, in-process broadcast.

Nothing to install or start besides Python. `settings/production.py` switches
the same code to MariaDB/PostgreSQL + Redis from environment variables.
"""

import os

PROJECT_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEBUG = os.environ.get("TORNGAS_DEBUG", "1") == "1"

# Each app has its own urls.py; routes are matched in this order.
INSTALLED_APPS = ("board", "accounts", "chat")

MIDDLEWARE_CLASSES = (
    "torngas.middleware.accesslog.AccessLogMiddleware",
    # handler.session (and so login state and flash messages), kept in CACHES[SESSION alias].
    "torngas.middleware.session.SessionMiddleware",
    # One database session scope per request, closed after the response.
    "torngas.middleware.dbalchemy.DBAlchemyMiddleware",
    # Per-route HTTP modules (ROUTE_MODULES below). After SessionMiddleware:
    # the login check reads the session.
    "torngas.httpmodule.httpmodule.HttpModuleMiddleware",
)

# Routes (by name) that need a logged-in user. A new protected page is one line here.
LOGIN_REQUIRED = ["httpmodules.login_required.LoginRequired"]
ROUTE_MODULES = {
    "board.new_post": LOGIN_REQUIRED,
    "chat.room": LOGIN_REQUIRED,
    "chat.socket": LOGIN_REQUIRED,
}

TORNADO_CONF = {
    "static_path": "statics",
    "static_url_prefix": "/static/",
    "template_path": "templates",
    "xsrf_cookies": True,
    "login_url": "/login",
    # Development only. production.py reads it from TORNGAS_COOKIE_SECRET.
    "cookie_secret": os.environ.get(
        "TORNGAS_COOKIE_SECRET", "agora-dev-only-cookie-secret-do-not-deploy"
    ),
}

SESSION = {
    # Development only. production.py reads it from TORNGAS_SESSION_SECRET.
    "secret_key": os.environ.get(
        "TORNGAS_SESSION_SECRET", "agora-dev-only-session-secret-do-not-deploy"
    ),
}

# An SQLite file next to runserver.py (relative paths are relative to PROJECT_PATH).
DATABASE_CONNECTION = {
    "default": {
        "connections": [
            {
                "ROLE": "master",
                "DRIVER": "sqlite",
                "DATABASE": os.environ.get("AGORA_SQLITE", "agora.sqlite3"),
            },
        ],
    },
}

CACHES = {
    "default": {
        "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
        "LOCATION": "agora",
        "TIMEOUT": 300,
    },
}

# Chat messages are fanned out in this process only (one process is all you have here).
BROADCAST = {"BACKEND": "torngas.broadcast.LocalBroadcast"}

# Agora's own settings.
POSTS_PER_PAGE = 10
TOP_POSTERS_TIMEOUT = 600  # seconds; the signal invalidates earlier when a post is created
