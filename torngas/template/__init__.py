"""Template engines behind one small interface.

``TEMPLATE_CONFIG['template_engine']`` picks the loader: ``None`` for Tornado's
own templates, ``'torngas.template.jinja2_loader.Jinja2TemplateLoader'`` or
``'torngas.template.mako_loader.MakoTemplateLoader'``. A loader is built once per
application as ``Loader(template_path, **options)`` and must offer
``load(name)`` (returning an object with ``generate(**namespace) -> bytes``)
and ``reset()``. The handler's namespace (``handler``, ``request``,
``static_url``, ``xsrf_form_html``, ``reverse_url``, ``current_user`` …) is passed
to every engine.

Every loader refuses a template name that resolves outside its directory
(``../settings.py``, ``/etc/passwd``): Tornado's own loader would open it.
Autoescaping is on by default in all three engines.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import tornado.escape
import tornado.template

from torngas.exceptions import TemplateError

__all__ = [
    "TemplateLoader",
    "TornadoTemplateLoader",
    "TemplateNotFound",
    "resolve_inside",
    "html_safe_namespace",
]


class TemplateNotFound(TemplateError, LookupError):
    """The template does not exist or its name points outside the template directory."""


class CompiledTemplate(Protocol):
    def generate(self, **kwargs: Any) -> bytes: ...


class TemplateLoader(Protocol):
    def load(self, name: str, parent_path: str | None = None) -> CompiledTemplate: ...

    def reset(self) -> None: ...


def resolve_inside(root: str, name: str) -> str:
    """The real path of ``name`` under ``root``; :class:`TemplateNotFound` if it
    would leave ``root`` (``..``, absolute paths, symlinks pointing out)."""
    base = os.path.realpath(root)
    path = os.path.realpath(os.path.join(base, name))
    if path != base and not path.startswith(base + os.sep):
        raise TemplateNotFound(f"template {name!r} is outside the template directory")
    return path


class _SafeBytes(bytes):
    """An expression's value that was already HTML (it had ``__html__``)."""

    __slots__ = ()


def _html_utf8(value: Any) -> bytes:
    # Tornado's ``_tt_utf8``: every ``{{ }}`` value goes through it before the
    # autoescape function, so this is where ``__html__`` is still visible.
    if type(value) is str:
        return value.encode("utf-8")
    html = getattr(value, "__html__", None)
    if html is not None:
        return _SafeBytes(html().encode("utf-8"))
    return tornado.escape.utf8(value)


def _html_escape(value: Any) -> Any:
    return value if type(value) is _SafeBytes else tornado.escape.xhtml_escape(value)


class TornadoTemplateLoader(tornado.template.Loader):
    """Tornado's loader, refusing names outside the template directory.

    Options: ``autoescape`` (True: ``xhtml_escape``, leaving values that have
    ``__html__`` such as ``markupsafe.Markup`` alone; False/None: off; or the
    name of an escape function), ``whitespace``; ``filesystem_checks`` is
    honoured by the handler (templates reload when ``DEBUG`` is on).
    """

    def __init__(self, root_directory: str, **options: Any) -> None:
        autoescape = options.get("autoescape", True)
        if autoescape is True:
            autoescape = "xhtml_escape"
        elif not autoescape:
            autoescape = None
        kwargs: dict[str, Any] = {"autoescape": autoescape}
        if autoescape == "xhtml_escape":
            # Values with ``__html__`` (markupsafe.Markup, WTForms fields) are
            # left alone, as in Jinja2 and Mako; everything else is escaped.
            kwargs["autoescape"] = "_torngas_escape"
            kwargs["namespace"] = {"_torngas_escape": _html_escape, "_tt_utf8": _html_utf8}
        if options.get("whitespace"):
            kwargs["whitespace"] = options["whitespace"]
        super().__init__(root_directory, **kwargs)

    def _create_template(self, name: str) -> tornado.template.Template:
        path = resolve_inside(self.root, name)
        try:
            with open(path, "rb") as f:
                return tornado.template.Template(f.read(), name=name, loader=self)
        except FileNotFoundError:
            raise TemplateNotFound(f"template {name!r} not found in {self.root}") from None


def html_safe_namespace(namespace: dict[str, Any]) -> dict[str, Any]:
    """Mark the handler helpers that return HTML as safe for autoescaping engines."""
    from markupsafe import Markup

    xsrf = namespace.get("xsrf_form_html")
    if xsrf is not None:
        namespace["xsrf_form_html"] = lambda: Markup(xsrf())
    return namespace


def make_template_loader(template_path: str | None, config: dict[str, Any] | None = None) -> Any:
    """The loader ``TEMPLATE_CONFIG`` asks for, rooted at ``template_path``."""
    from torngas._utils import import_object
    from torngas.exceptions import ImproperlyConfigured

    if config is None:
        from torngas.conf import settings

        config = dict(settings.TEMPLATE_CONFIG or {})
    else:
        config = dict(config)
    engine = config.pop("template_engine", None)
    cls = import_object(engine, what="template engine") if engine else TornadoTemplateLoader
    try:
        return cls(template_path or os.getcwd(), **config)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"template engine {engine or 'tornado'!r} failed to start: {type(exc).__name__}: {exc}"
        ) from exc
