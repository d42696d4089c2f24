"""Agora behind the real nginx: two torngas processes, one Redis, one database.

nginx (Debian's binary, a private config made from examples/agora/deploy/nginx.conf,
its pid/logs/temp files in tmp_path, `-g 'daemon off;'`, stopped by its PID) on a
free loopback port balances round-robin over two `runserver.py
--settings=settings.production` processes that share a private redis-server
(sessions, cache, chat broadcast) and an SQLite file. A login, a flash message, a
cached fragment and a chat message cross from one process to the other; nginx's
access log (``upstream=`` field) shows which process served each request.
Skipped without nginx or redis-server, failed with TORNGAS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
from pathlib import Path

import httpx
import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.examples.conftest import AGORA, post_form, run_in_agora, signup, xsrf_from
from tests.services import ManagedProcess, can_connect, free_port, require_binary, wait_until
from tests.services.appserver import AppProcess, app_env

PASSWORD = "correct horse battery"

# runserver.py processes on Tornado's HTTPServer, not serve(): nothing to repeat in
# the ASGI pass of scripts/test.
pytestmark = pytest.mark.tornado_only("runserver.py processes behind nginx, no serve()")

MAIN_CONF = """\
{user}worker_processes 1;            # one worker: round-robin alternates strictly
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/agora.conf;
}}
"""


def site_conf(tmp: Path, listen: int, backends: list[int]) -> str:
    """deploy/nginx.conf with this test's ports and paths."""
    text = (AGORA / "deploy" / "nginx.conf").read_text()
    text, n = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    assert n == 1
    for sample, port in zip((8001, 8002), backends, strict=True):
        text, n = re.subn(rf"server 127\.0\.0\.1:{sample}\b", f"server 127.0.0.1:{port}", text)
        assert n == 1
    text = text.replace("/var/log/nginx/agora.access.log", f"{tmp}/access.log")
    return text.replace("/srv/agora/statics/", f"{AGORA}/statics/")


def access_log(tmp: Path) -> list[tuple[str, str, str]]:
    """(method, path, upstream port) per line of nginx's access log, in order."""
    lines = (tmp / "access.log").read_text().splitlines()
    found = [
        re.search(r'"(\w+) (\S+) HTTP/[\d.]+" \d+ \d+ upstream=127\.0\.0\.1:(\d+)', x)
        for x in lines
    ]
    return [m.groups() for m in found if m]


@pytest.fixture
def deployment(tmp_path, redis_server):
    nginx = require_binary("nginx", "/usr/sbin")
    env = app_env(
        {
            "TORNGAS_COOKIE_SECRET": secrets.token_urlsafe(48),
            "TORNGAS_SESSION_SECRET": secrets.token_urlsafe(48),
            "AGORA_REDIS": f"redis://127.0.0.1:{redis_server.port}/0",
            "AGORA_SQLITE": str(tmp_path / "agora.sqlite3"),
            "AGORA_HTTPS": "0",  # plain HTTP on loopback: cookies without Secure
        },
        pythonpath=None,  # the example runs from its own directory
    )
    # Migrate once, before the processes start (deploy/agora-migrate.service).
    migrate = run_in_agora(
        "-m", "torngas.cli", "db", "--settings=settings.production", "upgrade", env=env
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    ports = [free_port(), free_port()]
    backends = [
        AppProcess(
            [
                sys.executable,
                "runserver.py",
                "--settings=settings.production",
                "--address=127.0.0.1",
                f"--port={port}",
            ],
            port=port,
            cwd=AGORA,
            log_dir=tmp_path,
            env=env,
            name="backend",
            ready_path="/login",
        )
        for port in ports
    ]
    listen = free_port()
    (tmp_path / "agora.conf").write_text(site_conf(tmp_path, listen, ports))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach tmp_path (0700)
    (tmp_path / "nginx.conf").write_text(MAIN_CONF.format(tmp=tmp_path, user=user))
    proxy = ManagedProcess(
        [
            nginx,
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
            "-g",
            "daemon off;",
        ],
        tmp_path / "nginx.out",
    )
    try:
        for backend in backends:
            backend.start().wait_ready(30)
        proxy.start()
        assert wait_until(lambda: can_connect(listen), 10), (
            "nginx did not start:\n"
            + proxy.log_tail()
            + (tmp_path / "error.log").read_text(errors="replace")[-2000:]
        )
        yield f"http://127.0.0.1:{listen}", ports, tmp_path
    finally:
        proxy.stop()
        for backend in backends:
            backend.stop()


def test_login_flash_cache_and_chat_cross_backends(deployment):
    base, ports, tmp = deployment
    with (
        httpx.Client(base_url=base, timeout=10) as ann,
        httpx.Client(base_url=base, timeout=10) as bob,
    ):
        signup(ann, "ann")  # GET /signup, POST /signup
        home = ann.get("/").text
        assert "Welcome to Agora, ann!" in home  # the flash, saved by the other process

        r = ann.post("/logout", data={"_xsrf": xsrf_from(home)})
        assert r.status_code == 302
        assert "You are logged out." in ann.get("/").text
        r = post_form(ann, "/login", username="ann", password=PASSWORD)
        assert r.status_code == 302
        assert "Welcome back, ann!" in ann.get("/").text

        def crossing():
            log = access_log(tmp)
            pairs = [(log[i], log[i + 1]) for i in range(len(log) - 1)]
            return [(a, b) for a, b in pairs if a[:2] in (("POST", "/signup"), ("POST", "/login"))]

        # nginx writes a line after the response has gone out: wait for the last one.
        assert wait_until(lambda: len(crossing()) == 2, 5), access_log(tmp)
        for (_, _, saved_by), (method, path, shown_by) in crossing():
            assert (method, path) == ("GET", "/")
            assert saved_by != shown_by  # the session and its flash crossed processes

        # The top-posters fragment lives in Redis: cached by one process, deleted by
        # the post_created receiver of whichever process took the post.
        assert "No posts yet." in ann.get("/").text
        assert "No posts yet." in ann.get("/").text  # both processes have seen it
        assert post_form(ann, "/posts/new", title="Across", body="processes").status_code == 302
        for _ in range(2):
            assert re.search(r"<b>ann</b> <span>1</span>", ann.get("/").text)

        signup(bob, "bob")
        url = base.replace("http", "ws") + "/chat/ws"

        async def chat():
            def connect(client):
                cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                return websocket_connect(
                    HTTPRequest(url, headers={"Cookie": cookies, "Origin": base})
                )

            a = await connect(ann)
            assert json.loads(await a.read_message())["user"] == "ann"
            b = await connect(bob)
            assert json.loads(await b.read_message())["user"] == "bob"
            assert json.loads(await a.read_message())["user"] == "bob"  # the join crossed
            await a.write_message("hello from the other process")
            got = json.loads(await b.read_message())
            assert json.loads(await a.read_message()) == got  # ann sees her own line too
            a.close()
            b.close()
            assert await a.read_message() is None and await b.read_message() is None
            return got

        got = asyncio.run(asyncio.wait_for(chat(), 15))
        assert got["user"] == "ann" and got["text"] == "hello from the other process"

    # nginx logs a WebSocket when it closes.
    def sockets():
        return [port for method, path, port in access_log(tmp) if path == "/chat/ws"]

    assert wait_until(lambda: len(sockets()) == 2, 10), access_log(tmp)
    assert sorted(sockets()) == sorted(str(p) for p in ports)  # one socket on each process
    served = {port for _, _, port in access_log(tmp)}
    assert served == {str(p) for p in ports}
