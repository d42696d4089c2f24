import asyncio

from tornado.web import HTTPError

from torngas.handler import ApiHandler, WebHandler


class Index(WebHandler):
    def get(self):
        self.write("hello")


class Kwargs(WebHandler):
    def get(self):
        self._url_kwargs["mutated"] = True  # must not leak to the next request
        self.write(dict(self._url_kwargs))


class Page(WebHandler):
    def get(self):
        self.render("page.html", title="T", items=["a", "<b>"])


class Boom(WebHandler):
    def get(self):
        raise ValueError("boom")


class Slow(WebHandler):
    async def get(self):
        await asyncio.sleep(float(self.get_argument("t", "1")))
        self.write("slow done")


class Echo(ApiHandler):
    def post(self):
        self.write_json({"got": self.json_args})

    def get(self):
        if self.get_argument("fail", None):
            raise HTTPError(418, "teapot %s", "here")
        self.write_json([1, 2, 3])


class Reverse(WebHandler):
    def get(self):
        self.write(self.reverse_url(self.get_argument("name")))


class Hooks(WebHandler):
    calls: list = []

    def on_prepare(self):
        Hooks.calls.append("on_prepare")

    def get(self):
        Hooks.calls.append("get")
        self.write("ok")

    def complete_finish(self):
        Hooks.calls.append("complete_finish")


class AsyncSeen(WebHandler):
    def get(self):
        self.write(getattr(self, "async_value", "missing"))


class GcFrozen(WebHandler):
    """How many objects gc.freeze() left out of cyclic collections (GC_FREEZE)."""

    def get(self):
        import gc

        self.write(str(gc.get_freeze_count()))


class Pid(WebHandler):
    def get(self):
        import os

        self.write(str(os.getpid()))


class Cookie(WebHandler):
    def get(self):
        n = int(self.get_cookie("n", "0")) + 1
        self.set_cookie("n", str(n))
        self.write(str(n))


class User(WebHandler):
    def get(self, uid):
        self.write(f"user {uid}")


class Tpl(WebHandler):
    def get_current_user(self):
        return "ann"

    def get(self):
        name = self.get_argument("name", "same.html")
        self.render(name, title="T&C", items=["a", "<b>"])


from torngas.websocket import WebSocketHandler  # noqa: E402


class Echo_WS(WebSocketHandler):
    def on_prepare(self):
        self.greeting = getattr(self, "async_value", "none")

    def on_message(self, message):
        self.write_message(f"{self.greeting}:{self.torngas_settings.WS_PREFIX}:{message}")


class Inflight(WebHandler):
    def get(self):
        self.write(str(self.application.inflight))


from torngas.decorators.async_execute import async_execute  # noqa: E402


class Blocking(WebHandler):
    async def get(self):
        result = await self.work(float(self.get_argument("t", "0.5")))
        self.write(result)

    @async_execute
    def work(self, seconds):
        import time

        time.sleep(seconds)  # a blocking call: runs in the pool, the loop keeps serving
        return f"slept {seconds}"
