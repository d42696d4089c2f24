"""torngas.concurrent: the thread pool behind run_in_threadpool and @async_execute."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import traceback
from collections.abc import Iterator

import pytest

from torngas import concurrent
from torngas.concurrent import get_executor, run_in_threadpool, shutdown, threads_num
from torngas.conf import override_settings
from torngas.exceptions import ImproperlyConfigured

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    shutdown()
    yield
    shutdown()


def _fail(message: str) -> None:
    raise ValueError(message)


def test_result_and_worker_thread() -> None:
    async def main() -> tuple[int, str]:
        return await run_in_threadpool(
            lambda a, b=0: (a + b, threading.current_thread().name), 2, b=3
        )

    total, thread_name = asyncio.run(main())
    assert total == 5
    assert thread_name.startswith("torngas-pool")


def test_exception_propagates_with_worker_traceback() -> None:
    async def main() -> None:
        await run_in_threadpool(_fail, "from the pool")

    with pytest.raises(ValueError, match="from the pool") as info:
        asyncio.run(main())
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "_fail" in frames


def test_context_variables_are_copied_not_shared() -> None:
    def in_worker() -> str:
        seen = request_id.get()
        request_id.set("changed-in-worker")
        return seen

    async def main() -> tuple[str, str]:
        request_id.set("req-42")
        seen = await run_in_threadpool(in_worker)
        return seen, request_id.get()

    assert asyncio.run(main()) == ("req-42", "req-42")


def test_event_loop_stays_responsive() -> None:
    async def main() -> tuple[float, float]:
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        t0 = time.monotonic()
        await run_in_threadpool(time.sleep, 0.3)
        elapsed = time.monotonic() - t0
        task.cancel()
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        return elapsed, max(gaps)

    elapsed, worst_gap = asyncio.run(main())
    assert elapsed >= 0.3
    assert worst_gap < 0.1, worst_gap  # the loop kept ticking every ~10 ms


def test_threads_num_bounds_concurrency() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1

    async def main() -> None:
        await asyncio.gather(*(run_in_threadpool(work) for _ in range(8)))

    with override_settings(THREADS_NUM=2):
        assert get_executor()._max_workers == 2
        asyncio.run(main())
    assert peak == 2
    with override_settings(THREADS_NUM=5):  # rebuilt on setting_changed
        assert get_executor()._max_workers == 5


def test_default_is_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(concurrent.os, "cpu_count", lambda: 3)
    with override_settings(THREADS_NUM=None):
        assert threads_num() == 3


@pytest.mark.parametrize("bad", [0, -1, "4", 2.5, True])
def test_bad_threads_num(bad: object) -> None:
    with (
        override_settings(THREADS_NUM=bad),
        pytest.raises(ImproperlyConfigured, match="THREADS_NUM"),
    ):
        get_executor()


def test_shutdown_then_reuse() -> None:
    first = get_executor()
    shutdown()
    assert first._shutdown
    second = get_executor()
    assert second is not first

    async def main() -> int:
        return await run_in_threadpool(int, "7")

    assert asyncio.run(main()) == 7


def test_shutdown_waits_for_running_calls() -> None:
    done = threading.Event()

    def slow() -> None:
        time.sleep(0.1)
        done.set()

    get_executor().submit(slow)
    shutdown(wait=True)
    assert done.is_set()
