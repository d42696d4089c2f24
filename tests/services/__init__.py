"""Private service processes for tests (see ../shared/TESTING.md).

Each fixture starts its own server on a free loopback port, records the PID,
and stops only that PID. ``TORNGAS_REQUIRE_SERVICES=1`` (set by .ci/run) turns
"service not available" into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

REQUIRE_SERVICES = os.environ.get("TORNGAS_REQUIRE_SERVICES", "") not in ("", "0", "false")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def require_binary(name: str, *extra_dirs: str) -> str:
    path = shutil.which(name) or next(
        (str(Path(d) / name) for d in extra_dirs if (Path(d) / name).exists()), None
    )
    if not path:
        unavailable(f"{name} is not installed (scripts/test installs it with apt-get)")
    assert path
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``port`` now (SO_REUSEADDR, as servers
    set it, so connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            pass
        time.sleep(interval)
    return False


def can_connect(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class ManagedProcess:
    """A server process this test run started; stopped by its own PID only."""

    def __init__(self, argv: Sequence[str], log_path: Path, **popen_kwargs: object) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self.popen_kwargs = popen_kwargs
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(  # noqa: S603
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self.popen_kwargs,  # type: ignore[arg-type]
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)  # in case a test left it stopped
                self.proc.terminate()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        self._log.close()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def proc_state(pid: int) -> str:
    """The process state letter from /proc (R, S, T …); "" when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


class PrivateServer:
    """A server process on a free loopback port: ``start()``, ``stop()``,
    ``restart()``, ``kill()``, ``pause()``/``resume()``; usable as a context manager.

    Subclasses name the ``binary``, build ``argv()`` and say when the server is
    ``ready()``; ``log_file`` is where its own log goes.
    """

    binary_name = ""

    def __init__(self, tmpdir: Path, port: int | None = None, *extra: str) -> None:
        self.binary = require_binary(self.binary_name)
        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self._own_port = not port  # chosen here: may be chosen again if lost
        self.port = port or free_port()
        self.extra = list(extra)
        self.process: ManagedProcess | None = None

    @property
    def location(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.tmpdir / f"{self.binary_name}-{self.port}.log"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 10.0) -> Any:
        for _attempt in range(3):
            process = ManagedProcess(self.argv(), self.tmpdir / f"stdout-{self.port}.log")
            self.process = process.start()

            def up(process: ManagedProcess = process) -> bool:
                # Our own process must be the one answering: between free_port()
                # and the bind, another test run may have taken the port (our
                # server then exits, and ready() would talk to theirs).
                return process.alive() and self.ready()

            if wait_until(up, timeout) and wait_until(
                lambda p=process: not p.alive(), 0.05, interval=0.01
            ) is False:
                return self
            tail = self.log_tail() or process.log_tail()
            self.stop()
            if not self._own_port or port_is_free(self.port):
                unavailable(f"{self.binary_name} on port {self.port} did not start: {tail}")
            self.port = free_port()  # lost the port to someone else: take another
        unavailable(f"{self.binary_name}: no free port after 3 attempts")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port (the data is gone)."""
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL (a crash: no FIN from the server application)."""
        if self.process is not None:
            self.process.signal(signal.SIGKILL)
            assert self.process.proc is not None
            self.process.proc.wait(10)
            self.process.stop()
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: hung, sockets stay open."""
        assert self.process is not None
        self.process.signal(signal.SIGSTOP)
        pid = self.process.pid
        # kill() returns before every thread has stopped: wait for the "T" state
        wait_until(lambda: proc_state(pid) == "T", 5.0, interval=0.01)

    def resume(self) -> None:
        assert self.process is not None
        self.process.signal(signal.SIGCONT)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
