"""torngas.forms pieces that need no server: unbound forms, rendering helpers,
uploads, validators, and the Tornado autoescape that leaves __html__ values alone."""

import pytest
from markupsafe import Markup

from torngas.forms import (
    FileAllowed,
    FileField,
    FileSize,
    Form,
    FormData,
    HiddenField,
    IntegerField,
    MultipleFileField,
    StringField,
    UploadedFile,
    body_limit,
    validators,
)
from torngas.template import TornadoTemplateLoader


class NoteForm(Form):
    token = HiddenField(default="t<1>")
    title = StringField("Title <b>", [validators.DataRequired()])
    n = IntegerField("N")


def test_unbound_form_uses_data_and_renders_markup():
    form = NoteForm(None, data={"title": 'a "b" <c>', "n": 3})
    assert form.is_submitted() is False and form.validate_on_submit() is False
    assert form.data == {"token": "t<1>", "title": 'a "b" <c>', "n": 3}
    assert form.xsrf_form_html() == ""
    assert isinstance(form.hidden_tag(), Markup)
    assert form.hidden_tag() == '<input id="token" name="token" type="hidden" value="t&lt;1&gt;">'
    html = form.render_field("title", class_="w")
    assert isinstance(html, Markup)
    assert html == (
        '<div class="field"><label for="title">Title &lt;b&gt;</label> '
        '<input class="w" id="title" name="title" required type="text" '
        'value="a &#34;b&#34; &lt;c&gt;"></div>'
    )
    assert form.title.render_with_errors(class_="w") == html
    assert form.render_field("token") == form.token()


def test_explicit_formdata_and_errors_json():
    form = NoteForm(None, formdata=FormData(title=[""], n=["x"]))
    assert form.validate() is False
    form.form_errors.append("whole form <bad>")
    assert form.errors_json() == {
        "title": ["This field is required."],
        "n": ["Not a valid integer value."],
        "_form": ["whole form <bad>"],
    }
    html = form.render_field("n")
    assert '<ul class="errors"><li>Not a valid integer value.</li></ul>' in html
    with pytest.raises(RuntimeError):
        form.errors_response()


def test_first_argument_must_be_a_handler():
    with pytest.raises(TypeError, match="takes the handler as first argument"):
        NoteForm({"title": "x"})


def test_uploaded_file():
    f = UploadedFile("..\\..\\Windows\\Evil.JPG", b"abc", "image/jpeg")
    assert (f.filename, f.body, f.content_type, f.size) == (
        "..\\..\\Windows\\Evil.JPG",
        b"abc",
        "image/jpeg",
        3,
    )
    assert f.safe_name == "Evil.JPG" and f.extension == "jpg"
    assert UploadedFile("../..", b"").safe_name == "upload"
    assert f["body"] == b"abc"  # still Tornado's dict shape


class FilesForm(Form):
    one = FileField("One", [FileSize(10, min_bytes=2), FileAllowed([".PNG", "gif"])])
    many = MultipleFileField("Many", [FileSize(10)])


def test_file_validators_and_multiple_files():
    ok = UploadedFile("a.png", b"12345")
    form = FilesForm(None, formdata=FormData(one=[ok], many=[ok, UploadedFile("b.gif", b"1")]))
    assert form.validate(), form.errors
    assert form.many.data[1].filename == "b.gif"
    form = FilesForm(None, formdata=FormData(one=[UploadedFile("a.png", b"1")], many=[""]))
    assert not form.validate()
    assert form.errors == {
        "one": ["File 'a.png' is too small (1 bytes); at least 2 bytes required."]
    }
    form = FilesForm(None, formdata=FormData(many=[UploadedFile("x", b"y" * 5000)]))
    assert not form.validate()
    assert form.errors == {"many": ["File 'x' is too large (4.9 KiB); at most 10 bytes allowed."]}


def test_body_limit_rejects_bad_arguments():
    with pytest.raises(TypeError):
        body_limit(-1)
    with pytest.raises(TypeError):
        body_limit("1k")


def test_tornado_autoescape_leaves_html_values_alone(tmp_path):
    (tmp_path / "t.html").write_text(
        "{{ s }}|{{ m }}|{{ f }}|{{ f.label }}|{% raw s %}|{{ 5 }}|{{ b }}"
    )
    form = NoteForm(None)
    ns = {"s": "<s>", "m": Markup("<b>x</b>"), "f": form.title, "b": b"<y>"}
    out = TornadoTemplateLoader(str(tmp_path)).load("t.html").generate(**ns).decode()
    assert out == (
        '&lt;s&gt;|<b>x</b>|<input id="title" name="title" required type="text" value="">'
        '|<label for="title">Title &lt;b&gt;</label>|<s>|5|&lt;y&gt;'
    )
    off = TornadoTemplateLoader(str(tmp_path), autoescape=False).load("t.html")
    assert off.generate(**ns).decode().startswith("<s>|<b>x</b>|")
