"""torngas logging: the ``syslogger`` facade, the ``LOGGING`` set-up, and a
timed rotating file handler that several processes can share.

* :data:`syslogger` / :class:`SysLogger` — ``syslogger.error("...")``.
* :func:`configure_logging` — install ``LOGGING`` (called by the server).
* :class:`ProcessLogTimedFileHandler` — the default file handler.
* :func:`escape_log_value` — make request data safe for a log line.
* :func:`enable_pretty_logging` — Tornado's, kept under the 1.8 name.

See docs/logging.md.
"""

from torngas.logger.client import (
    SysLogger,
    access_logger,
    application_logger,
    general_logger,
    syslogger,
)
from torngas.logger.config import (
    configure_logging,
    enable_pretty_logging,
    reset_logging,
)
from torngas.logger.escape import EscapeControlCharsFilter, escape_log_value
from torngas.logger.loggers import ProcessLogTimedFileHandler

__all__ = [
    "EscapeControlCharsFilter",
    "ProcessLogTimedFileHandler",
    "SysLogger",
    "access_logger",
    "application_logger",
    "configure_logging",
    "enable_pretty_logging",
    "escape_log_value",
    "general_logger",
    "reset_logging",
    "syslogger",
]
