"""Private redis-server processes (single, several, and a 3-master cluster).

Every server binds 127.0.0.1 on a free port, keeps nothing on disk
(``--save '' --appendonly no``) and logs to its own temporary directory. Only the
PIDs started here are ever signalled. See /work/shared/TESTING.md.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.services import PrivateServer, free_port, require_binary, unavailable, wait_until

__all__ = ["RedisServer", "RedisClusterServers", "redis_ping"]


def redis_ping(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when the server at ``host:port`` answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
            return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
    except OSError:
        return False


class RedisServer(PrivateServer):
    """One redis-server (see :class:`tests.services.PrivateServer`)."""

    binary_name = "redis-server"

    @property
    def log_file(self) -> Path:
        return self.tmpdir / "redis.log"

    def argv(self) -> list[str]:
        return [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--protected-mode",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.tmpdir),
            "--logfile",
            str(self.log_file),
            *self.extra,
        ]

    def ready(self) -> bool:
        return redis_ping(self.port)


class RedisClusterServers:
    """Three (``masters``) ``--cluster-enabled`` servers joined with ``redis-cli --cluster create``."""

    def __init__(self, tmpdir: Path, masters: int = 3) -> None:
        self.tmpdir = Path(tmpdir)
        self.nodes: list[RedisServer] = []
        for i in range(masters):
            d = self.tmpdir / f"node{i}"
            port = free_port()
            self.nodes.append(
                RedisServer(
                    d,
                    port,
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(d / "nodes.conf"),
                    "--cluster-port",
                    str(free_port()),
                    "--cluster-node-timeout",
                    "2000",
                )
            )

    @property
    def locations(self) -> list[str]:
        return [n.location for n in self.nodes]

    def start(self, timeout: float = 30.0) -> RedisClusterServers:
        cli = require_binary("redis-cli")
        try:
            for node in self.nodes:
                node.start()
            result = subprocess.run(  # noqa: S603
                [
                    cli,
                    "--cluster",
                    "create",
                    *self.locations,
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
            if result.returncode != 0:
                unavailable(f"redis-cli --cluster create failed: {result.stdout[-800:]!r}")
            deadline = time.monotonic() + timeout

            def all_ok() -> bool:
                for node in self.nodes:
                    out = subprocess.run(  # noqa: S603
                        [cli, "-h", "127.0.0.1", "-p", str(node.port), "cluster", "info"],
                        stdin=subprocess.DEVNULL,
                        capture_output=True,
                        timeout=5,
                        check=False,
                    ).stdout
                    if b"cluster_state:ok" not in out:
                        return False
                return True

            if not wait_until(all_ok, max(1.0, deadline - time.monotonic()), interval=0.2):
                unavailable("redis cluster did not reach cluster_state:ok")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
