"""The examples of docs/database.md run as written (blocks starting ``# example:``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "database.md"


def blocks() -> dict[str, str]:
    found = re.findall(r"```python\n# example: (\w+)\n(.*?)```", DOC.read_text(), re.S)
    return dict(found)


def run_example(tmp_path: Path, source: str) -> str:
    """Run ``source`` as a script (warnings are errors); its stdout."""
    (tmp_path / "example.py").write_text(source)
    env = dict(os.environ, PYTHONPATH=str(DOC.parents[1]))
    env.pop("TORNGAS_APP_SETTINGS", None)
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-W", "error", "example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_examples_run(tmp_path: Path) -> None:
    ex = blocks()
    assert set(ex) == {"models", "script", "basedb"}
    script = ex["models"] + "\n" + ex["script"] + "\n" + ex["basedb"]
    assert run_example(tmp_path, script).splitlines() == [
        "['jack']",
        "2 1 ['jack', 'rose']",
        "it's'; DROP TABLE todo; --",
        "1",
        "1",
    ]


def test_fast_path_example_runs(tmp_path: Path) -> None:
    """The basedb fast-path example prints what the page says it prints."""
    found = re.search(
        r"```python\n(# runnable: basedb fast path\n.*?)```\n\nprints\n\n```\n(.*?)```",
        DOC.read_text(),
        re.S,
    )
    assert found, "the example is missing from docs/database.md"
    assert run_example(tmp_path, found.group(1)) == found.group(2)
