"""Private memcached processes on loopback (see /work/shared/TESTING.md).

``memcached -l 127.0.0.1 -p <P> -U 0 -m 64 -c 1024 -u memcache`` (as root it
refuses to run without ``-u``). Ready when ``version`` answers ``VERSION``.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from tests.services import ManagedProcess, free_port, require_binary, unavailable, wait_until

__all__ = ["MemcachedServer", "memcached_version"]


def memcached_version(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bytes | None:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"version\r\n")
            reply = s.recv(64)
            return reply if reply.startswith(b"VERSION") else None
    except OSError:
        return None


class MemcachedServer:
    """One memcached: ``start()``, ``stop()``, ``restart()``, ``pause()``/``resume()``."""

    def __init__(self, tmpdir: Path, port: int | None = None, *extra: str) -> None:
        self.binary = require_binary("memcached")
        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.extra = list(extra)
        self.process: ManagedProcess | None = None

    @property
    def location(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        argv = [
            self.binary,
            "-l",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "0",
            "-m",
            "64",
            "-c",
            "1024",
        ]
        if os.geteuid() == 0:
            argv += ["-u", "memcache"]
        return argv + self.extra

    def start(self, timeout: float = 10.0) -> MemcachedServer:
        self.process = ManagedProcess(self.argv(), self.tmpdir / f"memcached-{self.port}.log")
        self.process.start()
        if not wait_until(lambda: memcached_version(self.port) is not None, timeout):
            tail = self.process.log_tail()
            self.stop()
            unavailable(f"memcached on port {self.port} did not start: {tail}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self) -> None:
        """Stop and start on the same port (memcached keeps nothing)."""
        self.stop()
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        self.process.signal(signal.SIGSTOP)
        pid = self.process.pid
        # kill() returns before every thread has stopped: wait for the "T" state
        wait_until(lambda: _proc_state(pid) == "T", 5.0, interval=0.01)

    def resume(self) -> None:
        assert self.process is not None
        self.process.signal(signal.SIGCONT)

    def __enter__(self) -> MemcachedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _proc_state(pid: int) -> str:
    """The process state letter from /proc (R, S, T …); "" when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
