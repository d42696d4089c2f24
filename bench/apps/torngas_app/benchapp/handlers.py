"""The torngas handlers: ``WebHandler``/``ApiHandler`` as the README shows.

/page renders with Jinja2 directly (torngas's Jinja2 ``TEMPLATE_CONFIG``
loader is not written yet). /full keeps its session in ``caches["session"]``
(torngas.cache's RedisCache, native async) under a cookie id — torngas's
SessionMiddleware is not written yet — and queries SQLite through
``torngas.db.basedb`` in the thread pool, as basedb's docs say.
"""

from __future__ import annotations

import uuid
from typing import Any

from bench import common
from torngas.handler import ApiHandler, WebHandler

ENV = common.jinja_env()
PAGE = ENV.get_template(common.PAGE_TEMPLATE)
FULL = ENV.get_template(common.FULL_TEMPLATE)
_db: Any = None


def _database() -> Any:
    global _db
    if _db is None:
        from torngas.db import basedb

        _db = basedb.database(connection="default")
    return _db


def _query(category: int) -> list[Any]:
    rows = _database().query(
        "SELECT id, name, price FROM items WHERE category = $c ORDER BY id LIMIT 10",
        vars={"c": category},
    )
    return [(r.id, r.name, r.price) for r in rows]


class Plaintext(WebHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write(common.PLAINTEXT)


class Json(ApiHandler):
    def get(self) -> None:
        self.write_json(common.JSON_PAYLOAD)


class Page(WebHandler):
    def get(self) -> None:
        visits = common.visits_from_cookie(self.get_cookie(common.COOKIE_NAME))
        self.set_cookie(common.COOKIE_NAME, str(visits))
        self.write(PAGE.render(**common.page_context(visits)))


class Full(WebHandler):
    async def get(self) -> None:
        from torngas.cache import caches
        from torngas.concurrent import run_in_threadpool

        store = caches["session"]
        sid = self.get_cookie("sid")
        if not sid:
            sid = uuid.uuid4().hex
            self.set_cookie("sid", sid, httponly=True)
        visits = int(await store.aget(sid) or 0) + 1
        await store.aset(sid, visits)
        rows = await run_in_threadpool(_query, common.full_category(visits))
        self.write(FULL.render(**common.full_context(visits, rows)))


class Filler(WebHandler):
    def get(self, *args: str) -> None:
        self.write("filler")
