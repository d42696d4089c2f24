from torngas.forms import Form, PasswordField, StringField, validators


class SignupForm(Form):
    username = StringField(
        "User name",
        [
            validators.DataRequired(),
            validators.Length(min=3, max=32),
            validators.Regexp(r"^[A-Za-z0-9_]+$", message="Letters, digits and _ only."),
        ],
    )
    password = PasswordField("Password", [validators.DataRequired(), validators.Length(min=8)])
    confirm = PasswordField(
        "Repeat password",
        [validators.DataRequired(), validators.EqualTo("password", "Passwords differ.")],
    )


class LoginForm(Form):
    username = StringField("User name", [validators.DataRequired()])
    password = PasswordField("Password", [validators.DataRequired()])
