"""A private PostgreSQL 15 primary with a streaming hot-standby replica.

Both run as the ``postgres`` user (the server refuses root) on free 127.0.0.1
ports, with trust authentication, under a fresh temporary directory. The
database ``test`` is created on the primary and streams to the replica. Only
these servers are ever stopped (``pg_ctl -m fast stop`` on their data dirs).
See /work/shared/TESTING.md ("PostgreSQL primary", "streaming replica").
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.services import free_port, require_binary, unavailable, wait_until

__all__ = ["PostgresPair"]

PG_BIN = "/usr/lib/postgresql/15/bin"


def _as_postgres(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603
        ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


class PostgresPair:
    def __init__(self) -> None:
        self.initdb = require_binary("initdb", PG_BIN)
        self.pg_ctl = require_binary("pg_ctl", PG_BIN)
        self.basebackup = require_binary("pg_basebackup", PG_BIN)
        self.base = Path(tempfile.mkdtemp(prefix="tg-postgres-"))
        os.chmod(self.base, 0o755)
        shutil.chown(self.base, "postgres", "postgres")
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.running: list[Path] = []

    def _datadir(self, name: str) -> Path:
        return self.base / name

    def _start(self, name: str, port: int, *opts: str) -> None:
        options = " ".join(
            [f"-c listen_addresses=127.0.0.1 -p {port} -k {self.base} -c fsync=off", *opts]
        )
        res = _as_postgres(
            [
                self.pg_ctl,
                "-D",
                str(self._datadir(name)),
                "-l",
                str(self.base / f"{name}.log"),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            ]
        )
        if res.returncode != 0:
            log = (self.base / f"{name}.log").read_text(errors="replace")[-2000:]
            unavailable(f"postgres {name} did not start: {res.stderr.decode()} {log}")
        self.running.append(self._datadir(name))

    def start(self) -> PostgresPair:
        started = time.monotonic()
        try:
            res = _as_postgres(
                [
                    self.initdb,
                    "-D",
                    str(self._datadir("primary")),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            )
            if res.returncode != 0:
                unavailable(f"initdb failed: {res.stderr.decode()[-1000:]}")
            self._start(
                "primary",
                self.primary_port,
                "-c wal_level=replica -c max_wal_senders=5",
                "-c max_connections=200",
            )
            res = _as_postgres(
                [
                    self.basebackup,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.primary_port),
                    "-U",
                    "postgres",
                    "-D",
                    str(self._datadir("replica")),
                    "-R",
                    "-X",
                    "stream",
                ]
            )
            if res.returncode != 0:
                unavailable(f"pg_basebackup failed: {res.stderr.decode()[-1000:]}")
            self._start("replica", self.replica_port, "-c hot_standby=on -c max_connections=200")
            import psycopg

            with psycopg.connect(self.dsn(self.primary_port, "postgres"), autocommit=True) as c:
                c.execute("CREATE DATABASE test")
            if not wait_until(self._replica_has_test, timeout=30):
                unavailable("the PostgreSQL replica did not receive the test database")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _replica_has_test(self) -> bool:
        import psycopg

        with psycopg.connect(self.dsn(self.replica_port), connect_timeout=2) as c:
            return bool(c.execute("SELECT pg_is_in_recovery()").fetchone()[0])  # type: ignore[index]

    @staticmethod
    def dsn(port: int, dbname: str = "test") -> str:
        return f"host=127.0.0.1 port={port} dbname={dbname} user=postgres"

    def url(self, port: int) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"

    def wait_replicated(self, timeout: float = 10.0) -> bool:
        import psycopg

        with psycopg.connect(self.dsn(self.primary_port), autocommit=True) as c:
            lsn = c.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]

        def caught_up() -> bool:
            with psycopg.connect(self.dsn(self.replica_port), autocommit=True) as r:
                row = r.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(lsn),)
                ).fetchone()
                return bool(row and row[0])

        return wait_until(caught_up, timeout=timeout)

    def stop(self) -> None:
        for datadir in reversed(self.running):
            _as_postgres([self.pg_ctl, "-D", str(datadir), "-m", "fast", "-w", "-t", "20", "stop"])
        self.running.clear()
        shutil.rmtree(self.base, ignore_errors=True)
