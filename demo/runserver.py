#!/usr/bin/env python
"""Start the helloworld demo:

python demo/runserver.py --address=127.0.0.1 --port=8000 --settings=settings.setting
"""

import os
import sys

PROJECT_PATH = os.path.dirname(os.path.abspath(__file__))
if PROJECT_PATH not in sys.path:
    sys.path.insert(0, PROJECT_PATH)
os.environ.setdefault("TORNGAS_APP_SETTINGS", "settings.setting")

from torngas.webserver import run  # noqa: E402

if __name__ == "__main__":
    run()
