"""torngas handlers' cheaper ``__init__``/``finish``: every Tornado semantic of
the response they build stays (etag and 304, HEAD, cookies, 204/304 without
body, custom ``compute_etag``, output transforms, ``ui``), on both transports."""

from __future__ import annotations

import gzip
import hashlib

import pytest
import tornado.web
from tornado import httputil

from torngas.handler import ApiHandler, WebHandler
from torngas.testing import serve

APP = ["tests.asgi.asgiapp"]
PARTS = b"part0;part1;part2;"


def test_etag_is_tornados_hash_of_every_part_and_if_none_match_forms(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/parts")
        etag = f'"{hashlib.sha1(PARTS).hexdigest()}"'
        assert r.status_code == 200 and r.content == PARTS
        assert r.headers["etag"] == etag
        assert r.headers["content-length"] == str(len(PARTS))
        assert "seen=1" in r.headers["set-cookie"]
        for inm in (etag, f'"x", {etag}', "*", f"W/{etag}"):
            again = client.get("/parts", headers={"If-None-Match": inm})
            assert again.status_code == 304, inm
            assert again.content == b""
            assert again.headers["etag"] == etag
            assert "seen=1" in again.headers["set-cookie"]  # cookies survive a 304
            assert "content-length" not in again.headers
        assert client.get("/parts", headers={"If-None-Match": '"x"'}).status_code == 200
        assert client.get("/parts", headers={"If-None-Match": ""}).status_code == 200


def test_head_has_the_get_headers_and_no_body(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.head("/parts")
        assert r.status_code == 200 and r.content == b""
        assert r.headers["content-length"] == str(len(PARTS))
        assert r.headers["etag"] == f'"{hashlib.sha1(PARTS).hexdigest()}"'


def test_a_handlers_own_compute_etag_is_used(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/custom-etag")
        assert r.headers["etag"] == '"v1"' and r.text == "custom"
        assert client.get("/custom-etag", headers={"If-None-Match": '"v1"'}).status_code == 304
        r = client.get("/no-etag")
        assert "etag" not in r.headers and r.text == "no etag"


def test_no_etag_on_other_statuses_and_no_body_on_204_304(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/status/201")
        assert r.status_code == 201 and r.text == "status" and "etag" not in r.headers
        r = client.get("/status/204")
        assert r.status_code == 204 and r.content == b"" and "content-length" not in r.headers
        r = client.get("/body-on-204")
        assert r.status_code == 500  # Tornado: "Cannot send body with status code HTTP204"


def test_compress_response_takes_tornados_transform_path(transport):
    with serve(
        INSTALLED_APPS=APP, transport=transport, TORNADO_CONF={"compress_response": True}
    ) as client:
        with client.stream("GET", "/big", headers={"Accept-Encoding": "gzip"}) as r:
            raw = b"".join(r.iter_raw())
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert gzip.decompress(raw) == b"big " * 2000
        assert r.headers["etag"] == f'"{hashlib.sha1(b"big " * 2000).hexdigest()}"'
        assert r.headers["content-length"] == str(len(raw))


def test_ui_is_built_on_first_access_with_tornados_entries(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        assert client.get("/ui").text == "_tt_modules,modules|xsrf"


class _Conn:
    def set_close_callback(self, callback):
        self.callback = callback


class _Plain(WebHandler):
    pass


class _Api(ApiHandler):
    pass


class _Mixin:
    def __init__(self, *args, **kwargs):
        self.mixin_ran = True
        super().__init__(*args, **kwargs)


class _AfterMixin(WebHandler, _Mixin):
    pass


class _OwnEtag(WebHandler):
    def compute_etag(self):
        return None


@pytest.mark.parametrize("cls", [_Plain, _Api])
def test_fast_init_sets_what_tornados_init_sets(cls):
    """Tornado's ``RequestHandler.__init__`` and torngas's must leave the same
    attributes (``ui`` aside, built lazily); a Tornado upgrade adding one fails here."""
    app = tornado.web.Application()
    request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", "/", "HTTP/1.1"),
        headers=httputil.HTTPHeaders({"Host": "t"}),
        connection=_Conn(),
    )
    fast = cls(app, request)
    slow = cls.__new__(cls)
    slow._url_kwargs = {}
    slow._mw = fast._mw
    tornado.web.RequestHandler.__init__(slow, app, request)
    assert set(vars(slow)) - set(vars(fast)) == {"ui"}
    assert set(vars(fast)) - set(vars(slow)) == set()
    assert set(fast.ui) == set(slow.ui)
    assert cls._fast_init and cls._fast_finish


def test_classes_that_need_tornados_paths_get_them():
    assert _AfterMixin._fast_init is False  # a mixin __init__ after RequestHandler in the MRO
    app = tornado.web.Application()
    request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", "/", "HTTP/1.1"),
        headers=httputil.HTTPHeaders({"Host": "t"}),
        connection=_Conn(),
    )
    assert _AfterMixin(app, request).mixin_ran is True
    assert _OwnEtag._fast_finish is False


def test_execute_decodes_path_arguments_parses_bodies_and_refuses_methods(transport):
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/named/caf%C3%A9?q=1")
        assert r.text == "str:café|1"
        assert client.post("/named/a", data={"x": "7"}).text == "a:7"
        assert client.post("/named/a", content=b"x=7").text == "a:none"  # no Content-Type
        bad = client.post(
            "/named/a",
            content=b"x=7",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Encoding": "gzip",
            },
        )
        assert bad.status_code == 400  # Tornado: "Invalid body: Unsupported Content-Encoding"
        assert client.delete("/named/a").status_code == 405
        assert client.request("PROPFIND", "/named/a").status_code == 405
        assert client.get("/named/boom").status_code == 500


def test_bodies_with_and_without_length_reach_the_handler(transport):
    """The bridge skips reading the body only when HTTP/1.x says there is none."""
    with serve(
        INSTALLED_APPS=APP, transport=transport, HTTPSERVER={"max_body_size": 5000}
    ) as client:

        def chunks():
            yield b"a" * 100
            yield b"b" * 200

        r = client.post("/echo-body", content=chunks())  # Transfer-Encoding: chunked
        assert r.json() == {"len": 300}
        assert client.post("/echo-body", content=b"x" * 10).json() == {"len": 10}
        assert client.post("/echo-body").json() == {"len": 0}
        assert client.post("/named/a", data={"x": "form"}).text == "a:form"


def test_write_json_encodes_as_json_dumps():
    import datetime
    import json

    from torngas.handler import _json_dumps

    values = [
        {"message": "Hello, World!"},
        "x",
        1,
        1.5,
        float("nan"),
        None,
        [1, {"é": "ü\u2028", "n": [True, False]}],
        {"d": datetime.date(2020, 1, 1), 1: 2},
    ]
    for value in values:
        assert _json_dumps(value) == json.dumps(value, ensure_ascii=False, default=str)
    circular: list[object] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        _json_dumps(circular)
    assert _json_dumps([1]) == "[1]"  # a failed call leaves nothing behind


def test_set_header_and_write_keep_tornados_conversions_and_checks(transport):
    from tests.asgi.asgiapp.handlers import SEEN

    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/header-values")
        assert r.status_code == 200
        assert r.headers["x-str"] == "plain value"
        assert r.headers["x-lower-name"] == "normalised"
        assert r.headers["x-int"] == "42"
        assert [v for k, v in r.headers.raw if k.lower() == b"x-bytes"] == [b"caf\xe9"]  # latin-1
        assert r.headers["x-date"] == "Thu, 02 Jan 2020 03:04:05 GMT"
        assert r.content == "é".encode() + b"|bytes|sub"
        assert r.headers["content-length"] == str(len(r.content))
        assert client.server.call(lambda: SEEN["late_write"]) == "Cannot write() after finish()"
        # an unsafe value is refused each time (a value once seen valid is not
        # a reason to skip the check for another)
        for _ in range(2):
            assert (
                client.get("/header-values", params={"bad": "a\r\nX-Injected: 1"}).status_code
                == 500
            )
        assert client.get("/header-values", params={"bad": "fine"}).headers["x-bad"] == "fine"
        # a class converting values itself keeps its conversion
        assert client.get("/own-conversion").headers["x-own"] == "converted(v)"


def test_overridden_lifecycle_methods_still_run(transport):
    from tests.asgi.asgiapp.handlers import SEEN

    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        r = client.get("/own-hooks")
        assert r.text == "hooks" and r.headers["x-default"] == "yes"

        def seen():
            return dict(SEEN)

        got = client.server.call(seen)
        assert got["initialize"] == {"route": "kw"}
        assert got["order"] == ["_log", "on_finish", "complete_finish", "_break_cycles"]
        assert client.get("/complete-only").status_code == 201
        assert client.server.call(lambda: SEEN["complete_only"]) == 201


def test_inlining_flags_follow_the_class():
    from tests.asgi.asgiapp.handlers import CompleteOnly, Hello, OwnConversion, OwnHooks

    assert Hello._plain_clear and Hello._plain_initialize and Hello._plain_tail
    assert Hello._fast_headers
    assert not OwnHooks._plain_clear  # its own set_default_headers
    assert not OwnHooks._plain_initialize
    assert not OwnHooks._plain_tail
    assert not CompleteOnly._plain_tail and CompleteOnly._plain_clear
    assert not OwnConversion._fast_headers


def test_handlers_that_never_wait_run_in_a_context_of_their_own(transport):
    """A handler that never waits runs without a task (both transports): a
    ContextVar it sets must not reach the next request on the same kept-alive
    connection, nor the rest of a handler that waits; errors still give 500."""
    from tests.asgi.asgiapp.handlers import SEEN

    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        for _ in range(3):
            assert client.get("/ctxvar").json() == {"seen": "unset"}
            assert client.get("/ctxvar-async").json() == {
                "seen": "set-in-prepare",
                "after": "set-in-prepare",
            }
            assert client.server.call(lambda: SEEN["prepare_saw"]) == "unset"
        assert client.get("/ctxvar?fail=1").status_code == 500
        assert client.get("/ctxvar-async?fail=1").status_code == 500
        assert client.get("/ctxvar").json() == {"seen": "unset"}


def test_a_class_with_its_own_execute_keeps_it(transport):
    from tests.asgi.asgiapp.handlers import SEEN, CtxVar, OwnExecute

    assert CtxVar._execute_now_ok and not OwnExecute._execute_now_ok
    with serve(INSTALLED_APPS=APP, transport=transport) as client:
        assert client.get("/own-execute").text == "own"
        assert client.get("/own-execute").text == "own"
        assert client.server.call(lambda: SEEN["own_execute"]) == 2
