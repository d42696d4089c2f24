"""Middlewares that record every hook call into EVENTS (for the middleware tests)."""

import asyncio

EVENTS: list = []
CONFIG: dict = {}  # per-test switches: {"A.process_request": "stop" | "clear" | "raise" | "finish"}


def _act(name, hook, handler=None, clear=None):
    action = CONFIG.get(f"{name}.{hook}")
    if action == "raise":
        raise RuntimeError(f"{name} failed in {hook}")
    if action == "clear":
        clear()
    if action == "finish":
        handler.set_status(403)
        handler.finish(f"stopped by {name}")
        return 1
    return 1 if action == "stop" else None


class _Recorder:
    name = "?"

    def process_init(self, application):
        EVENTS.append((self.name, "init"))

    def process_call(self, request, clear):
        EVENTS.append((self.name, "call"))
        return _act(self.name, "process_call", clear=clear)

    def process_request(self, handler, clear):
        EVENTS.append((self.name, "request"))
        return _act(self.name, "process_request", handler, clear)

    def process_render(self, handler, clear, template_name, **kwargs):
        EVENTS.append((self.name, "render", template_name, sorted(kwargs)))
        return _act(self.name, "process_render", handler, clear)

    def process_response(self, handler, clear, chunk):
        EVENTS.append((self.name, "response"))
        if CONFIG.get(f"{self.name}.rewrite"):
            chunk[0] = chunk[0].upper()
            handler.set_header("X-Rewritten-By", self.name)
        return _act(self.name, "process_response", handler, clear)

    def process_endcall(self, handler, clear):
        EVENTS.append((self.name, "endcall"))
        return _act(self.name, "process_endcall", handler, clear)

    def process_exception(self, handler, clear, typ, value, tb):
        EVENTS.append((self.name, "exception", typ.__name__))
        return _act(self.name, "process_exception", handler, clear)


class A(_Recorder):
    name = "A"


class B(_Recorder):
    name = "B"


class C(_Recorder):
    name = "C"


class AsyncRequest:
    """``process_request`` as a coroutine: the handler must wait for it."""

    async def process_request(self, handler, clear):
        EVENTS.append(("Async", "request-start"))
        await asyncio.sleep(0.05)
        handler.async_value = "set-by-async-middleware"
        EVENTS.append(("Async", "request-end"))
        if CONFIG.get("Async.finish"):
            handler.finish("async stop")
            return True


class OnlyEndcall:
    def process_endcall(self, handler, clear):
        EVENTS.append(("OnlyEndcall", "endcall"))


class Unused:
    def __init__(self):
        from torngas.exceptions import MiddlewareNotUsed

        raise MiddlewareNotUsed("switched off")


class AsyncResponse:
    """``process_response`` as a coroutine: the response waits for it."""

    async def process_response(self, handler, clear, chunk):
        await asyncio.sleep(0.05)
        if CONFIG.get("AsyncResponse.fail"):
            from tornado.web import HTTPError

            raise HTTPError(503)
        if CONFIG.get("AsyncResponse.crash"):
            raise RuntimeError("async response crashed")
        handler.set_header("X-Saved", "yes")
        EVENTS.append(("AsyncResponse", "saved"))

    async def process_shutdown(self, application):
        await asyncio.sleep(0)
        EVENTS.append(("AsyncResponse", "shutdown"))


class Deny:
    def process_call(self, request, clear):
        if CONFIG.get("Deny.call"):
            from tornado.web import HTTPError

            raise HTTPError(429)

    def process_request(self, handler, clear):
        if CONFIG.get("Deny.request"):
            from tornado.web import HTTPError

            raise HTTPError(403, "denied")
