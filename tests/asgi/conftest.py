import pytest

from tests.asgi.asgiapp.handlers import EVENTS, SEEN
from torngas.testing import TRANSPORTS


@pytest.fixture(params=TRANSPORTS)
def transport(request):
    """Each test here runs on Tornado's HTTPServer and on the ASGI bridge (uvicorn)."""
    SEEN.clear()
    EVENTS.clear()
    yield request.param
    SEEN.clear()
    EVENTS.clear()
