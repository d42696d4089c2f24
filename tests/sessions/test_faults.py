"""The session store down, hung and back, with a private redis-server (never the shared one).

Each test owns its Redis (and, for the hang, a TCP fault proxy in front of it), so
stopping or hanging it harms no one. Bounds are asserted: a request that needs the
store answers 503 within ~``store_timeout``; requests that do not need it keep being
served at once; the next request after the store is back works again.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.services import wait_until
from tests.services.proxy import FaultProxy
from tests.services.redis import RedisServer
from tests.sessions.conftest import app_settings, middleware, post, redis_caches
from torngas.testing import serve

pytestmark = [pytest.mark.needs_redis, pytest.mark.fault, pytest.mark.timeout(60)]

STORE_TIMEOUT = 1.5
BOUND = STORE_TIMEOUT + 1.0  # seconds a 503 may take (redis-py's socket timeout is 1 s)


@pytest.fixture
def own_redis(tmp_path: Any) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def settings_for(location: str) -> dict[str, Any]:
    return app_settings(CACHES=redis_caches(location), session={"store_timeout": STORE_TIMEOUT})


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - t0


def assert_clear_503(response: Any) -> None:
    assert response.status_code == 503
    assert "Service Unavailable" in response.text
    for leak in ("Traceback", "CacheConnectionError", "127.0.0.1:", "redis"):
        assert leak not in response.text


def test_redis_stopped_mid_run(own_redis: RedisServer, session_log: Any) -> None:
    with serve(**settings_for(own_redis.location)) as client:
        assert post(client, "/login", {"user": "ann"}).status_code == 302
        assert client.get("/whoami").json()["user"] == "ann"

        own_redis.stop()  # SIGTERM: the server is gone, its port refuses

        r, took = timed(client.get, "/whoami")
        assert_clear_503(r)
        assert took < BOUND
        r, took = timed(client.get, "/api/whoami")
        assert r.status_code == 503 and r.json()["error"]["status"] == 503
        assert took < BOUND
        r, took = timed(post, client, "/set", {"a": "1"})  # load fails first
        assert_clear_503(r)
        # pages that do not need the store keep being served, quickly
        for _ in range(5):
            r, took = timed(client.get, "/public")
            assert r.status_code == 200 and took < 0.5
        # a visitor without a session is not affected either
        fresh = client.cookies.get("__TORNADOSSID")
        client.cookies.delete("__TORNADOSSID")
        assert client.get("/whoami").json()["user"] is None
        # ...until it has something to save: then 503 and no cookie
        r = post(client, "/set", {"a": "1"})
        assert_clear_503(r)
        assert "__TORNADOSSID" not in r.headers.get("set-cookie", "")
        errors = [m for m in session_log.messages(logging.ERROR)]
        assert 1 <= len(errors) <= 2, errors  # throttled, not one line per request
        assert "session store unavailable" in errors[0]

        own_redis.start()  # back on the same port, empty (--save '')
        client.cookies.set("__TORNADOSSID", fresh, domain="127.0.0.1", path="/")
        r = client.get("/whoami")
        assert r.status_code == 200 and r.json()["user"] is None  # the data died with Redis
        assert post(client, "/login", {"user": "ann"}).status_code == 302
        assert client.get("/whoami").json()["user"] == "ann"
        assert any("answering again" in m for m in session_log.messages(logging.WARNING))


def test_redis_hung_then_back(own_redis: RedisServer) -> None:
    with (
        FaultProxy(target_port=own_redis.port) as proxy,
        serve(**settings_for(proxy.location)) as client,
    ):
        assert post(client, "/login", {"user": "ann"}).status_code == 302
        assert client.get("/whoami").json()["user"] == "ann"
        base = client.server.url
        cookies = dict(client.cookies)
        middleware(client).store.retry_after = 2.0  # margin for a slow CI machine

        proxy.mode = "blackhole"  # accepts, reads, never answers

        def whoami() -> tuple[int, float]:
            with httpx.Client(base_url=base, cookies=cookies, timeout=30) as c:
                r, took = timed(c.get, "/whoami")
                return r.status_code, took

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            hung = [pool.submit(whoami) for _ in range(4)]
            time.sleep(0.2)  # the four are now waiting on the store
            # a visitor without a session is served at once: the loop is free
            with httpx.Client(base_url=base, timeout=5) as anonymous:
                r, took = timed(anonymous.get, "/whoami")
            assert r.status_code == 200 and took < 0.5
            results = [f.result(timeout=30) for f in hung]
        assert all(status == 503 for status, _ in results), results
        assert max(took for _, took in results) < BOUND, results
        # the store is known to hang: no more waiting on it for a while
        r, took = timed(client.get, "/whoami")
        assert r.status_code == 503 and took < 0.3
        r, took = timed(client.get, "/public")  # does not use the session
        assert r.status_code == 200 and took < 0.3

        proxy.mode = "pass"  # the hang ends; Redis kept the data
        proxy.cut()

        def back() -> bool:
            return client.get("/whoami").json()["user"] == "ann"

        t0 = time.monotonic()
        assert wait_until(back, timeout=10, interval=0.1)
        assert time.monotonic() - t0 < 3.5  # retry_after + a probe
        assert post(client, "/set", {"b": "2"}).status_code == 200
        assert client.get("/whoami").json()["data"]["b"] == "2"


def test_save_fails_when_store_dies_during_request(own_redis: RedisServer) -> None:
    """A change to save while the store is down: 503, no cookie; fine once it is back."""
    with (
        FaultProxy(target_port=own_redis.port) as proxy,
        serve(**settings_for(proxy.location)) as client,
    ):
        # a new visitor: nothing to load, so only the save needs the store
        proxy.mode = "refuse"
        proxy.cut()
        r, took = timed(post, client, "/login", {"user": "ann"})
        assert_clear_503(r)
        assert took < BOUND
        assert client.cookies.get("__TORNADOSSID") is None
        proxy.mode = "pass"
        assert post(client, "/login", {"user": "ann"}).status_code == 302
        assert client.get("/whoami").json()["user"] == "ann"


def test_slow_store_response_waits_for_the_save(own_redis: RedisServer) -> None:
    """Every chunk to and from Redis is delayed: the response still leaves only after
    the write was acknowledged, so the very next request reads the new value."""
    with (
        FaultProxy(target_port=own_redis.port) as proxy,
        serve(**settings_for(proxy.location)) as client,
    ):
        assert post(client, "/set", {"n": "0"}).status_code == 200
        proxy.delay = 0.15
        for i in range(1, 4):
            r, took = timed(post, client, "/set", {"n": str(i)})
            assert r.status_code == 200
            assert took >= 0.3  # load + save, each delayed both ways
            assert client.get("/whoami").json()["data"]["n"] == str(i)
