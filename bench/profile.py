"""Profile one contender under load: ``python -m bench.profile``.

    bench/.venv/bin/python -m bench.profile --contender torngas --endpoint /plaintext \
        --env BENCH_ROUTES=1000 --seconds 5

Starts the server under cProfile (pinned like the benchmark), drives it with
wrk, stops it (SIGTERM: torngas and the asyncio apps exit cleanly, so the
profile is written) and prints the functions with the most own time and the
most cumulative time. ``--pyspy`` samples with py-spy instead (no
instrumentation overhead; needs ptrace).
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import common, wrk
from bench.contenders import CONTENDERS
from bench.run import RAW, Redis
from bench.server import Server, free_port


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("--contender", default="torngas")
    p.add_argument("--endpoint", default="/plaintext")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--pyspy", action="store_true", help="sample with py-spy instead")
    a = p.parse_args(argv)
    contender = CONTENDERS[a.contender]
    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    env = {"BENCH_SQLITE": common.build_db(RAW / "bench.sqlite3"), "BENCH_LOG_DIR": str(tmp)}
    redis = Redis(tmp).start() if a.endpoint == "/full" else None
    if redis is not None:
        env["BENCH_REDIS_URL"] = redis.url
    os.environ.update(env)
    env.update(contender.env)
    env.update(dict(kv.split("=", 1) for kv in a.env))
    port = free_port()
    argv_ = contender.command(port)
    prof = tmp / "out.prof"
    if not a.pyspy:
        if argv_[1] != "-m":
            raise SystemExit("cProfile mode needs a `python -m module` contender")
        argv_ = [argv_[0], "-m", "cProfile", "-o", str(prof), *argv_[1:]]
    server = Server(argv_, port, env, tmp / "server.log", cpus="0").start()
    spy = None
    try:
        from bench import verify

        headers = verify.check(port, a.endpoint).headers
        url = f"http://127.0.0.1:{port}{a.endpoint}"
        wrk.run(url, 1, headers=headers)
        if a.pyspy:
            pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            spy = subprocess.Popen(  # noqa: S603
                [pyspy, "record", "--pid", str(server.pid), "--duration", str(a.seconds),
                 "--format", "raw", "--output", str(tmp / "spy.txt"), "--nonblocking"],
            )  # fmt: skip
        res = wrk.run(url, a.seconds, headers=headers)
        print(f"{a.contender} {a.endpoint} {a.env}: {res.rps:.0f} req/s under the profiler")
        if spy is not None:
            spy.wait(30)
    finally:
        server.stop(timeout=20)
        if redis is not None:
            redis.stop()
    if a.pyspy:
        _print_pyspy(tmp / "spy.txt", a.top)
    else:
        stats = pstats.Stats(str(prof))
        stats.sort_stats("tottime").print_stats(a.top)
        stats.sort_stats("cumulative").print_stats(a.top)
    print(f"files in {tmp}")
    return 0


def _print_pyspy(path: Path, top: int) -> None:
    """Own and inclusive sample counts per function from py-spy's raw output."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    for title, table in (("own", own), ("inclusive", incl)):
        print(f"--- {title} samples (of {total})")
        for name, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            print(f"{100 * n / max(total, 1):5.1f}%  {name}")


if __name__ == "__main__":
    raise SystemExit(main())
