"""The torngas bench project as an ASGI application (``torngas.asgi``).

    uvicorn bench.apps.torngas_app.asgi:application --loop uvloop --http httptools
    granian --interface asgi bench.apps.torngas_app.asgi:application

Same settings, handlers and routes as ``python -m bench.apps.torngas_app``
(Tornado's HTTPServer); only the server differs.
"""

import os

os.environ.setdefault("TORNGAS_APP_SETTINGS", "bench.apps.torngas_app.settings")

from torngas.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
