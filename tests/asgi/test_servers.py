"""The real servers: ``torngas runserver --server ...``, the lifespan, HTTP/2.

Each server runs as a subprocess on a free loopback port and is stopped by its
PID (SIGTERM).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.asgi.asgiapp.middleware import LIFE
from tests.services import free_port, wait_until
from torngas.cli import main
from torngas.testing import serve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("asgiproj") / "mysite"
    assert main(["startproject", "mysite", str(root)]) == 0
    return root


def start(argv, cwd, env=None):
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TORNGAS_TEST_TRANSPORT", None)
    proc = subprocess.Popen(
        [*argv, f"--port={port}"],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def stop(proc) -> str:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.communicate(timeout=5)[0]


def up(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


SERVERS = ["uvicorn", "hypercorn", "granian"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("server", SERVERS)
def test_runserver_serves_the_project_on_each_asgi_server(project, server):
    if importlib.util.find_spec(server) is None:
        pytest.fail(f"{server} is a test dependency (torngas[{server}])")
    proc, url = start(
        [
            sys.executable,
            "-m",
            "torngas.cli",
            "runserver",
            "--server",
            server,
            "--settings=settings.setting",
        ],  # fmt: skip
        project,
    )
    try:
        assert wait_until(lambda: up(url), 30), stop(proc)
        r = httpx.get(url + "/")
        assert r.status_code == 200
        assert "mysite is running" in r.text
        assert server.split("-")[0] in r.headers["server"]  # the ASGI server answered
        assert httpx.get(url + "/nope").status_code == 404
        if server in ("hypercorn", "granian"):
            # HTTP/2 with prior knowledge on cleartext (h2c), same handlers
            with httpx.Client(http1=False, http2=True) as h2:
                r2 = h2.get(url + "/")
                assert r2.http_version == "HTTP/2"
                assert r2.status_code == 200 and r2.text == r.text
                assert h2.get(url + "/nope").status_code == 404
    finally:
        out = stop(proc)
    assert "Traceback" not in out, out


def test_runserver_refuses_an_unknown_server(capsys):
    with pytest.raises(SystemExit):
        main(["runserver", "--server", "gunicorn"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_uvicorn_lifespan_runs_process_init_and_shutdown(tmp_path):
    life = tmp_path / "life.txt"
    proc, url = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "torngas.asgi:application",
            "--host",
            "127.0.0.1",
            "--log-level",
            "warning",
            "--no-proxy-headers",
        ],  # fmt: skip
        ROOT,
        env={
            "TORNGAS_APP_SETTINGS": "tests.asgi.lifespan_settings",
            "TORNGAS_LIFE_FILE": str(life),
            "PYTHONPATH": ROOT,
        },
    )
    try:
        assert wait_until(lambda: up(url), 30), stop(proc)
        # process_init ran at start-up, before any request was made
        first = life.read_text().split()
        assert first[0] == "init" and first[1] == str(proc.pid)
        assert httpx.get(url + "/").text == "hello"
    finally:
        out = stop(proc)
    lines = life.read_text().splitlines()
    assert lines == [f"init {proc.pid}", f"shutdown {proc.pid}"], out


def test_lifespan_in_the_test_server():
    LIFE.clear()
    with serve(
        INSTALLED_APPS=["tests.asgi.asgiapp"],
        MIDDLEWARE_CLASSES=["tests.asgi.asgiapp.middleware.Lifecycle"],
        transport="asgi",
    ) as client:
        assert client.server.asgi.lifespan_started
        assert client.server.call(lambda: list(LIFE)) == ["init"]
        assert client.get("/").text == "hello"
    assert LIFE == ["init", "shutdown"]
    LIFE.clear()
