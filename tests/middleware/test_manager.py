"""The middleware chain over real HTTP: order, short-circuit, clear(), async, errors."""

import logging

import pytest

from tests.conftest import TEMPLATES
from tests.test_apps import recording
from tests.test_apps.recording import CONFIG, EVENTS
from torngas.exceptions import ImproperlyConfigured
from torngas.testing import serve

R = "tests.test_apps.recording."
ABC = [R + "A", R + "B", R + "C"]


@pytest.fixture(autouse=True)
def _reset():
    EVENTS.clear()
    CONFIG.clear()
    yield
    EVENTS.clear()
    CONFIG.clear()


def app(**kw):
    kw.setdefault("INSTALLED_APPS", ["tests.test_apps.hello"])
    kw.setdefault("MIDDLEWARE_CLASSES", ABC)
    kw.setdefault("TORNADO_CONF", {"template_path": TEMPLATES})
    return serve(**kw)


def hooks(kind):
    return [e[0] for e in EVENTS if e[1] == kind]


def test_declared_order_for_call_request_reverse_for_the_rest():
    with app() as client:
        r = client.get("/page")
        assert r.status_code == 200
    assert hooks("init") == ["A", "B", "C"]
    assert hooks("call") == ["A", "B", "C"]
    assert hooks("request") == ["A", "B", "C"]
    assert hooks("render") == ["C", "B", "A"]
    assert hooks("response") == ["C", "B", "A"]
    assert hooks("endcall") == ["C", "B", "A"]
    render = next(e for e in EVENTS if e[1] == "render")
    assert render[2] == "page.html" and render[3] == ["items", "title"]
    # whole sequence: nothing out of place
    kinds = [e[1] for e in EVENTS]
    assert (
        kinds
        == ["init"] * 3
        + ["call"] * 3
        + ["request"] * 3
        + ["render"] * 3
        + ["response"] * 3
        + ["endcall"] * 3
    )


def test_process_init_runs_once():
    with app() as client:
        for _ in range(3):
            client.get("/")
    assert hooks("init") == ["A", "B", "C"]
    assert hooks("call") == ["A", "B", "C"] * 3


def test_truthy_return_skips_the_same_hook_of_later_middlewares_only():
    CONFIG["A.process_request"] = "stop"
    CONFIG["C.process_response"] = "stop"
    with app() as client:
        assert client.get("/").text == "hello"  # the handler still runs
    assert hooks("request") == ["A"]
    assert hooks("response") == ["C"]
    assert hooks("endcall") == ["C", "B", "A"]


def test_finish_in_process_request_with_truthy_return_skips_handler():
    from tests.test_apps.hello.handlers.main import Hooks

    Hooks.calls.clear()
    CONFIG["B.process_request"] = "finish"
    with app() as client:
        r = client.get("/hooks")
    assert r.status_code == 403 and r.text == "stopped by B"
    assert hooks("request") == ["A", "B"]
    assert hooks("response") == ["C", "B", "A"]
    assert Hooks.calls == ["complete_finish"]  # neither on_prepare nor get ran


def test_clear_drops_every_remaining_hook_for_this_request_only():
    CONFIG["B.process_request"] = "clear"
    with app() as client:
        assert client.get("/").text == "hello"
        assert hooks("request") == ["A", "B"]
        assert hooks("response") == [] and hooks("endcall") == []
        CONFIG.clear()
        EVENTS.clear()
        client.get("/")
    assert hooks("request") == ["A", "B", "C"]  # the next request has the full chain
    assert hooks("endcall") == ["C", "B", "A"]


def test_clear_in_process_call():
    CONFIG["A.process_call"] = "clear"
    with app() as client:
        assert client.get("/").text == "hello"
    assert hooks("call") == ["A"]
    assert hooks("request") == [] and hooks("endcall") == []


def test_process_response_can_rewrite_chunk_and_headers():
    CONFIG["B.rewrite"] = True
    with app() as client:
        r = client.get("/")
    assert r.text == "HELLO"
    assert r.headers["X-Rewritten-By"] == "B"


def test_async_process_request_is_awaited_before_the_handler():
    with app(MIDDLEWARE_CLASSES=[R + "A", R + "AsyncRequest", R + "B"]) as client:
        assert client.get("/async-seen").text == "set-by-async-middleware"
    order = [e for e in EVENTS if e[1].startswith("request")]
    assert order == [
        ("A", "request"),
        ("Async", "request-start"),
        ("Async", "request-end"),
        ("B", "request"),
    ]


def test_async_process_request_can_finish():
    CONFIG["Async.finish"] = True
    with app(MIDDLEWARE_CLASSES=[R + "AsyncRequest", R + "B"]) as client:
        assert client.get("/async-seen").text == "async stop"
    assert hooks("request") == []  # B's process_request skipped


def test_exception_hooks_reverse_and_default_logging(caplog):
    with app() as client, caplog.at_level(logging.ERROR, logger="tornado.application"):
        r = client.get("/boom")
    assert r.status_code == 500
    assert [e[0] for e in EVENTS if e[1] == "exception"] == ["C", "B", "A"]
    assert all(e[2] == "ValueError" for e in EVENTS if e[1] == "exception")
    # no hook returned truthy: Tornado's own logging ran
    assert any("Uncaught exception" in r.getMessage() for r in caplog.records)
    assert hooks("endcall") == ["C", "B", "A"]


