"""``AccessLogMiddleware``: one access-log line per request, safe to read.

It replaces Tornado's ``log_request`` line (so there is no second line) with:

    200 GET /path?q=1 (127.0.0.1) 1.23ms ua="curl/8.0" ref="-"

on the ``torngas.access`` logger (INFO below 400, WARNING for 4xx, ERROR for
5xx). Everything taken from the request is escaped: control characters
(``\\r``, ``\\n``, ESC…) appear as ``\\xNN``, so a client cannot forge log lines
or send terminal escapes. It has no per-request hook: the work is done in the
application's ``log_function``, which Tornado calls from ``finish()``.
"""

from __future__ import annotations

import logging
from typing import Any

from torngas.logger import escape_log_value

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
        access_log.log(
            level,
            '%d %s %s (%s) %.2fms ua="%s" ref="%s"',
            status,
            escape_log_value(request.method or ""),
            escape_log_value(request.uri or ""),
            escape_log_value(request.remote_ip or ""),
            1000.0 * request.request_time(),
            escape_log_value(headers.get("User-Agent", "-")),
            escape_log_value(headers.get("Referer", "-")),
        )
