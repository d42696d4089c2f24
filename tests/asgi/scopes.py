"""ASGI scopes as a server builds them, for driving an application in process."""

from __future__ import annotations

from typing import Any


def http_scope(path: str) -> dict[str, Any]:
    """What uvicorn (httptools) passes for wrk's ``GET path`` (``Host`` only)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "state": {},
    }
