"""GC_FREEZE on the ASGI transport: the lifespan start-up freezes the start-up heap.

Run in a child process: freezing the test process's own heap would keep every
earlier test's cyclic garbage for the rest of the run.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.services.appserver import ROOT, app_env

CHILD = """
import asyncio, gc, sys
from torngas.asgi import get_asgi_application

app = get_asgi_application("tests.test_apps.settings_mods.server", **eval(sys.argv[1]))

async def main():
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent

sent = asyncio.run(main())
print(sent[0], gc.get_freeze_count())
"""


@pytest.mark.tornado_only("a child process drives the lifespan itself: nothing to rerun")
@pytest.mark.parametrize(
    ("env", "options", "frozen"),
    [
        ({}, "{}", True),  # GC_FREEZE defaults to True
        ({"TEST_GC_FREEZE": "0"}, "{}", False),  # the setting
        ({}, "{'gc_freeze': False}", False),  # ASGIApplication(gc_freeze=False) wins
    ],
)
def test_lifespan_startup_freezes_the_heap(env, options, frozen):
    r = subprocess.run(
        [sys.executable, "-c", CHILD, options],
        cwd=ROOT,
        env=app_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    state, count = r.stdout.split()
    assert state == "lifespan.startup.complete"
    assert (int(count) > 10_000) is frozen, count
