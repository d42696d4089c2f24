from torngas.forms import Form, StringField, TextAreaField, validators


class PostForm(Form):
    title = StringField("Title", [validators.DataRequired(), validators.Length(min=3, max=120)])
    body = TextAreaField("Text", [validators.DataRequired(), validators.Length(max=5000)])
