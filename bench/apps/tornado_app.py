"""Raw Tornado: ``python -m bench.apps.tornado_app --port N``.

Written as Tornado's documentation shows (``RequestHandler`` subclasses, one
``Application``, ``asyncio.run``), with Jinja2 for templates, redis.asyncio
for the /full session and aiosqlite for its query (Tornado has neither).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import uuid
from typing import Any

import aiosqlite
import redis.asyncio as aioredis
import tornado.web

from bench import common

ENV = common.jinja_env()
PAGE = ENV.get_template(common.PAGE_TEMPLATE)
FULL = ENV.get_template(common.FULL_TEMPLATE)


class Plaintext(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write(common.PLAINTEXT)


class Json(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(common.JSON_PAYLOAD)


class Page(tornado.web.RequestHandler):
    def get(self) -> None:
        visits = common.visits_from_cookie(self.get_cookie(common.COOKIE_NAME))
        self.set_cookie(common.COOKIE_NAME, str(visits))
        self.write(PAGE.render(**common.page_context(visits)))


class Full(tornado.web.RequestHandler):
    """Session in Redis under a random cookie id, one indexed query, a render."""

    async def get(self) -> None:
        state: Any = self.application.settings["bench_state"]
        sid = self.get_cookie("sid")
        if not sid:
            sid = uuid.uuid4().hex
            self.set_cookie("sid", sid, httponly=True)
        key = f"tornado:session:{sid}"
        visits = int(await state.redis.get(key) or 0) + 1
        await state.redis.set(key, visits, ex=3600)
        async with state.db.execute(common.FULL_QUERY, (common.full_category(visits),)) as cur:
            rows = await cur.fetchall()
        self.write(FULL.render(**common.full_context(visits, list(rows))))


class Filler(tornado.web.RequestHandler):
    def get(self, *args: str) -> None:
        self.write("filler")


class State:
    redis: Any = None
    db: Any = None


def make_app(state: State) -> tornado.web.Application:
    routes: list[Any] = [
        (common.filler_tornado_pattern(p, d), Filler)
        for p, d in common.filler_routes(common.route_count())
    ]
    routes += [
        (r"/json", Json),
        (r"/page", Page),
        (r"/full", Full),
        (r"/plaintext", Plaintext),  # last: the routes suite times it
    ]
    return tornado.web.Application(routes, bench_state=state)


async def main(port: int) -> None:
    state = State()
    state.redis = aioredis.from_url(common.redis_url())
    state.db = await aiosqlite.connect(common.sqlite_path())
    app = make_app(state)
    server = app.listen(port, "127.0.0.1")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()  # SIGTERM: exit cleanly (a profiler then writes its output)
    server.stop()
    await state.db.close()
    await state.redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
