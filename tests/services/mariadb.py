"""A private MariaDB primary/replica pair (binlog + GTID replication).

Both servers run as the ``mysql`` user on free 127.0.0.1 ports with their own
data directories under a fresh temporary directory; only their own PIDs are
ever signalled. Users created on the primary (and replicated):

- ``tg`` / ``tg``: all privileges on the ``test`` database (no SUPER, no
  READ ONLY ADMIN, so the replica's ``read_only`` really refuses its writes);
- ``repl`` / ``repl``: REPLICATION SLAVE.

See /work/shared/TESTING.md ("MariaDB primary", "MariaDB replica").
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.services import ManagedProcess, free_port, require_binary, unavailable, wait_until

__all__ = ["MariaDBServer", "MariaDBPair"]


def _chown_tree(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            shutil.chown(os.path.join(root, name), user, user)


class MariaDBServer:
    def __init__(self, base: Path, name: str, server_id: int, *extra: str) -> None:
        self.dir = base / name
        self.dir.mkdir(mode=0o755)
        shutil.chown(self.dir, "mysql", "mysql")
        self.port = free_port()
        self.socket = self.dir / "sock"
        self.server_id = server_id
        self.extra = list(extra)
        self.process: ManagedProcess | None = None

    def install(self) -> subprocess.Popen[bytes]:
        with open(self.dir / "install.log", "wb") as log:
            return self._install(log)

    def _install(self, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603
            [
                require_binary("mariadb-install-db"),
                "--no-defaults",
                "--user=mysql",
                f"--datadir={self.dir}/data",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own temporary directory: two installs sharing /tmp collided on
            # "#sql-temptable-*" files ("Unknown table 'mysql.tmp_user_sys'").
            env={**os.environ, "TMPDIR": str(self.dir)},
        )

    def start(self) -> MariaDBServer:
        argv = [
            require_binary("mariadbd", "/usr/sbin"),
            "--no-defaults",
            "--user=mysql",
            f"--datadir={self.dir}/data",
            "--bind-address=127.0.0.1",
            f"--port={self.port}",
            f"--socket={self.socket}",
            f"--pid-file={self.dir}/pid",
            f"--log-error={self.dir}/err.log",
            f"--tmpdir={self.dir}",
            "--skip-name-resolve",
            f"--server-id={self.server_id}",
            "--innodb-buffer-pool-size=16M",
            "--innodb-log-file-size=8M",
            "--performance-schema=0",
            "--max-connections=200",
            *self.extra,
        ]
        self.process = ManagedProcess(argv, self.dir / "stdout.log").start()
        if not wait_until(self.ping, timeout=30):
            tail = (self.dir / "err.log").read_text(errors="replace")[-2000:]
            self.stop()
            unavailable(f"mariadbd on port {self.port} did not start: {tail}")
        return self

    def ping(self) -> bool:
        """True when the server sends its handshake on the socket (it is ready)."""
        if self.process is None or not self.process.alive() or not self.socket.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            try:
                s.connect(str(self.socket))
                return len(s.recv(128)) > 4
            except OSError:
                return False

    def admin(self, *statements: str) -> list[Any]:
        """Run statements as root over the socket; return the last result rows."""
        import pymysql

        conn = pymysql.connect(
            unix_socket=str(self.socket), user="root", autocommit=True, connect_timeout=5
        )
        rows: list[Any] = []
        try:
            with conn.cursor(pymysql.cursors.DictCursor) as cur:
                for sql in statements:
                    cur.execute(sql)
                    rows = list(cur.fetchall())
        finally:
            conn.close()
        return rows

    def url(self, user: str = "tg", password: str = "tg", database: str = "test") -> str:
        return f"mysql+pymysql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=20)
            self.process = None


class MariaDBPair:
    """Primary + read-only replica; ``start()`` blocks until replication runs."""

    def __init__(self) -> None:
        require_binary("mariadbd", "/usr/sbin")
        self.base = Path(tempfile.mkdtemp(prefix="tg-mariadb-"))
        os.chmod(self.base, 0o755)
        self.primary = MariaDBServer(
            self.base, "primary", 1, f"--log-bin={self.base}/primary/binlog"
        )
        self.replica = MariaDBServer(
            self.base, "replica", 2, "--read-only=1", f"--relay-log={self.base}/replica/relay"
        )

    def start(self) -> MariaDBPair:
        started = time.monotonic()
        try:
            procs = [self.primary.install(), self.replica.install()]
            for p, server in zip(procs, (self.primary, self.replica), strict=True):
                if p.wait(120) != 0:
                    # Once more, alone, from an empty data directory (a bootstrap
                    # failure was seen once with another suite running).
                    shutil.rmtree(server.dir / "data", ignore_errors=True)
                    p = server.install()
                    if p.wait(120) != 0:
                        log = (server.dir / "install.log").read_text(errors="replace")[-1500:]
                        unavailable(f"mariadb-install-db failed (exit {p.returncode}): {log}")
            _chown_tree(self.base, "mysql")
            self.primary.start()
            self.replica.start()
            self.primary.admin(
                "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl'",
                "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'",
            )
            self.replica.admin(
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={self.primary.port}, "
                "MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos, "
                "MASTER_CONNECT_RETRY=1",
                "START SLAVE",
            )
            self.primary.admin(
                "CREATE DATABASE test",
                "CREATE USER 'tg'@'127.0.0.1' IDENTIFIED BY 'tg'",
                "GRANT ALL PRIVILEGES ON test.* TO 'tg'@'127.0.0.1'",
            )
            if not self.wait_replicated(30):
                status = self.replica.admin("SHOW SLAVE STATUS")
                unavailable(f"MariaDB replication did not start: {status}")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def wait_replicated(self, timeout: float = 10.0) -> bool:
        """Wait until the replica has applied everything the primary wrote so far."""
        pos = self.primary.admin("SELECT @@gtid_binlog_pos AS p")[0]["p"]
        rows = self.replica.admin(f"SELECT MASTER_GTID_WAIT('{pos}', {timeout}) AS r")
        return bool(rows and rows[0]["r"] == 0)

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            try:
                server.stop()
            except Exception:
                pass
        shutil.rmtree(self.base, ignore_errors=True)
