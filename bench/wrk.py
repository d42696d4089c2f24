"""Run wrk (pinned to its own core) and parse what it prints."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkResult:
    rps: float
    latency_avg_ms: float
    latency_p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    raw: str


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def parse(out: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rps:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    lat = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    reqs = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        rps=float(rps.group(1)),
        latency_avg_ms=_ms(lat.group(1)) if lat else float("nan"),
        latency_p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        requests=int(reqs.group(1)) if reqs else 0,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(x) for x in sock.groups()) if sock else 0,
        raw=out,
    )


def binary() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is not installed (scripts/bench installs it: apt-get install wrk)")
    return path


def run(
    url: str,
    duration: float,
    connections: int = 64,
    threads: int = 1,
    headers: Mapping[str, str] | None = None,
    cpus: str | None = "1",
) -> WrkResult:
    argv = [binary(), f"-t{threads}", f"-c{connections}", f"-d{max(duration, 1):g}s", "--latency"]
    for k, v in (headers or {}).items():
        argv += ["-H", f"{k}: {v}"]
    argv.append(url)
    taskset = shutil.which("taskset")
    if cpus and taskset:
        argv = [taskset, "-c", cpus, *argv]
    proc = subprocess.run(  # noqa: S603
        argv, capture_output=True, text=True, timeout=duration + 30, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return parse(proc.stdout)


def command_line(duration: float, connections: int = 64, threads: int = 1) -> str:
    """The command as the docs show it."""
    return f"taskset -c 1 wrk -t{threads} -c{connections} -d{duration:g}s --latency URL"
