"""Mako behind torngas's template interface (``pip install torngas[mako]``).

``TEMPLATE_CONFIG`` options: ``filesystem_checks``, ``cache_directory`` (Mako's
``module_directory``), ``collection_size``, ``format_exceptions``,
``autoescape`` (default True: every ``${}`` is HTML-escaped; ``${x | n}`` opts
out); other keys go to :class:`mako.lookup.TemplateLookup`. Jinja2-only options
are ignored.
"""

from __future__ import annotations

import os
from typing import Any

from torngas.template import TemplateNotFound, html_safe_namespace, resolve_inside

__all__ = ["MakoTemplateLoader"]

_JINJA_ONLY = {"cache_size", "whitespace"}


class _Template:
    __slots__ = ("template",)

    def __init__(self, template: Any) -> None:
        self.template = template

    def generate(self, **kwargs: Any) -> bytes:
        out = self.template.render(**html_safe_namespace(kwargs))
        return out.encode("utf-8") if isinstance(out, str) else out


class MakoTemplateLoader:
    def __init__(self, root_directory: str, **options: Any) -> None:
        from mako.lookup import TemplateLookup

        self.root = os.path.abspath(root_directory)
        self._inside: set[str] = set()
        opts = {k: v for k, v in options.items() if k not in _JINJA_ONLY}
        cache_directory = opts.pop("cache_directory", None)
        if cache_directory and not os.path.isabs(cache_directory):
            cache_directory = os.path.join(self.root, cache_directory)
        autoescape = opts.pop("autoescape", True)
        opts.setdefault("default_filters", ["h"] if autoescape else ["str"])
        opts.setdefault("input_encoding", "utf-8")
        self.lookup = TemplateLookup(
            directories=[self.root],
            filesystem_checks=opts.pop("filesystem_checks", True),
            module_directory=cache_directory,
            collection_size=opts.pop("collection_size", -1),
            format_exceptions=opts.pop("format_exceptions", False),
            **opts,
        )

    def load(self, name: str, parent_path: str | None = None) -> _Template:
        from mako.exceptions import TopLevelLookupException

        if name not in self._inside:  # checked once per name (names are few)
            resolve_inside(self.root, name)
            self._inside.add(name)
        try:
            return _Template(self.lookup.get_template(name))
        except TopLevelLookupException:
            raise TemplateNotFound(f"template {name!r} not found in {self.root}") from None

    def reset(self) -> None:
        self._inside.clear()
        self.lookup._collection.clear()  # noqa: SLF001 - Mako has no public reset
