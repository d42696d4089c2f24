import pytest

from tests.conftest import TEMPLATES
from tests.test_apps.hello.handlers.main import Hooks
from torngas.testing import TorngasTestCase, serve

APPS = ["tests.test_apps.hello"]


def test_on_prepare_and_complete_finish_order():
    Hooks.calls.clear()
    with serve(INSTALLED_APPS=APPS) as client:
        assert client.get("/hooks").text == "ok"
    assert Hooks.calls == ["on_prepare", "get", "complete_finish"]


def test_render_uses_template_path_and_autoescape():
    with serve(INSTALLED_APPS=APPS, TORNADO_CONF={"template_path": TEMPLATES}) as client:
        r = client.get("/page")
    assert r.status_code == 200
    assert r.text.strip() == "<h1>T</h1><li>a</li><li>&lt;b&gt;</li>"


def test_unknown_route_is_404_through_torngas_error_handler():
    with serve(INSTALLED_APPS=APPS) as client:
        r = client.get("/no/such/page")
        assert r.status_code == 404
        assert client.post("/no/such/page", content=b"x").status_code == 404


def test_error_page_without_debug_shows_no_exception_text():
    with serve(INSTALLED_APPS=APPS, DEBUG=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert "boom" not in r.text and "Traceback" not in r.text


def test_debug_error_page_shows_traceback():
    with serve(INSTALLED_APPS=APPS, DEBUG=True, TORNADO_CONF={"autoreload": False}) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert "ValueError: boom" in r.text


class TestApiHandler:
    @pytest.fixture(autouse=True)
    def client(self):
        with serve(INSTALLED_APPS=APPS, TORNADO_CONF={"xsrf_cookies": False}) as client:
            self.c = client
            yield

    def test_json_in_and_out(self):
        r = self.c.post("/api/echo", json={"a": [1, "é"]})
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json() == {"got": {"a": [1, "é"]}}

    def test_list_response(self):
        assert self.c.get("/api/echo").json() == [1, 2, 3]

    @pytest.mark.parametrize("body", [b"{bad", b"\xff\xfe", b'{"a": 1'])
    def test_malformed_json_is_400_with_json_error(self, body):
        r = self.c.post("/api/echo", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["status"] == 400 and "malformed JSON body" in err["detail"]
        assert self.c.get("/api/echo").status_code == 200  # still serving

    def test_non_json_body_is_ignored(self):
        r = self.c.post("/api/echo", content=b"a=1", headers={"Content-Type": "text/plain"})
        assert r.json() == {"got": None}

    def test_http_error_is_json(self):
        r = self.c.get("/api/echo", params={"fail": "1"})
        assert r.status_code == 418
        assert r.json() == {
            "error": {"status": 418, "message": "I'm a Teapot", "detail": "teapot here"}
        }


class TestTorngasTestCase(TorngasTestCase):
    settings = {"INSTALLED_APPS": APPS, "MIDDLEWARE_CLASSES": []}

    def test_fetch(self):
        response = self.fetch("/")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"hello")

    def test_settings_applied(self):
        from torngas.conf import settings

        self.assertEqual(list(settings.INSTALLED_APPS), APPS)


def test_xsrf_is_on_by_default_for_forms_and_ajax():
    with serve(INSTALLED_APPS=APPS) as client:
        r = client.post("/api/echo", json={"a": 1})
        assert r.status_code == 403
        assert r.json()["error"]["status"] == 403  # still a JSON error
        client.get("/cookie")  # any page: the token cookie is set when a form asks for it
        token = client.app.settings.get("xsrf_cookies") and "tok"
        client.cookies.set("_xsrf", token)
        r = client.post("/api/echo", json={"a": 1}, headers={"X-XSRFToken": token})
        assert r.status_code == 200 and r.json() == {"got": {"a": 1}}
        r = client.post("/api/echo", json={"a": 1}, headers={"X-XSRFToken": "other"})
        assert r.status_code == 403


def test_xsrf_exempt_handler():
    from tests.test_apps.hello.handlers.main import Echo

    Echo.xsrf_exempt = True
    try:
        with serve(INSTALLED_APPS=APPS) as client:
            assert client.post("/api/echo", json={"a": 1}).status_code == 200
    finally:
        Echo.xsrf_exempt = False
