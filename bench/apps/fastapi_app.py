"""FastAPI on uvicorn: ``uvicorn bench.apps.fastapi_app:app``.

As FastAPI's docs show: ``PlainTextResponse``, a dict returned for JSON,
``Jinja2Templates`` for pages, a lifespan for shared clients. FastAPI has no
server-side session of its own (Starlette's SessionMiddleware keeps the data
in a signed cookie), so /full keeps it in Redis (redis.asyncio) under a cookie
id through a dependency; the query goes through aiosqlite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates

from bench import common

templates = Jinja2Templates(directory=common.TEMPLATE_DIR)
state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state["redis"] = aioredis.from_url(common.redis_url())
    state["db"] = await aiosqlite.connect(common.sqlite_path())
    yield
    await state["db"].close()
    await state["redis"].aclose()


app = FastAPI(lifespan=lifespan)


def _add_filler(path: str, dynamic: bool) -> None:
    if dynamic:

        async def filler_dyn(n: int) -> PlainTextResponse:
            return PlainTextResponse("filler")

        app.get(f"{path}/{{n}}")(filler_dyn)
    else:

        async def filler() -> PlainTextResponse:
            return PlainTextResponse("filler")

        app.get(path)(filler)


for _path, _dynamic in common.filler_routes(common.route_count()):
    _add_filler(_path, _dynamic)


@app.get("/json")
async def json_view() -> dict[str, Any]:
    return common.JSON_PAYLOAD


@app.get("/page", response_class=HTMLResponse)
async def page(request: Request) -> HTMLResponse:
    visits = common.visits_from_cookie(request.cookies.get(common.COOKIE_NAME))
    resp = templates.TemplateResponse(request, common.PAGE_TEMPLATE, common.page_context(visits))
    resp.set_cookie(common.COOKIE_NAME, str(visits))
    return resp


@app.get("/full", response_class=HTMLResponse)
async def full(request: Request) -> HTMLResponse:
    redis = state["redis"]
    sid = request.cookies.get("sid")
    new = not sid
    if new:
        sid = uuid.uuid4().hex
    key = f"fastapi:session:{sid}"
    visits = int(await redis.get(key) or 0) + 1
    await redis.set(key, visits, ex=3600)
    async with state["db"].execute(common.FULL_QUERY, (common.full_category(visits),)) as cur:
        rows = await cur.fetchall()
    resp = templates.TemplateResponse(
        request, common.FULL_TEMPLATE, common.full_context(visits, list(rows))
    )
    if new:
        resp.set_cookie("sid", sid, httponly=True)
    return resp


# Last: the routes suite times it.
@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(common.PLAINTEXT)
