import logging
import os
import threading
import time

from torngas.logger.fast import CachedTimeLogFormatter, LineLogger


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _attached(name):
    logger = logging.getLogger(name)
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, handler


def test_line_logger_record_is_an_ordinary_log_record():
    logger, handler = _attached("torngas.test.fast")
    try:
        line_logger = LineLogger("torngas.test.fast", "/x/accesslog.py", 42, "log_request")
        before = time.time()
        line_logger.log(logging.WARNING, "404 GET /nope")
        line_logger.log(logging.DEBUG, "not enabled: dropped")
        (record,) = handler.records
        assert isinstance(record, logging.LogRecord)
        assert record.getMessage() == "404 GET /nope"
        assert (record.levelno, record.levelname) == (logging.WARNING, "WARNING")
        assert (record.module, record.lineno, record.funcName) == ("accesslog", 42, "log_request")
        assert record.process == os.getpid() and record.name == "torngas.test.fast"
        assert before <= record.created <= time.time()
        assert record.args is None and record.exc_info is None
        # A %-sign in a pre-built line is not a format directive.
        line_logger.log(logging.INFO, "GET /?q=100%25 %s")
        assert handler.records[-1].getMessage() == "GET /?q=100%25 %s"
    finally:
        logging.getLogger("torngas.test.fast").removeHandler(handler)


def test_line_logger_records_the_calling_thread():
    logger, handler = _attached("torngas.test.fast2")
    try:
        line_logger = LineLogger("torngas.test.fast2", __file__, 1, "f")
        line_logger.log(logging.INFO, "main")
        t = threading.Thread(target=line_logger.log, args=(logging.INFO, "other"), name="worker-x")
        t.start()
        t.join()
        main, other = handler.records
        assert main.threadName == threading.current_thread().name
        assert other.threadName == "worker-x" and other.thread != main.thread
    finally:
        logging.getLogger("torngas.test.fast2").removeHandler(handler)


def test_line_logger_in_a_forked_child_has_the_childs_pid(tmp_path):
    logger, handler = _attached("torngas.test.fast3")
    try:
        line_logger = LineLogger("torngas.test.fast3", __file__, 1, "f")
        line_logger.log(logging.INFO, "parent")  # template made in the parent
        out = tmp_path / "pid"
        pid = os.fork()
        if pid == 0:  # child
            try:
                line_logger.log(logging.INFO, "child")
                out.write_text(str(handler.records[-1].process))
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert out.read_text() == str(pid)
        assert handler.records[-1].process == os.getpid()
    finally:
        logging.getLogger("torngas.test.fast3").removeHandler(handler)


def test_cached_time_formatter_matches_the_uncached_one_each_second():
    cached = CachedTimeLogFormatter(fmt="%(asctime)s %(message)s", color=False)
    plain = logging.Formatter(datefmt=cached.datefmt)
    for created in (1_700_000_000.1, 1_700_000_000.9, 1_700_000_001.0, 1_700_000_061.5):
        record = logging.makeLogRecord({"msg": "m", "created": created, "msecs": 0})
        assert cached.format(record) == f"{plain.formatTime(record, cached.datefmt)} m"
