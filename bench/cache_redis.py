"""RedisCache vs raw redis-py: get/set ops/s, sync and async, in the same run.

    .venv/bin/python bench/cache_redis.py            # starts a private redis-server
    .venv/bin/python bench/cache_redis.py --port 6390 --ops 20000 --chunk 500
    .venv/bin/python bench/cache_redis.py --write docs/benchmarks-cache.md

Each round runs the raw client and RedisCache back to back (interleaved, so drift
hits both alike) against the same server with the same socket timeouts; the
table shows the median round. "raw" is what the cache layer costs nothing over:
redis-py's ``get``/``set`` with bytes in and bytes out. RedisCache adds key
making and validation, serialization and error mapping. ``async xN`` runs N
coroutines at once on one event loop (throughput rather than latency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import redis.asyncio  # noqa: E402

from torngas.cache import CacheHandler  # noqa: E402

VALUE = "x" * 100
TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
PX = 300_000  # the cache's default TIMEOUT (300 s), so both send the same SET ... PX


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(port: int, tmp: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    proc = subprocess.Popen(  # noqa: S603
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tmp,
            "--logfile",
            os.path.join(tmp, "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def timed(n: int, fn: Callable[[int], object]) -> float:
    """Seconds for ``n`` calls."""
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return time.perf_counter() - start


async def atimed(n: int, fn: Callable[[int], Awaitable[object]], concurrency: int) -> float:
    per = max(1, n // concurrency)

    async def worker(offset: int) -> None:
        for i in range(per):
            await fn(offset + i)

    start = time.perf_counter()
    await asyncio.gather(*(worker(c * per) for c in range(concurrency)))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--port", type=int, help="use a running redis-server on 127.0.0.1:PORT")
    ap.add_argument("--ops", type=int, default=20000, help="operations per operation type")
    ap.add_argument("--chunk", type=int, default=250, help="operations per alternating chunk")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--write", help="also write the results as Markdown to this file")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-redis-")
    proc = None
    port = args.port
    if port is None:
        port = free_port()
        proc = start_redis(port, tmp)
    try:
        results = run(port, args)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, args, port)


def run(port: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """ops/s per contender. Both run in alternating chunks of ``--chunk`` operations
    (the order flips every pair), so load from other processes hits both alike."""
    cfg = {
        "bench": {
            "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
            "LOCATION": f"127.0.0.1:{port}",
            "KEY_PREFIX": "bench",
            "OPTIONS": {"POOL_KWARGS": dict(TIMEOUTS)},
        }
    }
    cache = CacheHandler().create_connection("bench", cfg)
    raw = redis.Redis(connection_pool=redis.ConnectionPool(port=port, **TIMEOUTS))
    payload = cache._dumps(VALUE)  # the same bytes the cache stores
    chunk = args.chunk
    keys = [cache.make_key(f"k{i}") for i in range(chunk)]
    names = [f"k{i}" for i in range(chunk)]
    pairs = max(1, args.ops // chunk)
    totals: dict[str, dict[str, float]] = {}

    def add(name: str, which: str, seconds: float, ops: int) -> None:
        t = totals.setdefault(name, {"raw": 0.0, "torngas": 0.0, "ops": 0.0})
        t[which] += seconds
        if which == "raw":
            t["ops"] += ops

    for i in range(chunk):  # warm up: connections, HELLO, keys present
        raw.set(keys[i], payload)
        cache.set(names[i], VALUE)

    sync_cases = {
        "sync set": (
            lambda i: raw.set(keys[i], payload, px=PX),
            lambda i: cache.set(names[i], VALUE),
        ),
        "sync get": (lambda i: raw.get(keys[i]), lambda i: cache.get(names[i])),
    }
    for name, (raw_fn, our_fn) in sync_cases.items():
        for p in range(pairs):
            order = [("raw", raw_fn), ("torngas", our_fn)]
            for which, fn in order if p % 2 == 0 else reversed(order):
                add(name, which, timed(chunk, fn), chunk)

    async def arun() -> None:
        araw = redis.asyncio.Redis(
            connection_pool=redis.asyncio.ConnectionPool(port=port, **TIMEOUTS)
        )
        for i in range(200):
            await araw.get(keys[i % chunk])
            await cache.aget(names[i % chunk])
        for conc in (1, args.concurrency):
            label = "async" if conc == 1 else f"async x{conc}"
            acases = {
                f"{label} set": (
                    lambda i: araw.set(keys[i % chunk], payload, px=PX),
                    lambda i: cache.aset(names[i % chunk], VALUE),
                ),
                f"{label} get": (
                    lambda i: araw.get(keys[i % chunk]),
                    lambda i: cache.aget(names[i % chunk]),
                ),
            }
            for name, (raw_fn, our_fn) in acases.items():
                for p in range(pairs):
                    order = [("raw", raw_fn), ("torngas", our_fn)]
                    for which, fn in order if p % 2 == 0 else reversed(order):
                        add(name, which, await atimed(chunk, fn, conc), chunk)
        await araw.aclose()
        await araw.connection_pool.disconnect()
        await cache.adisconnect()

    asyncio.run(arun())
    cache.clear()
    cache.disconnect()
    raw.close()
    return {
        name: {"raw": t["ops"] / t["raw"], "torngas": t["ops"] / t["torngas"]}
        for name, t in totals.items()
    }


def overhead_us() -> dict[str, float]:
    """CPU cost of the cache layer per call, without the network (timeit)."""
    import timeit

    cfg = {
        "o": {
            "BACKEND": "torngas.cache.backends.rediscache.RedisCache",
            "LOCATION": "127.0.0.1:1",
            "KEY_PREFIX": "bench",
        }
    }
    c = CacheHandler().create_connection("o", cfg)
    data = c._dumps(VALUE)
    n = 100000
    key_cost = timeit.timeit(lambda: c.make_and_validate_key("k123"), number=n) / n
    return {
        "set (key + serialize)": (key_cost + timeit.timeit(lambda: c._dumps(VALUE), number=n) / n)
        * 1e6,
        "get (key + deserialize)": (
            key_cost + timeit.timeit(lambda: c._loads(data, "k"), number=n) / n
        )
        * 1e6,
    }


def report(res: dict[str, dict[str, float]], args: argparse.Namespace, port: int) -> None:
    lines = [
        "| operation | raw redis-py ops/s | RedisCache ops/s | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    worst = 10.0
    for name, r in res.items():
        ratio = r["torngas"] / r["raw"]
        worst = min(worst, ratio)
        lines.append(f"| {name} | {r['raw']:,.0f} | {r['torngas']:,.0f} | {ratio:.2f} |")
    cost = overhead_us()
    cost_line = "; ".join(f"{k}: {v:.2f} µs" for k, v in cost.items())
    load = os.getloadavg()[0]
    env = (
        f"Python {platform.python_version()}, redis-py {redis.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, load average {load:.1f}; "
        f"{args.ops} ops per operation in alternating chunks of {args.chunk}, "
        f"value {len(VALUE)} chars, private redis-server on loopback"
    )
    table = "\n".join(lines)
    print(env)
    print(table)
    print(f"\nworst ratio: {worst:.2f} (target >= 0.90)")
    print(f"cache-layer CPU per call (no network): {cost_line}")
    if args.write:
        Path(args.write).write_text(
            "# Cache benchmark: RedisCache vs raw redis-py\n\n"
            "Produced by `bench/cache_redis.py --write docs/benchmarks-cache.md` (run it to "
            "reproduce; absolute numbers depend on the machine and its load, compare the "
            "ratio).\n\n"
            f"{env}.\n\n{table}\n\nWorst ratio: **{worst:.2f}** (target >= 0.90).\n\n"
            f"Cache-layer CPU per call, measured without the network: {cost_line}. "
            "That is what the ratio pays for: `make_key` + key validation (250 bytes, no "
            "spaces/control characters), the serializer (a str is `S` + UTF-8) and the "
            "mapping of redis-py errors to `CacheConnectionError`. The async path uses "
            "redis-py's native asyncio client, never a thread.\n"
        )


if __name__ == "__main__":
    main()
