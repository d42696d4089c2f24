"""Errors raised by :mod:`torngas.db` (importable without SQLAlchemy)."""

from __future__ import annotations

from torngas.exceptions import TorngasError

__all__ = ["DatabaseUnavailable", "DatabaseConfigWarning"]


class DatabaseUnavailable(TorngasError):
    """The database a statement needs cannot be reached.

    Raised when the primary of a connection name refuses or drops the
    connection (a write, a flush, or a read after ``using_master()``), and when
    every replica *and* the primary are down for a read. The message names the
    connection, the role and the server (without the password). The original
    driver error is chained as ``__cause__``.

    :class:`~torngas.middleware.dbalchemy.DBAlchemyMiddleware` turns it into a
    ``503 Service Unavailable`` response.
    """

    def __init__(self, message: str, *, connection_name: str = "", role: str = "") -> None:
        super().__init__(message)
        self.connection_name = connection_name
        self.role = role


class DatabaseConfigWarning(UserWarning):
    """A database setting was ignored (for instance a key SQLAlchemy 2 removed)."""
