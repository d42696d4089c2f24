"""configure_logging: the LOGGING setting, LOGGING_DIR, --logging_dir,
--log_port_prefix and --disable_log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from torngas.conf import override_settings
from torngas.exceptions import ImproperlyConfigured
from torngas.logger import (
    ProcessLogTimedFileHandler,
    configure_logging,
    enable_pretty_logging,
    reset_logging,
    syslogger,
)

ENTRIES = [
    {
        "name": "torngas",
        "level": "INFO",
        "log_to_stderr": False,
        "when": "midnight",
        "interval": 1,
        "filename": "torngas.log",
    },
    {
        "name": "torngas.access",
        "level": "INFO",
        "log_to_stderr": False,
        "filename": "access.log",
        "formatter": "%(message)s",
    },
    {"name": "test.cfg.stderr", "level": "WARNING", "log_to_stderr": True},
]


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    reset_logging()


def test_files_levels_and_port_suffix(tmp_path: Path) -> None:
    with override_settings(LOGGING=ENTRIES, LOGGING_DIR=str(tmp_path / "ignored")):
        installed = configure_logging(logging_dir=str(tmp_path), port=8123, log_port_prefix=True)
    assert sum(isinstance(h, ProcessLogTimedFileHandler) for h in installed) == 2
    syslogger.info("hello %s", "world")
    syslogger.debug("not at INFO")
    logging.getLogger("torngas.access").info('127.0.0.1 "GET /" 200')
    reset_logging()  # closes the files

    main = (tmp_path / "torngas.log.8123").read_text(encoding="utf-8")
    assert "hello world" in main and "not at INFO" not in main
    assert "test_config.py" not in main and "test_config:" in main  # module:line of the caller
    # the access entry has its own file and format, and does not reach torngas.log
    assert (tmp_path / "access.log.8123").read_text(encoding="utf-8") == '127.0.0.1 "GET /" 200\n'
    assert "GET /" not in main
    assert not (tmp_path / "ignored").exists()  # --logging_dir wins over LOGGING_DIR


def test_logging_dir_setting_and_no_files_without_a_dir(tmp_path: Path) -> None:
    with override_settings(LOGGING=ENTRIES[:1], LOGGING_DIR=str(tmp_path)):
        configure_logging()
    syslogger.warning("to the setting's dir")
    reset_logging()
    assert "to the setting's dir" in (tmp_path / "torngas.log").read_text(encoding="utf-8")

    with override_settings(LOGGING=ENTRIES[:1], LOGGING_DIR=None):
        assert configure_logging() == []  # relative file name, no directory: no file
    assert logging.getLogger("torngas").propagate is True


def test_reconfigure_replaces_and_reset_restores(tmp_path: Path) -> None:
    logger = logging.getLogger("torngas")
    before = (logger.level, logger.propagate, list(logger.handlers))
    with override_settings(LOGGING=ENTRIES[:1], LOGGING_DIR=str(tmp_path)):
        configure_logging()
        configure_logging()
    assert len(logger.handlers) == len(before[2]) + 1  # not doubled
    assert logger.propagate is False  # the line is written once, by this entry
    reset_logging()
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


def test_stderr_handler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with override_settings(LOGGING=ENTRIES[2:], LOGGING_DIR=str(tmp_path)):
        configure_logging()
    logging.getLogger("test.cfg.stderr").warning("on stderr")
    logging.getLogger("test.cfg.stderr").info("below level")
    err = capsys.readouterr().err
    assert "on stderr" in err and "below level" not in err


def test_disable_installs_nothing(tmp_path: Path) -> None:
    with override_settings(LOGGING=ENTRIES, LOGGING_DIR=str(tmp_path)):
        assert configure_logging(disable=True) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("logging_setting", "message"),
    [
        ([{"level": "INFO"}], "'name'"),
        ([{"name": "x", "level": "LOUD"}], "unknown level"),
        ([{"name": "x", "fielname": "typo.log"}], "unknown keys"),
        ({"x": {}}, "list of dicts"),
    ],
)
def test_bad_configuration(logging_setting: object, message: str) -> None:
    with (
        override_settings(LOGGING=logging_setting),
        pytest.raises(ImproperlyConfigured, match=message),
    ):
        configure_logging()


def test_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with (
        override_settings(LOGGING=ENTRIES[:1]),
        pytest.raises(ImproperlyConfigured, match="cannot log"),
    ):
        configure_logging(logging_dir=str(blocker / "sub"))


def test_dictconfig_form(tmp_path: Path) -> None:
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "f": {
                "class": "torngas.logger.ProcessLogTimedFileHandler",
                "filename": str(tmp_path / "d.log"),
                "when": "midnight",
            }
        },
        "loggers": {"test.cfg.dict": {"handlers": ["f"], "level": "INFO", "propagate": False}},
    }
    with override_settings(LOGGING=config):
        configure_logging()
    logger = logging.getLogger("test.cfg.dict")
    logger.info("via dictConfig")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    assert "via dictConfig" in (tmp_path / "d.log").read_text(encoding="utf-8")


def test_enable_pretty_logging_uses_the_process_safe_handler(tmp_path: Path) -> None:
    from tornado.log import define_logging_options
    from tornado.options import OptionParser

    opts = OptionParser()
    define_logging_options(opts)
    root_handlers = list(logging.getLogger().handlers)
    opts.parse_command_line(
        ["prog", f"--log_file_prefix={tmp_path / 't.log'}", "--log_rotate_mode=time"],
        final=False,  # final=True would run Tornado's own callback on the root logger
    )
    opts.log_to_stderr = False
    logger = logging.getLogger("test.cfg.pretty")
    logger.propagate = False
    enable_pretty_logging(options=opts, logger=logger)
    try:
        [handler] = logger.handlers
        assert isinstance(handler, ProcessLogTimedFileHandler)
        logger.info("pretty")
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
    assert "pretty" in (tmp_path / "t.log").read_text(encoding="utf-8")
    assert logging.getLogger().handlers == root_handlers


def test_default_logging_setting(tmp_path: Path) -> None:
    from torngas.conf import global_settings

    with override_settings(LOGGING=global_settings.LOGGING, LOGGING_DIR=None):
        installed = configure_logging(logging_dir=str(tmp_path))
    files = {
        Path(h.baseFilename).name for h in installed if isinstance(h, ProcessLogTimedFileHandler)
    }
    assert files == {"tornado.log", "access.log", "torngas.log"}  # access.log shared
    logging.getLogger("tornado.access").info("tornado access line")
    logging.getLogger("torngas.access").info("torngas access line")
    logging.getLogger("tornado.application").error("app error")
    reset_logging()
    access = (tmp_path / "access.log").read_text(encoding="utf-8")
    assert "tornado access line" in access and "torngas access line" in access
    assert "app error" in (tmp_path / "tornado.log").read_text(encoding="utf-8")
    assert "access line" not in (tmp_path / "tornado.log").read_text(encoding="utf-8")


def test_access_entries_escape_control_characters(tmp_path: Path) -> None:
    from torngas.conf import global_settings

    with override_settings(LOGGING=global_settings.LOGGING, LOGGING_DIR=str(tmp_path)):
        configure_logging()
    # Tornado's own access line carries the raw URI
    logging.getLogger("tornado.access").info("200 GET %s (%s) 1.00ms", "/a\x1b[2J\rb", "127.0.0.1")
    # a value already escaped with escape_log_value passes unchanged (no double escaping)
    from torngas.logger import escape_log_value

    logging.getLogger("torngas.access").info("GET %s", escape_log_value("/x\n\\y"))
    logging.getLogger("tornado.application").error("multi\nline is fine here")
    reset_logging()
    access = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
    assert access[0].endswith("200 GET /a\\x1b[2J\\rb (127.0.0.1) 1.00ms")
    assert access[1].endswith("GET /x\\n\\\\y")
    assert len(access) == 2
    assert "multi\n    line" in (tmp_path / "tornado.log").read_text(
        encoding="utf-8"
    )  # not escaped
    assert not logging.getLogger("tornado.access").filters  # reset removes the filter
