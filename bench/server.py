"""Start a contender's server on a loopback port, wait for it, stop it by PID."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(
    port: int, path: str, headers: Mapping[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, dict[str, list[str]], bytes]:
    """One GET on a fresh connection: ``(status, headers (lower-case names), body)``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        resp = conn.getresponse()
        body = resp.read()
        hdrs: dict[str, list[str]] = {}
        for k, v in resp.getheaders():
            hdrs.setdefault(k.lower(), []).append(v)
        return resp.status, hdrs, body
    finally:
        conn.close()


class Server:
    """One server process (and its children), started in its own session."""

    def __init__(
        self,
        argv: Sequence[str],
        port: int,
        env: Mapping[str, str],
        log_path: Path,
        cpus: str | None = "0",
    ) -> None:
        self.port = port
        self.log_path = log_path
        taskset = shutil.which("taskset")
        self.argv = ([taskset, "-c", cpus] if cpus and taskset else []) + list(argv)
        self.env = {**os.environ, **env}
        self.env["PYTHONPATH"] = str(ROOT) + os.pathsep + self.env.get("PYTHONPATH", "")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0, ready_path: str = "/plaintext") -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            self.argv,
            cwd=str(ROOT),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() can reach the workers
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                status, _, _ = http_get(self.port, ready_path, timeout=1.0)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout:.0f}s: {self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User+system CPU seconds of the server and its children (from /proc)."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in self._tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return total

    def _tree(self) -> list[int]:
        pids = [self.pid]
        i = 0
        while i < len(pids):
            try:
                tasks = Path(f"/proc/{pids[i]}/task").iterdir()
                for task in tasks:
                    kids = (task / "children").read_text().split()
                    pids.extend(int(k) for k in kids)
            except OSError:
                pass
            i += 1
        return pids

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to our PID, then SIGKILL to the process group we created."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        try:  # workers left behind (the group is ours: start_new_session)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._log.close()
        self.proc = None

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
