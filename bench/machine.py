"""What the numbers were measured on: CPU, memory, kernel, versions."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from typing import Any

PACKAGES = (
    "torngas", "tornado", "jinja2", "redis", "aiosqlite", "sqlalchemy", "flask",
    "flask-session", "werkzeug", "gunicorn", "django", "fastapi", "starlette", "uvicorn",
    "uvloop", "httptools", "aiohttp", "aiohttp-jinja2", "aiohttp-session",
)  # fmt: skip


def _run(argv: list[str]) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def versions(python: str) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "out = {}\n"
        f"for n in {PACKAGES!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    import json

    text = _run([python, "-c", code])
    try:
        return dict(json.loads(text.splitlines()[-1]))
    except (ValueError, IndexError):
        return {}


def describe(python: str) -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.+)", f.read())
            cpu = m.group(1).strip() if m else ""
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"MemTotal:\s+(\d+) kB", f.read())
            mem = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB" if m else ""
    except OSError:
        pass
    wrk_v = _run([shutil.which("wrk") or "wrk", "-v"]).splitlines()
    redis_v = _run([shutil.which("redis-server") or "redis-server", "--version"])
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "os": _run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": _run([python, "-c", "import sys; print(sys.version.split()[0])"]),
        "packages": versions(python),
        "wrk": wrk_v[0] if wrk_v else "",
        "redis": redis_v.split(" sha=")[0] if redis_v else "",
    }
