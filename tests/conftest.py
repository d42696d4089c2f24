import os
import sys

import pytest

from tests.services.fixtures import (  # noqa: F401 - shared session fixtures
    memcached_nodes,
    memcached_server,
    redis_cluster,
    redis_nodes,
    redis_server,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(ROOT, "tests", "test_apps", "templates")


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Every test starts from unconfigured settings: no state leaks between tests."""
    from torngas.conf import settings

    settings.reset()
    env = os.environ.pop("TORNGAS_APP_SETTINGS", None)
    yield
    settings.reset()
    if env is not None:
        os.environ["TORNGAS_APP_SETTINGS"] = env


def pytest_configure(config):
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    config.addinivalue_line(
        "markers",
        "tornado_only(reason): about Tornado's own HTTPServer; not run in the ASGI pass",
    )


# ------------------------------------------------------------- transports
# scripts/test runs the suite twice: on Tornado's HTTPServer, then with
# TORNGAS_TEST_TRANSPORT=asgi, where torngas.testing.serve() runs the same apps
# through torngas.asgi on uvicorn. The second pass keeps the tests that talk
# HTTP to a live server (their module, or a conftest.py above it, uses
# torngas.testing) and drops those marked tornado_only or listed in
# ASGI_EXCLUDED; the rest (settings, caches, ORM, ...) do not depend on the
# transport and ran in the first pass. Tests parametrized over ``transport``
# (tests/asgi) ran on both in the first pass already.
_SERVES: dict[str, bool] = {}


def _mentions_testing(path: str) -> bool:
    hit = _SERVES.get(path)
    if hit is None:
        try:
            with open(path, encoding="utf-8") as f:
                hit = "torngas.testing" in f.read()
        except OSError:
            hit = False
        _SERVES[path] = hit
    return hit


def _serves_http(path: str) -> bool:
    if _mentions_testing(path):
        return True
    tests = os.path.join(ROOT, "tests")
    folder = os.path.dirname(path)
    while folder.startswith(tests):
        if _mentions_testing(os.path.join(folder, "conftest.py")) and folder != tests:
            return True
        folder = os.path.dirname(folder)
    return False


#: Tests about what only Tornado's HTTPServer does, by node id (their files
#: belong to other features; the reason is the transport, not the feature).
ASGI_EXCLUDED = {
    "tests/middleware/test_accesslog.py::test_one_escaped_line_per_request": (
        "sends a raw non-ASCII request target, which uvicorn (httptools) refuses "
        "with its own 400 before any application runs; Tornado accepts and logs it"
    ),
    "tests/websocket/test_handler.py::test_server_pings_and_drops_a_client_that_does_not_answer": (
        "ASGI has no ping message: under an ASGI server the server's own ping "
        "settings apply (uvicorn --ws-ping-interval/--ws-ping-timeout), see docs/asgi.md"
    ),
}


#: tests/asgi picks its transports and servers itself: first pass only.
ASGI_TESTS = os.path.join(ROOT, "tests", "asgi") + os.sep


def _asgi_excluded(item) -> bool:
    rel = os.path.relpath(str(item.path), ROOT).replace(os.sep, "/")
    return f"{rel}::{item.name.split('[')[0]}" in ASGI_EXCLUDED


def pytest_collection_modifyitems(config, items):
    from torngas.testing import default_transport

    if default_transport() != "asgi":
        return
    keep, drop = [], []
    for item in items:
        if (
            item.get_closest_marker("tornado_only")
            or "transport" in getattr(getattr(item, "callspec", None), "params", {})
            or str(item.path).startswith(ASGI_TESTS)
            or _asgi_excluded(item)
            or not _serves_http(str(item.path))
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config):
    from torngas.testing import default_transport

    return f"torngas test transport: {default_transport()} (TORNGAS_TEST_TRANSPORT)"
