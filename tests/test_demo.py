import sys

import httpx

from tests.services import free_port
from tests.services.appserver import ROOT, AppProcess, app_env


def test_readme_helloworld_command_shows_welcome_page(tmp_path):
    port = free_port()
    argv = [
        sys.executable,
        "demo/runserver.py",
        "--address=127.0.0.1",
        f"--port={port}",
        "--settings=settings.setting",
    ]
    # the README's command as it stands: no PYTHONPATH of ours
    server = AppProcess(
        argv, port=port, cwd=ROOT, log_dir=tmp_path, env=app_env(pythonpath=None), name="demo"
    ).start()
    try:
        server.wait_ready(20)
        page = httpx.get(server.url + "/").text
        assert "Welcome to torngas!" in page
        assert httpx.get(server.url + "/hello/world").json() == {"hello": "world"}
    finally:
        code = server.stop()  # SIGTERM: a graceful stop exits with 0
    out = server.output()
    assert code == 0, out
    assert "GET /hello/world" in out  # the access log line
