"""The server as a real process: start-up, graceful shutdown, multi-process supervision."""

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.services import free_port, port_is_free, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = "tests.test_apps.settings_mods.server"


class ServerProcess:
    def __init__(self, *args, env=None, settings=SETTINGS, port=None):
        self.port = port or free_port()
        e = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1")
        e.update(env or {})
        argv = [sys.executable, "tests/test_apps/runserver.py", f"--port={self.port}"]
        if settings:
            argv.append(f"--settings={settings}")
        self.proc = subprocess.Popen(
            argv + list(args),
            cwd=ROOT,
            env=e,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=20):
        ok = wait_until(lambda: httpx.get(self.url + "/", timeout=1).status_code == 200, timeout)
        assert ok, "server did not start:\n" + self.output()
        return self

    def output(self):
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.communicate(timeout=10)[0]

    def children(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return sorted(int(p) for p in out.stdout.split())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def server_factory():
    started = []

    def make(*args, **kw):
        s = ServerProcess(*args, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        pids = s.children() if s.proc.poll() is None else []
        s.stop()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_in_flight(s):
    """Until the server holds the slow request (itself + the probe = 2)."""
    assert wait_until(lambda: int(httpx.get(s.url + "/inflight", timeout=2).text) >= 2, 10)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); look at its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_single_process_serves_and_stops_gracefully_with_in_flight_request(server_factory):
    s = server_factory().wait_ready()
    result = {}

    def slow():
        result["r"] = httpx.get(s.url + "/slow", params={"t": "1.0"}, timeout=10)

    t = threading.Thread(target=slow)
    t.start()
    wait_in_flight(s)
    s.proc.send_signal(signal.SIGTERM)
    t.join(10)
    assert result["r"].status_code == 200 and result["r"].text == "slow done"
    assert s.proc.wait(10) == 0
    assert port_is_free(s.port)


def test_new_connections_refused_during_shutdown(server_factory):
    s = server_factory().wait_ready()
    t = threading.Thread(target=lambda: httpx.get(s.url + "/slow", params={"t": "1.0"}, timeout=10))
    t.start()
    wait_in_flight(s)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(s.url + "/", timeout=2)
    t.join(10)
    assert s.proc.wait(10) == 0


def test_shutdown_deadline_cuts_long_requests(server_factory):
    s = server_factory(env={"TEST_SHUTDOWN_TIMEOUT": "0.5"}).wait_ready()

    def cut():
        with pytest.raises(httpx.HTTPError):
            httpx.get(s.url + "/slow", params={"t": "30"}, timeout=20)

    t = threading.Thread(target=cut)
    t.start()
    wait_in_flight(s)
    start = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert time.monotonic() - start < 4
    t.join(10)
    assert port_is_free(s.port)


def test_multiprocess_workers_replaced_and_sigterm_leaves_no_orphan(server_factory):
    s = server_factory("--processes=2").wait_ready()
    assert wait_until(lambda: len(s.children()) == 2, 10), s.children()
    workers = s.children()
    # both workers serve (each has its own SO_REUSEPORT socket)
    seen = set()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        with httpx.Client() as c:  # a new connection each time
            seen.add(int(c.get(s.url + "/pid", timeout=2).text))
    assert seen == set(workers)
    # a killed worker is replaced
    os.kill(workers[0], signal.SIGKILL)
    assert wait_until(lambda: len(s.children()) == 2 and workers[0] not in s.children(), 10)
    assert httpx.get(s.url + "/", timeout=2).status_code == 200
    current = s.children()
    # SIGTERM to the parent stops everything and frees the port
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(20) == 0
    assert wait_until(lambda: not any(alive(p) for p in current), 5)
    assert port_is_free(s.port)


def test_workers_die_with_a_killed_supervisor(server_factory):
    s = server_factory("--processes=2").wait_ready()
    assert wait_until(lambda: len(s.children()) == 2, 10)
    workers = s.children()
    s.proc.kill()
    s.proc.wait(10)
    assert wait_until(lambda: not any(alive(p) for p in workers), 15)
    assert wait_until(lambda: port_is_free(s.port), 5)


def test_bad_settings_module_is_one_clear_line(server_factory):
    s = server_factory(settings="tests.test_apps.settings_mods.broken")
    assert s.proc.wait(20) == 2
    out = s.output()
    assert "tests.test_apps.settings_mods.broken" in out and "does_not_exist_anywhere" in out
    assert "Traceback" not in out


def test_app_without_urls_fails_at_startup(server_factory):
    s = server_factory(settings="tests.test_apps.settings_mods.nourls")
    assert s.proc.wait(20) == 2
    assert "has no urls.py" in s.output()


def test_port_in_use_is_reported(server_factory):
    first = server_factory().wait_ready()
    second = server_factory(port=first.port)
    assert second.proc.wait(20) == 2
    assert "Address already in use" in second.output()
