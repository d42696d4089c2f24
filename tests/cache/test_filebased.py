from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cache.conftest import build_cache, unique_prefix
from tests.cache.contract import CacheContract
from torngas.cache import BaseCache
from torngas.cache.backends.filebased import FileBasedCache

BACKEND = "torngas.cache.backends.filebased.FileBasedCache"


class TestFileContract(CacheContract):
    @pytest.fixture
    def cache(self, tmp_path: Path) -> Iterator[BaseCache]:
        self.dir = tmp_path / "cache"
        c = self.make(KEY_PREFIX=unique_prefix())
        yield c
        c.clear()

    def make(self, **params: Any) -> BaseCache:
        return build_cache(BACKEND, str(self.dir), **params)

    def raw_set(self, cache: BaseCache, final_key: str, data: bytes) -> None:
        assert isinstance(cache, FileBasedCache)
        cache._ensure_dir()
        Path(cache._key_to_file(final_key)).write_bytes(b"TGC1 -\n" + data)


@pytest.mark.parametrize(
    "key", ["../../escape", "/etc/passwd", "..", "a/../../b", "C:\\x", "~root", "é/..", "%2e%2e"]
)
def test_keys_never_name_paths_outside(tmp_path: Path, key: str) -> None:
    d = tmp_path / "c"
    c = build_cache(BACKEND, str(d))
    c.set(key, "v")
    assert c.get(key) == "v"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(p.parent == d for p in files)
    assert {p.name for p in files if not p.name.startswith(".")} and all(
        p.name.endswith(".tgcache") or p.name == ".lock" for p in files
    )


def test_truncated_file_is_a_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    c = build_cache(BACKEND, str(tmp_path))
    c.set("k", "value")
    assert isinstance(c, FileBasedCache)
    path = Path(c._key_to_file(c.make_key("k")))
    path.write_bytes(b"TGC1 ")  # a crash mid-write of a non-atomic writer
    assert c.get("k", "MISS") == "MISS"
    assert not path.exists()
    assert "corrupt" in caplog.text


def test_culling_bounds_the_directory(tmp_path: Path) -> None:
    c = build_cache(BACKEND, str(tmp_path), OPTIONS={"MAX_ENTRIES": 20, "CULL_FREQUENCY": 2})
    for i in range(100):
        c.set(i, i)
        assert len(list(tmp_path.glob("*.tgcache"))) <= 20


def test_no_temp_files_left(tmp_path: Path) -> None:
    c = build_cache(BACKEND, str(tmp_path))
    for i in range(20):
        c.set(i, "x" * 1000)
    assert not list(tmp_path.glob(".tmp-*"))


_WORKER = r"""
import sys
from tests.cache.conftest import build_cache
c = build_cache("torngas.cache.backends.filebased.FileBasedCache", sys.argv[1])
n = int(sys.argv[2])
for i in range(200):
    c.incr("counter")
    c.set("shared", {"writer": n, "i": i, "pad": "x" * 5000})
    v = c.get("shared")
    assert v is None or set(v) == {"writer", "i", "pad"}, v
    c.add("once", n)
print("ok")
"""


def test_two_processes_writing_at_once_corrupt_nothing(tmp_path: Path) -> None:
    c = build_cache(BACKEND, str(tmp_path))
    c.set("counter", 0)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(tmp_path), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=root,
        )
        for n in range(3)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert c.get("counter") == 600  # incr is atomic across processes
    assert c.get("shared")["i"] == 199
    assert c.get("once") in (0, 1, 2)
    assert time.monotonic() - start < 60
