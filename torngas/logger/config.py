"""Logging set-up from the ``LOGGING`` and ``LOGGING_DIR`` settings.

:func:`configure_logging` is called by ``Server.parse_command`` once the command
line (``--logging_dir``, ``--log_port_prefix``, ``--disable_log``) and the
settings are known; call it yourself in a script or worker. It never runs at
import time.
"""

from __future__ import annotations

import logging
import logging.config
import logging.handlers
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from tornado.log import LogFormatter

from torngas._utils import import_object
from torngas.exceptions import ImproperlyConfigured
from torngas.logger.escape import EscapeControlCharsFilter
from torngas.logger.fast import CachedTimeLogFormatter
from torngas.logger.loggers import ProcessLogTimedFileHandler

__all__ = ["FILE_FORMAT", "configure_logging", "enable_pretty_logging", "reset_logging"]

#: Default line format for log files (no colours; the process id, since several
#: worker processes share one file).
FILE_FORMAT = "[%(levelname)1.1s %(asctime)s %(process)d %(module)s:%(lineno)d] %(message)s"

_KNOWN_KEYS = frozenset(
    {
        "name",
        "level",
        "log_to_stderr",
        "when",
        "interval",
        "filename",
        "formatter",
        "backups",
        "backupCount",
        "encoding",
        "propagate",
        "handler",
        "escape",
        "buffer",
    }
)

_lock = threading.Lock()
# logger name -> (level, propagate) before configure_logging touched it
_saved: dict[str, tuple[int, bool]] = {}
_MARK = "_torngas_configured"
_ESCAPE_FILTER = EscapeControlCharsFilter()


def _level(value: Any, name: str) -> int:
    if isinstance(value, int):
        return value
    level = logging.getLevelName(str(value).upper())
    if not isinstance(level, int):
        raise ImproperlyConfigured(f"LOGGING entry {name!r}: unknown level {value!r}")
    return level


def configure_logging(
    logging_dir: str | None = None,
    port: int | None = None,
    log_port_prefix: bool = False,
    disable: bool = False,
) -> list[logging.Handler]:
    """Install the handlers the ``LOGGING`` setting describes; return them.

    :param logging_dir: directory for the log files (``--logging_dir``); when
        empty, ``settings.LOGGING_DIR`` is used. With neither, only entries
        whose ``filename`` is absolute get a file.
    :param port: the server's port, for ``log_port_prefix``.
    :param log_port_prefix: ``--log_port_prefix``: add ``.<port>`` to every file
        name (``access.log.8000``, as in 1.8), for servers that should not share
        files. Sharing is safe: :class:`ProcessLogTimedFileHandler` handles it.
    :param disable: ``--disable_log``: install nothing and leave Tornado's own
        logging (``--logging``, ``--log_file_prefix``...) as it is.

    ``LOGGING`` is a sequence of dicts, one per logger::

        {"name": "torngas", "level": "INFO", "log_to_stderr": True,
         "when": "midnight", "interval": 1, "filename": "torngas.log"}

    optional keys: ``formatter`` (a format string), ``backups`` (rotated files
    kept, default 20; 0 keeps all), ``encoding``, ``propagate`` (default: False
    when the entry installed a handler, so a line is written once), ``handler``
    (a handler class or dotted path taking the TimedRotatingFileHandler
    arguments; default :class:`ProcessLogTimedFileHandler`), ``escape``
    (escape control characters in every message of this logger, see
    :class:`~torngas.logger.escape.EscapeControlCharsFilter`), ``buffer``
    (seconds: append lines in batches, see :class:`ProcessLogTimedFileHandler`).
    Entries naming the
    same file share one handler. A dict with a ``"version"`` key is passed to
    :func:`logging.config.dictConfig` instead.

    Calling it again replaces what the previous call installed (see
    :func:`reset_logging`).
    """
    if disable:
        return []
    from torngas.conf import settings

    config = settings.get("LOGGING", ())
    if isinstance(config, Mapping):
        if "version" not in config:
            raise ImproperlyConfigured(
                "LOGGING must be a list of dicts (see docs/logging.md) or a "
                "logging.config.dictConfig dict with a 'version' key"
            )
        reset_logging()
        logging.config.dictConfig(dict(config))
        return []

    directory = logging_dir or settings.get("LOGGING_DIR")
    entries = list(config or ())
    for entry in entries:
        _validate(entry)

    installed: list[logging.Handler] = []
    with _lock:
        _reset_locked()
        files: dict[str, logging.Handler] = {}
        stderr_handlers: dict[str, logging.Handler] = {}
        for entry in entries:
            name = entry["name"]
            logger = logging.getLogger(name)
            _saved.setdefault(name, (logger.level, logger.propagate))
            handlers: list[logging.Handler] = []

            path = _file_path(entry, directory, port if log_port_prefix else None)
            if path is not None:
                handler = files.get(path)
                if handler is None:
                    handler = _make_file_handler(entry, path)
                    files[path] = handler
                    installed.append(handler)
                handlers.append(handler)
            if entry.get("log_to_stderr"):
                fmt = entry.get("formatter") or LogFormatter.DEFAULT_FORMAT
                handler = stderr_handlers.get(fmt)
                if handler is None:
                    handler = logging.StreamHandler(sys.stderr)
                    handler.setFormatter(CachedTimeLogFormatter(fmt=fmt, color=True))
                    setattr(handler, _MARK, True)
                    stderr_handlers[fmt] = handler
                    installed.append(handler)
                handlers.append(handler)

            for handler in handlers:
                logger.addHandler(handler)
            if entry.get("escape"):
                logger.addFilter(_ESCAPE_FILTER)
            logger.setLevel(_level(entry.get("level", "INFO"), name))
            logger.propagate = bool(entry.get("propagate", not handlers))
    return installed


