"""Tornado, Jinja2 and Mako render the same page through the same handler helpers."""

import logging
import os
import re

import pytest

from tests.test_apps.recording import EVENTS
from torngas.signal import before_render_template, template_rendered
from torngas.testing import serve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TPL = os.path.join(ROOT, "tests", "test_apps", "tpl")
ENGINES = {
    "tornado": None,
    "jinja2": "torngas.template.jinja2_loader.Jinja2TemplateLoader",
    "mako": "torngas.template.mako_loader.MakoTemplateLoader",
}


def app(engine, debug=False, **config):
    return serve(
        INSTALLED_APPS=["tests.test_apps.hello"],
        MIDDLEWARE_CLASSES=["tests.test_apps.recording.A"],
        DEBUG=debug,
        TORNADO_CONF={
            "template_path": os.path.join(TPL, engine),
            "static_path": TPL,
            "cookie_secret": "test-secret",
            "autoreload": False,
        },
        TEMPLATE_CONFIG={"template_engine": ENGINES[engine], **config},
    )


def normalise(html):
    html = re.sub(r'value="[^"]+"', 'value="TOKEN"', html)
    return re.sub(r"\s+", "", html)


@pytest.fixture(autouse=True)
def _clear():
    EVENTS.clear()
    yield
    EVENTS.clear()


def test_all_three_engines_render_the_same_page():
    pages = {}
    for engine in ENGINES:
        with app(engine) as client:
            r = client.get("/tpl")
            assert r.status_code == 200, (engine, r.text)
            pages[engine] = normalise(r.text)
    assert pages["tornado"] == pages["jinja2"] == pages["mako"], pages
    page = pages["tornado"]
    assert "<title>T&amp;C</title>" in page  # autoescape on
    assert "<li>&lt;b&gt;</li>" in page
    assert "Tpl|/tpl|ann|/static/x.txt" in page  # handler, reverse_url, current_user, static_url
    assert '<inputtype="hidden"name="_xsrf"value="TOKEN"/>' in page  # not escaped


@pytest.mark.parametrize("engine", ENGINES)
def test_process_render_and_template_signals_fire(engine):
    seen = []

    def before(sender, template_name, context, **kw):
        seen.append(("before", template_name, context["title"]))

    def after(sender, template_name, **kw):
        seen.append(("after", template_name))

    with (
        before_render_template.connected_to(before),
        template_rendered.connected_to(after),
        app(engine) as client,
    ):
        assert client.get("/tpl").status_code == 200
    assert seen == [("before", "same.html", "T&C"), ("after", "same.html")]
    renders = [e for e in EVENTS if e[1] == "render"]
    assert renders == [("A", "render", "same.html", ["items", "title"])]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["../secret.txt", "/etc/passwd", "../../tpl/secret.txt"])
def test_template_name_cannot_escape_directory(engine, name, caplog):
    with app(engine) as client, caplog.at_level(logging.ERROR):
        r = client.get("/tpl", params={"name": name})
    assert r.status_code == 500
    assert "SECRET_IN_PARENT" not in r.text and "root:" not in r.text
    assert any(
        "outside the template directory" in str(rec.exc_info and rec.exc_info[1])
        for rec in caplog.records
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_template_error_page_debug_and_production(engine):
    with app(engine) as client:
        r = client.get("/tpl", params={"name": "broken.html"})
        assert r.status_code == 500
        assert "undefined_name_xyz" not in r.text
    with app(engine, debug=True) as client:
        r = client.get("/tpl", params={"name": "broken.html"})
        assert r.status_code == 500
        assert "undefined_name_xyz" in r.text  # a useful page in DEBUG


def test_autoescape_can_be_turned_off():
    with app("jinja2", autoescape=False) as client:
        assert "<li><b></li>" in client.get("/tpl").text
