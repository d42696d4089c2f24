"""``torngas.forms.Form``: a WTForms form bound to a torngas/Tornado handler."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import wtforms
from markupsafe import Markup, escape
from tornado.web import HTTPError, RequestHandler
from wtforms.widgets import HiddenInput

from torngas.forms.files import UploadedFile
from torngas.forms.limits import check_body_size

__all__ = ["Form", "FormData", "SUBMIT_METHODS", "render_field"]

#: Methods whose request counts as a submission and whose body is bound.
SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
XSRF_NAME = "_xsrf"
#: Nesting deeper than this in a JSON body is refused (400).
MAX_JSON_DEPTH = 32
_AUTO: Any = object()
_CONTROL_CHARS = RequestHandler._remove_control_chars_regex  # noqa: SLF001 - same rule as Tornado


class FormData(dict):  # type: ignore[type-arg]
    """The multi-dict WTForms reads: ``name -> [values]``."""

    def getlist(self, key: str) -> list[Any]:
        return list(self.get(key, ()))


def _is_json(request: Any) -> bool:
    mime = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _CONTROL_CHARS.sub(" ", value)
    return str(value)  # int, float


class _JsonFlattener:
    """A JSON object → form data: ``{"a": {"b": 1}}`` → ``a-b``, lists of objects →
    ``a-0-b`` (WTForms' ``FormField`` / ``FieldList`` names), ``null`` → absent.
    Remembers which keys held an object or a list, to tell the fields."""

    def __init__(self) -> None:
        self.data = FormData()
        self.kinds: dict[str, str] = {}

    def walk(self, obj: dict[str, Any], prefix: str = "", depth: int = 0) -> None:
        if depth > MAX_JSON_DEPTH:
            raise HTTPError(400, f"JSON body nested deeper than {MAX_JSON_DEPTH} levels")
        for k, v in obj.items():
            key = prefix + k
            if isinstance(v, dict):
                self.kinds[key] = "an object"
                self.walk(v, key + "-", depth + 1)
            elif isinstance(v, list):
                if all(not isinstance(x, dict | list) for x in v):
                    self.kinds[key] = "a list"
                    self.data[key] = [_scalar(x) for x in v if x is not None]
                    for i, x in enumerate(v):  # FieldList names: key-0, key-1 …
                        if x is not None:
                            self.data[f"{key}-{i}"] = [_scalar(x)]
                else:
                    self.kinds[key] = "a list of objects or lists"
                    for i, item in enumerate(v):
                        if isinstance(item, dict):
                            self.walk(item, f"{key}-{i}-", depth + 1)
                        elif isinstance(item, list):
                            self.kinds[f"{key}-{i}"] = "a list"
                        elif item is not None:
                            self.data[f"{key}-{i}"] = [_scalar(item)]
            elif v is not None:
                self.data[key] = [_scalar(v)]


def _leaf_fields(form: Any) -> Iterator[Any]:
    for field in form:
        if isinstance(field, wtforms.FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, wtforms.FieldList):
            for entry in field.entries:
                if isinstance(entry, wtforms.FormField):
                    yield from _leaf_fields(entry.form)
                else:
                    yield entry
        else:
            yield field


def _multi_valued(field: Any) -> bool:
    from torngas.forms.files import MultipleFileField

    return isinstance(field, wtforms.SelectMultipleField | MultipleFileField)


def render_field(field: Any, **render_kw: Any) -> Markup:
    """Label, input and error list of ``field`` as one markup-safe string::

        <div class="field has-errors">
          <label for="username">Username</label>
          <input aria-invalid="true" id="username" name="username" ...>
          <ul class="errors"><li>Field must be at least 3 characters long.</li></ul>
        </div>

    Hidden fields render just the input; submit buttons have no label.
    ``render_kw`` go to the input (``class_="wide"``, ``placeholder="…"``).
    """
    if isinstance(field.widget, HiddenInput):
        return Markup(field(**render_kw))
    errors = field.errors or ()
    if errors:
        render_kw.setdefault("aria-invalid", "true")
    parts = [Markup('<div class="field%s">') % (" has-errors" if errors else "")]
    if field.type in ("SubmitField",):
        parts.append(field(**render_kw))
    elif field.type == "BooleanField":
        parts.append(field(**render_kw))
        parts.append(Markup(" ") + field.label())
    else:
        parts.append(field.label())
        parts.append(Markup(" ") + field(**render_kw))
    if errors:
        items = Markup("").join(Markup("<li>%s</li>") % escape(e) for e in _flat(errors))
        parts.append(Markup('<ul class="errors">%s</ul>') % items)
    parts.append(Markup("</div>"))
    return Markup("").join(parts)


def _flat(errors: Any) -> Iterator[str]:
    if isinstance(errors, dict):
        for v in errors.values():
            yield from _flat(v)
    elif isinstance(errors, list | tuple):
        for v in errors:
            yield from _flat(v)
    else:
        yield str(errors)


class _Meta(wtforms.meta.DefaultMeta):
    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        field = unbound_field.bind(form=form, **options)
        # form.username.render_with_errors() — the same as form.render_field("username")
        field.render_with_errors = functools.partial(render_field, field)
        return field


class Form(wtforms.Form):
    """A WTForms form bound to a handler's request.

    ``Form(handler)`` reads the data WTForms validates from the request:

    - GET/HEAD/OPTIONS: the query arguments — only when one of them names a
      field of this form, so ``data=``/``obj=`` defaults still show on a plain GET;
    - POST/PUT/PATCH/DELETE with a JSON content type: the JSON object body
      (nested objects map to ``FormField`` names ``a-b``, lists of objects to
      ``FieldList`` names ``a-0-b``; ``null`` is absent; numbers and booleans
      become strings, as in an HTML form). Malformed JSON, a body that is not an
      object, or nesting deeper than 32 levels: ``HTTPError(400)``;
    - other POST/PUT/PATCH/DELETE: the form body (urlencoded or multipart) and
      the uploaded files (:class:`~torngas.forms.UploadedFile`).

    ``_xsrf`` is never form data: Tornado's ``check_xsrf_cookie`` checks it
    before the handler runs. Unknown names are ignored. ``Form(handler,
    formdata=...)`` binds explicit data instead; ``Form(None, data=...)`` is an
    unbound form. ``obj``, ``prefix``, ``data``, ``meta`` and ``**kwargs`` are
    WTForms'.

    ``max_body_size`` (class attribute, bytes, default ``None``): binding a
    request whose body is larger raises ``HTTPError(413)``.
    """

    Meta = _Meta
    max_body_size: ClassVar[int | None] = None

    def __init__(
        self,
        handler: RequestHandler | None = None,
        formdata: Any = _AUTO,
        obj: Any = None,
        prefix: str = "",
        data: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if handler is not None and not hasattr(handler, "request"):
            raise TypeError(
                f"{type(self).__name__}() takes the handler as first argument "
                f"(got {type(handler).__name__}); pass formdata=... for other data"
            )
        self._handler = handler
        self._type_errors: list[tuple[Any, str]] = []
        self._json_kinds: dict[str, str] = {}
        if formdata is _AUTO and handler is None:
            formdata = None
        super().__init__(formdata, obj=obj, prefix=prefix, data=data, meta=meta, **kwargs)

    # -- binding -------------------------------------------------------------

    def process(
        self,
        formdata: Any = None,
        obj: Any = None,
        data: Any = None,
        extra_filters: Any = None,
        **kwargs: Any,
    ) -> None:
        if formdata is _AUTO:
            formdata = self._bind_request()
        super().process(formdata, obj, data, extra_filters, **kwargs)
        if self._json_kinds:
            self._check_json_shapes()

    def _bind_request(self) -> FormData | None:
        handler = self._handler
        assert handler is not None
        request = handler.request
        if self.max_body_size is not None:
            check_body_size(request, self.max_body_size)
        if request.method not in SUBMIT_METHODS:
            names = [f.name for f in self]
            if not any(
                k == n or k.startswith(n + "-") for k in request.query_arguments for n in names
            ):
                return None
            return FormData(
                (k, handler.get_query_arguments(k, strip=False))
                for k in request.query_arguments
                if k != XSRF_NAME
            )
        if _is_json(request):
            return self._bind_json(handler)
        formdata = FormData(
            (k, handler.get_body_arguments(k, strip=False))
            for k in request.body_arguments
            if k != XSRF_NAME
        )
        for name, uploads in request.files.items():
            formdata.setdefault(name, []).extend(UploadedFile.from_tornado(u) for u in uploads)
        return formdata

    def _bind_json(self, handler: Any) -> FormData:
        body = getattr(handler, "json_args", None)  # ApiHandler parsed it already
        if body is None and handler.request.body:
            try:
                body = json.loads(handler.request.body)
            except (UnicodeDecodeError, ValueError) as exc:
                raise HTTPError(400, f"malformed JSON body: {exc}") from None
            except RecursionError:
                raise HTTPError(400, "malformed JSON body: nested too deeply") from None
        if body is None:
            body = {}
        if not isinstance(body, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean"}.get(
                type(body), "a number"
            )
            raise HTTPError(400, f"JSON body must be an object, not {kind}")
        flat = _JsonFlattener()
        flat.walk(body)
        self._json_kinds = flat.kinds
        return flat.data

    def _check_json_shapes(self) -> None:
        kinds = self._json_kinds
        for field in _leaf_fields(self):
            kind = kinds.get(field.name)
            if kind is None:
                continue
            if kind == "a list" and _multi_valued(field):
                continue
            # The field saw none of it (or only the first value): say why.
            field.data = None if not _multi_valued(field) else []
            self._type_errors.append(
                (
                    field,
                    f"Expected a single value, not {kind}."
                    if not _multi_valued(field)
                    else f"Expected a list of values, not {kind}.",
                )
            )

    # -- validation ----------------------------------------------------------

    def is_submitted(self) -> bool:
        """True when bound to a POST, PUT, PATCH or DELETE request."""
        return self._handler is not None and self._handler.request.method in SUBMIT_METHODS

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        """WTForms' ``validate``, with clearer errors: a value that could not be
        converted ("abc" for an integer) is reported alone, without the errors
        of validators that then saw no value; a JSON value of the wrong shape
        (an object or a list for a one-value field) is that field's only error."""
        ok = super().validate(extra_validators)
        for field in _leaf_fields(self):
            if field.process_errors:  # "abc" for an integer: not also "out of range"
                field.errors = list(field.process_errors)
        for field, message in self._type_errors:
            field.errors = [message]
            ok = False
        return ok

    def validate_on_submit(self, extra_validators: dict[str, Any] | None = None) -> bool:
        """``is_submitted() and validate()``."""
        return self.is_submitted() and self.validate(extra_validators)

    def errors_json(self) -> dict[str, Any]:
        """``errors`` with form-level errors (``form.form_errors``, WTForms' key
        ``""``/``None``) under ``"_form"``."""
        form_key = getattr(self, "_form_error_key", None)
        return {
            ("_form" if k is None or k == form_key else str(k)): v for k, v in self.errors.items()
        }

    def errors_response(self, status_code: int = 400) -> None:
        """Write ``{"errors": {field: [messages]}}`` with ``status_code`` (400)
        and finish the request. Works on any handler (JSON body)."""
        handler = self._handler
        if handler is None:
            raise RuntimeError("errors_response() needs a form bound to a handler")
        handler.set_status(status_code)
        handler.set_header("Content-Type", "application/json; charset=UTF-8")
        handler.finish(
            json.dumps({"errors": self.errors_json()}, ensure_ascii=False, default=str).encode(
                "utf-8"
            )
        )

    # -- rendering -----------------------------------------------------------

    def xsrf_form_html(self) -> Markup:
        """The hidden ``_xsrf`` input (``handler.xsrf_form_html()``), or ``""``
        when ``xsrf_cookies`` is off or the form has no handler."""
        handler = self._handler
        if handler is None or not handler.settings.get("xsrf_cookies"):
            return Markup("")
        return Markup(handler.xsrf_form_html())

    def hidden_tag(self, *fields: Any) -> Markup:
        """The xsrf input and every hidden field (or the ``fields`` given, by
        name or field), for the top of a ``<form>``."""
        if fields:
            chosen = [self[f] if isinstance(f, str) else f for f in fields]
        else:
            chosen = [f for f in self if isinstance(f.widget, HiddenInput)]
        return Markup("").join([self.xsrf_form_html(), *(Markup(f()) for f in chosen)])

    def render_field(self, name: str, **render_kw: Any) -> Markup:
        """Label + input + errors of the field ``name``; see :func:`render_field`."""
        return render_field(self[name], **render_kw)
