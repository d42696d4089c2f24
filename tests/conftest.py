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
