"""Write the results: docs/bench/results.csv, summary.json, PNG plots, docs/benchmarks.md.

A run replaces the rows of the suites it ran and keeps the others' (each
suite's table says when and how it was measured), so ``--suites routes`` after
a framework fix updates only that part. docs/benchmarks.md is generated from
bench/benchmarks.md.in: edit the template, not the output.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Sequence
from typing import Any

from bench.server import ROOT
from bench.suites import Suite

DOCS = ROOT / "docs"
OUT = DOCS / "bench"
TEMPLATE = ROOT / "bench" / "benchmarks.md.in"
FIELDS = ["suite", "case", "contender", "endpoint", "routes", "middlewares", "processes",
          "round", "rps", "latency_avg_ms", "latency_p99_ms", "requests", "non_2xx",
          "socket_errors", "server_cpu", "run"]  # fmt: skip
LABELS = {
    "tornado": "raw Tornado",
    "torngas": "torngas (no middleware)",
    "torngas-mw3": "torngas (AccessLog + 2 no-op)",
    "torngas-default": "torngas (default stack)",
    "flask": "Flask / gunicorn",
    "django": "Django / gunicorn",
    "fastapi": "FastAPI / uvicorn",
    "aiohttp": "aiohttp",
}


def _load_previous() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"suites": {}}
    if (OUT / "results.csv").exists():
        with open(OUT / "results.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    if (OUT / "summary.json").exists():
        try:
            summary = json.loads((OUT / "summary.json").read_text())
        except ValueError:
            pass
    summary.setdefault("suites", {})
    return rows, summary


def _num(row: dict[str, Any], key: str) -> float:
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return float("nan")


def medians(rows: list[dict[str, Any]], suite: str) -> dict[str, dict[str, Any]]:
    """case -> {rps, p99, cpu, contender, endpoint, n} (medians over rounds)."""
    out: dict[str, dict[str, Any]] = {}
    for case in dict.fromkeys(r["case"] for r in rows if r["suite"] == suite):
        rs = [r for r in rows if r["suite"] == suite and r["case"] == case]
        out[case] = {
            "rps": statistics.median(_num(r, "rps") for r in rs),
            "p99": statistics.median(_num(r, "latency_p99_ms") for r in rs),
            "cpu": statistics.median(_num(r, "server_cpu") for r in rs),
            "contender": rs[0]["contender"],
            "endpoint": rs[0]["endpoint"],
            "rounds": len(rs),
            "rps_all": [_num(r, "rps") for r in rs],
        }
    return out


# ------------------------------------------------------------------ plots
def _plots(rows: list[dict[str, Any]], suites: Sequence[str]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    if "main" in suites:
        med = medians(rows, "main")
        contenders = list(dict.fromkeys(m["contender"] for m in med.values()))
        endpoints = list(dict.fromkeys(m["endpoint"] for m in med.values()))
        fig, ax = plt.subplots(figsize=(10, 4.8))
        width = 0.8 / max(len(contenders), 1)
        for i, c in enumerate(contenders):
            ys = [med.get(f"{c} {ep}", {}).get("rps", 0) for ep in endpoints]
            ax.bar([j + i * width for j in range(len(endpoints))], ys, width,
                   label=LABELS.get(c, c))  # fmt: skip
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(endpoints))], endpoints)
        ax.set_ylabel("requests/s (median of rounds)")
        ax.set_title("One server process on one core; wrk -t1 -c64 on the other")
        ax.legend(fontsize=8, ncol=2)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(OUT / "main.png", dpi=110)
        plt.close(fig)
        made.append("main")
    curves = {
        "routes": ("routes", "number of routes (matched route last)", ("torngas", "tornado")),
        "middleware": ("middlewares", "number of no-op middlewares", ("torngas",)),
        "processes": ("processes", "worker processes", ("torngas",)),
    }
    for suite, (field, xlabel, contenders) in curves.items():
        if suite not in suites:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        for c in contenders:
            rs = [r for r in rows if r["suite"] == suite and r["contender"] == c]
            xs = sorted({int(r[field]) for r in rs if str(r[field]) != ""})
            ys = [statistics.median(_num(r, "rps") for r in rs if int(r[field]) == x) for x in xs]
            if xs:
                ax.plot(xs, ys, marker="o", label=LABELS.get(c, c))
        if suite == "routes":
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("requests/s, /plaintext (median)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(OUT / f"{suite}.png", dpi=110)
        plt.close(fig)
        made.append(suite)
    return made


# ---------------------------------------------------------------- markdown
def _fmt_targets(targets: list[dict[str, Any]]) -> str:
    lines = [
        "| target | issue | goal | median ratio | per round | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in targets:
        verdict = {True: "met", False: "**missed**", None: "(for reference)"}[t["met"]]
        goal = f">= {t['goal']}" if t["met"] is not None else "-"
        rounds = ", ".join(f"{x:.2f}" for x in t["rounds"])
        lines.append(
            f"| {t['target']} | {t['issue']} | {goal} | {t['median']:.2f} | {rounds} | {verdict} |"
        )
    return "\n".join(lines)


def _fmt_main(med: dict[str, dict[str, Any]], base: dict[str, float]) -> str:
    endpoints = list(dict.fromkeys(m["endpoint"] for m in med.values()))
    contenders = list(dict.fromkeys(m["contender"] for m in med.values()))
    head = "| contender | " + " | ".join(f"{ep} req/s (x Tornado)" for ep in endpoints) + " |"
    lines = [head, "| --- |" + " --- |" * len(endpoints)]
    for c in contenders:
        cells = []
        for ep in endpoints:
            m = med.get(f"{c} {ep}")
            if not m:
                cells.append("-")
                continue
            ref = base.get(ep)
            ratio = f" ({m['rps'] / ref:.2f})" if ref else ""
            cells.append(f"{m['rps']:,.0f}{ratio}")
        lines.append(f"| {LABELS.get(c, c)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt_cases(med: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| case | req/s (median) | per round | p99 latency ms | server CPU (cores) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case, m in med.items():
        rounds = ", ".join(f"{x:,.0f}" for x in m["rps_all"])
        lines.append(f"| {case} | {m['rps']:,.0f} | {rounds} | {m['p99']:.1f} | {m['cpu']:.2f} |")
    return "\n".join(lines)


def _fmt_run(run: dict[str, Any]) -> str:
    s = run.get("settings", {})
    load_b = ", ".join(f"{x:.2f}" for x in run.get("load_before", []))
    load_a = ", ".join(f"{x:.2f}" for x in run.get("load_after", []))
    return (
        f"Measured {run.get('started', '?')} with `{s.get('argv', '?')}` ({run.get('mode')} mode: "
        f"{s.get('rounds')} rounds, {s.get('duration_s')} s per timed run after "
        f"{s.get('warmup_s')} s of warm-up, {s.get('connections')} connections; the run took "
        f"{run.get('elapsed_s', '?')} s). Load average before: {load_b}; after: {load_a}."
    )


def _fmt_commands(run: dict[str, Any]) -> str:
    """The exact command line of every contender and of wrk (PORT: a free port)."""
    import shlex

    from bench.contenders import CONTENDERS

    s = run.get("settings", {})
    duration = s.get("duration_s", 8)
    lines = ["```sh", "# every server (from the repository root, bench/.venv's python):"]
    for c in CONTENDERS.values():
        env = " ".join(f"{k}={v}" for k, v in c.env.items())
        argv = " ".join(shlex.quote(a) for a in c.command(0, 1, "python")).replace("=0", "=PORT")
        argv = argv.replace("127.0.0.1:0", "127.0.0.1:PORT").replace("--port 0", "--port PORT")
        lines.append(f"{env + ' ' if env else ''}taskset -c 0 {argv}")
    lines += [
        "# with --processes: taskset -c 0,1 ... --processes=2",
        "# environment for all: BENCH_SQLITE=<data set> BENCH_REDIS_URL=redis://127.0.0.1:<port>/0",
        "#   BENCH_LOG_DIR=<dir>; the growth suites add BENCH_ROUTES=N or BENCH_MIDDLEWARES=N",
        "# load, after a warm-up run of the same command:",
        f"taskset -c 1 wrk -t1 -c{s.get('connections', 64)} -d{duration}s --latency "
        "http://127.0.0.1:PORT/plaintext",
        "# /full adds -H 'Cookie: <the session cookie from the byte check>'",
        "```",
    ]
    return "\n".join(lines)


def render(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    suites_info: dict[str, Any] = summary["suites"]
    parts: dict[str, str] = {}
    all_targets = [t for s in suites_info.values() for t in s.get("targets", [])]
    parts["TARGETS"] = _fmt_targets(all_targets) if all_targets else "_No run yet._"
    sections = []
    for name, info in suites_info.items():
        med = medians(rows, name)
        if not med:
            continue
        block = [f"### {info.get('title', name)}", "", _fmt_run(info.get("run", {})), ""]
        if name == "main":
            base = {m["endpoint"]: m["rps"] for m in med.values() if m["contender"] == "tornado"}
            block += [_fmt_main(med, base), "", "All cases:", ""]
        block += [_fmt_cases(med), ""]
        if (OUT / f"{name}.png").exists():
            block += [f"![{name}](bench/{name}.png)", ""]
        if info.get("failures"):
            block += ["Failures:", ""] + [f"- {f}" for f in info["failures"]] + [""]
        if info.get("errors"):
            block += ["Errors under load (see below):", ""]
            block += [f"- {e}" for e in info["errors"]] + [""]
        sections.append("\n".join(block))
    parts["RESULTS"] = "\n".join(sections) or "_No run yet._"
    last = max(suites_info.values(), key=lambda s: s.get("run", {}).get("started", ""), default={})
    run = last.get("run", {})
    pk = run.get("packages", {})
    parts["MACHINE"] = "\n".join(
        [
            f"- CPU: {run.get('cpu', '?')}, {run.get('cores', '?')} cores; "
            f"memory {run.get('memory', '?')}",
            f"- OS: {run.get('os', '?')}, kernel {run.get('kernel', '?')}",
            f"- Python {run.get('python', '?')}; {run.get('wrk', 'wrk ?')}; {run.get('redis', '')}",
        ]
    )
    parts["VERSIONS"] = ", ".join(f"{k} {v}" for k, v in sorted(pk.items())) or "?"
    parts["COMMANDS"] = _fmt_commands(run)
    findings = ROOT / "bench" / "findings.md"
    parts["FINDINGS"] = findings.read_text().strip() if findings.exists() else ""
    text = TEMPLATE.read_text()
    for key, value in parts.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def rewrite() -> None:
    """Regenerate the plots and docs/benchmarks.md from docs/bench/ (no measuring)."""
    rows, merged = _load_previous()
    _plots(rows, list(merged["suites"]))
    (DOCS / "benchmarks.md").write_text(render(rows, merged))


def write(rows: list[dict[str, Any]], summary: dict[str, Any], suites: Sequence[Suite]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    old_rows, merged = _load_previous()
    ran = {s.name for s in suites}
    started = summary["machine"]["started"]
    new_rows = [{**r, "run": started} for r in rows]
    rows_all = [r for r in old_rows if r["suite"] not in ran] + new_rows
    for s in suites:
        merged["suites"][s.name] = {
            "title": s.title,
            "run": summary["machine"],
            "targets": [t for t in summary["targets"] if t["suite"] == s.name],
            "failures": [f for f in summary["failures"] if f.startswith(f"{s.name}:")],
            "errors": [e for e in summary.get("errors", []) if e.startswith(f"{s.name}:")],
        }
    order = ["main", "routes", "middleware", "processes"]
    merged["suites"] = dict(
        sorted(
            merged["suites"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99
        )
    )
    with open(OUT / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows_all)
    (OUT / "summary.json").write_text(json.dumps(merged, indent=2) + "\n")
    _plots(rows_all, list(merged["suites"]))
    (DOCS / "benchmarks.md").write_text(render(rows_all, merged))
