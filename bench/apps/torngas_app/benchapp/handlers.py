"""The torngas handlers: ``WebHandler``/``ApiHandler`` as the README shows.

Pages render through ``self.render()`` with the Jinja2 engine of
``TEMPLATE_CONFIG``. /full queries SQLite through ``torngas.db.basedb`` in the
thread pool, as basedb's docs say, and keeps its counter in ``self.session``
when SessionMiddleware is on (the default stack); without it (the "no
middleware" contenders) in ``caches["session"]`` — torngas.cache's RedisCache,
native async — under a cookie id.
"""

from __future__ import annotations

import uuid
from typing import Any

from bench import common
from torngas.conf import settings
from torngas.handler import ApiHandler, WebHandler

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
        self.render(common.PAGE_TEMPLATE, **common.page_context(visits))


def _uses_sessions() -> bool:
    return "torngas.middleware.session.SessionMiddleware" in settings.MIDDLEWARE_CLASSES


class Full(WebHandler):
    async def get(self) -> None:
        from torngas.concurrent import run_in_threadpool

        if _uses_sessions():
            visits = int(self.session.get(common.SESSION_KEY, 0)) + 1
            self.session[common.SESSION_KEY] = visits
        else:
            visits = await self._cache_session()
        rows = await run_in_threadpool(_query, common.full_category(visits))
        self.render(common.FULL_TEMPLATE, **common.full_context(visits, rows))

    async def _cache_session(self) -> int:
        from torngas.cache import caches

        store = caches["session"]
        sid = self.get_cookie("sid")
        if not sid:
            sid = uuid.uuid4().hex
            self.set_cookie("sid", sid, httponly=True)
        visits = int(await store.aget(sid) or 0) + 1
        await store.aset(sid, visits)
        return visits


class Filler(WebHandler):
    def get(self, *args: str) -> None:
        self.write("filler")
