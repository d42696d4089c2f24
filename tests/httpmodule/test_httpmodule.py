"""HTTP modules over real HTTP: common vs route modules, exclusions, order, short-circuit."""

import pytest

from tests.conftest import TEMPLATES
from tests.test_apps.modules import ACTIONS, CALLS
from torngas.exceptions import ImproperlyConfigured
from torngas.testing import serve

M = "tests.test_apps.modules."
MW = ["torngas.httpmodule.httpmodule.HttpModuleMiddleware"]


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    ACTIONS.clear()
    yield
    CALLS.clear()
    ACTIONS.clear()


def app(common=(), route=None, **kw):
    return serve(
        INSTALLED_APPS=["tests.test_apps.hello"],
        MIDDLEWARE_CLASSES=MW,
        COMMON_MODULES=[M + c for c in common],
        ROUTE_MODULES=route or {},
        TORNADO_CONF={"template_path": TEMPLATES},
        **kw,
    )


def tags(phase):
    return [c[0] for c in CALLS if c[1] == phase]


def test_common_modules_first_then_route_modules_in_every_phase():
    with app(["Auth", "IpBlack"], {"Page": [M + "Login"]}) as client:
        r = client.get("/page")
        assert r.status_code == 200
    assert tags("request") == ["Auth", "IpBlack", "Login"]
    assert tags("render") == ["Auth", "IpBlack", "Login"]
    assert tags("response") == ["Auth", "IpBlack", "Login"]  # declared order, not reversed
    assert tags("complete") == ["Auth", "IpBlack", "Login"]
    assert r.headers.get_list("X-Modules") == ["Auth", "IpBlack", "Login"]


def test_route_module_only_on_its_route():
    with app(["Auth"], {"Page": [M + "Login"]}) as client:
        client.get("/")
    assert tags("request") == ["Auth"]


def test_regex_key_matches_route_pattern_named_or_not():
    # /sub/photo is named "Photo"; /user/(\d+) is named "User"; /tuple-style unnamed below
    route = {r"^/user/.*$": [M + "Login", "!" + M + "IpBlack"], r"^/sub/": [M + "Extra"]}
    with app(["Auth", "IpBlack"], route) as client:
        client.get("/user/5")
        assert tags("request") == ["Auth", "Login"]
        CALLS.clear()
        client.get("/sub/photo")
        assert tags("request") == ["Auth", "IpBlack", "Extra"]
        CALLS.clear()
        client.get("/")
        assert tags("request") == ["Auth", "IpBlack"]


def test_unnamed_route_by_regex():
    from tornado.web import RequestHandler

    from torngas import Url, route

    class Plain(RequestHandler):
        def get(self):
            self.write("plain")

    from torngas.application import Application

    class App(Application):
        def __init__(self, **kw):
            super().__init__(handlers=route(Url()(r"/plain", Plain)), **kw)

    with serve(
        App,
        MIDDLEWARE_CLASSES=MW,
        COMMON_MODULES=[],
        ROUTE_MODULES={r"^/plain$": [M + "Extra"]},
    ) as client:
        assert client.get("/plain").text == "plain"
    # a plain RequestHandler runs no hooks, but the resolution found the unnamed route
    app_modules = client.app.middleware.middlewares[0]
    rule = next(r for r in client.app.wildcard_router.rules if r.name is None)
    assert [m.tag for m in app_modules._per_rule[id(rule)].modules] == ["Extra"]


def test_exclude_all_common_modules():
    with app(["Auth", "IpBlack"], {"Index": ["!all", M + "Extra"]}) as client:
        client.get("/")
        assert tags("request") == ["Extra"]
        CALLS.clear()
        client.get("/page")
        assert tags("request") == ["Auth", "IpBlack"]


def test_excluding_a_module_not_in_common_fails_at_startup():
    with pytest.raises(ImproperlyConfigured) as info, app(["Auth"], {"Index": ["!" + M + "Login"]}):
        pass
    assert "tests.test_apps.modules.Login" in str(info.value)
    assert "COMMON_MODULES" in str(info.value)


def test_bad_module_path_fails_at_startup():
    with pytest.raises(ImproperlyConfigured, match="tests.test_apps.modules.Nope"), app(["Nope"]):
        pass


def test_truthy_return_short_circuits_same_hook_only():
    ACTIONS[("Auth", "request")] = "stop"
    with app(["Auth", "IpBlack"]) as client:
        assert client.get("/").text == "hello"
    assert tags("request") == ["Auth"]
    assert tags("response") == ["Auth", "IpBlack"]


def test_module_can_finish_the_request():
    ACTIONS[("Auth", "request")] = "deny"
    with app(["Auth", "IpBlack"]) as client:
        r = client.get("/")
    assert r.status_code == 401 and r.text == "denied by Auth"
    assert tags("request") == ["Auth"]


def test_async_begin_request():
    with app(["AsyncCheck", "Auth"]) as client:
        assert client.get("/").text == "hello"
        ACTIONS[("AsyncCheck", "request")] = "deny"
        r = client.get("/")
        assert r.status_code == 401 and r.text == "async denied"
    assert [c[0] for c in CALLS if c[1] == "request"] == ["AsyncCheck", "Auth", "AsyncCheck"]


def test_unknown_url_gets_common_modules():
    with app(["Auth"], {"Index": [M + "Extra"]}) as client:
        assert client.get("/no/such").status_code == 404
    assert tags("request") == ["Auth"]


def test_resolved_once_per_route_one_instance_per_module():
    with app(["Auth"], {"Page": [M + "Auth", M + "Login"], "Index": [M + "Login"]}) as client:
        mw = client.app.middleware.middlewares[0]
        before = dict(mw._per_rule)
        for _ in range(3):
            client.get("/page")
        assert mw._per_rule == before
        page_rule = next(r for r in client.app.wildcard_router.rules if r.name == "Page")
        index_rule = next(r for r in client.app.wildcard_router.rules if r.name == "Index")
        page, index = mw._per_rule[id(page_rule)], mw._per_rule[id(index_rule)]
        assert [m.tag for m in page.modules] == ["Auth", "Login"]  # Auth once
        assert page.modules[1] is index.modules[1]  # one Login instance
    assert tags("request") == ["Auth", "Login"] * 3


def test_legacy_paths():
    from torngas.httpmodule import BaseHttpModule
    from torngas.httpmodule.base import BaseHttpModule as Real
    from torngas.httpmodule.httpmodule import HttpModuleMiddleware
    from torngas.httpmodule.middleware import HttpModuleMiddleware as RealMw

    assert BaseHttpModule is Real and HttpModuleMiddleware is RealMw
