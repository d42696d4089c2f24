"""paginate(page, per_page, default) edge cases (SQLite; the same code serves every backend)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from tests.db.models import User
from torngas.db import request_scope
from torngas.db.connection import connections
from torngas.db.dbalchemy import apaginate, apaginate_or_404, paginate_or_404
from torngas.db.pagination import Pagination
from torngas.exceptions import Http404

SENTINEL = object()


@pytest.fixture
def users(sqlite_db: Any) -> Any:
    with request_scope():
        s = User.session.using_master()
        s.add_all([User(name=f"u{i:02d}") for i in range(25)])
        s.commit()
    return sqlite_db


def q() -> Any:
    return User.session.using_master().query(User).order_by(User.id)


def test_pages_and_navigation(users: Any) -> None:
    with request_scope():
        p = q().paginate(1, 10)
        assert isinstance(p, Pagination)
        assert (p.total, p.page, p.per_page, p.pages) == (25, 1, 10, 3)
        assert [u.name for u in p.items] == [f"u{i:02d}" for i in range(10)]
        assert (p.has_prev, p.has_next, p.prev_num, p.next_num) == (False, True, None, 2)
        last = q().paginate("3", "10")
        assert [u.name for u in last.items] == ["u20", "u21", "u22", "u23", "u24"]
        assert (last.has_prev, last.has_next, last.prev_num, last.next_num) == (
            True,
            False,
            2,
            None,
        )
        assert list(q().paginate(2, 10).iter_pages()) == [1, 2, 3]
        exact = q().paginate(5, 5)
        assert exact.pages == 5 and len(exact) == 5 and not exact.has_next


@pytest.mark.parametrize(
    "page, per_page",
    [
        (4, 10),  # past the last page
        (0, 10),
        (-1, 10),
        ("abc", 10),
        ("1; DROP TABLE tg_users", 10),
        ("", 10),
        (None, 10),
        (1.5, 10),
        (True, 10),
        ("9" * 40, 10),
        (1, 0),
        (1, "x"),
        (1, 10**6),  # above max_per_page
    ],
)
def test_unusable_page_returns_default(users: Any, page: Any, per_page: Any) -> None:
    with request_scope():
        assert q().paginate(page, per_page, default=SENTINEL) is SENTINEL
        assert q().paginate(page, per_page) is None
        with pytest.raises(Http404):
            paginate_or_404(q(), page, per_page)
    with request_scope():
        assert User.session.using_master().query(User).count() == 25


def test_empty_result(sqlite_db: Any) -> None:
    with request_scope():
        empty = q().paginate(1, 10)
        assert empty.items == [] and empty.total == 0 and empty.pages == 0
        assert not empty.has_next and not empty.has_prev
        assert q().paginate(2, 10, default=SENTINEL) is SENTINEL


def test_max_per_page_override(users: Any) -> None:
    with request_scope():
        assert q().paginate(1, 20, max_per_page=10) is None
        assert len(q().paginate(1, 2000, max_per_page=0).items) == 25  # 0: no limit


def test_paginate_or_404_returns_the_page(users: Any) -> None:
    with request_scope():
        assert paginate_or_404(q(), "2", 10).page == 2


def test_async_paginate(users: Any) -> None:
    async def main() -> None:
        async with request_scope():
            s = User.asession.using_master()
            stmt = select(User).order_by(User.id)
            p = await apaginate(s, stmt, 3, 10)
            assert [u.name for u in p.items] == ["u20", "u21", "u22", "u23", "u24"]
            assert (p.total, p.pages, p.has_next) == (25, 3, False)
            rows = await apaginate(s, select(User.id, User.name).order_by(User.id), 1, 2)
            assert [tuple(r) for r in rows.items] == [(1, "u00"), (2, "u01")]
            assert await apaginate(s, stmt, 4, 10, default=SENTINEL) is SENTINEL
            assert await apaginate(s, stmt, "x", 10) is None
            with pytest.raises(Http404):
                await apaginate_or_404(s, stmt, 9, 10)
        await connections.areset()

    asyncio.run(main())
