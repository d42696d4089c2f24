"""Forms on WTForms (``pip install "torngas[forms]"``); see docs/forms.md.

::

    from torngas.forms import Form, StringField, validators

    class SignupForm(Form):
        username = StringField("Username", [validators.DataRequired()])

    class Signup(WebHandler):
        def post(self):
            form = SignupForm(self)
            if form.validate_on_submit():
                ...
            self.render("signup.html", form=form)
"""

from __future__ import annotations

try:
    import wtforms
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError('torngas.forms needs WTForms: pip install "torngas[forms]"') from exc

from wtforms import validators
from wtforms.fields import (
    BooleanField,
    DateField,
    DateTimeField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
    URLField,
)

try:  # WTForms >= 3.3 (tuples for choices are deprecated there)
    from wtforms.fields import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None  # type: ignore[assignment,misc]

from torngas.forms.files import (
    FileAllowed,
    FileField,
    FileRequired,
    FileSize,
    MultipleFileField,
    UploadedFile,
)
from torngas.forms.form import SUBMIT_METHODS, Form, FormData, render_field
from torngas.forms.limits import body_limit, check_body_size

__all__ = [
    "Form",
    "FormData",
    "SUBMIT_METHODS",
    "render_field",
    "validators",
    "wtforms",
    # fields
    "BooleanField",
    "DateField",
    "DateTimeField",
    "DateTimeLocalField",
    "DecimalField",
    "EmailField",
    "FieldList",
    "FileField",
    "FloatField",
    "FormField",
    "HiddenField",
    "IntegerField",
    "MultipleFileField",
    "PasswordField",
    "RadioField",
    "SearchField",
    "SelectChoice",
    "SelectField",
    "SelectMultipleField",
    "StringField",
    "SubmitField",
    "TelField",
    "TextAreaField",
    "URLField",
    # uploads
    "UploadedFile",
    "FileAllowed",
    "FileRequired",
    "FileSize",
    # limits
    "body_limit",
    "check_body_size",
]
