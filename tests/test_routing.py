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
    "/a\n",  # "$" matches before a final newline, in Tornado's patterns too
    "/x/y\n",
    "/\n",
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


def test_application_exact_paths_answer_as_tornado_random():
    """An application's router files each whole-literal route under its path
    (one dictionary look-up); the answer for every path stays Tornado's: the
    first rule in declared order, with case-insensitive and earlier regex
    rules taking precedence exactly as in Tornado's scan."""
    from torngas.application import Application

    rng = random.Random(99)
    extra_paths = [*PATHS, "/plaintext", "/plaintext\n", "/PLAINTEXT", "/a\n"]
    pool = [*PATTERNS, r"/plaintext$", r"(?i)/PLAINTEXT$", r"/plaintext$"]
    with override_settings(INSTALLED_APPS=[]):
        for trial in range(150):
            patterns = pool[:] if trial == 0 else rng.sample(pool, rng.randint(1, len(pool)))
            targets = [_echo(f"E{i}") for i in range(len(patterns))]
            handlers = list(zip(patterns, targets, strict=True))
            ours = Application(handlers=handlers)
            theirs = tornado.web.Application(handlers)
            for path in extra_paths:
                request = _request_for("127.0.0.1", path)
                got = ours.find_handler(request)
                ours._inflight.discard(request)  # noqa: SLF001
                want = theirs.find_handler(_request_for("127.0.0.1", path))
                if want.handler_class is tornado.web.ErrorHandler:
                    assert got.handler_class.__name__ == "ErrorHandler", (patterns, path)
                    continue
                assert _delegate_view(got) == _delegate_view(want), (patterns, path)
                rule = request._torngas_rule  # noqa: SLF001
                assert rule.target is got.handler_class, (patterns, path)
            if trial == 0:  # every pattern: the literal ones have an entry
                assert set(ours.wildcard_router._exact) == {  # noqa: SLF001
                    "/", "/a", "/a/", "/a/b", "/ab", "/a.b", "/A", "/q", "/x/y/z", "/x/y",
                    "/x", "/plaintext",
                }  # fmt: skip


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


# --------------------------------------------------------------------------
# The application's direct dispatch (no host rules: the indexed router builds
# the handler's delegate itself) gives what Tornado's router gives, in process
# and over HTTP on both transports.
import json  # noqa: E402
import socket  # noqa: E402

import tornado.web  # noqa: E402
from tornado import httputil  # noqa: E402
from tornado.web import URLSpec  # noqa: E402

from torngas import Url, include, route  # noqa: E402
from torngas.conf import override_settings  # noqa: E402
from torngas.handler import WebHandler  # noqa: E402
from torngas.testing import TRANSPORTS  # noqa: E402

#: Tornado's limit on query arguments (HTTPServerRequest refuses more).
_MAX_ARGS = httputil._DEFAULT_PARSE_BODY_CONFIG.urlencoded.max_arguments  # noqa: E402, SLF001


class _Echo(WebHandler):
    """Reports what routing gave it: its class, the decoded path arguments,
    the route's kwargs and the request's host."""

    def get(self, *args, **kwargs):
        self.write(
            {
                "handler": type(self).__name__,
                "args": list(args),
                "kwargs": kwargs,
                "url_kwargs": self._url_kwargs,
                "query": self.get_query_argument("q", None),
                "host": self.request.host,
            }
        )


def _echo(name):
    return type(name, (_Echo,), {"__module__": __name__})


ROOT, PLAIN, PLAIN_SLASH, OPT = _echo("Root"), _echo("Plain"), _echo("PlainSlash"), _echo("Opt")
USER, USER2, NAMED, FILES = _echo("User"), _echo("User2"), _echo("Named"), _echo("Files")
NONCAP, OPTGROUP, KW, DUP1 = _echo("NonCap"), _echo("OptGroup"), _echo("Kw"), _echo("Dup1")
DUP2, AWILD, ABC, CASE = _echo("Dup2"), _echo("AWild"), _echo("Abc"), _echo("Case")
INC_A, INC_B, API, API_ONLY = _echo("IncA"), _echo("IncB"), _echo("Api"), _echo("ApiOnly")
FALLBACK = _echo("Fallback")

