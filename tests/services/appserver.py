"""A torngas application as its own server process.

For tests that need a real ``runserver.py`` rather than ``torngas.testing.serve``:
several processes behind one Redis or one nginx, signals and graceful shutdown,
start-up refusals (exit code 2 and the message). ``AppProcess`` starts the command
(the caller chose the port it listens on), sends stdout and stderr to a log file of
its own, waits until ``GET ready_path`` answers 200, and stops only its own PID:
SIGTERM, a bounded wait, then SIGKILL (``ManagedProcess.stop``)::

    with app_process("tests.websocket.wsapp.settings", log_dir=tmp_path) as app:
        app.wait_ready()
        httpx.get(app.url + "/")
    assert "Traceback" not in app.output()
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import httpx

from tests.services import ManagedProcess, free_port

ROOT = str(Path(__file__).resolve().parents[2])
TEST_RUNSERVER = "tests/test_apps/runserver.py"  # the test project's runserver.py, from ROOT


def app_env(
    overrides: Mapping[str, str] | None = None,
    *,
    unset: Iterable[str] = (),
    pythonpath: str | None = ROOT,
) -> dict[str, str]:
    """The environment for a server subprocess: this one's, without
    ``TORNGAS_APP_SETTINGS`` (the command line names the settings) and the names in
    ``unset``; ``PYTHONUNBUFFERED=1`` so that the log is complete while the process
    runs; ``PYTHONPATH=pythonpath`` (the repository root by default; ``None`` keeps
    the inherited value, for a project run as its README says); ``overrides`` last."""
    env = dict(os.environ)
    for name in ("TORNGAS_APP_SETTINGS", *unset):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    env.update(overrides or {})
    return env


def _new_log(log_dir: str | Path, stem: str) -> Path:
    """A log file of its own (two processes may try the same port, one after the other)."""
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = Path(log_dir) / (f"{stem}.log" if n == 1 else f"{stem}-{n}.log")
        try:
            path.open("x").close()
        except FileExistsError:
            continue
        return path
    raise AssertionError(f"no free log file name for {stem} in {log_dir}")


class AppProcess(ManagedProcess):
    """``argv`` run in ``cwd`` with ``env`` (default: ``app_env()``), listening on
    ``127.0.0.1:port``; its output in ``log_dir/<name>-<port>.log``.

    Not started by the constructor: ``start()`` (or ``with``) does it.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        cwd: str | Path,
        log_dir: str | Path,
        env: Mapping[str, str] | None = None,
        name: str = "server",
        ready_path: str = "/",
    ) -> None:
        self.port = port
        self.name = name
        self.ready_path = ready_path
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(
            argv,
            _new_log(log_dir, f"{name}-{port}"),
            cwd=str(cwd),
            env=dict(env) if env is not None else app_env(),
        )

    def start(self) -> AppProcess:
        super().start()
        return self

    def wait_ready(self, timeout: float = 20.0) -> AppProcess:
        """Until ``GET ready_path`` answers 200. An AssertionError with the exit code
        and the end of the output when the process exits first or ``timeout`` passes."""
        assert self.proc is not None, f"{self.name} was not started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        code = self.proc.poll()
        state = f"exited with {code}" if code is not None else f"not ready after {timeout:g} s"
        raise AssertionError(
            f"{self.name} on port {self.port} did not start ({state}):\n{self.tail()}"
        )

    def wait(self, timeout: float) -> int:
        """The exit code; ``subprocess.TimeoutExpired`` when still running after ``timeout``."""
        assert self.proc is not None, f"{self.name} was not started"
        return self.proc.wait(timeout)

    def output(self) -> str:
        """Everything the process wrote so far (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, chars: int = 4000) -> str:
        return self.output()[-chars:]

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, up to ``timeout`` seconds, then SIGKILL; the exit code (None if
        never started). Only this process's own PID is signalled."""
        super().stop(timeout)
        return None if self.proc is None else self.proc.returncode

    def __enter__(self) -> AppProcess:
        return self if self.proc is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def runserver_argv(port: int, settings: str | None, *args: str) -> list[str]:
    """The test project's ``runserver.py --port=<port> --settings=<settings> *args``,
    to run from the repository root (``ROOT``)."""
    argv = [sys.executable, TEST_RUNSERVER, f"--port={port}"]
    if settings:
        argv.append(f"--settings={settings}")
    return [*argv, *args]


def app_process(
    settings: str | None,
    *args: str,
    log_dir: str | Path,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    name: str = "server",
    ready_path: str = "/",
) -> AppProcess:
    """``runserver_argv`` on ``port`` (a free one unless given) as an AppProcess in
    the repository root, not started yet."""
    port = port or free_port()
    return AppProcess(
        runserver_argv(port, settings, *args),
        port=port,
        cwd=ROOT,
        log_dir=log_dir,
        env=env,
        name=name,
        ready_path=ready_path,
    )
