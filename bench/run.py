"""``scripts/bench`` entry point: run the suites, then write the report.

    scripts/bench                 # full: 3 rounds x 8 s (+2 s warm-up) per case
    scripts/bench --quick         # 3 rounds x 3 s (+1 s warm-up), for a first look
    scripts/bench --suites main --contenders tornado,torngas --rounds 5

Every server is pinned to core 0 (``taskset -c 0``), wrk to core 1; each server
is started once per suite, checked against the reference bytes, then the cases
are timed round-robin. Raw wrk output and server logs go to
``bench/results/raw/<run>/``; the CSV, plots and docs/benchmarks.md are written
by :mod:`bench.report`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import common, suites, verify, wrk
from bench.contenders import CONTENDERS
from bench.server import ROOT, Server, free_port

RAW = ROOT / "bench" / "results" / "raw"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Redis:
    """A private redis-server on a free loopback port (no persistence)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Redis | None:
        binary = shutil.which("redis-server")
        if not binary:
            log("redis-server not found: /full is skipped")
            return None
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        import socket

        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        log("redis-server did not start: /full is skipped")
        return None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def run_suite(
    suite: suites.Suite,
    args: argparse.Namespace,
    base_env: dict[str, str],
    run_dir: Path,
    rows: list[dict[str, Any]],
    failures: list[str],
    errors: list[str],
) -> None:
    cases = [c for c in suite.cases if c.endpoint != "/full" or "BENCH_REDIS_URL" in base_env]
    servers: dict[tuple[object, ...], Server] = {}
    wrk_headers: dict[str, dict[str, str]] = {}
    log(f"suite {suite.name}: {len(cases)} cases, {args.rounds} rounds")
    try:
        for case in cases:
            contender = CONTENDERS[case.contender]
            if case.server_key not in servers:
                port = free_port()
                tag = "-".join(
                    [case.contender, f"p{case.processes}"] + [f"{k}{v}" for k, v in case.env]
                )
                env = {**base_env, **contender.env, **dict(case.env)}
                env["BENCH_LOG_DIR"] = str(run_dir / "logs" / f"{suite.name}-{tag}")
                Path(env["BENCH_LOG_DIR"]).mkdir(parents=True, exist_ok=True)
                server = Server(
                    contender.command(port, case.processes, args.python),
                    port,
                    env,
                    run_dir / "logs" / f"{suite.name}-{tag}.log",
                    cpus=case.cpus,
                )
                log(f"start {tag} on :{port}")
                try:
                    servers[case.server_key] = server.start()
                except RuntimeError as exc:
                    failures.append(f"{suite.name}: {case.key}: did not start: {exc}")
                    log(f"FAILED to start {tag}: {exc}")
                    continue
            server = servers.get(case.server_key)
            if server is None:
                continue
            try:
                checked = verify.check(server.port, case.endpoint)
                wrk_headers[case.key] = checked.headers
            except (verify.Mismatch, OSError) as exc:
                failures.append(f"{suite.name}: {case.key}: {exc}")
                log(f"MISMATCH {case.key}: {exc} — not timed")
        timed = [c for c in cases if c.key in wrk_headers]
        for rnd in range(1, args.rounds + 1):
            for case in timed:
                server = servers[case.server_key]
                url = f"http://127.0.0.1:{server.port}{case.endpoint}"
                headers = wrk_headers[case.key]
                if args.warmup:
                    wrk.run(url, args.warmup, args.connections, headers=headers,
                            cpus=case.wrk_cpus)  # fmt: skip
                cpu0, t0 = server.cpu_seconds(), time.monotonic()
                res = wrk.run(url, args.duration, args.connections, headers=headers,
                              cpus=case.wrk_cpus)  # fmt: skip
                cpu = (server.cpu_seconds() - cpu0) / max(time.monotonic() - t0, 1e-9)
                name = case.key.replace(" ", "_").replace("/", "")
                (run_dir / "wrk" / f"{suite.name}-{name}-r{rnd}.txt").write_text(res.raw)
                rows.append(
                    {
                        "suite": suite.name,
                        "case": case.key,
                        "contender": case.contender,
                        "endpoint": case.endpoint,
                        "routes": dict(case.env).get("BENCH_ROUTES", ""),
                        "middlewares": dict(case.env).get("BENCH_MIDDLEWARES", ""),
                        "processes": case.processes,
                        "round": rnd,
                        "rps": round(res.rps, 1),
                        "latency_avg_ms": round(res.latency_avg_ms, 3),
                        "latency_p99_ms": round(res.latency_p99_ms, 3),
                        "requests": res.requests,
                        "non_2xx": res.non_2xx,
                        "socket_errors": res.socket_errors,
                        "server_cpu": round(cpu, 3),
                    }
                )
                log(
                    f"{suite.name} r{rnd} {case.key:32s} {res.rps:9.0f} req/s  "
                    f"cpu {cpu:4.2f}  p99 {res.latency_p99_ms:.1f} ms"
                    + (f"  non-2xx {res.non_2xx}" if res.non_2xx else "")
                )
                if res.non_2xx:  # reported with the results; the run still counts
                    errors.append(
                        f"{suite.name}: {case.key} round {rnd}: {res.non_2xx} non-2xx responses "
                        f"of {res.requests}"
                    )
    finally:
        for server in servers.values():
            server.stop()


