"""Smoke test of the benchmark apps (nothing is timed here).

Every contender whose packages are installed in this interpreter is started on
a free port, as scripts/bench starts it, and must return the reference bytes
on every endpoint (``/full`` against a private redis-server). Raw Tornado and
torngas always run; the others (Flask, Django, FastAPI, aiohttp) are installed
only in bench/.venv and are skipped here when missing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench import common, suites, verify, wrk
from bench.contenders import CONTENDERS
from bench.server import Server, free_port
from tests.services.redis import RedisServer

ALWAYS = (
    "tornado",
    "torngas",
    "torngas-mw3",
    "torngas-default",
    # torngas.asgi and the bare-ASGI ceiling: uvicorn, granian are test dependencies
    "torngas-uvicorn",
    "torngas-granian",
    "asgi-bare",
)


@pytest.fixture(scope="module")
def bench_env(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("bench")
    redis = RedisServer(tmp / "redis").start()
    env = {
        "BENCH_SQLITE": common.build_db(tmp / "bench.sqlite3"),
        "BENCH_REDIS_URL": f"redis://{redis.location}/0",
        "BENCH_LOG_DIR": str(tmp / "logs"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # bench.verify's reference reads BENCH_SQLITE
    try:
        yield env, tmp
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        redis.stop()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("key", list(CONTENDERS))
def test_app_serves_the_reference_bytes(key: str, bench_env) -> None:
    env, tmp = bench_env
    contender = CONTENDERS[key]
    if not contender.available():
        assert key not in ALWAYS, f"{key} must always be testable"
        pytest.skip(
            f"{key}: {', '.join(contender.modules)} not all installed (bench/.venv has them)"
        )
    port = free_port()
    server = Server(
        contender.command(port),
        port,
        {**env, **contender.env},
        Path(tmp) / f"{key}.log",
        cpus=None,
    )
    started = time.monotonic()
    server.start(timeout=20)
    try:
        for endpoint in contender.endpoints:
            checked = verify.check(port, endpoint)
            assert checked.body_bytes > 0
            if endpoint == "/full":
                assert checked.headers["Cookie"], "wrk needs the session cookie"
    finally:
        server.stop()
    assert not server.log_tail().count("Traceback"), server.log_tail()
    assert time.monotonic() - started < 30


def test_torngas_access_log_contender_writes_its_log(bench_env) -> None:
    """The AccessLog contender really logs (else its ratio would measure nothing)."""
    env, tmp = bench_env
    contender = CONTENDERS["torngas-mw3"]
    port = free_port()
    logdir = Path(tmp) / "mw3-logs"
    logdir.mkdir()
    server = Server(
        contender.command(port),
        port,
        {**env, **contender.env, "BENCH_LOG_DIR": str(logdir)},
        Path(tmp) / "mw3.log",
        cpus=None,
    )
    server.start(timeout=20)
    try:
        verify.check(port, "/json")
    finally:
        server.stop()
    text = (logdir / "access.log").read_text()
    assert "200 GET /json" in text


def test_a_wrong_body_is_a_mismatch(bench_env) -> None:
    """verify.check must fail on a server that answers differently."""
    env, tmp = bench_env
    contender = CONTENDERS["tornado"]
    port = free_port()
    # Different data set: /full's rows differ from the reference's.
    other = common.build_db(Path(tmp) / "other" / "bench.sqlite3")
    import sqlite3

    conn = sqlite3.connect(other)
    conn.execute("UPDATE items SET name = 'changed'")
    conn.commit()
    conn.close()
    server = Server(
        contender.command(port),
        port,
        {**env, "BENCH_SQLITE": other},
        Path(tmp) / "tornado-other.log",
        cpus=None,
    )
    server.start(timeout=20)
    try:
        verify.check(port, "/plaintext")
        with pytest.raises(verify.Mismatch):
            verify.check(port, "/full")
    finally:
        server.stop()


WRK_SAMPLE = """Running 2s test @ http://127.0.0.1:8000/plaintext
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.12ms    1.02ms  20.00ms   90.00%
    Req/Sec     7.01k   200.00     7.50k    80.00%
  Latency Distribution
     50%    9.00ms
     75%    9.50ms
     90%   10.00ms
     99%   12.34ms
  14000 requests in 2.00s, 1.80MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   7000.50
Transfer/sec:    900.00KB
"""


def test_wrk_output_is_parsed() -> None:
    r = wrk.parse(WRK_SAMPLE)
    assert r.rps == 7000.5
    assert r.latency_avg_ms == pytest.approx(9.12)
    assert r.latency_p99_ms == pytest.approx(12.34)
    assert r.requests == 14000
    assert r.non_2xx == 5
    assert r.socket_errors == 3
    with pytest.raises(RuntimeError):
        wrk.parse("garbage")


def test_ratios_are_per_round_medians() -> None:
    from bench.run import ratios

    suite = suites.Suite("s", "t", targets=[suites.Target("a/b", "a", "b", 0.9)])
    rps = {1: (90, 100), 2: (50, 100), 3: (100, 100)}
    rows = [
        {"suite": "s", "round": rnd, "case": case, "rps": value}
        for rnd, (a, b) in rps.items()
        for case, value in (("a", a), ("b", b))
    ]
    [t] = ratios(rows, suite)
    assert t["rounds"] == [0.9, 0.5, 1.0]
    assert t["median"] == 0.9
    assert t["met"] is True
