"""torngas.forms through real HTTP: three template engines, xsrf, JSON, junk input,
uploads and body limits."""

import json
import os
import re

import pytest

from tests.forms.formapp.handlers import CALLS
from torngas.testing import serve

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "formapp", "templates")
ENGINES = {
    "tornado": None,
    "jinja2": "torngas.template.jinja2_loader.Jinja2TemplateLoader",
    "mako": "torngas.template.mako_loader.MakoTemplateLoader",
}
XSRF_RE = re.compile(r'<input type="hidden" name="_xsrf" value="([^"]+)"/>')


def app(engine="tornado", xsrf=True):
    return serve(
        INSTALLED_APPS=["tests.forms.formapp"],
        DEBUG=False,
        TORNADO_CONF={
            "template_path": os.path.join(TEMPLATES, engine),
            "cookie_secret": "forms-test-secret",
            "xsrf_cookies": xsrf,
            "autoreload": False,
        },
        TEMPLATE_CONFIG={"template_engine": ENGINES[engine]},
    )


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


def token(client, path="/signup"):
    r = client.get(path)
    assert r.status_code == 200, r.text
    return XSRF_RE.search(r.text).group(1)


def normalise(html):
    html = XSRF_RE.sub('<input type="hidden" name="_xsrf" value="TOKEN"/>', html)
    return re.sub(r"\s+", "", html)


# -- rendering in the three engines ----------------------------------------------


def test_get_renders_the_same_form_in_all_three_engines():
    pages = {}
    for engine in ENGINES:
        with app(engine) as client:
            r = client.get("/signup", params={"username": "<script>alert(1)</script>"})
            assert r.status_code == 200, (engine, r.text)
            pages[engine] = r.text
    normal = {e: normalise(p) for e, p in pages.items()}
    assert normal["tornado"] == normal["jinja2"] == normal["mako"], normal
    page = pages["tornado"]
    # the xsrf input and the hidden field, as HTML (not escaped)
    assert XSRF_RE.search(page)
    assert '<input id="next" name="next" type="hidden" value="">' in page
    # labels and inputs are markup, label text is escaped exactly once
    assert '<label for="username">Username</label>' in page
    assert '<input class="in" id="username" maxlength="30" minlength="3" name="username"' in page
    assert '<label for="bio">Bio &amp; more</label>' in page
    assert (
        '<input id="password" minlength="8" name="password" required type="password" value="">'
        in page
    )
    assert '<option selected value="r">Red</option>' in page
    assert '<input id="submit" name="submit" type="submit" value="Sign up">' in page
    assert "&amp;amp;" not in page and "&lt;input" not in page and "&lt;label" not in page
    # user input from the query string is escaped, once
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert "<script>" not in page
    assert 'class="field has-errors"' not in page  # a GET is not validated


@pytest.mark.parametrize("engine", ENGINES)
def test_post_with_errors_re_renders_with_messages(engine):
    with app(engine) as client:
        tok = token(client)
        r = client.post(
            "/signup",
            data={"_xsrf": tok, "username": "ab", "age": "abc", "bio": "<img src=x onerror=1>"},
        )
    assert r.status_code == 400
    page = r.text
    assert '<li class="err">Field must be between 3 and 30 characters long.</li>' in page
    assert (
        '<div class="field has-errors"><label for="password">Password</label> '
        '<input aria-invalid="true" id="password"' in page
    )
    assert '<ul class="errors"><li>This field is required.</li></ul>' in page
    # a value that is not an integer reports only that, not also "out of range"
    assert '<ul class="errors"><li>Not a valid integer value.</li></ul>' in page
    assert 'name="age" type="number" value="abc"' in page
    # the submitted text comes back escaped, once
    assert "&lt;img src=x onerror=1&gt;</textarea>" in page
    assert "<img" not in page and "&amp;lt;" not in page
    assert XSRF_RE.search(page)  # a fresh token for the next try


@pytest.mark.parametrize("engine", ENGINES)
def test_upload_page_renders_file_input(engine):
    with app(engine) as client:
        r = client.get("/upload")
    assert r.status_code == 200
    assert '<input id="avatar" name="avatar" required type="file">' in r.text
    assert XSRF_RE.search(r.text)


# -- xsrf ---------------------------------------------------------------------------


def test_post_without_xsrf_is_403_and_handler_does_not_run():
    with app() as client:
        client.get("/signup")  # has the cookie, but sends no token
        data = {"username": "alice", "password": "long-enough", "agree": "y"}
        assert client.post("/signup", data=data).status_code == 403
        assert client.post("/signup", data={**data, "_xsrf": "2|00|00|1"}).status_code == 403
        r = client.post("/api/signup", json=data)
        assert r.status_code == 403
        assert r.json()["error"]["status"] == 403
    assert CALLS == []


