"""Tornado WebSocket handlers over ASGI WebSocket.

The handshake runs through the handler as usual (``prepare()``, middleware,
the Upgrade checks, ``check_origin``, ``select_subprotocol``); only the
protocol object changes: :class:`ASGIWebSocketProtocol` replaces Tornado's
``WebSocketProtocol13`` (which frames bytes on an IOStream) and maps

- ``write_message`` -> ``websocket.send`` (text or bytes),
- ``close(code, reason)`` -> ``websocket.close``,
- ``websocket.receive`` -> ``on_message`` (in order, a coroutine awaited
  before the next message, as Tornado does), ``max_message_size`` enforced
  with close code 1009,
- ``websocket.disconnect`` -> ``close_code``/``close_reason`` and ``on_close``.

A handler that answers the handshake with an HTTP status (403 from
``check_origin``, a middleware's refusal, 404 for an unknown path) sends that
response when the server offers ``websocket.http.response``, else a
``websocket.close`` before accepting, which servers turn into HTTP 403.

Not mapped: ping frames. ASGI has no ping message; the server pings on its own
(``uvicorn --ws-ping-interval``, hypercorn's ``websocket_ping_interval``), so
``ping()`` sends nothing and ``websocket_ping_interval`` does not apply.
Compression is the server's (its own permessage-deflate negotiation).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import tornado.escape
from tornado import httputil
from tornado.websocket import WebSocketClosedError, WebSocketHandler, WebSocketProtocol

from torngas.asgi._http import ASGIConnection, _Inline, _Outbox

__all__ = ["ASGIWebSocketProtocol", "run_websocket"]

log = logging.getLogger("torngas.asgi")

# Headers of the handshake answer that the ASGI server writes itself.
_HANDSHAKE = frozenset(
    {
        "Upgrade",
        "Connection",
        "Sec-Websocket-Accept",
        "Sec-Websocket-Protocol",
        "Sec-Websocket-Extensions",
        "Content-Type",
        "Content-Length",
        "Server",
        "Date",
        "Transfer-Encoding",
    }
)
_CLOSE_WAIT = 5.0  # seconds for the client to answer our close (Tornado's)


class ASGIWebSocketConnection(ASGIConnection):
    """The handshake's HTTP connection: records the answer instead of sending it."""

    def __init__(self, send: Callable[[dict[str, Any]], Any], context: Any, scope: Any) -> None:
        super().__init__(send, context, 1 << 20, head=False)
        self.scope = scope
        self.status: int | None = None
        self.reason = ""
        self.response_headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.accepted = False
        self.protocol: ASGIWebSocketProtocol | None = None

    def write_headers(
        self,
        start_line: Any,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        self.status = start_line.code
        self.reason = start_line.reason
        self.response_headers = list(headers.get_all())
        if chunk:
            self.body.append(chunk)
        fut = self._future()
        fut.set_result(None)
        return fut

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        if chunk:
            self.body.append(chunk)
        fut = self._future()
        fut.set_result(None)
        return fut

    def finish(self) -> None:
        self.finished = True

    def detach(self) -> Any:
        return self.stream

    async def refuse(self) -> None:
        """Send the handler's HTTP answer (or a plain close) for a refused handshake."""
        status = self.status or 403
        if "websocket.http.response" in self.scope.get("extensions", {}):
            body = b"".join(self.body)
            headers = [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in self.response_headers
                if k not in ("Server", "Date", "Content-Length", "Transfer-Encoding")
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            await self._send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await self._send(
                {"type": "websocket.http.response.body", "body": body, "more_body": False}
            )
        else:
            await self._send({"type": "websocket.close", "code": 1008})


class ASGIWebSocketProtocol(WebSocketProtocol):
    """Tornado's ``WebSocketProtocol`` on ASGI ``websocket.*`` messages."""

    def __init__(
        self,
        handler: WebSocketHandler,
        conn: ASGIWebSocketConnection,
        receive: Callable[[], Any],
    ) -> None:
        super().__init__(handler)
        self.conn = conn
        self.receive = receive
        self.out = _Outbox(conn._send)  # noqa: SLF001
        self.max_message_size = handler.max_message_size
        # torngas's WebSocketHandler decodes messages (message_format) before
        # on_message; any other handler gets them as Tornado gives them.
        self._deliver = getattr(handler, "_torngas_receive", None) or handler.on_message
        self._selected_subprotocol: str | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None

    # ------------------------------------------------------------ handshake
    @property
    def selected_subprotocol(self) -> str | None:
        return self._selected_subprotocol

    async def accept_connection(self, handler: WebSocketHandler) -> None:
        header = handler.request.headers.get("Sec-WebSocket-Protocol")
        subprotocols = [s.strip() for s in header.split(",")] if header else []
        self._selected_subprotocol = handler.select_subprotocol(subprotocols)
        if self._selected_subprotocol:
            assert self._selected_subprotocol in subprotocols
        handler.clear_header("Content-Type")
        handler.set_status(101)
        handler.finish()  # the 101 is recorded by the connection, not sent
        self.stream = handler._detach_stream()  # noqa: SLF001 - Tornado's own step
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in self.conn.response_headers
            if k not in _HANDSHAKE
        ]
        accept: dict[str, Any] = {"type": "websocket.accept", "headers": headers}
        if self._selected_subprotocol:
            accept["subprotocol"] = self._selected_subprotocol
        try:
            await self.conn._send(accept)  # noqa: SLF001
        except Exception:
            self._abort()
            return
        self.conn.accepted = True
        try:
            result = handler.open(*handler.open_args, **handler.open_kwargs)
            if result is not None:
                await result
        except Exception:
            handler.log_exception(*sys.exc_info())
            self._abort()
            return
        await self._receive_frame_loop()

    # ------------------------------------------------------------- receiving
    async def _receive_frame_loop(self) -> None:
        receive = self.receive
        while not self.client_terminated:
            if self.server_terminated:
                try:
                    msg = await asyncio.wait_for(receive(), _CLOSE_WAIT)
                except TimeoutError:
                    msg = {"type": "websocket.disconnect", "code": 1006}
            else:
                msg = await receive()
            kind = msg["type"]
            if kind == "websocket.receive":
                text = msg.get("text")
                data: str | bytes = text if text is not None else (msg.get("bytes") or b"")
                size = len(data) if text is None else len(text.encode("utf-8"))
                if size > self.max_message_size:
                    self.close(1009, "message too big")
                    continue
                if self.server_terminated:
                    continue  # closing: no more messages for the handler
                done = self._run_callback(self._deliver, data)
                if done is not None:
                    await done
            elif kind == "websocket.disconnect":
                self.client_terminated = True
                self.server_terminated = True
                self.out.closed = True
                code = msg.get("code")
                self.close_code = code if code not in (None, 1005, 1006) else None
                reason = msg.get("reason")
                self.close_reason = reason or None
                self.handler.on_ws_connection_close(self.close_code, self.close_reason)
                return

    # --------------------------------------------------------------- sending
    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> asyncio.Future[None]:
        if self.server_terminated or self.out.closed:
            raise WebSocketClosedError()
        if isinstance(message, dict):
            message = tornado.escape.json_encode(message)
        if binary:
            msg = {"type": "websocket.send", "bytes": tornado.escape.utf8(message)}
        else:
            if isinstance(message, bytes):
                message = message.decode("utf-8")
            msg = {"type": "websocket.send", "text": message}
        fut = self.out._future()  # noqa: SLF001
        self.out._push(msg, fut)  # noqa: SLF001
        result: asyncio.Future[None] = self.out._future()  # noqa: SLF001

        def done(f: asyncio.Future[None]) -> None:
            if result.done():
                return
            if f.exception() is not None:
                result.set_exception(WebSocketClosedError())
            else:
                result.set_result(None)

        fut.add_done_callback(done)
        return result

    def write_ping(self, data: bytes) -> None:
        """ASGI has no ping message: the server pings (see the module docs)."""

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if not self.server_terminated:
            self.server_terminated = True
            if not self.out.closed:
                msg: dict[str, Any] = {"type": "websocket.close", "code": code or 1000}
                if reason:
                    msg["reason"] = reason
                self.out._push(msg, None)  # noqa: SLF001

    def _abort(self) -> None:
        if not self.server_terminated and not self.out.closed:
            self.out._push({"type": "websocket.close", "code": 1011}, None)  # noqa: SLF001
        self.client_terminated = True
        self.server_terminated = True

    def on_connection_close(self) -> None:
        self._abort()

    def is_closing(self) -> bool:
        return self.client_terminated or self.server_terminated or self.out.closed

    def start_pinging(self) -> None:
        pass

    def set_nodelay(self, x: bool) -> None:
        pass

    def _process_server_headers(self, key: str | bytes, headers: httputil.HTTPHeaders) -> None:
        raise NotImplementedError("server side only")


async def run_websocket(
    app: Any,
    request: httputil.HTTPServerRequest,
    conn: ASGIWebSocketConnection,
    receive: Callable[[], Any],
) -> None:
    """Run the handshake through the handler, then the protocol until closed."""
    from torngas.asgi._http import _DELEGATES

    delegate = app.find_handler(request)
    if type(delegate) not in _DELEGATES:
        conn.status = 404
        await conn.refuse()
        return
    handler = delegate.handler = delegate.handler_class(app, request, **delegate.handler_kwargs)
    if isinstance(handler, WebSocketHandler):

        def protocol() -> ASGIWebSocketProtocol:
            conn.protocol = ASGIWebSocketProtocol(handler, conn, receive)
            return conn.protocol

        handler.get_websocket_protocol = protocol  # type: ignore[method-assign]
    conn.inline = True
    await _Inline(
        handler._execute([], *delegate.path_args, **delegate.path_kwargs),  # noqa: SLF001
        conn,
    )
    if not conn.accepted:
        await conn.refuse()
    ws = conn.protocol
    if ws is not None and ws.out._sender is not None:  # noqa: SLF001
        await ws.out._sender  # noqa: SLF001 - the close frame goes out before we return
