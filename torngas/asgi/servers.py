"""Run ``torngas.asgi:application`` on an ASGI server (``torngas runserver --server``).

Each server gets the same three things: where to listen, how many worker
processes, and the settings module (through ``TORNGAS_APP_SETTINGS``, so that
every worker process builds the same application). Proxy headers are left to
torngas (``XHEADERS``/``TRUSTED_PROXIES``), not to the server's own handling.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["ASGI_SERVERS", "SERVERS", "run_asgi_server"]

#: ``--server`` values that run through :mod:`torngas.asgi`.
ASGI_SERVERS = ("uvicorn", "granian", "hypercorn")
#: Every ``--server`` value; ``tornado`` (the default) is Tornado's own HTTPServer.
SERVERS = ("tornado",) + ASGI_SERVERS

_TARGET = "torngas.asgi:application"
_PACKAGES = {"uvicorn": "uvicorn", "granian": "granian", "hypercorn": "hypercorn"}


def _require(server: str) -> None:
    import importlib.util

    if importlib.util.find_spec(_PACKAGES[server]) is None:
        from torngas.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"--server {server}: the {server!r} package is not installed "
            f"(pip install 'torngas[{'asgi' if server == 'uvicorn' else server}]')"
        )


def run_asgi_server(
    server: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    settings_module: str | None = None,
    log_level: str = "info",
    **extra: Any,
) -> None:
    """Serve the project with ``server`` until it is stopped (SIGINT/SIGTERM).

    ``extra`` are the server's own keyword arguments (``uvicorn.run``,
    ``granian.Granian``, hypercorn ``Config`` attributes).
    """
    if server not in ASGI_SERVERS:
        raise ValueError(f"unknown ASGI server {server!r}; known: {', '.join(ASGI_SERVERS)}")
    _require(server)
    if settings_module:
        os.environ["TORNGAS_APP_SETTINGS"] = settings_module
    # Worker processes import the project from the current directory too.
    cwd = os.getcwd()
    path = os.environ.get("PYTHONPATH", "")
    if cwd not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = cwd + (os.pathsep + path if path else "")
    if server == "uvicorn":
        _uvicorn(host, port, workers, log_level, extra)
    elif server == "granian":
        _granian(host, port, workers, log_level, extra)
    else:
        _hypercorn(host, port, workers, log_level, extra)


def _uvicorn(host: str, port: int, workers: int, log_level: str, extra: dict[str, Any]) -> None:
    import uvicorn

    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers if workers > 1 else None,
        "lifespan": "on",
        "proxy_headers": False,
        "log_level": log_level,
        "access_log": False,  # torngas's AccessLogMiddleware logs requests
    }
    kwargs.update(extra)
    uvicorn.run(_TARGET, **kwargs)


def _granian(host: str, port: int, workers: int, log_level: str, extra: dict[str, Any]) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    kwargs: dict[str, Any] = {
        "address": host,
        "port": port,
        "interface": Interfaces.ASGI,
        "workers": max(workers, 1),
        "log_level": log_level,
    }
    kwargs.update(extra)
    Granian(_TARGET, **kwargs).serve()


def _hypercorn(host: str, port: int, workers: int, log_level: str, extra: dict[str, Any]) -> None:
    from hypercorn.config import Config
    from hypercorn.run import run

    config = Config()
    config.application_path = _TARGET
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.workers = workers if workers > 1 else 0  # 0: serve in this process
    config.loglevel = log_level.upper()
    config.accesslog = None
    for key, value in extra.items():
        setattr(config, key, value)
    code = run(config)
    if code:
        sys.exit(code)
