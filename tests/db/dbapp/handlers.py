"""Handlers used by tests/db/test_middleware.py (both ways of using the database)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from tests.db.models import User
from torngas.concurrent import run_in_threadpool
from torngas.db.dbalchemy import paginate_or_404
from torngas.handler import WebHandler as _WebHandler


class WebHandler(_WebHandler):
    xsrf_exempt = True  # a test API called without a browser form


class SyncUsers(WebHandler):
    """Sync ORM work through the thread pool (does not block the event loop)."""

    async def get(self) -> None:
        count = await run_in_threadpool(lambda: User.Q.count())
        self.write({"count": count})

    async def post(self) -> None:
        name = self.get_argument("name")

        def create() -> int:
            s = User.session
            user = User(name=name)
            s.add(user)
            s.commit()
            return int(user.id)

        self.set_status(201)
        self.write({"id": await run_in_threadpool(create)})


class SyncBoom(WebHandler):
    async def get(self) -> None:
        def work() -> None:
            User.Q.count()  # holds a pooled connection in the request's session
            raise RuntimeError("handler failed after using the database")

        await run_in_threadpool(work)


class AsyncUsers(WebHandler):
    """Native async ORM work (AsyncSession)."""

    async def get(self) -> None:
        count = await User.asession.scalar(select(func.count()).select_from(User))
        await asyncio.sleep(0.005)  # interleave with the other requests
        self.write({"count": count})

    async def post(self) -> None:
        s = User.asession
        user = User(name=self.get_argument("name"))
        s.add(user)
        await s.commit()
        self.set_status(201)
        self.write({"id": user.id})


class AsyncBoom(WebHandler):
    async def get(self) -> None:
        await User.asession.scalar(select(func.count()).select_from(User))
        raise RuntimeError("async handler failed after using the database")


class Page(WebHandler):
    async def get(self) -> None:
        page = self.get_argument("page", "1")
        per_page = self.get_argument("per_page", "10")

        def fetch() -> dict[str, object]:
            p = paginate_or_404(User.Q.order_by(User.id), page, per_page)
            return {"page": p.page, "pages": p.pages, "names": [u.name for u in p.items]}

        self.write(await run_in_threadpool(fetch))


def _token(session: object) -> str:
    """A name for a session object that is never reused (``id()`` can be)."""
    info = session.info  # type: ignore[attr-defined]
    return str(info.setdefault("tg_token", uuid.uuid4().hex))


class SessionId(WebHandler):
    async def get(self) -> None:
        in_pool = await run_in_threadpool(lambda: _token(User.session))
        same = _token(User.session) == in_pool
        await asyncio.sleep(0.02)
        self.write({"sync": in_pool, "async": _token(User.asession), "same_in_pool": same})
