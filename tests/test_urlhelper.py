import pytest
from tornado.web import RequestHandler

from tests.test_apps.hello.handlers.main import Index, Kwargs
from torngas import Url, include, route
from torngas.exceptions import UrlError
from torngas.testing import serve
from torngas.urlhelper import join_pattern


def test_url_positional_and_keyword_forms():
    u = Url("tests.test_apps.hello.handlers", abc="abc")
    a = u(r"/a", "main.Index", name="A")
    b = u(name="B", pattern=r"/b", handler="main.Index", kwargs={"x": 1})
    assert a.target is Index and a.name == "A" and a.kwargs == {"abc": "abc"}
    assert b.kwargs == {"abc": "abc", "x": 1}
    assert a.handler_path == "tests.test_apps.hello.handlers.main.Index"


def test_handler_as_class_and_route_kwargs_win():
    u = Url(abc="abc", keep="k")
    spec = u(r"/k", Kwargs, kwargs={"abc": "other"})
    assert spec.kwargs == {"abc": "other", "keep": "k"}
    assert u.kwargs == {"abc": "abc", "keep": "k"}  # the Url's defaults are untouched


def test_bad_handler_path_names_route_and_path():
    u = Url("tests.test_apps.hello.handlers")
    with pytest.raises(UrlError) as info:
        u(r"/x", "main.Nope", name="X")
    msg = str(info.value)
    assert "'X'" in msg and "tests.test_apps.hello.handlers.main.Nope" in msg
    with pytest.raises(UrlError, match="no_such_module"):
        u(r"/x", "no_such_module.H")


def test_non_handler_and_bad_regex():
    with pytest.raises(UrlError, match="not a RequestHandler subclass"):
        Url()(r"/x", object)
    with pytest.raises(UrlError, match="invalid pattern"):
        Url()(r"/x(", Index)
    with pytest.raises(UrlError, match="pattern and handler are required"):
        Url()(name="X")


@pytest.mark.parametrize(
    "prefix,pattern,expected",
    [
        ("/", r"photo/upload/?", r"/photo/upload/?"),
        ("/blog", r"/list/\d*/?", r"/blog/list/\d*/?"),
        ("/blog/", r"^/list$", r"/blog/list$"),
        ("", r"/x", r"/x"),
        ("/blog", r"", r"/blog"),
    ],
)
def test_join_pattern(prefix, pattern, expected):
    assert join_pattern(prefix, pattern) == expected


def test_include_dotted_path_and_list():
    u = Url("tests.test_apps.hello.handlers")
    inner = route(u(r"/a", "main.Index", name="In"))
    routes = route(
        include("/x", inner),
        include("/", "tests.test_apps.hello.suburls.URLS"),
        u(r"/me", "main.Index"),
        (r"/tuple", Index),
    )
    assert [r.regex.pattern for r in routes] == [r"/x/a$", r"/photo/?$", r"/me$", r"/tuple$"]
    assert routes[0].name == "In"
    with pytest.raises(UrlError, match="nope"):
        include("/", "tests.test_apps.hello.suburls.nope")


def test_kwargs_reach_handler_and_do_not_leak_between_routes_or_requests():
    with serve(INSTALLED_APPS=["tests.test_apps.hello"]) as client:
        first = client.get("/kw").json()
        assert first == {"abc": "other", "shared": "url", "mutated": True}
        # the handler mutated its dict; neither the next request nor another route sees it
        again = client.get("/kw2").json()
        assert again == {"abc": "abc", "shared": "url", "mutated": True}
        spec = next(r for r in client.app.wildcard_router.rules if r.name == "Kw2")
        assert spec.target_kwargs == {"abc": "abc", "shared": "url"}


class _H(RequestHandler):
    def get(self, uid):
        self.write(self.reverse_url("U", uid))


def test_reverse_url_and_unknown_name():
    with serve(INSTALLED_APPS=["tests.test_apps.hello"]) as client:
        assert client.get("/reverse", params={"name": "Index"}).text == "/"
        r = client.get("/reverse", params={"name": "NoSuchRoute"})
        assert r.status_code == 500
        with pytest.raises(KeyError) as info:
            client.app.reverse_url("NoSuchRoute")
        assert "no route named 'NoSuchRoute'" in str(info.value)
        assert "Index" in str(info.value)
        assert client.app.reverse_url("User", 42) == "/user/42"