def _validate(entry: Any) -> None:
    if not isinstance(entry, Mapping) or not entry.get("name"):
        raise ImproperlyConfigured(f"LOGGING entries must be dicts with a 'name', got {entry!r}")
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"LOGGING entry {entry['name']!r}: unknown keys {sorted(unknown)} "
            f"(known: {sorted(_KNOWN_KEYS)})"
        )
    _level(entry.get("level", "INFO"), entry["name"])


def _file_path(entry: Mapping[str, Any], directory: str | None, port: int | None) -> str | None:
    filename = entry.get("filename")
    if not filename:
        return None
    if port:
        filename = f"{filename}.{port}"
    if os.path.isabs(filename):
        return str(filename)
    if not directory:
        return None
    return os.path.abspath(os.path.join(directory, filename))


def _make_file_handler(entry: Mapping[str, Any], path: str) -> logging.Handler:
    handler_class = import_object(
        entry.get("handler") or ProcessLogTimedFileHandler, what="LOGGING handler"
    )
    try:
        handler: logging.Handler = handler_class(
            path,
            when=entry.get("when", "midnight"),
            interval=int(entry.get("interval", 1)),
            backupCount=int(entry.get("backups", entry.get("backupCount", 20))),
            encoding=entry.get("encoding") or "utf-8",
            **({"buffer_seconds": float(entry["buffer"])} if entry.get("buffer") else {}),
        )
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"LOGGING entry {entry['name']!r}: cannot log to {path!r}: {exc}"
        ) from exc
    handler.setFormatter(
        CachedTimeLogFormatter(fmt=entry.get("formatter") or FILE_FORMAT, color=False)
    )
    setattr(handler, _MARK, True)
    return handler


def reset_logging() -> None:
    """Remove and close the handlers :func:`configure_logging` installed, and
    give the loggers back their previous level and ``propagate`` flag."""
    with _lock:
        _reset_locked()


def _reset_locked() -> None:
    closed: set[int] = set()
    for name, (level, propagate) in _saved.items():
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if getattr(handler, _MARK, False):
                logger.removeHandler(handler)
                if id(handler) not in closed:
                    closed.add(id(handler))
                    handler.close()
        logger.removeFilter(_ESCAPE_FILTER)
        logger.setLevel(level)
        logger.propagate = propagate
    _saved.clear()


def enable_pretty_logging(options: Any = None, logger: logging.Logger | None = None) -> None:
    """Tornado's :func:`tornado.log.enable_pretty_logging`, kept under its 1.8
    name, except that ``--log_rotate_mode=time`` uses
    :class:`ProcessLogTimedFileHandler` (safe with several processes)."""
    if options is None:
        from tornado.options import options
    if options.logging is None or options.logging.lower() == "none":
        return
    if logger is None:
        logger = logging.getLogger()
    logger.setLevel(getattr(logging, options.logging.upper()))
    if options.log_file_prefix:
        rotate_mode = options.log_rotate_mode
        channel: logging.Handler
        if rotate_mode == "size":
            channel = logging.handlers.RotatingFileHandler(
                filename=options.log_file_prefix,
                maxBytes=options.log_file_max_size,
                backupCount=options.log_file_num_backups,
                encoding="utf-8",
            )
        elif rotate_mode == "time":
            channel = ProcessLogTimedFileHandler(
                filename=options.log_file_prefix,
                when=options.log_rotate_when,
                interval=options.log_rotate_interval,
                backupCount=options.log_file_num_backups,
                encoding="utf-8",
            )
        else:
            raise ValueError(
                "The value of log_rotate_mode option should be "
                f'"size" or "time", not "{rotate_mode}".'
            )
        channel.setFormatter(LogFormatter(color=False))
        logger.addHandler(channel)
    if options.log_to_stderr or (options.log_to_stderr is None and not logger.handlers):
        channel = logging.StreamHandler()
        channel.setFormatter(LogFormatter())
        logger.addHandler(channel)