def test_handled_exception_skips_default_logging(caplog):
    CONFIG["C.process_exception"] = "stop"
    with app() as client, caplog.at_level(logging.ERROR, logger="tornado.application"):
        assert client.get("/boom").status_code == 500
    assert [e[0] for e in EVENTS if e[1] == "exception"] == ["C"]
    assert not any("Uncaught exception" in r.getMessage() for r in caplog.records)


def test_no_middleware_keeps_tornado_logging(caplog):
    with app(MIDDLEWARE_CLASSES=[]) as client, caplog.at_level(logging.ERROR):
        assert client.get("/boom").status_code == 500
    assert any("Uncaught exception" in r.getMessage() for r in caplog.records)
    assert client.app.middleware.active is False


@pytest.mark.parametrize(
    "hook", ["process_call", "process_request", "process_response", "process_render"]
)
def test_raising_middleware_gives_500_names_itself_and_server_keeps_serving(hook, caplog):
    CONFIG[f"B.{hook}"] = "raise"
    with app() as client, caplog.at_level(logging.ERROR):
        r = client.get("/page")
        assert r.status_code == 500
        assert "B failed" not in r.text  # no exception text on the page (DEBUG off)
        CONFIG.clear()
        assert client.get("/").text == "hello"  # still serving
    text = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert f"tests.test_apps.recording.B.{hook}" in text
    assert "B failed in " + hook in text


def test_raising_endcall_does_not_stop_other_endcalls(caplog):
    CONFIG["B.process_endcall"] = "raise"
    with app() as client, caplog.at_level(logging.ERROR):
        assert client.get("/").text == "hello"
        assert client.get("/").status_code == 200
    assert hooks("endcall") == ["C", "B", "A"] * 2
    assert any("recording.B.process_endcall" in r.getMessage() for r in caplog.records)


def test_only_defined_hooks_are_listed():
    with app(MIDDLEWARE_CLASSES=[R + "OnlyEndcall", R + "Unused"]) as client:
        assert client.get("/").text == "hello"
        mw = client.app.middleware
        assert len(mw.middlewares) == 1  # Unused raised MiddlewareNotUsed
        assert mw.request_hooks == () and mw.call_hooks == ()
        assert len(mw.endcall_hooks) == 1
    assert EVENTS == [("OnlyEndcall", "endcall")]


def test_hook_lists_are_built_once():
    with app() as client:
        mw = client.app.middleware
        before = (mw.request_hooks, mw.response_hooks)
        client.get("/")
        client.get("/page")
        assert (mw.request_hooks, mw.response_hooks) == before
        assert mw.request_hooks is before[0]


def test_unimportable_middleware_fails_at_startup():
    with (
        pytest.raises(ImproperlyConfigured, match="tests.test_apps.recording.Nope"),
        app(MIDDLEWARE_CLASSES=[R + "Nope"]),
    ):
        pass


def test_legacy_and_subclassed_middleware_share_semantics():
    from torngas.middleware import BaseMiddleware

    class Sub(BaseMiddleware):
        def process_request(self, handler, clear):
            EVENTS.append(("Sub", "request"))

    with app(MIDDLEWARE_CLASSES=[Sub, R + "A"]) as client:
        client.get("/")
        mw = client.app.middleware
        # BaseMiddleware's no-op hooks are not listed
        assert [n for n, _ in mw.endcall_hooks] == ["tests.test_apps.recording.A.process_endcall"]
    assert hooks("request") == ["Sub", "A"]


def test_recording_module_is_importable():
    assert recording.A.name == "A"


def test_async_process_response_completes_before_the_response_is_sent():
    with app(MIDDLEWARE_CLASSES=[R + "A", R + "AsyncResponse"]) as client:
        r = client.get("/")
        assert r.text == "hello" and r.headers["X-Saved"] == "yes"
        assert ("AsyncResponse", "saved") in EVENTS  # done before the client had its answer
        r = client.get("/page")
        assert r.status_code == 200 and r.headers["X-Saved"] == "yes"
    assert hooks("endcall") == ["A", "A"]
    assert EVENTS[-1] == ("AsyncResponse", "shutdown")  # process_shutdown ran at stop


def test_async_process_response_http_error_becomes_that_page():
    CONFIG["AsyncResponse.fail"] = True
    with app(MIDDLEWARE_CLASSES=[R + "AsyncResponse"]) as client:
        r = client.get("/")
        assert r.status_code == 503 and "hello" not in r.text
        CONFIG.clear()
        assert client.get("/").text == "hello"


def test_async_process_response_crash_is_500_and_logged(caplog):
    CONFIG["AsyncResponse.crash"] = True
    with app(MIDDLEWARE_CLASSES=[R + "AsyncResponse"]) as client, caplog.at_level(logging.ERROR):
        r = client.get("/")
        assert r.status_code == 500 and "hello" not in r.text
    assert any(
        "async response crashed" in str(rec.exc_info and rec.exc_info[1]) for rec in caplog.records
    )


def test_http_error_from_a_hook_is_an_answer_not_a_failure(caplog):
    CONFIG["Deny.request"] = True
    with app(MIDDLEWARE_CLASSES=[R + "Deny"]) as client, caplog.at_level(logging.ERROR):
        assert client.get("/").status_code == 403
        CONFIG.clear()
        CONFIG["Deny.call"] = True
        assert client.get("/").status_code == 429
        CONFIG.clear()
        assert client.get("/").text == "hello"
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and "MiddlewareError" in str(r.exc_info)
    ]
