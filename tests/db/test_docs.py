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


def test_examples_run(tmp_path: Path) -> None:
    ex = blocks()
    assert set(ex) == {"models", "script", "basedb"}
    script = ex["models"] + "\n" + ex["script"] + "\n" + ex["basedb"]
    (tmp_path / "example.py").write_text(script)
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
    assert out.stdout.splitlines() == [
        "['jack']",
        "2 1 ['jack', 'rose']",
        "it's'; DROP TABLE todo; --",
        "1",
        "1",
    ]
