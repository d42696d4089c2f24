"""syslogger / SysLogger: the legacy facade routes to the torngas loggers and
reports the caller's line."""

from __future__ import annotations

import logging
import sys

import pytest

from torngas.logger import SysLogger, syslogger


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> ListHandler:
    handler = ListHandler()
    loggers = [logging.getLogger(n) for n in ("torngas.general", "torngas.application")]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, saved, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_levels_and_streams(captured: ListHandler) -> None:
    syslogger.debug("d %s", 1)
    syslogger.info("i")
    syslogger.warning("w")
    syslogger.error("e")
    syslogger.critical("c")
    got = [(r.name, r.levelname, r.getMessage()) for r in captured.records]
    assert got == [
        ("torngas.general", "DEBUG", "d 1"),
        ("torngas.general", "INFO", "i"),
        ("torngas.application", "WARNING", "w"),
        ("torngas.application", "ERROR", "e"),
        ("torngas.application", "CRITICAL", "c"),
    ]


def test_class_spelling_and_caller_location(captured: ListHandler) -> None:
    line = sys._getframe().f_lineno + 1
    SysLogger.error("from the class")  # the 1.7 spelling
    [record] = captured.records
    assert record.getMessage() == "from the class"
    assert record.pathname == __file__ and record.lineno == line
    assert record.funcName == "test_class_spelling_and_caller_location"


def test_exception_has_traceback(captured: ListHandler) -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        syslogger.exception("failed")
    [record] = captured.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.exc_info[0] is ValueError
    assert record.pathname == __file__