_u = Url(shared="url")
MATRIX_ROUTES = route(
    _u(r"/", ROOT, name="root"),
    _u(r"/plain", PLAIN, name="plain"),
    _u(r"/plain/", PLAIN_SLASH),
    _u(r"/opt/?", OPT),
    _u(r"/user/(\d+)", USER, name="user"),
    _u(r"/user/(\d+)/(\w+)", USER2, name="user2"),
    _u(r"/named/(?P<slug>[^/]+)/(?P<num>\d+)", NAMED, name="named"),
    _u(r"/files/(.*)", FILES),
    _u(r"/(?:non|not)cap/x", NONCAP),
    _u(r"/optgroup/(\d+)?", OPTGROUP),
    _u(r"/kw", KW, kwargs={"shared": "route", "extra": 1}),
    _u(r"/dup", DUP1),
    _u(r"/dup", DUP2),
    _u(r"/a.*", AWILD),
    _u(r"/abc", ABC),
    _u(r"(?i)/casex", CASE),
    include(
        "/inc",
        [URLSpec(r"/a/(\d+)$", INC_A, {"inc": True}), URLSpec(r"/b/?$", INC_B, name="incb")],
    ),
)
HOST_ROUTES = [(r"/plain", API), (r"/api-only/(\w+)", API_ONLY)]
MATRIX_REQUESTS = [
    # (host, target)
    *[
        ("127.0.0.1", target)
        for target in (
            "/",
            "/plain",
            "/plain/",
            "/plain?q=1",
            "/opt",
            "/opt/",
            "/user/42",
            "/user/42/",
            "/user/42/bob",
            "/user/x",
            "/named/hello%20world/7",
            "/named/caf%C3%A9/1",
            "/named/a%2Fb/2",
            "/files/a/b/c.txt",
            "/files/",
            "/files/%E2%82%AC%20%2B+",
            "/files/bad%FF",
            "/noncap/x",
            "/notcap/x",
            "/optgroup/",
            "/optgroup/5",
            "/kw",
            "/dup",
            "/abc",
            "/a",
            "/abcd",
            "/casex",
            "/CaseX",
            "/inc/a/3",
            "/inc/b",
            "/inc/b/",
            "/inc/c",
            "/api-only/x",
            "/nothing/here",
        )
    ],
    ("api.example.com", "/plain"),
    ("API.example.com:8080", "/plain"),
    ("api.example.com", "/api-only/x"),
    ("api.example.com", "/user/7"),
    ("api.example.com", "/nothing"),
    ("www.example.com", "/plain"),
]


class _HostApp:
    """Mixin: the matrix's host rules (Tornado's full routing path)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_handlers(r"api\.example\.com", HOST_ROUTES)


def _torngas_app_class(hosts):
    from torngas.application import Application

    return type("HostApplication", (_HostApp, Application), {}) if hosts else Application


def _tornado_app(hosts, **app_settings):
    app = tornado.web.Application(list(MATRIX_ROUTES), **app_settings)
    if hosts:
        app.add_handlers(r"api\.example\.com", HOST_ROUTES)
    return app


def _request_for(host, target):
    return HTTPServerRequest(
        start_line=RequestStartLine("GET", target, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": host}),
    )


def _delegate_view(delegate):
    return (
        delegate.handler_class,
        delegate.path_args,
        delegate.path_kwargs,
        delegate.handler_kwargs,
    )


def _expected(app, host, target):
    """What Tornado's router answers, as _Echo would report it: (status, body)."""
    delegate = app.find_handler(_request_for(host, target))
    cls, args, kwargs, handler_kwargs = _delegate_view(delegate)
    if not issubclass(cls, _Echo):
        return 404, None
    try:
        args = [None if a is None else a.decode("utf-8") for a in args]
        kwargs = {k: None if v is None else v.decode("utf-8") for k, v in kwargs.items()}
    except UnicodeDecodeError:
        return 400, None  # RequestHandler.decode_argument: "Invalid unicode in ..."
    query = "1" if "?q=1" in target else None
    body = {"handler": cls.__name__, "args": args, "kwargs": kwargs}
    return 200, {**body, "url_kwargs": handler_kwargs, "query": query, "host": host}


