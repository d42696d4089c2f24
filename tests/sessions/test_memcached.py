"""Sessions on a real memcached (its client is blocking: the store runs in the thread pool)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.services.memcached import MemcachedServer
from tests.sessions.conftest import app_settings, middleware, post
from torngas.testing import serve

pytestmark = pytest.mark.needs_memcached


@pytest.fixture(scope="module")
def memcached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemcachedServer]:
    with MemcachedServer(tmp_path_factory.mktemp("session-memcached")) as server:
        yield server


def test_sessions_on_memcached(memcached: MemcachedServer) -> None:
    caches = {
        "default": {
            "BACKEND": "torngas.cache.backends.memcached.MemcachedCache",
            "LOCATION": memcached.location,
            "KEY_PREFIX": "app",
        }
    }
    with serve(**app_settings(CACHES=caches, session={"expires": 120})) as client:
        assert middleware(client).store.backend.async_mode == "threadpool"
        assert post(client, "/login", {"user": "ann"}).status_code == 302
        assert client.get("/whoami").json()["user"] == "ann"
        sid = middleware(client).store.unsign(client.cookies["__TORNADOSSID"])

        def app_side() -> Any:
            from torngas.cache import caches as app_caches

            app_caches["default"].set(sid, "an application value under the same name")
            return app_caches["default"].get(sid)

        assert client.server.call(app_side) == "an application value under the same name"
        assert client.get("/whoami").json()["user"] == "ann"
        assert post(client, "/logout").status_code == 302
        assert client.get("/whoami").json()["user"] is None
