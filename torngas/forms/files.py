"""File uploads: :class:`FileField`, :class:`MultipleFileField`, :class:`UploadedFile`
and the validators :class:`FileRequired`, :class:`FileSize`, :class:`FileAllowed`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import wtforms
from wtforms.validators import StopValidation, ValidationError

__all__ = [
    "UploadedFile",
    "FileField",
    "MultipleFileField",
    "FileRequired",
    "FileSize",
    "FileAllowed",
]


class UploadedFile(dict):  # type: ignore[type-arg]
    """One uploaded file: Tornado's upload dict (``filename``, ``body``,
    ``content_type``) with attribute access and ``size``.

    ``filename`` is what the client sent: never use it as a path. ``safe_name``
    is its last path component (``../../etc/passwd`` → ``passwd``).
    """

    def __init__(self, filename: str, body: bytes, content_type: str = "") -> None:
        super().__init__(filename=filename, body=body, content_type=content_type)

    @classmethod
    def from_tornado(cls, upload: Any) -> UploadedFile:
        return cls(
            upload.get("filename") or "",
            upload.get("body") or b"",
            upload.get("content_type") or "",
        )

    @property
    def filename(self) -> str:
        return self["filename"]

    @property
    def body(self) -> bytes:
        return self["body"]

    @property
    def content_type(self) -> str:
        return self["content_type"]

    @property
    def size(self) -> int:
        return len(self["body"])

    @property
    def safe_name(self) -> str:
        name = self["filename"].replace("\\", "/").rsplit("/", 1)[-1]
        return name.replace("\x00", "").strip().lstrip(".") or "upload"

    @property
    def extension(self) -> str:
        """Lower-case extension without the dot (``"png"``), ``""`` if none."""
        return os.path.splitext(self.safe_name)[1][1:].lower()

    def __repr__(self) -> str:
        return f"<UploadedFile {self.filename!r} {self.content_type!r} {self.size} bytes>"


def _is_upload(value: Any) -> bool:
    return isinstance(value, UploadedFile)


class FileField(wtforms.fields.FileField):
    """``<input type="file">``; ``data`` is an :class:`UploadedFile` or ``None``.

    A form bound to a multipart request gets the file from ``request.files``.
    An empty file input (browsers send an empty part without a filename) gives
    ``None``. A text value under this name (e.g. a JSON string) is an error.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        self.data = None
        for value in valuelist:
            if _is_upload(value):
                self.data = value
                return
        if any(v not in ("", None) for v in valuelist):
            raise ValueError(self.gettext("Expected a file upload."))


class MultipleFileField(FileField):
    """``<input type="file" multiple>``; ``data`` is a list of :class:`UploadedFile`."""

    widget = wtforms.widgets.FileInput(multiple=True)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        self.data = [v for v in valuelist if _is_upload(v)]
        if len(self.data) != len([v for v in valuelist if v not in ("", None)]):
            raise ValueError(self.gettext("Expected file uploads."))


def _files(data: Any) -> list[Any]:
    if not data:
        return []
    return list(data) if isinstance(data, list | tuple) else [data]


def _size_text(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024  # type: ignore[assignment]
    raise AssertionError  # pragma: no cover


class FileRequired:
    """A file must have been uploaded (stops the validation chain otherwise)."""

    field_flags = {"required": True}

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if not any(hasattr(f, "body") for f in _files(field.data)):
            field.errors[:] = []
            raise StopValidation(self.message or field.gettext("A file is required."))


class FileSize:
    """Each uploaded file is at most ``max_bytes`` (and at least ``min_bytes``).

    No file passes (combine with :class:`FileRequired`). This runs after the
    body was received: it rejects the file, it does not stop it being
    buffered — see ``body_limit`` / ``Form.max_body_size`` in docs/forms.md.
    """

    def __init__(self, max_bytes: int, min_bytes: int = 0, message: str | None = None) -> None:
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        for f in _files(field.data):
            size = len(f.body)
            if size > self.max_bytes:
                raise ValidationError(
                    self.message
                    or f"File {getattr(f, 'safe_name', f.filename)!r} is too large "
                    f"({_size_text(size)}); at most {_size_text(self.max_bytes)} allowed."
                )
            if size < self.min_bytes:
                raise ValidationError(
                    self.message
                    or f"File {getattr(f, 'safe_name', f.filename)!r} is too small "
                    f"({_size_text(size)}); at least {_size_text(self.min_bytes)} required."
                )


class FileAllowed:
    """Each uploaded file's name ends in one of ``extensions`` (case-insensitive,
    without the dot: ``["png", "jpg"]``). This checks the name only, not the
    content: treat the bytes as untrusted anyway."""

    def __init__(self, extensions: Iterable[str], message: str | None = None) -> None:
        self.extensions = tuple(e.lower().lstrip(".") for e in extensions)
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        for f in _files(field.data):
            name = f.filename.replace("\\", "/").rsplit("/", 1)[-1]
            ext = os.path.splitext(name)[1][1:].lower()
            if ext not in self.extensions:
                raise ValidationError(
                    self.message
                    or f"File type {('.' + ext) if ext else '(none)'} is not allowed; "
                    f"allowed: {', '.join(self.extensions)}."
                )