@pytest.mark.parametrize("hosts", [False, True], ids=["direct", "host-rules"])
@pytest.mark.parametrize("default", [False, True], ids=["404", "default_handler_class"])
def test_application_routing_matches_tornado_in_process(hosts, default):
    extra = {"default_handler_class": FALLBACK, "default_handler_args": {"d": 1}} if default else {}
    with override_settings(INSTALLED_APPS=[]):
        ours = _torngas_app_class(hosts)(handlers=list(MATRIX_ROUTES), **extra)
        theirs = _tornado_app(hosts, **extra)
        assert (len(ours.default_router.rules) > 1) == hosts  # the direct path or Tornado's
        for host, target in MATRIX_REQUESTS:
            request = _request_for(host, target)
            delegate = ours.find_handler(request)
            ours._inflight.discard(request)
            want = theirs.find_handler(_request_for(host, target))
            got_view, want_view = _delegate_view(delegate), _delegate_view(want)
            if not default and want_view[0] is tornado.web.ErrorHandler:
                # torngas answers unknown routes with its own ErrorHandler (404)
                assert got_view[0].__name__ == "ErrorHandler", (host, target)
                assert got_view[3] == {"status_code": 404} == want_view[3]
                continue
            assert got_view == want_view, (host, target)
            assert delegate.stream_request_body is False


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("hosts", [False, True], ids=["direct", "host-rules"])
def test_application_routing_matches_tornado_over_http(transport, hosts):
    extra = {"default_handler_class": FALLBACK, "default_handler_args": {"d": 1}}
    theirs = _tornado_app(hosts, **extra)
    with serve(
        _torngas_app_class(hosts),
        app_settings={"handlers": list(MATRIX_ROUTES), **extra},
        transport=transport,
        INSTALLED_APPS=[],
    ) as client:
        for host, target in MATRIX_REQUESTS:
            r = client.get(target, headers={"Host": host})
            status, body = _expected(theirs, host, target)
            assert r.status_code == status, (host, target, r.text[:200])
            if body is not None:
                assert r.json() == body, (host, target)
        # default_handler_class gets the default_handler_args
        assert client.get("/nothing").json()["url_kwargs"] == {"d": 1}
        # reverse_url: named routes, include() prefixes
        app = client.app
        assert app.reverse_url("user", 5) == "/user/5" == theirs.reverse_url("user", 5)
        assert app.reverse_url("named", "a b", 3) == theirs.reverse_url("named", "a b", 3)
        assert app.reverse_url("incb") == theirs.reverse_url("incb")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_route_is_torngas_404_on_both_transports(transport):
    with serve(app_settings={"handlers": list(MATRIX_ROUTES)}, transport=transport) as client:
        r = client.get("/nothing/here")
        assert r.status_code == 404
        r = client.post("/nothing/here", content=b"x")
        assert r.status_code == 404  # not 403: no xsrf check for unknown routes
        assert client.get("/user/42/bob").json()["args"] == ["42", "bob"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_handlers_added_after_start_are_routed(transport):
    late = _echo("Late")
    with serve(app_settings={"handlers": list(MATRIX_ROUTES)}, transport=transport) as client:
        assert client.get("/late").status_code == 404
        client.server.call(lambda: client.app.wildcard_router.add_rules([(r"/late", late)]))
        assert client.get("/late").json()["handler"] == "Late"
        # add_handlers with a host pattern: Tornado's full path from now on
        client.server.call(lambda: client.app.add_handlers(r"late\.example\.com", HOST_ROUTES))
        assert client.get("/plain", headers={"Host": "late.example.com"}).json()["handler"] == "Api"
        assert client.get("/plain").json()["handler"] == "Plain"
        assert client.get("/late").json()["handler"] == "Late"


def _raw_http(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.tornado_only("the request line and Host checks of Tornado's own HTTP server")
def test_tornado_transport_request_checks_are_tornados():
    """The requests the application builds from Tornado's parser: Host
    defaults and refusals as HTTPServerRequest's own."""
    with serve(app_settings={"handlers": list(MATRIX_ROUTES)}, transport="tornado") as client:
        port = client.server.port
        # HTTP/1.0 without Host: served, host "127.0.0.1" (as Tornado does)
        raw = _raw_http(port, b"GET /plain?q=1 HTTP/1.0\r\n\r\n")
        assert raw.startswith(b"HTTP/1.1 200 "), raw[:100]
        body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        assert body["query"] == "1" and body["host"] == "127.0.0.1"
        # HTTP/1.1 without Host, an invalid Host, two Hosts: 400 from Tornado's server
        for request in (
            b"GET /plain HTTP/1.1\r\nConnection: close\r\n\r\n",
            b"GET /plain HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
            b"GET /plain HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        ):
            assert _raw_http(port, request).startswith(b"HTTP/1.1 400"), request
        # a query string past max_num_fields: refused as Tornado refuses it
        many = b"&".join(b"a=1" for _ in range(_MAX_ARGS + 1))
        raw = _raw_http(
            port, b"GET /plain?" + many + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert raw.startswith(b"HTTP/1.1 400"), raw[:100]
        ok = b"&".join(b"a=1" for _ in range(_MAX_ARGS))
        raw = _raw_http(
            port, b"GET /plain?" + ok + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert raw.startswith(b"HTTP/1.1 200"), raw[:100]
