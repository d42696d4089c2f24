"""aiohttp: ``python -m bench.apps.aiohttp_app --port N``.

As aiohttp's docs show: ``web.Response``/``web.json_response``, aiohttp-jinja2
for pages, aiohttp-session with its ``RedisStorage`` for /full, a
``cleanup_ctx`` for the shared clients, aiosqlite for the query.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import aiohttp_jinja2
import aiosqlite
import jinja2
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp_session import get_session
from aiohttp_session import setup as setup_session
from aiohttp_session.redis_storage import RedisStorage

from bench import common

DB = web.AppKey("db", aiosqlite.Connection)


async def plaintext(request: web.Request) -> web.Response:
    return web.Response(body=common.PLAINTEXT, content_type="text/plain")


async def json_view(request: web.Request) -> web.Response:
    return web.json_response(common.JSON_PAYLOAD)


async def page(request: web.Request) -> web.Response:
    visits = common.visits_from_cookie(request.cookies.get(common.COOKIE_NAME))
    resp = aiohttp_jinja2.render_template(
        common.PAGE_TEMPLATE, request, common.page_context(visits)
    )
    resp.set_cookie(common.COOKIE_NAME, str(visits))
    return resp


async def full(request: web.Request) -> web.Response:
    session = await get_session(request)
    visits = int(session.get(common.SESSION_KEY, 0)) + 1
    session[common.SESSION_KEY] = visits
    db = request.app[DB]
    async with db.execute(common.FULL_QUERY, (common.full_category(visits),)) as cur:
        rows = await cur.fetchall()
    return aiohttp_jinja2.render_template(
        common.FULL_TEMPLATE, request, common.full_context(visits, list(rows))
    )


async def filler(request: web.Request) -> web.Response:
    return web.Response(text="filler")


async def database(app: web.Application) -> AsyncIterator[None]:
    app[DB] = await aiosqlite.connect(common.sqlite_path())
    yield
    await app[DB].close()


def make_app() -> web.Application:
    app = web.Application()
    setup_session(
        app,
        RedisStorage(aioredis.from_url(common.redis_url()), cookie_name="sid", httponly=True),
    )
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(common.TEMPLATE_DIR))
    app.cleanup_ctx.append(database)
    for path, dynamic in common.filler_routes(common.route_count()):
        app.router.add_get(f"{path}/{{n:[0-9]+}}" if dynamic else path, filler)
    app.router.add_get("/json", json_view)
    app.router.add_get("/page", page)
    app.router.add_get("/full", full)
    app.router.add_get("/plaintext", plaintext)  # last: the routes suite times it
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    web.run_app(
        make_app(), host="127.0.0.1", port=parser.parse_args().port, access_log=None, print=None
    )
