import logging

from tests.conftest import TEMPLATES
from tests.test_apps.hello.handlers.main import Index, Page
from torngas import signal
from torngas.testing import serve


def app():
    return serve(
        INSTALLED_APPS=["tests.test_apps.hello"],
        MIDDLEWARE_CLASSES=["torngas.middleware.signal.SignalMiddleware"],
        TORNADO_CONF={"template_path": TEMPLATES},
    )


def test_lifecycle_signals_in_order_with_sender_filtering():
    seen = []

    def rec(name):
        def receiver(sender, **kw):
            seen.append((name, sender.__name__, sorted(k for k in kw if k != "signal")))

        return receiver

    receivers = {
        "call_started": rec("call_started"),
        "handler_started": rec("handler_started"),
        "handler_render": rec("handler_render"),
        "handler_response": rec("handler_response"),
        "call_finished": rec("call_finished"),
        "request_finished": rec("request_finished"),
    }
    for name, fn in receivers.items():
        getattr(signal, name).connect(fn)
    only_index = []
    signal.handler_started.connect(
        lambda sender, **kw: only_index.append(sender), sender=Index, weak=False
    )
    try:
        with app() as client:
            assert client.get("/page").status_code == 200
            assert client.get("/").status_code == 200
    finally:
        for name, fn in receivers.items():
            getattr(signal, name).disconnect(fn)
        signal.handler_started.disconnect(sender=Index, dispatch_uid="idx")
    assert seen[:6] == [
        ("call_started", "HTTPServerRequest", ["request"]),
        ("handler_started", "Page", ["handler"]),
        ("handler_render", "Page", ["handler", "kwargs", "template_name"]),
        ("handler_response", "Page", ["chunk", "handler"]),
        ("call_finished", "Page", ["handler"]),
        ("request_finished", "Page", ["handler"]),
    ]
    assert only_index == [Index]
    assert Page is not Index


def test_raising_receiver_never_breaks_the_request(caplog):
    def bad(sender, **kw):
        raise RuntimeError("receiver exploded")

    signal.handler_started.connect(bad)
    try:
        with app() as client, caplog.at_level(logging.ERROR):
            r = client.get("/")
    finally:
        signal.handler_started.disconnect(bad)
    assert r.status_code == 200 and r.text == "hello"
    assert any(
        "receiver exploded" in (rec.getMessage() + str(rec.exc_info)) for rec in caplog.records
    )