def test_fixed_post_succeeds():
    with app() as client:
        tok = token(client)
        r = client.post(
            "/signup",
            data={
                "_xsrf": tok,
                "username": "alice",
                "password": "long-enough",
                "agree": "y",
                "age": "30",
                "unknown": "ignored",
            },
        )
    assert r.status_code == 200, r.text
    assert r.text == "welcome alice, age 30"
    assert CALLS == ["signup.post"]


# -- JSON (ApiHandler) --------------------------------------------------------------


def api_headers(client):
    client.get("/signup")
    return {"X-XSRFToken": client.cookies["_xsrf"]}


def test_json_body_binds_to_api_form():
    with app() as client:
        h = api_headers(client)
        r = client.post(
            "/api/signup",
            json={
                "username": "bob",
                "password": "long-enough",
                "agree": True,
                "age": 41,
                "color": "g",
                "extra": {"ignored": 1},
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        data = r.json()["ok"]
        assert "_xsrf" not in data and "extra" not in data
        assert data["username"] == "bob" and data["age"] == 41
        assert data["agree"] is True and data["color"] == "g"

        r = client.post(
            "/api/signup", json={"username": "bo", "agree": False, "age": 200}, headers=h
        )
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {
        "errors": {
            "username": ["Field must be between 3 and 30 characters long."],
            "password": ["This field is required."],
            "age": ["Number must be between 0 and 150."],
            "agree": ["This field is required."],
        }
    }


def test_json_nested_objects_and_lists_map_to_formfield_and_fieldlist():
    body = {
        "name": "n",
        "count": 3,
        "flag": True,
        "tags": ["a", "b"],
        "address": {"city": "Paris", "zip": 75001},
        "notes": ["x", "yy"],
    }
    with app(xsrf=False) as client:
        r = client.post("/api/types", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["data"] == {
            "name": "n",
            "count": 3,
            "flag": True,
            "tags": ["a", "b"],
            "address": {"city": "Paris", "zip": 75001},
            "notes": ["x", "yy"],
        }
        r = client.post("/api/types", json={"name": "n", "tags": "a", "flag": False})
        assert r.status_code == 400  # address.city is required
        assert r.json() == {"errors": {"address": {"city": ["This field is required."]}}}


JUNK = [
    ({"name": "n", "count": "abc"}, {"count": ["Not a valid integer value."]}),
    ({"name": "n", "count": 1.5}, {"count": ["Not a valid integer value."]}),
    ({"name": "n", "count": "9" * 10000}, {"count": ["Not a valid integer value."]}),
    ({"name": "n", "count": [1, 2]}, {"count": ["Expected a single value, not a list."]}),
    ({"name": ["a", "b"]}, {"name": ["Expected a single value, not a list."]}),
    ({"name": {"x": 1}}, {"name": ["Expected a single value, not an object."]}),
    ({"name": [{"x": 1}]}, {"name": ["Expected a single value, not a list of objects or lists."]}),
    ({"name": None}, {"name": ["This field is required."]}),
    ({"name": "x" * 200_000}, {"name": ["Field cannot be longer than 50 characters."]}),
    ({"name": "n", "tags": {"a": 1}}, {"tags": ["Expected a list of values, not an object."]}),
    ({"name": "n", "tags": ["zz"]}, {"tags": ["'zz' is not a valid choice for this field."]}),
    ({"name": "n", "address": "Paris"}, {"address": {"city": ["This field is required."]}}),
    (
        {"name": "n", "notes": ["toolong"]},
        {"notes": [["Field cannot be longer than 5 characters."]]},
    ),
    ({}, {"name": ["This field is required."]}),
]


@pytest.mark.parametrize("path", ["/api/types", "/web/json"])
@pytest.mark.parametrize(("body", "errors"), JUNK)
def test_junk_json_is_a_400_with_field_errors(path, body, errors):
    body = {"address": {"city": "c"}, **body}
    with app(xsrf=False) as client:
        r = client.post(path, json=body)
    assert r.status_code == 400, r.text
    assert r.json() == {"errors": errors}


BAD_BODIES = [
    (b'{"name": ', "malformed JSON body"),
    (b"\xff\xfe{}", "malformed JSON body"),
    (b"[1, 2]", "JSON body must be an object, not an array"),
    (b'"name"', "JSON body must be an object, not a string"),
    (b"42", "JSON body must be an object, not a number"),
    (b"true", "JSON body must be an object, not a boolean"),
    (b"[" * 5000 + b"]" * 5000, None),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper than 32 levels"),
    (b'{"count": 1' + b"0" * 5000 + b"}", "malformed JSON body"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_json_bodies_are_400_not_500_on_a_web_handler(body, message):
    # The form parses the body itself here (a WebHandler has no json_args).
    with app(xsrf=False) as client:
        r = client.post("/web/json", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text  # the page shows the status only (DEBUG off)


@pytest.mark.parametrize(("body", "message"), [b for b in BAD_BODIES if b[0][:1] != b"["])
def test_bad_json_bodies_are_400_json_on_an_api_handler(body, message):
    with app(xsrf=False) as client:
        r = client.post("/api/types", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["status"] == 400
    assert message in error["detail"]


def test_empty_json_body_is_an_empty_form():
    with app(xsrf=False) as client:
        r = client.post("/api/types", content=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["errors"]["name"] == ["This field is required."]


def test_urlencoded_junk_is_400():
    with app(xsrf=False) as client:
        r = client.post(
            "/web/json",
            content=b"name=%ff%fe&count=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 400  # invalid UTF-8 in an argument: Tornado's 400
        r = client.post(
            "/web/json",
            data={"name": "a\x00b", "count": ["1", "2"], "address-city": "c", "flag": "false"},
        )
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["name"] == "a b"  # control characters replaced, as Tornado's get_argument
        assert data["count"] == 1 and data["flag"] is False


# -- GET binding ------------------------------------------------------------------


def test_get_binds_query_only_when_it_names_a_field():
    with app() as client:
        r = client.get("/edit", params={"page": "2"})
        assert r.json() == {
            "data": {"username": "ann <admin>", "age": 33, "agree": True},
            "submitted": False,
            "valid_on_submit": False,
        }
        r = client.get("/edit", params={"username": "zed", "age": "x"})
        assert r.json()["data"] == {"username": "zed", "age": None, "agree": False}
        assert r.json()["submitted"] is False


# -- uploads and body limits --------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 492


def test_upload_accepted():
    with app() as client:
        tok = token(client, "/upload")
        CALLS.clear()
        r = client.post(
            "/upload",
            data={"_xsrf": tok, "title": "me"},
            files={"avatar": ("../../etc/Me.PNG", PNG, "image/png")},
        )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "title": "me",
        "filename": "../../etc/Me.PNG",
        "safe_name": "Me.PNG",
        "size": 500,
        "content_type": "image/png",
        "head": PNG[:8].hex(),
    }
    assert CALLS == ["upload.on_prepare", "upload.post"]


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {"avatar": ("big.png", b"x" * 1500, "image/png")},
            "File 'big.png' is too large (1.5 KiB); at most 1000 bytes allowed.",
        ),
        (
            {"avatar": ("evil.exe", b"MZ", "application/octet-stream")},
            "File type .exe is not allowed; allowed: png, jpg.",
        ),
        (
            {"avatar": ("noext", b"MZ", "application/octet-stream")},
            "File type (none) is not allowed; allowed: png, jpg.",
        ),
        ({"other": ("a.png", PNG, "image/png")}, "A file is required."),
        (None, "A file is required."),
    ],
)
def test_upload_refused_by_size_extension_or_absence(files, error):
    with app() as client:
        tok = token(client, "/upload")
        r = client.post("/upload", data={"_xsrf": tok, "title": "t", "avatar": ""}, files=files)
    assert r.status_code == 400, r.text
    assert r.json() == {"errors": {"avatar": [error]}}


def test_text_value_for_a_file_field_is_an_error():
    with app() as client:
        tok = token(client, "/upload")
        r = client.post("/upload", data={"_xsrf": tok, "title": "t", "avatar": "C:/x.png"})
    assert r.status_code == 400
    assert r.json() == {"errors": {"avatar": ["Expected a file upload."]}}


def test_oversize_body_is_413_before_the_handler_runs():
    with app() as client:
        tok = token(client, "/upload")
        CALLS.clear()
        r = client.post(
            "/upload",
            data={"_xsrf": tok, "title": "t"},
            files={"avatar": ("a.png", b"x" * 10_000, "image/png")},
        )
        assert r.status_code == 413
        assert "4096" not in r.text  # error page shows the status only (DEBUG off)
        assert CALLS == []  # not even on_prepare
        # the connection is still usable; a small body goes through
        r = client.post(
            "/upload",
            data={"_xsrf": tok, "title": "t"},
            files={"avatar": ("a.png", PNG, "image/png")},
        )
        assert r.status_code == 200
    assert CALLS == ["upload.on_prepare", "upload.post"]


def test_form_max_body_size_refuses_before_binding():
    with app() as client:
        r = client.post("/upload-form-limit", files={"avatar": ("a.png", b"x" * 3000, "image/png")})
        assert r.status_code == 413
        assert CALLS == ["uploadformlimit.post"]
        CALLS.clear()
        r = client.post(
            "/upload-form-limit", data={"title": "t"}, files={"avatar": ("a.png", PNG, "image/png")}
        )
        assert r.status_code == 200 and r.json() == {"valid": True}
        assert CALLS == ["uploadformlimit.post", "uploadformlimit.bound"]


def test_xsrf_token_in_error_json_not_leaked():
    with app() as client:
        tok = token(client, "/upload")
        r = client.post("/upload", data={"_xsrf": tok, "title": ""})
    assert tok not in r.text and "_xsrf" not in json.dumps(r.json())


def test_deeply_nested_json_on_an_api_handler_is_400():
    with app(xsrf=False) as client:
        r = client.post(
            "/api/types",
            content=b"[" * 5000 + b"]" * 5000,
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 400
