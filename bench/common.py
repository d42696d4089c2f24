"""What every contender serves, identically: payloads, templates, data, routes.

Each app imports this module, so the bytes agree by construction; the harness
checks it anyway before timing (``bench.verify``).

Environment read by the apps (set by the harness):

``BENCH_REDIS_URL``   Redis for ``/full`` sessions (a private redis-server).
``BENCH_SQLITE``      the SQLite file for ``/full`` (built by :func:`build_db`).
``BENCH_ROUTES``      total number of routes; the benchmarked ones come last.
``BENCH_MIDDLEWARES`` torngas only: number of no-op middlewares.
``BENCH_ACCESSLOG``   torngas only: "1" adds ``AccessLogMiddleware``.
``BENCH_LOG_DIR``     torngas only: where log files go.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = str(HERE / "templates")

PLAINTEXT = b"Hello, World!"
JSON_PAYLOAD: dict[str, Any] = {"message": "Hello, World!"}

#: /page: 20 items (with characters that must be escaped), about 2 KB of HTML.
ITEMS: list[dict[str, Any]] = [
    {
        "id": i,
        "name": f"Item <{i}> & friends",
        "price": f"{(i * 37) % 1000 / 10:.2f}",
        "tags": ["new", "sale" if i % 3 == 0 else "stock", f"t{i % 7}"],
    }
    for i in range(1, 21)
]
PAGE_TEMPLATE = "page.html"
FULL_TEMPLATE = "full.html"
COOKIE_NAME = "visits"

#: /full: rows in the SQLite table and the number of categories (indexed).
DB_ROWS = 10_000
DB_CATEGORIES = 200
FULL_QUERY = "SELECT id, name, price FROM items WHERE category = ? ORDER BY id LIMIT 10"
SESSION_KEY = "visits"

#: The endpoints every contender serves (the harness may time a subset).
ENDPOINTS = ("/plaintext", "/json", "/page", "/full")


def visits_from_cookie(raw: str | None) -> int:
    """The /page counter: the ``visits`` cookie plus one (garbage counts as 0)."""
    try:
        return max(0, int(raw or "0")) + 1
    except ValueError:
        return 1


def page_context(visits: int) -> dict[str, Any]:
    return {"title": "Benchmark page", "items": ITEMS, "visits": visits}


def full_category(visits: int) -> int:
    return visits % DB_CATEGORIES


def full_context(visits: int, rows: list[Any]) -> dict[str, Any]:
    return {
        "title": "Full stack",
        "visits": visits,
        "category": full_category(visits),
        "rows": [{"id": r[0], "name": r[1], "price": r[2]} for r in rows],
    }


def route_count() -> int:
    """Total routes the app should declare (``BENCH_ROUTES``; at least the endpoints)."""
    return max(int(os.environ.get("BENCH_ROUTES", "0") or 0), 0)


def filler_routes(total: int, real: int = len(ENDPOINTS)) -> list[tuple[str, bool]]:
    """Routes declared *before* the real endpoints so that they match last.

    Returns ``(path, dynamic)`` pairs: even ones static (``/f12/static``), odd
    ones with one integer group (``/f13/item/<int>``), as a real app mixes both.
    None of them matches a benchmarked path.
    """
    n = max(total - real, 0)
    return [(f"/f{i}/item", True) if i % 2 else (f"/f{i}/static", False) for i in range(n)]


def filler_tornado_pattern(path: str, dynamic: bool) -> str:
    """A filler route as a Tornado regex."""
    return rf"{path}/([0-9]+)" if dynamic else path


def build_db(path: str | os.PathLike[str]) -> str:
    """Create the /full SQLite file (idempotent): ``items`` with an index on category."""
    path = str(path)
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, category INTEGER NOT NULL,"
            " name TEXT NOT NULL, price INTEGER NOT NULL)"
        )
        conn.execute("CREATE INDEX items_category ON items (category)")
        conn.executemany(
            "INSERT INTO items (id, category, name, price) VALUES (?, ?, ?, ?)",
            (
                (i, i % DB_CATEGORIES, f"row {i} <{i % 13}>", (i * 7919) % 10_000)
                for i in range(1, DB_ROWS + 1)
            ),
        )
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)
    return path


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def sqlite_path() -> str:
    return os.environ.get("BENCH_SQLITE", str(HERE / "results" / "raw" / "bench.sqlite3"))


def jinja_env() -> Any:
    """The Jinja2 environment for frameworks without their own Jinja2 integration
    (Tornado, torngas until its Jinja2 loader lands): autoescaping on, as Flask,
    Django's Jinja2 backend, Starlette and aiohttp-jinja2 have it for .html."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(("html",)),
    )
