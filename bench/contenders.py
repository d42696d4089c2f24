"""The contenders: how to start each server, and what it needs.

A :class:`Contender` is a command line plus environment. Add one by appending
to :data:`CONTENDERS` (the "default stack" torngas contender goes here once
sessions and HTTP modules exist: a settings variant selected by environment,
as ``torngas-mw3`` is).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Argv = Callable[[str, int, int], list[str]]  # (python, port, processes) -> argv


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    argv: Argv
    env: Mapping[str, str] = field(default_factory=dict)
    #: Modules that must be importable (the smoke test skips the contender otherwise).
    modules: tuple[str, ...] = ()
    #: Endpoints it serves (all four unless said otherwise).
    endpoints: tuple[str, ...] = ("/plaintext", "/json", "/page", "/full")
    #: Whether ``processes`` > 1 is supported by the command line.
    multiprocess: bool = False
    note: str = ""

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.modules)

    def command(self, port: int, processes: int = 1, python: str | None = None) -> list[str]:
        if processes > 1 and not self.multiprocess:
            raise ValueError(f"{self.key} does not support several processes")
        return self.argv(python or sys.executable, port, processes)


def _module(name: str) -> Argv:
    return lambda py, port, procs: [py, "-m", name, f"--port={port}"]


def _torngas(py: str, port: int, procs: int) -> list[str]:
    return [py, "-m", "bench.apps.torngas_app", f"--port={port}", f"--processes={procs}"]


def _gunicorn(app: str) -> Argv:
    return lambda py, port, procs: [
        py, "-m", "gunicorn", "--workers", str(procs), "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning", app,
    ]  # fmt: skip


def _uvicorn_app(app: str) -> Argv:
    """uvicorn with uvloop + httptools (uvicorn[standard]), no access log."""
    return lambda py, port, procs: [
        py, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(procs), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--no-proxy-headers", "--log-level", "warning",
    ]  # fmt: skip


def _granian_app(app: str) -> Argv:
    return lambda py, port, procs: [
        py, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(procs), "--loop", "uvloop",
        "--log-level", "warning", "--no-ws", app,
    ]  # fmt: skip


TORNADO = ("tornado", "jinja2", "redis", "aiosqlite")

CONTENDERS: dict[str, Contender] = {
    c.key: c
    for c in (
        Contender("tornado", "raw Tornado", _module("bench.apps.tornado_app"), modules=TORNADO),
        Contender(
            "torngas",
            "torngas (no middleware)",
            _torngas,
            modules=("torngas",) + TORNADO,
            multiprocess=True,
        ),
        Contender(
            "torngas-mw3",
            "torngas (AccessLog + 2 no-op)",
            _torngas,
            env={"BENCH_ACCESSLOG": "1", "BENCH_MIDDLEWARES": "2"},
            modules=("torngas",) + TORNADO,
            multiprocess=True,
            note="AccessLogMiddleware writing access.log, plus two no-op middlewares "
            "(process_request + process_response)",
        ),
        Contender(
            "torngas-default",
            "torngas (default stack)",
            _torngas,
            env={"BENCH_STACK": "default"},
            modules=("torngas",) + TORNADO,
            multiprocess=True,
            note="AccessLogMiddleware, SessionMiddleware (Redis), HttpModuleMiddleware, "
            "SignalMiddleware; /plaintext, /json and /page do not touch the session",
        ),
        Contender(
            "flask",
            "Flask / gunicorn",
            _gunicorn("bench.apps.flask_app:app"),
            modules=("flask", "flask_session", "gunicorn", "redis"),
            multiprocess=True,
            note="gunicorn sync worker (the default)",
        ),
        Contender(
            "django",
            "Django / gunicorn",
            _gunicorn("bench.apps.django_app.wsgi:application"),
            modules=("django", "gunicorn", "redis", "jinja2"),
            multiprocess=True,
            note="gunicorn sync worker (the default)",
        ),
        Contender(
            "fastapi",
            "FastAPI / uvicorn",
            _uvicorn_app("bench.apps.fastapi_app:app"),
            modules=("fastapi", "uvicorn", "jinja2", "redis", "aiosqlite"),
            multiprocess=True,
            note="uvicorn[standard]: uvloop + httptools",
        ),
        Contender(
            "torngas-uvicorn",
            "torngas / uvicorn (ASGI)",
            _uvicorn_app("bench.apps.torngas_app.asgi:application"),
            modules=("torngas", "uvicorn", "uvloop", "httptools") + TORNADO,
            multiprocess=True,
            note="torngas.asgi on uvicorn (uvloop + httptools); same project as torngas",
        ),
        Contender(
            "torngas-granian",
            "torngas / granian (ASGI)",
            _granian_app("bench.apps.torngas_app.asgi:application"),
            modules=("torngas", "granian", "uvloop") + TORNADO,
            multiprocess=True,
            note="torngas.asgi on granian (ASGI interface, uvloop); same project as torngas",
        ),
        Contender(
            "asgi-bare",
            "bare ASGI / uvicorn",
            _uvicorn_app("bench.apps.asgi_bare:app"),
            modules=("uvicorn", "uvloop", "httptools"),
            endpoints=("/plaintext", "/json"),
            multiprocess=True,
            note="a bare ASGI callable (no framework): the ceiling on uvicorn",
        ),
        Contender(
            "aiohttp",
            "aiohttp",
            _module("bench.apps.aiohttp_app"),
            modules=("aiohttp", "aiohttp_jinja2", "aiohttp_session", "redis", "aiosqlite"),
        ),
    )
}


def get(key: str) -> Contender:
    try:
        return CONTENDERS[key]
    except KeyError:
        raise SystemExit(f"unknown contender {key!r}; known: {', '.join(CONTENDERS)}") from None
