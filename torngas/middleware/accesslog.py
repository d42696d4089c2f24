"""``AccessLogMiddleware``: one access-log line per request, safe to read.

It replaces Tornado's ``log_request`` line (so there is no second line) with:

    200 GET /path?q=1 (127.0.0.1) 1.23ms ua="curl/8.0" ref="-"

on the ``torngas.access`` logger (INFO below 400, WARNING for 4xx, ERROR for
5xx). Everything taken from the request is escaped: control characters
(``\\r``, ``\\n``, ESC…) appear as ``\\xNN``, so a client cannot forge log lines
or send terminal escapes. It has no per-request hook: the work is done in the
application's ``log_function``, which Tornado calls from ``finish()``.

The line is built and escaped in one go and handed to the handlers through a
:class:`~torngas.logger.fast.LineLogger` (no ``findCaller``, no full
``LogRecord.__init__`` per line): levels, filters, handlers and formatters
configured for ``torngas.access`` apply as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from torngas.logger import escape_log_value
from torngas.logger.fast import LineLogger

__all__ = ["AccessLogMiddleware"]

access_log = logging.getLogger("torngas.access")


class AccessLogMiddleware:
    def process_init(self, application: Any) -> None:
        application.settings["log_function"] = self.log_request

    @staticmethod
    def log_request(handler: Any) -> None:
        status = handler.get_status()
        if status < 400:
            level = logging.INFO
        elif status < 500:
            level = logging.WARNING
        else:
            level = logging.ERROR
        if not access_log.isEnabledFor(level):
            return
        request = handler.request
        headers = request.headers
        # The fixed parts hold no character escape_log_value changes, so
        # escaping the whole line once equals escaping each value.
        line = (
            f"{status} {request.method} {request.uri} ({request.remote_ip}) "
            f"{1000.0 * request.request_time():.2f}ms "
            f'ua="{headers.get("User-Agent") or "-"}" ref="{headers.get("Referer") or "-"}"'
        )
        _line_logger.log(level, escape_log_value(line))


# Records say they come from log_request (its first line), like a logger call there.
_line_logger = LineLogger(
    "torngas.access",
    __file__,
    AccessLogMiddleware.log_request.__code__.co_firstlineno,
    "log_request",
)
