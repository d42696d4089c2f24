"""Fixtures for the example application examples/agora.

The example's apps (``board``, ``accounts``, ``chat``, ...) are top-level packages
of its project directory, which is put on ``sys.path``. Its settings module is read
by path (``settings/setting.py``), never imported as ``settings``: that name belongs
to whichever project a test runs.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGORA = ROOT / "examples" / "agora"

if str(AGORA) not in sys.path:
    sys.path.append(str(AGORA))  # appended: the example never shadows a test module


def run_in_agora(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python *args`` in the example's directory with ``env``: output captured as
    text, at most 60 s."""
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=AGORA,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def agora_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """The example's development settings for ``serve()``: a fresh SQLite file and
    a private in-process cache per test, DEBUG (autoreload) off."""
    found = runpy.run_path(str(AGORA / "settings" / "setting.py"))
    conf = {k: v for k, v in found.items() if k.isupper()}
    conf["DEBUG"] = False
    conf["TORNADO_CONF"] = {**conf["TORNADO_CONF"], "autoreload": False}
    conf["DATABASE_CONNECTION"] = {
        "default": {"connections": [{"ROLE": "master", "URL": f"sqlite:///{tmp_path}/agora.db"}]}
    }
    conf["CACHES"] = {
        "default": {
            "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
            "LOCATION": f"agora-test-{os.urandom(4).hex()}",
        }
    }
    conf.update(overrides)
    return conf


@pytest.fixture
def agora(tmp_path: Path) -> Iterator[Any]:
    """A live Agora on a free port (``torngas.testing.serve``), tables created."""
    from torngas.db.dbalchemy import create_all
    from torngas.testing import serve

    # Application.shutdown closes the async pools on the loop that opened them.
    with serve(**agora_settings(tmp_path)) as client:
        create_all("default")
        yield client


XSRF_INPUT = re.compile(r'name="_xsrf" value="([^"]+)"')


def xsrf_from(page: str) -> str:
    """The _xsrf token of a rendered form."""
    match = XSRF_INPUT.search(page)
    assert match, "no _xsrf field in the page"
    return match.group(1)


def post_form(client: Any, path: str, **fields: str) -> Any:
    """GET ``path`` (the form), then POST ``fields`` with the form's xsrf token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"_xsrf": xsrf_from(page.text), **fields})


def signup(client: Any, name: str, password: str = "correct horse battery") -> Any:
    r = post_form(client, "/signup", username=name, password=password, confirm=password)
    assert r.status_code == 302, r.text
    return r
