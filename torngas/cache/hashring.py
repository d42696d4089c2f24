"""Consistent hashing (a ketama-style ring) to spread keys over several servers.

Each node gets ``points`` positions on a 32-bit ring (MD5 of ``"<node>-<i>"``);
a key goes to the first node position at or after the key's own hash. Adding a
node to N nodes moves about 1/(N+1) of the keys, removing one moves only that
node's keys — unlike ``hash(key) % N``, which moves almost all of them.

The node *names* decide the layout, so two processes with the same LOCATION list
agree on where every key lives, whatever the list's order.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence

__all__ = ["HashRing"]


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


class HashRing:
    """Maps a key to the index of a node in ``nodes``."""

    def __init__(self, nodes: Sequence[str], points: int = 160) -> None:
        if not nodes:
            raise ValueError("a hash ring needs at least one node")
        if len(set(nodes)) != len(nodes):
            raise ValueError(f"duplicate nodes in {list(nodes)!r}")
        self.nodes = list(nodes)
        ring: list[tuple[int, int]] = []
        for index, node in enumerate(self.nodes):
            for i in range(max(1, points // 4)):
                digest = _md5(f"{node}-{i}".encode())
                for j in range(4):
                    ring.append((int.from_bytes(digest[j * 4 : j * 4 + 4], "little"), index))
        ring.sort()
        self._hashes = [h for h, _ in ring]
        self._owners = [i for _, i in ring]

    def index(self, key: str) -> int:
        """Index in ``nodes`` of the node that holds ``key``."""
        if len(self.nodes) == 1:
            return 0
        h = int.from_bytes(_md5(key.encode("utf-8", "surrogatepass"))[:4], "little")
        pos = bisect.bisect(self._hashes, h)
        if pos == len(self._hashes):
            pos = 0
        return self._owners[pos]

    def node(self, key: str) -> str:
        return self.nodes[self.index(key)]
