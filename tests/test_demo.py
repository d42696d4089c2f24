import os
import signal
import subprocess
import sys

import httpx

from tests.services import free_port, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_helloworld_command_shows_welcome_page():
    port = free_port()
    env = dict(os.environ)
    env.pop("TORNGAS_APP_SETTINGS", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "demo/runserver.py",
            "--address=127.0.0.1",
            f"--port={port}",
            "--settings=settings.setting",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: httpx.get(url + "/", timeout=1).status_code == 200, 20)
        page = httpx.get(url + "/").text
        assert "Welcome to torngas!" in page
        assert httpx.get(url + "/hello/world").json() == {"hello": "world"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0, out
    assert "GET /hello/world" in out  # the access log line
