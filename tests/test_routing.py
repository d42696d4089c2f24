"""The indexed router answers exactly as Tornado's linear scan does."""

import random

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.routing import PathMatches, Rule, RuleRouter
from tornado.web import RequestHandler

from torngas.routing import literal_prefix, make_indexed_router, segment_key
from torngas.testing import serve


@pytest.mark.parametrize(
    "pattern,expected",
    [
        (r"/plaintext$", ("/plaintext", True)),
        (r"/user/(\d+)$", ("/user/", False)),
        (r"/users?/$", ("/user", False)),
        (r"/a\.b/c$", ("/a.b/c", True)),
        (r"/a|/b$", ("", False)),
        (r"(?i)/abc$", ("", False)),
        (r"/x*$", ("/", False)),
        (r"/static/(.*)$", ("/static/", False)),
        (r"^/q/?$", ("/q", False)),
        (r"/\d+$", ("/", False)),
        (r"/a{2}$", ("/", False)),
    ],
)
def test_literal_prefix(pattern, expected):
    assert literal_prefix(pattern) == expected


def test_segment_key():
    assert segment_key("/user/42") == "user"
    assert segment_key("/") == ""
    assert segment_key("/plain") == "plain"


PATTERNS = [
    r"/$",
    r"/a$",
    r"/a/$",
    r"/a/(\d+)$",
    r"/a/b$",
    r"/ab$",
    r"/a.*$",
    r"/(a|b)/x$",
    r"/b/?$",
    r"/bs?/c$",
    r"/c/(?P<x>\w+)/d$",
    r"/.*$",
    r"/a\.b$",
    r"/A$",
    r"(?i)/q$",
    r"/q$",
    r"/x/y/z$",
    r"/x/y$",
    r"/[xy]/$",
    r"/x$",
    r"/x/?$",
    r"/\w+/1$",
]
PATHS = [
    "/",
    "/a",
    "/a/",
    "/a/1",
    "/a/b",
    "/ab",
    "/abc",
    "/a/x",
    "/b/x",
    "/b",
    "/b/",
    "/bs/c",
    "/b/c",
    "/c/q/d",
    "/a.b",
    "/axb",
    "/A",
    "/q",
    "/Q",
    "/x/y/z",
    "/x/y",
    "/x/",
    "/y/",
    "/x",
    "/zz/1",
    "/nothing",
    "/a/b/c",
    "/%2F",
    "//a",
]


def _request(path):
    return HTTPServerRequest(
        start_line=RequestStartLine("GET", path, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "127.0.0.1"}),
    )


class _Tag(RequestHandler):
    pass


def _routers(patterns):
    targets = [type(f"H{i}", (_Tag,), {}) for i in range(len(patterns))]

    class Linear(RuleRouter):
        def get_target_delegate(self, target, request, **params):
            return (
                target,
                tuple(params.get("path_args", ())),
                tuple(sorted(params.get("path_kwargs", {}).items())),
            )

    Indexed = make_indexed_router(Linear)
    rules = [Rule(PathMatches(p), t) for p, t in zip(patterns, targets, strict=True)]
    return Linear(rules), Indexed(list(rules))


def test_same_answers_as_tornado_linear_scan_exhaustive_and_random():
    rng = random.Random(1234)
    for trial in range(300):
        patterns = (
            PATTERNS[:] if trial == 0 else rng.sample(PATTERNS, rng.randint(1, len(PATTERNS)))
        )
        linear, indexed = _routers(patterns)
        for path in PATHS:
            assert indexed.find_handler(_request(path)) == linear.find_handler(_request(path)), (
                patterns,
                path,
            )


def test_rules_added_later_are_seen():
    linear, indexed = _routers([r"/a$"])
    assert indexed.find_handler(_request("/b")) is None
    extra = Rule(PathMatches(r"/b$"), type("Late", (_Tag,), {}))
    indexed.add_rules([extra])
    assert indexed.find_handler(_request("/b"))[0].__name__ == "Late"


def test_application_with_many_routes_and_static_files(tmp_path):
    static = tmp_path / "statics"
    static.mkdir()
    (static / "x.txt").write_text("static!")
    with serve(
        INSTALLED_APPS=["tests.test_apps.hello"],
        TORNADO_CONF={"static_path": str(static)},
    ) as client:
        assert client.get("/static/x.txt").text == "static!"
        assert client.get("/user/7").text == "user 7"
        assert client.get("/sub/photo").text == "hello"
        assert client.get("/nope").status_code == 404
        assert client.app.reverse_url("User", 3) == "/user/3"
