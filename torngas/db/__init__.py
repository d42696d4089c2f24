"""torngas database layer: SQLAlchemy 2 ORM facade, routing, basedb.

Importing this package does not import SQLAlchemy. The public pieces:

- :mod:`torngas.db.dbalchemy` — ``Model`` (``Q``, ``session``, ``asession``),
  pagination, ``create_all``;
- :mod:`torngas.db.basedb` — a small web.py-style SQL layer on SQLAlchemy Core;
- :func:`request_scope` — the unit of work sessions belong to (one per request);
- :class:`DatabaseUnavailable` — the primary (or every server) is unreachable.
"""

from torngas.db.exceptions import DatabaseConfigWarning, DatabaseUnavailable
from torngas.db.scope import (
    Scope,
    aremove_sessions,
    current_scope,
    remove_sessions,
    request_scope,
    wait_closed,
)

__all__ = [
    "DatabaseConfigWarning",
    "DatabaseUnavailable",
    "Scope",
    "aremove_sessions",
    "current_scope",
    "remove_sessions",
    "request_scope",
    "wait_closed",
]
