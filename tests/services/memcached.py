"""Private memcached processes on loopback (see /work/shared/TESTING.md).

``memcached -l 127.0.0.1 -p <P> -U 0 -m 64 -c 1024 -u memcache`` (as root it
refuses to run without ``-u``). Ready when ``version`` answers ``VERSION``.
"""

from __future__ import annotations

import os
import socket

from tests.services import PrivateServer

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


class MemcachedServer(PrivateServer):
    """One memcached (see :class:`tests.services.PrivateServer`)."""

    binary_name = "memcached"

    def argv(self) -> list[str]:
        argv = [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        argv += ["-c", "1024"]
        if os.geteuid() == 0:
            argv += ["-u", "memcache"]
        return argv + self.extra

    def ready(self) -> bool:
        return memcached_version(self.port) is not None
