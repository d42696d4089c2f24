"""@async_execute through a torngas handler over real HTTP."""

import threading
import time

import httpx

from torngas.testing import serve


def test_blocking_call_in_pool_while_another_request_completes_first():
    with serve(INSTALLED_APPS=["tests.test_apps.hello"], THREADS_NUM=2) as client:
        done = {}

        def slow():
            done["slow"] = (
                httpx.get(client.server.url + "/blocking?t=0.8", timeout=10).text,
                time.monotonic(),
            )

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.1)
        start = time.monotonic()
        fast = client.get("/")
        fast_at = time.monotonic()
        t.join(10)
    assert fast.text == "hello"
    assert fast_at - start < 0.4  # the event loop was not blocked by the 0.8 s call
    assert done["slow"][0] == "slept 0.8"
    assert fast_at < done["slow"][1]  # the fast request finished first
