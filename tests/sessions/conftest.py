"""Fixtures for the session tests: settings for the test app, a private Redis, helpers."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "tests", "test_apps", "sessionapp", "templates")
SESSION_MW = "torngas.middleware.session.SessionMiddleware"
SECRET = "test-session-secret-0123456789abcdef0123456789"
COOKIE_SECRET = "test-cookie-secret-0123456789abcdef0123456789"


def app_settings(*, session: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Settings for ``serve()``: the session test app on a private LocMem alias."""
    settings: dict[str, Any] = {
        "INSTALLED_APPS": ["tests.test_apps.sessionapp"],
        "MIDDLEWARE_CLASSES": [SESSION_MW],
        "TORNADO_CONF": {
            "template_path": TEMPLATES,
            "cookie_secret": COOKIE_SECRET,
            "login_url": "/login",
            "xsrf_cookies": True,
            "autoreload": False,
        },
        "CACHES": {
            "default": {
                "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
                "LOCATION": f"sessions-test-{os.urandom(4).hex()}",
                "OPTIONS": {"MAX_ENTRIES": 10000},
            }
        },
        "SESSION": {"secret_key": SECRET, **(session or {})},
    }
    settings.update(overrides)
    return settings


def middleware(client: Any) -> Any:
    """The SessionMiddleware instance of a ``serve()`` client's application."""
    from torngas.middleware.session import SessionMiddleware

    return next(m for m in client.app.middleware.middlewares if isinstance(m, SessionMiddleware))


def xsrf(client: Any) -> str:
    """The client's xsrf token (fetching the form page once to get the cookie)."""
    token = client.cookies.get("_xsrf")
    if not token:
        r = client.get("/form")
        assert r.status_code == 200, r.text
        token = client.cookies.get("_xsrf")
    assert token
    return token


def post(client: Any, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST with the xsrf token as an AJAX client sends it (X-XSRFToken)."""
    headers = {"X-XSRFToken": xsrf(client), **kw.pop("headers", {})}
    return client.post(url, data=data or {}, headers=headers, **kw)


def session_cookie(client: Any, name: str = "__TORNADOSSID") -> str | None:
    return client.cookies.get(name)


def put_cookie(client: Any, value: str, name: str = "__TORNADOSSID") -> None:
    """Replace the client's session cookie (as a browser holding ``value`` would send it)."""
    for cookie in list(client.cookies.jar):
        if cookie.name == name:
            client.cookies.delete(name, domain=cookie.domain, path=cookie.path)
    client.cookies.set(name, value, domain="127.0.0.1", path="/")


class Records(logging.Handler):
    """Collects records of one logger (attached to the logger itself)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def session_log() -> Iterator[Records]:
    logger = logging.getLogger("torngas.sessions")
    handler = Records()
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def redis_caches(location: Any, **options: Any) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "app",
            "OPTIONS": options,
        }
    }
