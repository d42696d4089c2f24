"""Handlers exercising each HTTP semantic the ASGI bridge must keep."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import tornado.web

from torngas.handler import WebHandler
from torngas.websocket import WebSocketHandler

#: What the server side saw, read by the tests (through LiveServer.call or /state).
SEEN: dict[str, Any] = {}
EVENTS: dict[str, asyncio.Event] = {}


def event(name: str) -> asyncio.Event:
    if name not in EVENTS:
        EVENTS[name] = asyncio.Event()
    return EVENTS[name]


class Hello(WebHandler):
    def get(self) -> None:
        self.write("hello")


class Page(WebHandler):
    def get(self) -> None:
        self.set_header("X-Custom", "yes")
        self.write("page " * 100)

    head = get


class Stream(WebHandler):
    """First chunk, flushed; the second only after /release was requested."""

    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write("first|")
        await self.flush()
        SEEN["flushed"] = True
        await asyncio.wait_for(event("release").wait(), 20)
        self.write("second")


class Release(WebHandler):
    def get(self) -> None:
        event("release").set()
        self.write("released")


@tornado.web.stream_request_body
class Upload(WebHandler):
    xsrf_exempt = True

    def prepare(self) -> None:
        SEEN["chunks"] = []
        limit = self.get_query_argument("limit", None)
        if limit:
            self.request.connection.set_max_body_size(int(limit))
        return super().prepare()

    def data_received(self, chunk: bytes) -> None:
        SEEN["chunks"].append(len(chunk))

    def post(self) -> None:
        self.write({"bytes": sum(SEEN["chunks"]), "calls": len(SEEN["chunks"])})


class UploadState(WebHandler):
    def get(self) -> None:
        self.write({"bytes": sum(SEEN.get("chunks", []))})


class EchoBody(WebHandler):
    xsrf_exempt = True

    def post(self) -> None:
        self.write({"len": len(self.request.body)})


class Hang(WebHandler):
    """Waits until the client goes away."""

    async def get(self) -> None:
        SEEN["hanging"] = True
        await asyncio.wait_for(event("hang").wait(), 20)

    def on_connection_close(self) -> None:
        SEEN["closed"] = True
        event("hang").set()


class Ip(WebHandler):
    def get(self) -> None:
        self.write({"ip": self.request.remote_ip, "protocol": self.request.protocol})


class Context(WebHandler):
    """``request.connection.context``, as Tornado's HTTP server keeps it."""

    def get(self) -> None:
        ctx = self.request.connection.context  # type: ignore[union-attr]
        self.write(
            {
                "address": list(ctx.address)[:1],
                "remote_ip": ctx.remote_ip,
                "protocol": ctx.protocol,
                "request_ip": self.request.remote_ip,
            }
        )


class Flushed(WebHandler):
    """Awaits flush() (a future of the running loop) before finishing."""

    async def get(self) -> None:
        self.write("a|")
        await self.flush()
        await asyncio.sleep(0)
        self.finish("b")


class Form(WebHandler):
    def get(self) -> None:
        self.write(self.xsrf_token)

    def post(self) -> None:
        self.write("posted " + self.get_body_argument("x"))


class EchoWS(WebSocketHandler):
    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "chat" if "chat" in subprotocols else None

    @property
    def max_message_size(self) -> int:
        return 1000

    def open(self) -> None:
        SEEN["ws_open"] = True

    def on_message(self, message: str | bytes) -> None:
        if message == "close":
            self.close(4001, "asked")
            return
        if isinstance(message, bytes):
            self.write_message(message[::-1], binary=True)
        else:
            self.write_message("echo:" + message)

    def on_close(self) -> None:
        SEEN["ws_close"] = (self.close_code, self.close_reason)


class State(WebHandler):
    def get(self) -> None:
        self.write({k: v for k, v in SEEN.items() if isinstance(v, bool | int | str | list)})


class Parts(WebHandler):
    """Several writes and a cookie: the etag hashes every part, the cookie
    goes out on 200 and 304 alike."""

    def get(self) -> None:
        self.set_cookie("seen", "1")
        for i in range(3):
            self.write(f"part{i};")

    head = get


class CustomEtag(WebHandler):
    """A handler's own ``compute_etag`` takes Tornado's path."""

    def compute_etag(self) -> str | None:
        return '"v1"'

    def get(self) -> None:
        self.write("custom")


class NoEtag(WebHandler):
    def compute_etag(self) -> str | None:
        return None

    def get(self) -> None:
        self.write("no etag")


