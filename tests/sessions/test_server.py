"""Real server processes: stateless scale-out over a shared Redis, and start-up refusal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.services.appserver import AppProcess, app_env, app_process
from tests.sessions.conftest import COOKIE_SECRET, SECRET

SETTINGS = "tests.test_apps.settings_mods.session_redis"


def start_server(
    settings: str, env: dict[str, str], log_dir: Any, unset: tuple[str, ...] = ()
) -> AppProcess:
    """runserver.py with ``settings`` and ``env``, without the variables in ``unset``
    (started; ``wait_ready()`` waits for /public)."""
    return app_process(
        settings, env=app_env(env, unset=unset), log_dir=log_dir, ready_path="/public"
    ).start()


def env_for(redis_location: str = "127.0.0.1:1", **extra: str) -> dict[str, str]:
    return {
        "TORNGAS_TEST_REDIS": redis_location,
        "TORNGAS_COOKIE_SECRET": COOKIE_SECRET,
        "TORNGAS_SESSION_SECRET": SECRET,
        **extra,
    }


@pytest.fixture
def two_servers(redis_server: Any, tmp_path: Any) -> Iterator[tuple[AppProcess, AppProcess]]:
    env = env_for(redis_server.location)
    a = start_server(SETTINGS, env, tmp_path)
    b = start_server(SETTINGS, env, tmp_path)
    try:
        yield a.wait_ready(), b.wait_ready()
    finally:
        a.stop()
        b.stop()


def _xsrf(client: httpx.Client, base: str) -> str:
    if not client.cookies.get("_xsrf"):
        client.get(base + "/form")
    return client.cookies["_xsrf"]


@pytest.mark.needs_redis
def test_login_on_one_process_read_on_another(two_servers: Any) -> None:
    a, b = two_servers
    with httpx.Client(timeout=10) as client:  # cookies are per host, not per port
        token = _xsrf(client, a.url)
        h = {"X-XSRFToken": token}
        r = client.post(a.url + "/login", data={"user": "ann"}, headers=h)
        assert r.status_code == 302
        assert client.get(b.url + "/whoami").json()["user"] == "ann"
        # the flash set on A is shown once, on B
        page = client.get(b.url + "/messages").text
        assert "Welcome back, ann" in page
        assert "Welcome back" not in client.get(a.url + "/messages").text
        # every response's change is visible to the next request, whichever process
        for i in range(20):
            writer, reader = (a, b) if i % 2 else (b, a)
            assert client.post(writer.url + "/set", data={"n": str(i)}, headers=h).is_success
            assert client.get(reader.url + "/whoami").json()["data"]["n"] == str(i)
        assert client.post(b.url + "/logout", headers=h).status_code == 302
        assert client.get(a.url + "/whoami").json()["user"] is None


def _start_refused(
    tmp_path: Any, settings: str, env: dict[str, str], unset: tuple[str, ...] = ()
) -> str:
    server = start_server(settings, env, tmp_path, unset)
    try:
        code = server.wait(30)
    finally:
        server.stop()
    out = server.output()
    assert code == 2, out
    assert "start-up failed" in out and "Traceback" not in out
    return out


def test_start_refused_without_secrets(tmp_path: Any) -> None:
    env = env_for()
    unset = ("TORNGAS_COOKIE_SECRET", "TORNGAS_SESSION_SECRET")
    for name in unset:
        env.pop(name)
    out = _start_refused(tmp_path, SETTINGS, env, unset)
    assert "TORNADO_CONF['cookie_secret'] is not set" in out
    assert "environment variable" in out and "secrets.token_urlsafe" in out


def test_start_refused_with_the_readme_session_secret(tmp_path: Any) -> None:
    out = _start_refused(tmp_path, "tests.test_apps.settings_mods.session_readme", env_for())
    assert "SESSION['secret_key']" in out and "example value" in out
    assert "fLjUfxqXtfNoIldA0A0J" not in out  # the message does not echo secrets
    assert "TORNGAS_SESSION_SECRET" in out


@pytest.mark.parametrize(
    "example",
    [
        "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__",
        "bXZ/gDAbQA+zaTxdqJwxKa8OZTbuZE/ok3doaow9N4Q=",
    ],
)
def test_start_refused_with_example_cookie_secret(tmp_path: Any, example: str) -> None:
    out = _start_refused(tmp_path, SETTINGS, env_for(TORNGAS_COOKIE_SECRET=example))
    assert "TORNADO_CONF['cookie_secret']" in out and "TORNGAS_COOKIE_SECRET" in out


def test_debug_starts_with_generated_session_key(tmp_path: Any) -> None:
    """DEBUG on: no secrets needed (a random per-process session key, with a warning)."""
    env = env_for()
    env.pop("TORNGAS_SESSION_SECRET")
    server = start_server(
        "tests.test_apps.settings_mods.session_debug",
        env,
        tmp_path,
        unset=("TORNGAS_SESSION_SECRET",),
    )
    try:
        server.wait_ready()
        t0 = time.monotonic()
        assert httpx.get(server.url + "/whoami", timeout=5).json()["user"] is None
        assert time.monotonic() - t0 < 5
    finally:
        server.stop()
    assert "random key" in server.output()