def ratios(rows: list[dict[str, Any]], suite: suites.Suite) -> list[dict[str, Any]]:
    """For each target: the per-round ratio and its median over rounds."""
    out = []
    for t in suite.targets:
        per_round = []
        for rnd in sorted({r["round"] for r in rows if r["suite"] == suite.name}):
            num = [r["rps"] for r in rows if r["suite"] == suite.name and r["round"] == rnd
                   and r["case"] == t.numerator]  # fmt: skip
            den = [r["rps"] for r in rows if r["suite"] == suite.name and r["round"] == rnd
                   and r["case"] == t.denominator]  # fmt: skip
            if num and den and den[0]:
                per_round.append(num[0] / den[0])
        if per_round:
            med = statistics.median(per_round)
            out.append(
                {
                    "suite": suite.name,
                    "target": t.name,
                    "numerator": t.numerator,
                    "denominator": t.denominator,
                    "goal": t.goal,
                    "issue": t.issue,
                    "median": round(med, 3),
                    "rounds": [round(x, 3) for x in per_round],
                    "met": None if t.goal == 0 or "info" in t.issue else med >= t.goal,
                }
            )
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 rounds x 3 s, 1 s warm-up")
    p.add_argument("--rounds", type=int, help="rounds per case (default 3)")
    p.add_argument("--duration", type=int, help="seconds of each timed wrk run (default 8)")
    p.add_argument("--warmup", type=int, help="seconds of wrk warm-up before each run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument(
        "--suites", default="main,routes,middleware,processes", help="comma-separated suites"
    )
    p.add_argument("--contenders", default=",".join(suites.MAIN_CONTENDERS),
                   help="comma-separated contenders for the main suite")  # fmt: skip
    p.add_argument("--endpoints", default=",".join(suites.MAIN_ENDPOINTS),
                   help="comma-separated endpoints for the main suite, e.g. /full")  # fmt: skip
    p.add_argument("--python", default=sys.executable, help="interpreter that runs the apps")
    p.add_argument("--no-report", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite docs/benchmarks.md and the plots from docs/bench/ without measuring",
    )
    a = p.parse_args(argv)
    a.rounds = a.rounds or 3
    a.duration = a.duration or (3 if a.quick else 8)
    a.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 2)
    a.mode = "quick" if a.quick else "full"
    if a.rounds < 3:
        log("note: fewer than 3 rounds; medians are weak")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        from bench import report

        report.rewrite()
        return 0
    wrk.binary()
    started = dt.datetime.now(dt.UTC)
    run_dir = RAW / started.strftime("%Y%m%dT%H%M%SZ")
    (run_dir / "wrk").mkdir(parents=True, exist_ok=True)
    from bench import machine

    info = machine.describe(args.python)
    info["load_before"] = os.getloadavg()
    base_env = {"BENCH_SQLITE": common.build_db(RAW / "bench.sqlite3")}
    redis = Redis(run_dir).start()
    if redis is not None:
        base_env["BENCH_REDIS_URL"] = redis.url
    os.environ.update(base_env)  # the reference in bench.verify reads them too
    selected = [s.strip() for s in args.suites.split(",") if s.strip()]
    contenders = tuple(c.strip() for c in args.contenders.split(",") if c.strip())
    unknown = [c for c in contenders if c not in CONTENDERS]
    if unknown:
        raise SystemExit(f"unknown contenders: {unknown}; known: {list(CONTENDERS)}")
    endpoints = tuple(e.strip() for e in args.endpoints.split(",") if e.strip())
    bad = [e for e in endpoints if e not in suites.MAIN_ENDPOINTS]
    if bad:
        raise SystemExit(f"unknown endpoints: {bad}; known: {list(suites.MAIN_ENDPOINTS)}")
    all_suites = suites.all_suites(contenders, endpoints)
    rows: list[dict[str, Any]] = []
    failures: list[str] = []  # a server that did not start or disagreed: exit status 1
    errors: list[str] = []  # non-2xx answers under load: reported in the page
    t0 = time.monotonic()
    try:
        for name in selected:
            if name not in all_suites:
                raise SystemExit(f"unknown suite {name!r}; known: {list(all_suites)}")
            run_suite(all_suites[name], args, base_env, run_dir, rows, failures, errors)
    finally:
        if redis is not None:
            redis.stop()
    info["load_after"] = os.getloadavg()
    info["elapsed_s"] = round(time.monotonic() - t0)
    info["started"] = started.isoformat(timespec="seconds")
    info["mode"] = args.mode
    info["settings"] = {
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "wrk": wrk.command_line(args.duration, args.connections),
        "argv": " ".join(["scripts/bench", *(argv if argv is not None else sys.argv[1:])]),
    }
    targets = [t for n in selected for t in ratios(rows, all_suites[n])]
    summary = {"machine": info, "targets": targets, "failures": failures, "errors": errors}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    log(f"raw results in {run_dir.relative_to(ROOT)}")
    for t in targets:
        flag = {True: "met", False: "MISSED", None: "info"}[t["met"]]
        log(f"{t['target']:48s} {t['median']:.3f} (goal {t['goal']}) {flag}  rounds {t['rounds']}")
    for e in errors:
        log(f"errors under load: {e}")
    for f in failures:
        log(f"FAILURE: {f}")
    if not args.no_report:
        from bench import report

        report.write(rows, summary, [all_suites[n] for n in selected])
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