class Status(WebHandler):
    def get(self, code: str) -> None:
        self.set_status(int(code))
        if int(code) not in (204, 304):
            self.write("status")


class BodyOn204(WebHandler):
    def get(self) -> None:
        self.set_status(204)
        self.write("not allowed")


class UiModules(WebHandler):
    """``self.ui`` is built on first access (torngas) but has what Tornado puts in it."""

    def get(self) -> None:
        ui = self.ui
        form = ui["modules"].xsrf_form_html()
        self.write(",".join(sorted(ui)) + "|" + ("_xsrf" in form and "hidden" in form) * "xsrf")


class Big(WebHandler):
    def get(self) -> None:
        self.write("big " * 2000)  # past GZipContentEncoding.MIN_LENGTH


class Named(WebHandler):
    """Named path groups and an exception: ``_execute``'s decoding and error page."""

    xsrf_exempt = True

    def get(self, name: str) -> None:
        if name == "boom":
            raise ValueError("boom")
        self.write(f"{type(name).__name__}:{name}|{self.get_argument('q', '')}")

    def post(self, name: str) -> None:
        self.write(f"{name}:{self.get_body_argument('x', 'none')}")


class HeaderValues(WebHandler):
    """``set_header``/``write`` with each kind of value Tornado converts."""

    def get(self) -> None:
        import datetime

        self.set_header("X-Str", "plain value")
        self.set_header("x-lower-name", "normalised")
        self.set_header("X-Int", 42)
        self.set_header("X-Bytes", b"caf\xe9")
        self.set_header("X-Date", datetime.datetime(2020, 1, 2, 3, 4, 5))
        bad = self.get_query_argument("bad", None)
        if bad is not None:
            self.set_header("X-Bad", bad)  # ValueError for CR/LF: a 500
        self.write("é")
        self.write(b"|bytes|")
        self.write(_Str("sub"))
        self.finish()
        try:
            self.write(b"late")
        except RuntimeError as exc:
            SEEN["late_write"] = str(exc)


class _Str(str):
    """A str subclass: Tornado's own write path."""


class OwnConversion(WebHandler):
    def _convert_header_value(self, value: Any) -> str:
        return f"converted({value})"

    def get(self) -> None:
        self.set_header("X-Own", "v")
        self.write("ok")


class OwnHooks(WebHandler):
    """Overrides of what torngas inlines: each must still run."""

    def initialize(self, **kwargs: Any) -> None:
        SEEN["initialize"] = dict(kwargs)

    def set_default_headers(self) -> None:
        self.set_header("X-Default", "yes")

    def on_finish(self) -> None:
        SEEN.setdefault("order", []).append("on_finish")
        super().on_finish()

    def complete_finish(self) -> None:
        SEEN.setdefault("order", []).append("complete_finish")

    def _log(self) -> None:
        SEEN.setdefault("order", []).append("_log")
        super()._log()

    def _break_cycles(self) -> None:
        SEEN.setdefault("order", []).append("_break_cycles")
        super()._break_cycles()

    def get(self) -> None:
        self.write("hooks")


class CompleteOnly(WebHandler):
    def complete_finish(self) -> None:
        SEEN["complete_only"] = self.get_status()

    def get(self) -> None:
        self.set_status(201)
        self.write("made")


#: Set by the handlers below: a request must never see another's value.
PROBE: contextvars.ContextVar[str] = contextvars.ContextVar("probe", default="unset")


class CtxVar(WebHandler):
    """A handler that never waits (runs without a task of its own)."""

    def get(self) -> None:
        seen = PROBE.get()
        PROBE.set("set-by-sync")
        if self.get_query_argument("fail", None):
            raise ValueError("asked to fail")
        self.write({"seen": seen})


class CtxVarAsync(WebHandler):
    """Waits in prepare() and in get(): the rest runs as a task, same context."""

    async def prepare(self) -> None:
        SEEN["prepare_saw"] = PROBE.get()
        PROBE.set("set-in-prepare")
        await asyncio.sleep(0)

    async def get(self) -> None:
        seen = PROBE.get()
        await asyncio.sleep(0)
        if self.get_query_argument("fail", None):
            raise ValueError("asked to fail")
        self.write({"seen": seen, "after": PROBE.get()})


class OwnExecute(WebHandler):
    """Overrides _execute: the transports must await it, not skip it."""

    async def _execute(self, transforms: Any, *args: Any, **kwargs: Any) -> None:
        SEEN["own_execute"] = SEEN.get("own_execute", 0) + 1
        await super()._execute(transforms, *args, **kwargs)

    def get(self) -> None:
        self.write("own")
