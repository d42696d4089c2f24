#!/usr/bin/env python
"""Start Agora (after `torngas db upgrade`, which `./run` does for you):

python runserver.py --port=8000                                  # settings.setting
python runserver.py --settings=settings.production --port=8001   # MariaDB/PostgreSQL + Redis
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
