"""Capture ``torngas.dispatch`` records with a handler on that logger itself, so
the tests do not depend on propagation to the root logger (which a configured
LOGGING may turn off)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def dispatch_log() -> Iterator[ListHandler]:
    logger = logging.getLogger("torngas.dispatch")
    handler = ListHandler()
    saved = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(saved[0])
    logger.disabled = saved[1]
