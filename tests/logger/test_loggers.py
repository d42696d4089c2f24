"""ProcessLogTimedFileHandler: several real processes rotating one log lose nothing."""

from __future__ import annotations

import collections
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from torngas.logger import ProcessLogTimedFileHandler

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("log_writer.py")
LINE = re.compile(r"^(?P<tag>[AB]) (?P<i>\d+) x+ end$")


def _run_writers(path: Path, count: int, seconds: float, kind: str = "process") -> None:
    start_at = time.time() + 0.5  # both start together, after the imports
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(path),
                tag,
                str(count),
                str(seconds),
                str(start_at),
                kind,
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("A", "B")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Logging error" not in err, err


def _count(
    path: Path,
) -> tuple[collections.Counter[tuple[str, int]], int, list[Path], dict[str, list[int]]]:
    files = sorted(
        p
        for p in path.parent.iterdir()
        if p.name.startswith(path.name) and not p.name.endswith(".lock")
    )
    seen: collections.Counter[tuple[str, int]] = collections.Counter()
    order: dict[str, list[int]] = {"A": [], "B": []}
    torn = 0
    # rotated files sort by period; the live file holds the newest lines
    for file in [*files[1:], files[0]] if files and files[0] == path else files:
        for raw in file.read_text(encoding="utf-8").splitlines():
            m = LINE.match(raw)
            if m is None:
                torn += 1
                continue
            seen[(m["tag"], int(m["i"]))] += 1
            order[m["tag"]].append(int(m["i"]))
    return seen, torn, files, order


@pytest.mark.timeout(60)
def test_two_processes_rotating_one_log_keep_every_line_once(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    count, seconds = 4000, 3.0
    t0 = time.monotonic()
    _run_writers(path, count, seconds)
    assert time.monotonic() - t0 < 30

    seen, torn, files, order = _count(path)
    assert torn == 0  # no interleaved or partial lines (every 50th line is 20 kB long)
    expected = {(tag, i) for tag in "AB" for i in range(count)}
    assert set(seen) == expected, f"missing {len(expected - set(seen))} lines"
    assert all(n == 1 for n in seen.values()), "duplicated lines"
    assert len(files) >= 3, files  # it did rotate (when='S') several times
    # each process's lines stay in order across the rotated files
    assert order["A"] == sorted(order["A"]) and order["B"] == sorted(order["B"])


def test_existing_rotated_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    handler = ProcessLogTimedFileHandler(path, when="S", interval=1, backupCount=0)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.loggers.nooverwrite")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("first")
        # Another process rotated this period already, then wrote to the new file.
        handler.rolloverAt = int(time.time())
        rotated = Path(handler.baseFilename + "." + handler._period_suffix())
        os.rename(path, rotated)
        path.write_text("other process\n", encoding="utf-8")

        logger.warning("second")
        assert rotated.read_text(encoding="utf-8") == "first\n"  # kept, not replaced
        assert path.read_text(encoding="utf-8") == "other process\nsecond\n"
        assert handler.rolloverAt > time.time()
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_follows_a_file_rotated_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    handler = ProcessLogTimedFileHandler(path, when="midnight", backupCount=0)
    handler.setFormatter(logging.Formatter("%(message)s"))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("one",), None)
    handler.handle(record)
    os.rename(path, tmp_path / "moved.log")
    record.args = ("two",)
    handler.handle(record)
    handler.close()
    assert (tmp_path / "moved.log").read_text(encoding="utf-8") == "one\n"
    assert path.read_text(encoding="utf-8") == "two\n"


def test_backup_count_prunes_old_files(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    handler = ProcessLogTimedFileHandler(path, when="S", interval=1, backupCount=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "line", None, None)
    for second in range(5):  # five periods in the past
        handler.rolloverAt = int(time.time()) - 10 + second
        handler.handle(record)
    handler.close()
    rotated = [
        p
        for p in tmp_path.iterdir()
        if p.name.startswith("app.log.") and not p.name.endswith(".lock")
    ]
    assert len(rotated) == 2


def test_handler_is_usable_after_close_and_repr(tmp_path: Path) -> None:
    handler = ProcessLogTimedFileHandler(tmp_path / "sub" / "a.log", delay=True)
    assert not (tmp_path / "sub" / "a.log").exists()  # delay: nothing opened yet
    assert "a.log" in repr(handler)
    handler.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None))
    handler.close()
    assert (tmp_path / "sub" / "a.log").read_text(encoding="utf-8").endswith("hello\n")


FORK_CHECK = r"""
import fcntl, logging, os, sys, time
from torngas.logger import ProcessLogTimedFileHandler

handler = ProcessLogTimedFileHandler(sys.argv[1], when="midnight", backupCount=0)
handler.setFormatter(logging.Formatter("%(message)s"))
record = logging.LogRecord("x", logging.INFO, "f", 1, "%s", ("parent",), None)
handler.handle(record)                       # the parent has its descriptors open
fcntl.flock(handler._lock_fd, fcntl.LOCK_EX)  # ... and holds the lock
pid = os.fork()
if pid == 0:
    t0 = time.monotonic()
    record.args = ("child",)
    handler.handle(record)                   # must wait for the parent's lock
    os._exit(0 if time.monotonic() - t0 >= 0.3 else 3)
time.sleep(0.5)
fcntl.flock(handler._lock_fd, fcntl.LOCK_UN)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_forked_child_takes_its_own_lock(tmp_path: Path) -> None:
    # Without reopening after fork, the child would share the parent's flock
    # (same open file description) and write while the parent holds the lock.
    path = tmp_path / "fork.log"
    result = subprocess.run(
        [sys.executable, "-c", FORK_CHECK, str(path)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert path.read_text(encoding="utf-8") == "parent\nchild\n"


def test_buffered_handler_appends_in_batches_and_flushes_at_close(tmp_path):
    import logging as _logging
    import time as _time

    from torngas.logger.loggers import ProcessLogTimedFileHandler as _Handler

    path = tmp_path / "access.log"
    handler = _Handler(path, when="midnight", buffer_seconds=0.2)
    handler.setFormatter(_logging.Formatter("%(message)s"))
    logger = _logging.getLogger("torngas.test.buffered")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(_logging.INFO)
    try:
        for i in range(500):
            logger.info("line %d", i)
        assert not path.exists() or path.read_text().count("\n") < 500  # not yet written
        deadline = _time.monotonic() + 3
        while _time.monotonic() < deadline and (
            not path.exists() or path.read_text().count("\n") < 500
        ):
            _time.sleep(0.05)
        assert path.read_text().splitlines() == [f"line {i}" for i in range(500)]
        logger.info("last")
    finally:
        logger.removeHandler(handler)
        handler.close()  # flushes what is still buffered
    assert path.read_text().splitlines()[-1] == "last"
