"""``syslogger``: the legacy logging facade.

``syslogger.info(...)`` and ``syslogger.debug(...)`` go to the ``torngas.general``
logger; ``warning``, ``error``, ``exception`` and ``critical`` go to
``torngas.application``. The methods are class methods, so the 1.7 spelling
``SysLogger.error(...)`` and the 1.8 spelling ``syslogger.error(...)`` both work.
Records carry the caller's module and line, not the facade's.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["SysLogger", "syslogger", "general_logger", "application_logger", "access_logger"]

#: ``syslogger.debug``/``info``.
general_logger = logging.getLogger("torngas.general")
#: ``syslogger.warning``/``error``/``exception``/``critical``; uncaught errors.
application_logger = logging.getLogger("torngas.application")
#: One line per request (AccessLogMiddleware).
access_logger = logging.getLogger("torngas.access")


def _stacklevel(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # skip this facade's frame
    return kwargs


class SysLogger:
    """Logging facade kept from torngas 1.7/1.8 (see the module docstring)."""

    @classmethod
    def debug(cls, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log ``msg % args`` at DEBUG on ``torngas.general``."""
        general_logger.debug(msg, *args, **_stacklevel(kwargs))

    @classmethod
    def info(cls, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log at INFO on ``torngas.general``."""
        general_logger.info(msg, *args, **_stacklevel(kwargs))

    @classmethod
    def warning(cls, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log at WARNING on ``torngas.application``."""
        application_logger.warning(msg, *args, **_stacklevel(kwargs))

    warn = warning

    @classmethod
    def error(cls, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log at ERROR on ``torngas.application``."""
        application_logger.error(msg, *args, **_stacklevel(kwargs))

    @classmethod
    def exception(cls, msg: object, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        """Log at ERROR with the current exception's traceback."""
        application_logger.error(msg, *args, exc_info=exc_info, **_stacklevel(kwargs))

    @classmethod
    def critical(cls, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log at CRITICAL on ``torngas.application``."""
        application_logger.critical(msg, *args, **_stacklevel(kwargs))


syslogger = SysLogger()
