from torngas.forms import (
    BooleanField,
    FieldList,
    FileAllowed,
    FileField,
    FileRequired,
    FileSize,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    body_limit,
    validators,
)
from torngas.handler import ApiHandler, WebHandler

# Handlers record what ran, so tests can tell "refused before the handler ran".
CALLS: list[str] = []


class SignupForm(Form):
    next = HiddenField()
    username = StringField("Username", [validators.DataRequired(), validators.Length(3, 30)])
    password = PasswordField("Password", [validators.DataRequired(), validators.Length(min=8)])
    bio = TextAreaField("Bio & more", [validators.Length(max=200)])
    age = IntegerField("Age", [validators.Optional(), validators.NumberRange(0, 150)])
    color = SelectField(
        "Colour", choices=[SelectChoice("r", "Red"), SelectChoice("g", "Green")], default="r"
    )
    agree = BooleanField("I agree", [validators.DataRequired()])
    submit = SubmitField("Sign up")


class Signup(WebHandler):
    def get(self):
        self.render("signup.html", form=SignupForm(self))

    def post(self):
        CALLS.append("signup.post")
        form = SignupForm(self)
        if form.validate_on_submit():
            self.write(f"welcome {form.username.data}, age {form.data['age']}")
            return
        self.set_status(400)
        self.render("signup.html", form=form)


class Profile:
    username = "ann <admin>"
    bio = "likes <b>bold</b>"
    age = 33
    agree = True


class Edit(WebHandler):
    """GET with unrelated query args keeps obj= defaults; a field in the query binds."""

    def get(self):
        form = SignupForm(self, obj=Profile())
        self.write(
            {
                "data": {k: form.data[k] for k in ("username", "age", "agree")},
                "submitted": form.is_submitted(),
                "valid_on_submit": form.validate_on_submit(),
            }
        )


class ApiSignup(ApiHandler):
    def post(self):
        CALLS.append("apisignup.post")
        form = SignupForm(self)
        if not form.validate_on_submit():
            form.errors_response()
            return
        self.write_json({"ok": form.data}, status_code=201)


class Address(Form):
    city = StringField("City", [validators.DataRequired()])
    zip = IntegerField("Zip")


class TypesForm(Form):
    name = StringField("Name", [validators.DataRequired(), validators.Length(max=50)])
    count = IntegerField("Count", [validators.Optional()])
    flag = BooleanField("Flag")
    tags = SelectMultipleField("Tags", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])
    address = FormField(Address)
    notes = FieldList(StringField("Note", [validators.Length(max=5)]), min_entries=0)


class ApiTypes(ApiHandler):
    def post(self):
        form = TypesForm(self)
        if not form.validate():
            form.errors_response()
            return
        self.write_json({"data": form.data})


class WebJson(WebHandler):
    """A WebHandler: the form parses the JSON body itself (no ApiHandler)."""

    def post(self):
        form = TypesForm(self)
        if not form.validate():
            form.errors_response()
            return
        self.write({"data": form.data})


class UploadForm(Form):
    title = StringField("Title", [validators.DataRequired()])
    avatar = FileField("Avatar", [FileRequired(), FileSize(1000), FileAllowed(["png", "jpg"])])


@body_limit(4096)
class Upload(WebHandler):
    def on_prepare(self):
        CALLS.append("upload.on_prepare")

    def get(self):
        self.render("upload.html", form=UploadForm(self))

    def post(self):
        CALLS.append("upload.post")
        form = UploadForm(self)
        if not form.validate_on_submit():
            form.errors_response()
            return
        f = form.avatar.data
        self.write(
            {
                "title": form.title.data,
                "filename": f.filename,
                "safe_name": f.safe_name,
                "size": f.size,
                "content_type": f.content_type,
                "head": f.body[:8].hex(),
            }
        )


class LimitedUploadForm(UploadForm):
    max_body_size = 2048


class UploadFormLimit(WebHandler):
    xsrf_exempt = True

    def post(self):
        CALLS.append("uploadformlimit.post")
        form = LimitedUploadForm(self)
        CALLS.append("uploadformlimit.bound")
        self.write({"valid": form.validate()})
