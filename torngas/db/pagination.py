"""Pagination of ORM queries and ``select()`` statements.

``query.paginate(page, per_page, default=None)`` returns a :class:`Pagination`
or ``default`` when the request cannot be served: a page that is not a whole
number, below 1, or past the last page, or a ``per_page`` below 1. Page 1 of an
empty result is a valid, empty page (so a list view renders "nothing yet"
rather than a 404). ``paginate_or_404`` raises :class:`~torngas.exceptions.Http404`
instead of returning ``default``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

__all__ = ["Pagination", "coerce_page", "paginate_query", "apaginate", "MAX_PER_PAGE"]

_T = TypeVar("_T")
_MISSING: Any = object()

#: Upper bound on ``per_page`` (a client-supplied ``per_page=10**9`` would load a table).
MAX_PER_PAGE = 1000


class Pagination(Generic[_T]):
    """One page of results and where it sits among the others."""

    def __init__(self, items: Sequence[_T], total: int, page: int, per_page: int) -> None:
        self.items = list(items)
        self.total = total
        self.page = page
        self.per_page = per_page

    def __repr__(self) -> str:
        return f"<Pagination page {self.page}/{self.pages} ({self.total} items)>"

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def pages(self) -> int:
        """Number of pages (0 when there are no items)."""
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(
        self, left_edge: int = 2, left_current: int = 2, right_current: int = 5, right_edge: int = 2
    ) -> Any:
        """Page numbers for a pager, with ``None`` where numbers are skipped."""
        last = 0
        for num in range(1, self.pages + 1):
            if (
                num <= left_edge
                or self.page - left_current - 1 < num < self.page + right_current
                or num > self.pages - right_edge
            ):
                if last + 1 != num:
                    yield None
                yield num
                last = num


def coerce_page(value: Any) -> int | None:
    """A positive int from ``value`` (int or digit string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) <= 12:
            number = int(value)
            return number if number >= 1 else None
    return None


def _check(page: Any, per_page: Any, max_per_page: int | None) -> tuple[int, int] | None:
    p = coerce_page(page)
    n = coerce_page(per_page)
    if p is None or n is None:
        return None
    limit = MAX_PER_PAGE if max_per_page is None else max_per_page
    if limit and n > limit:
        return None
    return p, n


def paginate_query(
    query: Any, page: Any, per_page: Any, default: Any = None, *, max_per_page: int | None = None
) -> Pagination[Any] | Any:
    """Paginate a legacy :class:`~sqlalchemy.orm.Query` (sync)."""
    checked = _check(page, per_page, max_per_page)
    if checked is None:
        return default
    p, n = checked
    total = query.order_by(None).count()
    if p > 1 and (p - 1) * n >= total:
        return default
    items = query.limit(n).offset((p - 1) * n).all() if total else []
    return Pagination(items, total, p, n)


async def apaginate(
    session: Any,
    statement: Any,
    page: Any,
    per_page: Any,
    default: Any = None,
    *,
    max_per_page: int | None = None,
) -> Pagination[Any] | Any:
    """Paginate a ``select()`` with an :class:`~sqlalchemy.ext.asyncio.AsyncSession`.

    ``items`` are ORM objects for ``select(Model)``, else rows.
    """
    from sqlalchemy import func, select

    checked = _check(page, per_page, max_per_page)
    if checked is None:
        return default
    p, n = checked
    count_stmt = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int((await session.execute(count_stmt)).scalar_one())
    if p > 1 and (p - 1) * n >= total:
        return default
    items: list[Any] = []
    if total:
        result = await session.execute(statement.limit(n).offset((p - 1) * n))
        described = statement.column_descriptions
        single_entity = (
            len(described) == 1
            and described[0].get("entity") is not None
            and described[0].get("expr") is described[0].get("entity")
        )
        items = list(result.scalars().all() if single_entity else result.all())
    return Pagination(items, total, p, n)
