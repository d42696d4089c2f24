"""Signals: a small, typed dispatcher with Django's API and blinker's test helpers.

A :class:`Signal` lets code announce that something happened without knowing who
cares. Receivers subscribe with :meth:`Signal.connect` (or the :func:`receiver`
decorator), optionally only for one *sender*; senders call :meth:`Signal.send`
(or :meth:`Signal.send_robust`, :meth:`Signal.asend`).

Guarantees:

* Receivers are called with keyword arguments only: ``signal=<the signal>``,
  ``sender=<the sender>`` and whatever the sender passed. A receiver must accept
  ``**kwargs`` (checked at connect time), so new arguments never break it.
* Receivers run in the order they were connected (for :meth:`Signal.asend`,
  synchronous receivers run first, then the asynchronous ones concurrently).
* With ``weak=True`` (the default) the signal holds only a weak reference:
  a receiver that is garbage collected (a function, or the object behind a
  bound method) is disconnected automatically.
* :meth:`Signal.send` is cheap when nobody listens: one attribute test.
* Connecting, disconnecting and sending are thread safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from types import MethodType
from typing import Any, TypeVar

from torngas._compat import warn_deprecated

__all__ = ["Signal", "receiver"]

logger = logging.getLogger("torngas.dispatch")

_F = TypeVar("_F", bound=Callable[..., Any])
Receiver = Callable[..., Any]

#: Most distinct senders a caching signal remembers before it starts afresh.
_CACHE_LIMIT = 1024

_NO_RECEIVERS: tuple[Any, ...] = ()

# Tasks started by ``send()`` for async receivers while a loop runs; kept here so
# they are not garbage collected before they finish (see asyncio.create_task).
_background_tasks: set[asyncio.Future[Any]] = set()


def _make_id(target: Any) -> Hashable:
    """The identity a receiver or sender is known by.

    Bound methods are identified by (instance, function) since a new bound
    method object is created on each attribute access. Strings and integers are
    identified by value (as blinker does), everything else by ``id()``.
    """
    if isinstance(target, MethodType):
        return (id(target.__self__), id(target.__func__))
    if isinstance(target, str | int):
        return ("=", target)
    return id(target)


_NONE_ID = _make_id(None)


def _check_accepts_kwargs(func: Receiver) -> None:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        raise ValueError(
            f"signal receiver {func!r} must accept keyword arguments (**kwargs): "
            "senders may add new arguments at any time"
        )


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


class Signal:
    """A signal that receivers connect to and senders send.

    :param providing_args: accepted for compatibility with torngas 1.8 / old
        Django, documentation only; passing it warns with
        :class:`~torngas._compat.RemovedInTorngas3Warning`. Document the
        arguments in the signal's docstring instead.
    :param use_caching: remember, per sender, which receivers apply, so that
        :meth:`send` does not scan every connection each time. The cache is
        cleared on every connect/disconnect and when a weak receiver dies.
    :param name: a label for ``repr()`` and log messages.
    :param doc: a docstring for this signal instance.
    """

    def __init__(
        self,
        providing_args: Sequence[str] | None = None,
        use_caching: bool = False,
        *,
        name: str | None = None,
        doc: str | None = None,
    ) -> None:
        if providing_args is not None:
            warn_deprecated(
                "Signal(providing_args=...) is deprecated and only documents the "
                "arguments; describe them in the signal's docstring instead.",
                stacklevel=2,
            )
        self.providing_args: frozenset[str] = frozenset(providing_args or ())
        self.use_caching = use_caching
        self.name = name
        if doc is not None:
            self.__doc__ = doc
        # (lookup key, receiver or weak reference to it, is_weak)
        self.receivers: list[tuple[tuple[Hashable, Hashable], Any, bool]] = []
        self.lock = threading.Lock()
        self.sender_receivers_cache: dict[Hashable, tuple[tuple[Any, bool], ...]] = {}
        self._dead_receivers = False
        #: True inside :meth:`muted`: sending does nothing.
        self.is_muted = False

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{label} at {id(self):#x}>"

    # ------------------------------------------------------------ connecting
    def connect(
        self,
        receiver: Receiver,
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: Hashable | None = None,
    ) -> Receiver:
        """Connect ``receiver`` to this signal; returns ``receiver``.

        :param receiver: a callable accepting ``**kwargs``; it may be a
            coroutine function (see :meth:`send` and :meth:`asend`).
        :param sender: only call ``receiver`` for signals sent by this sender;
            ``None`` means any sender. Strings and integers match by value,
            other objects by identity.
        :param weak: hold only a weak reference (bound methods through
            :class:`weakref.WeakMethod`), so the connection goes away with the
            receiver. A lambda or nested function connected weakly vanishes as
            soon as the code that created it drops it: keep a reference or use
            ``weak=False``.
        :param dispatch_uid: identify the connection by this key instead of the
            receiver's identity, so connecting twice (a module imported twice)
            does not call the receiver twice.

        Connecting the same receiver (or uid) for the same sender twice is a no-op.
        """
        self._connect(receiver, sender, weak, dispatch_uid)
        return receiver

    def _connect(
        self, receiver: Receiver, sender: Any, weak: bool, dispatch_uid: Hashable | None
    ) -> bool:
        if not callable(receiver):
            raise TypeError(f"signal receiver must be callable, not {receiver!r}")
        _check_accepts_kwargs(receiver)
        rkey = dispatch_uid if dispatch_uid is not None else _make_id(receiver)
        lookup_key = (rkey, _make_id(sender))
        ref: Any = receiver
        if weak:
            make_ref: Any = weakref.ref
            if isinstance(receiver, MethodType):
                make_ref = weakref.WeakMethod
            try:
                ref = make_ref(receiver, self._remove_receiver)
            except TypeError:
                raise TypeError(
                    f"cannot hold a weak reference to {receiver!r}; connect it with weak=False"
                ) from None
        with self.lock:
            self._clear_dead_receivers()
            if any(key == lookup_key for key, _, _ in self.receivers):
                return False
            self.receivers.append((lookup_key, ref, weak))
            self.sender_receivers_cache.clear()
        return True

    def disconnect(
        self,
        receiver: Receiver | None = None,
        sender: Any = None,
        dispatch_uid: Hashable | None = None,
    ) -> bool:
        """Disconnect ``receiver`` (or the ``dispatch_uid`` connection) for ``sender``.

        ``sender`` must be the one given to :meth:`connect`. Returns whether a
        connection was removed. Weak receivers need no disconnect: they go away
        with the object.
        """
        rkey = dispatch_uid if dispatch_uid is not None else _make_id(receiver)
        lookup_key = (rkey, _make_id(sender))
        with self.lock:
            self._clear_dead_receivers()
            for index, (key, _, _) in enumerate(self.receivers):
                if key == lookup_key:
                    del self.receivers[index]
                    self.sender_receivers_cache.clear()
                    return True
        return False

    def has_listeners(self, sender: Any = None) -> bool:
        """Whether anything would receive a signal sent by ``sender`` now."""
        return bool(self._live_receivers(sender))

    def _remove_receiver(self, _ref: Any = None) -> None:
        # Called by the garbage collector (any thread, any moment): only flag.
        self._dead_receivers = True
        self.sender_receivers_cache.clear()

    def _clear_dead_receivers(self) -> None:
        # Caller holds self.lock.
        if self._dead_receivers:
            self._dead_receivers = False
            self.receivers = [r for r in self.receivers if not (r[2] and r[1]() is None)]
            self.sender_receivers_cache.clear()

    def _live_receivers(self, sender: Any) -> list[Receiver]:
        if not self.receivers:
            return []
        key = _make_id(sender)
        entries = self.sender_receivers_cache.get(key) if self.use_caching else None
        if entries is None:
            with self.lock:
                self._clear_dead_receivers()
                entries = tuple(
                    (ref, is_weak)
                    for (_, skey), ref, is_weak in self.receivers
                    if skey in (_NONE_ID, key)
                )
                if self.use_caching:
                    if len(self.sender_receivers_cache) >= _CACHE_LIMIT:
                        self.sender_receivers_cache.clear()
                    self.sender_receivers_cache[key] = entries or _NO_RECEIVERS
        live: list[Receiver] = []
        for ref, is_weak in entries:
            if is_weak:
                target = ref()
                if target is not None:
                    live.append(target)
            else:
                live.append(ref)
        return live

    # ------------------------------------------------------------ sending
    def send(self, sender: Any = None, **named: Any) -> list[tuple[Receiver, Any]]:
        """Call every receiver for ``sender``; return ``[(receiver, response), ...]``.

        An exception raised by a receiver propagates to the caller and the
        remaining receivers are not called (use :meth:`send_robust` when the
        sender must not fail).

        An asynchronous receiver's coroutine is scheduled as a task on the
        running event loop (its response is the :class:`asyncio.Task`; a failure
        is logged), or, when no loop runs in this thread, run to completion.
        Use :meth:`asend` to await asynchronous receivers.
        """
        if self.is_muted or not self.receivers:
            return []
        responses: list[tuple[Receiver, Any]] = []
        for func in self._live_receivers(sender):
            response = func(signal=self, sender=sender, **named)
            if inspect.isawaitable(response):
                response = self._run_awaitable(func, response)
            responses.append((func, response))
        return responses

    def send_robust(self, sender: Any = None, **named: Any) -> list[tuple[Receiver, Any]]:
        """Like :meth:`send`, but a receiver's :class:`Exception` is logged (on
        the ``torngas.dispatch`` logger) and returned as its response instead of
        propagating. Every receiver is called. The framework sends its own
        signals this way, so a faulty receiver never breaks a request.
        """
        if self.is_muted or not self.receivers:
            return []
        responses: list[tuple[Receiver, Any]] = []
        for func in self._live_receivers(sender):
            try:
                response = func(signal=self, sender=sender, **named)
                if inspect.isawaitable(response):
                    response = self._run_awaitable(func, response)
            except Exception as err:
                self._log_failure(func, err)
                responses.append((func, err))
            else:
                responses.append((func, response))
        return responses

    async def asend(self, sender: Any = None, **named: Any) -> list[tuple[Receiver, Any]]:
        """Send from a coroutine; asynchronous receivers are awaited.

        Synchronous receivers are called inline on the event loop (keep them
        fast, or have them hand blocking work to
        :func:`torngas.concurrent.run_in_threadpool`); the awaitables returned by
        asynchronous receivers are then awaited concurrently. Returns
        ``[(receiver, result), ...]`` in connection order. The first exception
        propagates.
        """
        if self.is_muted or not self.receivers:
            return []
        responses: list[list[Any]] = []
        pending: list[int] = []
        try:
            for func in self._live_receivers(sender):
                response = func(signal=self, sender=sender, **named)
                if inspect.isawaitable(response):
                    pending.append(len(responses))
                responses.append([func, response])
        except BaseException:
            for index in pending:  # never leave "coroutine was never awaited" behind
                _close(responses[index][1])
            raise
        if pending:
            results = await asyncio.gather(*(responses[i][1] for i in pending))
            for index, result in zip(pending, results, strict=True):
                responses[index][1] = result
        return [(func, response) for func, response in responses]

    async def asend_robust(self, sender: Any = None, **named: Any) -> list[tuple[Receiver, Any]]:
        """Like :meth:`asend`, with :meth:`send_robust`'s error handling."""
        if self.is_muted or not self.receivers:
            return []
        responses: list[list[Any]] = []
        pending: list[int] = []
        for func in self._live_receivers(sender):
            try:
                response = func(signal=self, sender=sender, **named)
            except Exception as err:
                self._log_failure(func, err)
                response = err
            if inspect.isawaitable(response):
                pending.append(len(responses))
                response = self._guard(func, response)
            responses.append([func, response])
        if pending:
            results = await asyncio.gather(*(responses[i][1] for i in pending))
            for index, result in zip(pending, results, strict=True):
                responses[index][1] = result
        return [(func, response) for func, response in responses]

    async def _guard(self, func: Receiver, awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except Exception as err:
            self._log_failure(func, err)
            return err

    def _run_awaitable(self, func: Receiver, awaitable: Awaitable[Any]) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread: run it to completion here
            return asyncio.run(_as_coroutine(awaitable))
        task = asyncio.ensure_future(awaitable)
        _background_tasks.add(task)

        def done(fut: asyncio.Future[Any]) -> None:
            _background_tasks.discard(fut)
            if not fut.cancelled() and fut.exception() is not None:
                self._log_failure(func, fut.exception())  # type: ignore[arg-type]

        task.add_done_callback(done)
        return task

    def _log_failure(self, func: Receiver, err: BaseException) -> None:
        logger.error(
            "Error calling %s in %r: %s: %s",
            _name(func),
            self,
            type(err).__name__,
            err,
            exc_info=err,
        )

    # ------------------------------------------------------------ blinker-style helpers
    def connect_via(self, sender: Any = None, weak: bool = False) -> Callable[[_F], _F]:
        """Decorator: connect the function for ``sender`` (strongly by default,
        as blinker does) and return it unchanged::

            @template_rendered.connect_via(app)
            def when_rendered(sender, template, context, **extra): ...
        """

        def decorator(func: _F) -> _F:
            self.connect(func, sender=sender, weak=weak)
            return func

        return decorator

    @contextlib.contextmanager
    def connected_to(self, receiver: Receiver, sender: Any = None) -> Iterator[Receiver]:
        """Context manager: ``receiver`` is connected (strongly) inside the block
        only. Meant for tests, so no receiver is left behind::

            def record(sender, **kwargs):
                seen.append(kwargs["handler"])

            with request_finished.connected_to(record):
                ...

        A connection that existed before the block is left in place.
        """
        added = self._connect(receiver, sender, False, None)
        try:
            yield receiver
        finally:
            if added:
                self.disconnect(receiver, sender=sender)

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """Context manager: sending this signal does nothing inside the block
        (for tests; it affects every thread)."""
        previous = self.is_muted
        self.is_muted = True
        try:
            yield
        finally:
            self.is_muted = previous


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if inspect.iscoroutine(awaitable) and close is not None:
        close()


def receiver(signal: Signal | Sequence[Signal], **kwargs: Any) -> Callable[[_F], _F]:
    """Decorator connecting a function to one signal or a list of signals.

    ``kwargs`` are passed to :meth:`Signal.connect` (``sender``, ``weak``,
    ``dispatch_uid``)::

        @receiver(call_started)
        def on_call(sender, **kwargs): ...
    """

    def decorator(func: _F) -> _F:
        signals = signal if isinstance(signal, list | tuple) else (signal,)
        for sig in signals:
            sig.connect(func, **kwargs)
        return func

    return decorator
