"""A TCP fault proxy for tests (see /work/shared/TESTING.md, "Fault injection").

Put it between the code under test and a real server; point the client at
``proxy.port`` (or ``proxy.location``). It does not parse the protocol, so it
works for Redis, memcached, MariaDB and PostgreSQL alike::

    with FaultProxy(target_port=server.port) as proxy:
        client = make_client(port=proxy.port)
        proxy.mode = "blackhole"   # the server "hangs"
        ...
        proxy.mode = "pass"
        proxy.cut()                # every live connection is reset (a restart)

Modes (``proxy.mode``, may be changed at any time, from any thread):

``"pass"``       forward both ways (default).
``"refuse"``     new client connections are reset at once (RST); connections
                 already open keep working. "Down" = ``mode = "refuse"`` + ``cut()``.
``"blackhole"``  accept and read, but never forward or answer — also on
                 connections that are already open (a hung server).

Actions and knobs:

``cut()``        abort every live connection now (RST to the client, close upstream).
``delay``        seconds to sleep before forwarding each chunk (a slow server); 0 = off.
``connections``  how many client connections are open right now.
``accepted``     how many client connections were accepted in total.

The proxy runs an asyncio loop in a daemon thread; ``stop()`` (or leaving the
``with`` block) closes the listener and every connection. Each test should use
its own instance on port 0 (the default).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from typing import Any

__all__ = ["FaultProxy"]

MODES = ("pass", "refuse", "blackhole")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN (SO_LINGER 0), like a crashed peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class FaultProxy:
    def __init__(
        self,
        target_port: int,
        target_host: str = "127.0.0.1",
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.target = (target_host, target_port)
        self.listen = (listen_host, listen_port)
        self._mode = "pass"
        self.delay = 0.0
        self.accepted = 0
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------------ public
    @property
    def location(self) -> str:
        return f"{self.listen[0]}:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {value!r}")
        self._mode = value

    @property
    def connections(self) -> int:
        return len(self._pairs)

    def start(self) -> FaultProxy:
        ready = threading.Event()
        error: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, *self.listen)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                error.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start within 10 s")
        if error:
            raise error[0]
        return self

    def cut(self) -> None:
        """Abort every live connection (both sides) now; waits until done."""
        self._call(self._cut_all)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            self._cut_all()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals
    def _call(self, func: Any) -> None:
        assert self._loop is not None, "proxy not started"

        async def run() -> None:
            func()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _cut_all(self) -> None:
        for client_w, upstream_w in list(self._pairs):
            _reset(client_w)
            if upstream_w is not None:
                upstream_w.transport.abort()
        self._pairs.clear()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._mode == "refuse":
            _reset(client_w)
            return
        upstream_w: asyncio.StreamWriter | None = None
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]
        if self._mode == "blackhole":
            pair = (client_w, None)
            self._pairs.add(pair)
            try:
                while await client_r.read(65536):
                    pass
            except (ConnectionError, OSError):
                pass
            finally:
                self._pairs.discard(pair)
                client_w.transport.abort()
            return
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_w)
            return
        pair = (client_w, upstream_w)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pump(client_r, upstream_w), self._pump(upstream_r, client_w))
        finally:
            self._pairs.discard(pair)
            client_w.transport.abort()
            upstream_w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self._mode == "blackhole":
                    continue  # swallowed: the peer never hears back
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
