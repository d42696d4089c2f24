"""The server as a real process: start-up, graceful shutdown, multi-process supervision."""

import os
import signal
import subprocess
import threading
import time

import httpx
import pytest

from tests.services import port_is_free, wait_until
from tests.services.appserver import app_env, app_process

SETTINGS = "tests.test_apps.settings_mods.server"


def children(s):
    out = subprocess.run(["pgrep", "-P", str(s.pid)], capture_output=True, text=True)
    return sorted(int(p) for p in out.stdout.split())


@pytest.fixture
def server_factory(tmp_path):
    started = []

    def make(*args, env=None, settings=SETTINGS, port=None):
        s = app_process(settings, *args, port=port, env=app_env(env), log_dir=tmp_path)
        started.append(s.start())
        return s

    yield make
    for s in started:
        pids = children(s) if s.alive() else []
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
    s.signal(signal.SIGTERM)
    t.join(10)
    assert result["r"].status_code == 200 and result["r"].text == "slow done"
    assert s.wait(10) == 0
    assert port_is_free(s.port)


def test_new_connections_refused_during_shutdown(server_factory):
    s = server_factory().wait_ready()
    t = threading.Thread(target=lambda: httpx.get(s.url + "/slow", params={"t": "1.0"}, timeout=10))
    t.start()
    wait_in_flight(s)
    s.signal(signal.SIGTERM)
    time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(s.url + "/", timeout=2)
    t.join(10)
    assert s.wait(10) == 0


def test_shutdown_deadline_cuts_long_requests(server_factory):
    s = server_factory(env={"TEST_SHUTDOWN_TIMEOUT": "0.5"}).wait_ready()

    def cut():
        with pytest.raises(httpx.HTTPError):
            httpx.get(s.url + "/slow", params={"t": "30"}, timeout=20)

    t = threading.Thread(target=cut)
    t.start()
    wait_in_flight(s)
    start = time.monotonic()
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 0
    assert time.monotonic() - start < 4
    t.join(10)
    assert port_is_free(s.port)


def test_multiprocess_workers_replaced_and_sigterm_leaves_no_orphan(server_factory):
    s = server_factory("--processes=2").wait_ready()
    assert wait_until(lambda: len(children(s)) == 2, 10), children(s)
    workers = children(s)
    # both workers serve (each has its own SO_REUSEPORT socket)
    seen = set()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        with httpx.Client() as c:  # a new connection each time
            seen.add(int(c.get(s.url + "/pid", timeout=2).text))
    assert seen == set(workers)
    # a killed worker is replaced
    os.kill(workers[0], signal.SIGKILL)
    assert wait_until(lambda: len(children(s)) == 2 and workers[0] not in children(s), 10)
    assert httpx.get(s.url + "/", timeout=2).status_code == 200
    current = children(s)
    # SIGTERM to the parent stops everything and frees the port
    s.signal(signal.SIGTERM)
    assert s.wait(20) == 0
    assert wait_until(lambda: not any(alive(p) for p in current), 5)
    assert port_is_free(s.port)


def test_workers_die_with_a_killed_supervisor(server_factory):
    s = server_factory("--processes=2").wait_ready()
    assert wait_until(lambda: len(children(s)) == 2, 10)
    workers = children(s)
    s.signal(signal.SIGKILL)
    s.wait(10)
    assert wait_until(lambda: not any(alive(p) for p in workers), 15)
    assert wait_until(lambda: port_is_free(s.port), 5)


def test_bad_settings_module_is_one_clear_line(server_factory):
    s = server_factory(settings="tests.test_apps.settings_mods.broken")
    assert s.wait(20) == 2
    out = s.output()
    assert "tests.test_apps.settings_mods.broken" in out and "does_not_exist_anywhere" in out
    assert "Traceback" not in out


def test_app_without_urls_fails_at_startup(server_factory):
    s = server_factory(settings="tests.test_apps.settings_mods.nourls")
    assert s.wait(20) == 2
    assert "has no urls.py" in s.output()


def test_port_in_use_is_reported(server_factory):
    first = server_factory().wait_ready()
    second = server_factory(port=first.port)
    assert second.wait(20) == 2
    assert "Address already in use" in second.output()


@pytest.mark.parametrize("freeze", ["1", "0"])
def test_gc_freeze_after_startup(server_factory, freeze):
    """GC_FREEZE (default on): each serving process freezes its start-up heap."""
    s = server_factory(env={"TEST_GC_FREEZE": freeze})
    s.wait_ready()
    frozen = int(httpx.get(s.url + "/gc-frozen", timeout=5).text)
    if freeze == "1":
        assert frozen > 10_000  # modules, classes, functions of the app and its imports
    else:
        assert frozen == 0
