"""A separate process that logs numbered lines through a rotating handler.

Run by tests/logger/test_loggers.py (and by hand to measure the standard handler):

    python tests/logger/log_writer.py PATH TAG COUNT SECONDS START_AT [stdlib]
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time


def main() -> None:
    path, tag, count, seconds, start_at = sys.argv[1:6]
    stdlib = len(sys.argv) > 6 and sys.argv[6] == "stdlib"
    n, duration = int(count), float(seconds)
    if stdlib:
        handler: logging.Handler = logging.handlers.TimedRotatingFileHandler(
            path, when="S", interval=1, backupCount=0
        )
    else:
        from torngas.logger import ProcessLogTimedFileHandler

        handler = ProcessLogTimedFileHandler(path, when="S", interval=1, backupCount=0)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"writer.{tag}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    time.sleep(max(0.0, float(start_at) - time.time()))
    t0 = time.monotonic()
    for i in range(n):
        # every 50th line is long (well beyond a pipe/stdio buffer) to catch tearing
        pad = "x" * (20000 if i % 50 == 0 else 40)
        logger.info("%s %d %s end", tag, i, pad)
        target = t0 + duration * (i + 1) / n
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    handler.close()


if __name__ == "__main__":
    main()
