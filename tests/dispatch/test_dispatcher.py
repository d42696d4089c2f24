"""torngas.dispatch: Django's receiver API, weak references, async receivers,
blinker-style helpers."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

import pytest

from torngas._compat import RemovedInTorngas3Warning
from torngas.dispatch import Signal, receiver


class Recorder:
    """A receiver that records every call."""

    def __init__(self, result: Any = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.result = result

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.result


class SenderA:
    pass


class SenderB:
    pass


@pytest.fixture(params=[False, True], ids=["nocache", "cache"])
def sig(request: pytest.FixtureRequest) -> Signal:
    return Signal(use_caching=request.param, name="test")


# ---------------------------------------------------------------- connect / send


def test_send_passes_signal_sender_and_arguments(sig: Signal) -> None:
    rec = Recorder(result=42)
    sig.connect(rec, weak=False)
    responses = sig.send(SenderA, x=1, y="two")
    assert responses == [(rec, 42)]
    assert rec.calls == [{"signal": sig, "sender": SenderA, "x": 1, "y": "two"}]


def test_receivers_called_in_connection_order(sig: Signal) -> None:
    order: list[str] = []

    def first(**kw: Any) -> None:
        order.append("first")

    def second(**kw: Any) -> None:
        order.append("second")

    sig.connect(second)
    sig.connect(first)
    sig.send(None)
    assert order == ["second", "first"]


def test_sender_filtering(sig: Signal) -> None:
    only_a, only_b, anyone = Recorder("a"), Recorder("b"), Recorder("any")
    sig.connect(only_a, sender=SenderA, weak=False)
    sig.connect(only_b, sender=SenderB, weak=False)
    sig.connect(anyone, weak=False)

    assert sig.send(SenderA) == [(only_a, "a"), (anyone, "any")]
    assert sig.send(SenderB) == [(only_b, "b"), (anyone, "any")]
    assert sig.send(object()) == [(anyone, "any")]
    assert (len(only_a.calls), len(only_b.calls), len(anyone.calls)) == (1, 1, 3)
    assert sig.has_listeners(SenderA) and sig.has_listeners(object())

    sig.disconnect(anyone)
    assert not sig.has_listeners(object())
    assert sig.has_listeners(SenderA)
    assert sig.send(object()) == []


def test_sender_by_value_for_strings_and_ints(sig: Signal) -> None:
    # The Flask article's example: connect(add, sender=0), then send(num).
    rec = Recorder("hit")
    sig.connect(rec, sender=1000, weak=False)
    big = int("1000")  # a distinct int object with the same value
    assert sig.send(big) == [(rec, "hit")]
    assert sig.send(999) == []
    sig.connect(rec, sender="".join(["na", "me"]), weak=False)
    assert sig.send("name") == [(rec, "hit")]


def test_connect_twice_is_noop_and_dispatch_uid(sig: Signal) -> None:
    rec = Recorder()
    sig.connect(rec, weak=False)
    sig.connect(rec, weak=False)
    sig.send(None)
    assert len(rec.calls) == 1

    other = Recorder()
    sig.connect(other, dispatch_uid="uid-1", weak=False)
    sig.connect(Recorder(), dispatch_uid="uid-1", weak=False)  # same uid: ignored
    sig.send(None)
    assert len(other.calls) == 1
    assert sig.disconnect(dispatch_uid="uid-1") is True
    assert sig.disconnect(dispatch_uid="uid-1") is False
    sig.send(None)
    assert len(other.calls) == 1


def test_disconnect_needs_the_same_sender(sig: Signal) -> None:
    rec = Recorder()
    sig.connect(rec, sender=SenderA, weak=False)
    assert sig.disconnect(rec) is False  # connected for SenderA, not for any sender
    assert sig.disconnect(rec, sender=SenderA) is True
    assert sig.send(SenderA) == []


def test_receiver_must_accept_kwargs() -> None:
    sig = Signal()

    def no_kwargs(sender: Any) -> None:  # pragma: no cover - never called
        pass

    with pytest.raises(ValueError, match=r"\*\*kwargs"):
        sig.connect(no_kwargs)
    with pytest.raises(TypeError, match="callable"):
        sig.connect("not callable")  # type: ignore[arg-type]
    assert not sig.has_listeners()


def test_blinker_style_positional_sender_parameter() -> None:
    sig = Signal()
    seen: list[Any] = []

    def on(sender: Any, **extra: Any) -> None:
        seen.append((sender, extra["value"]))

    sig.connect(on)
    sig.send("app", value=3)
    assert seen == [("app", 3)]


def test_providing_args_is_deprecated() -> None:
    with pytest.warns(RemovedInTorngas3Warning, match="providing_args") as record:
        sig = Signal(providing_args=["args1"])
    assert record[0].filename == __file__  # attributed to the caller
    assert sig.providing_args == {"args1"}
    assert issubclass(RemovedInTorngas3Warning, DeprecationWarning)


def test_receiver_decorator_single_and_list() -> None:
    s1, s2 = Signal(), Signal()
    seen: list[Signal] = []

    @receiver(s1, sender=SenderA)
    def one(signal: Signal, **kw: Any) -> None:
        seen.append(signal)

    @receiver([s1, s2])
    def both(signal: Signal, **kw: Any) -> None:
        seen.append(signal)

    s1.send(SenderA)
    s1.send(SenderB)
    s2.send(SenderA)
    assert seen == [s1, s1, s1, s2]
    assert callable(one) and callable(both)  # the decorator returns the function


# ---------------------------------------------------------------- weak references


def test_weak_function_receiver_vanishes(sig: Signal) -> None:
    calls: list[int] = []

    def make() -> Any:
        def temporary(**kw: Any) -> None:
            calls.append(1)

        return temporary

    func = make()
    sig.connect(func)
    assert sig.send(None) == [(func, None)]
    del func
    gc.collect()
    assert sig.send(None) == []
    assert not sig.has_listeners()
    assert sig.receivers == []  # the dead entry was cleaned up
    assert calls == [1]


def test_weak_bound_method_receiver_vanishes_with_its_object(sig: Signal) -> None:
    class Listener:
        def __init__(self) -> None:
            self.count = 0

        def on(self, **kw: Any) -> None:
            self.count += 1

    obj = Listener()
    sig.connect(obj.on, sender=SenderA)  # a fresh bound method: WeakMethod keeps it
    sig.send(SenderA)
    assert obj.count == 1
    assert sig.has_listeners(SenderA)
    del obj
    gc.collect()
    assert not sig.has_listeners(SenderA)
    assert sig.send(SenderA) == []


def test_strong_receiver_survives(sig: Signal) -> None:
    calls: list[int] = []
    sig.connect(lambda **kw: calls.append(1), weak=False)
    gc.collect()
    sig.send(None)
    assert calls == [1]


def test_bound_method_disconnect_by_new_bound_object() -> None:
    sig = Signal()

    class Listener:
        def on(self, **kw: Any) -> str:
            return "on"

    obj = Listener()
    sig.connect(obj.on)
    assert sig.send(None)[0][1] == "on"
    assert sig.disconnect(obj.on) is True  # another bound-method object, same identity
    assert sig.send(None) == []


def test_dead_receiver_id_reuse_does_not_block_new_connection() -> None:
    sig = Signal()
    for _ in range(50):  # new functions often reuse a freed id()

        def f(**kw: Any) -> str:
            return "f"

        sig.connect(f)
        assert sig.send(None) == [(f, "f")]
        del f
    assert len(sig.receivers) <= 1


# ---------------------------------------------------------------- robustness


def test_send_propagates_and_send_robust_logs(sig: Signal, dispatch_log: Any) -> None:
    def bad(**kw: Any) -> None:
        raise RuntimeError("boom")

    good = Recorder("ok")
    sig.connect(bad)
    sig.connect(good, weak=False)

    with pytest.raises(RuntimeError, match="boom"):
        sig.send(None)
    assert good.calls == []  # send stops at the first failure

    responses = sig.send_robust(None)
    assert responses[1] == (good, "ok")
    assert responses[0][0] is bad and isinstance(responses[0][1], RuntimeError)
    assert len(good.calls) == 1
    [record] = [r for r in dispatch_log.records if r.name == "torngas.dispatch"]
    assert "bad" in record.getMessage() and record.exc_info is not None


# ---------------------------------------------------------------- async receivers


def test_asend_awaits_async_receivers_concurrently(sig: Signal) -> None:
    started: list[str] = []

    async def slow(name: str, **kw: Any) -> str:
        started.append(name)
        await asyncio.sleep(0.2)
        return "slow:" + name

    async def slow2(**kw: Any) -> str:
        return await slow("2", **kw)

    async def slow1(**kw: Any) -> str:
        return await slow("1", **kw)

    def sync(**kw: Any) -> str:
        return "sync"

    sig.connect(slow1)
    sig.connect(sync)
    sig.connect(slow2)

    t0 = time.monotonic()
    responses = asyncio.run(sig.asend(SenderA, x=1))
    elapsed = time.monotonic() - t0
    assert responses == [(slow1, "slow:1"), (sync, "sync"), (slow2, "slow:2")]
    assert elapsed < 0.35, elapsed  # concurrent, not 0.4 s in sequence
    assert sorted(started) == ["1", "2"]


def test_asend_propagates_and_asend_robust_logs(dispatch_log: Any) -> None:
    sig = Signal()

    async def bad(**kw: Any) -> None:
        await asyncio.sleep(0)
        raise ValueError("async boom")

    async def good(**kw: Any) -> str:
        return "good"

    sig.connect(bad)
    sig.connect(good)
    with pytest.raises(ValueError, match="async boom"):
        asyncio.run(sig.asend(None))

    responses = asyncio.run(sig.asend_robust(None))
    assert responses[1] == (good, "good")
    assert isinstance(responses[0][1], ValueError)
    assert any("async boom" in r.getMessage() for r in dispatch_log.records)


def test_asend_sync_failure_closes_pending_coroutines() -> None:
    # filterwarnings=error turns "coroutine ... was never awaited" into a failure.
    sig = Signal()

    async def pending(**kw: Any) -> None:  # pragma: no cover - closed, never run
        raise AssertionError("must not run")

    def bad(**kw: Any) -> None:
        raise KeyError("sync boom")

    sig.connect(pending)
    sig.connect(bad)
    with pytest.raises(KeyError):
        asyncio.run(sig.asend(None))
    gc.collect()


def test_send_runs_async_receiver_without_a_loop() -> None:
    sig = Signal()

    async def arecv(**kw: Any) -> str:
        await asyncio.sleep(0)
        return "done"

    sig.connect(arecv)
    assert sig.send(None) == [(arecv, "done")]


def test_send_schedules_async_receiver_on_running_loop(dispatch_log: Any) -> None:
    sig = Signal()
    events: list[str] = []

    async def arecv(**kw: Any) -> str:
        events.append("start")
        await asyncio.sleep(0.01)
        events.append("end")
        return "late"

    async def afail(**kw: Any) -> None:
        raise RuntimeError("task boom")

    sig.connect(arecv)
    sig.connect(afail)

    async def main() -> Any:
        responses = sig.send(None)
        assert events == []  # scheduled, not run inline
        tasks = [r for _, r in responses]
        assert all(isinstance(t, asyncio.Task) for t in tasks)
        await asyncio.wait(tasks)
        return tasks[0].result()

    assert asyncio.run(main()) == "late"
    assert events == ["start", "end"]
    assert any("task boom" in r.getMessage() for r in dispatch_log.records)


# ---------------------------------------------------------------- blinker-style helpers


def test_connect_via_is_strong_and_filters_sender() -> None:
    sig = Signal()
    seen: list[Any] = []

    def register() -> None:
        @sig.connect_via(SenderA)
        def when(sender: Any, **extra: Any) -> None:
            seen.append(sender)

    register()  # the function is only referenced by the signal now
    gc.collect()
    sig.send(SenderA)
    sig.send(SenderB)
    assert seen == [SenderA]


def test_connected_to_disconnects_after_the_block() -> None:
    sig = Signal()
    rec = Recorder()
    with sig.connected_to(rec, sender=SenderA) as r:
        assert r is rec
        sig.send(SenderA)
        sig.send(SenderB)
    sig.send(SenderA)
    assert len(rec.calls) == 1
    assert sig.receivers == []

    with pytest.raises(ZeroDivisionError), sig.connected_to(rec):
        1 / 0  # noqa: B018
    assert sig.receivers == []  # disconnected even on error


def test_connected_to_keeps_a_prior_connection() -> None:
    sig = Signal()
    rec = Recorder()
    sig.connect(rec, weak=False)
    with sig.connected_to(rec):
        pass
    assert sig.has_listeners()


def test_muted() -> None:
    sig = Signal()
    rec = Recorder()
    sig.connect(rec, weak=False)
    with sig.muted():
        assert sig.send(None) == []
        assert sig.send_robust(None) == []
        assert asyncio.run(sig.asend(None)) == []
    assert sig.send(None) == [(rec, None)]


# ---------------------------------------------------------------- cache, threads, speed


def test_cache_invalidated_on_connect_and_disconnect() -> None:
    sig = Signal(use_caching=True)
    assert sig.send(SenderA) == []
    sig.send(SenderA)
    rec = Recorder()
    sig.connect(rec, sender=SenderA, weak=False)
    assert sig.send(SenderA) == [(rec, None)]  # not the cached "no receivers"
    sig.disconnect(rec, sender=SenderA)
    assert sig.send(SenderA) == []


def test_cache_is_bounded() -> None:
    from torngas.dispatch import dispatcher

    sig = Signal(use_caching=True)
    sig.connect(Recorder(), sender=SenderA, weak=False)
    for _ in range(dispatcher._CACHE_LIMIT + 10):
        sig.send(object())
    assert len(sig.sender_receivers_cache) <= dispatcher._CACHE_LIMIT


def test_send_with_no_receivers_is_fast() -> None:
    sig = Signal(use_caching=True)
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        sig.send(SenderA, x=1)
    per_call = (time.perf_counter() - t0) / n
    assert per_call < 5e-6, per_call  # measured ~0.1 µs


def test_concurrent_connect_and_send_from_threads() -> None:
    sig = Signal(use_caching=True)
    counts = [0] * 8
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:

            def on(**kw: Any) -> None:
                counts[i] += 1

            for _ in range(200):
                sig.connect(on, sender=i, weak=False)
                sig.send(i)
                sig.disconnect(on, sender=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert counts == [200] * 8
    assert sig.receivers == []
