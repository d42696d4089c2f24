import os

os.environ.setdefault("TORNGAS_APP_SETTINGS", "bench.apps.torngas_app.settings")

from torngas.webserver import run  # noqa: E402

run()
