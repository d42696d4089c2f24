"""Jinja2 behind torngas's template interface (``pip install torngas[jinja2]``).

``TEMPLATE_CONFIG`` options: ``filesystem_checks`` (Jinja2's ``auto_reload``),
``cache_directory`` (compiled bytecode cache on disk), ``cache_size`` (templates
kept in memory; -1 never evicts, 0 recompiles every time), ``autoescape``
(default True); any other key is passed to :class:`jinja2.Environment`
(``trim_blocks``, ``extensions`` …). Mako-only options are ignored.
"""

from __future__ import annotations

import os
from typing import Any

from torngas.template import TemplateNotFound, html_safe_namespace, resolve_inside

__all__ = ["Jinja2TemplateLoader"]

_MAKO_ONLY = {"collection_size", "format_exceptions", "whitespace"}


class _Template:
    __slots__ = ("template",)

    def __init__(self, template: Any) -> None:
        self.template = template

    def generate(self, **kwargs: Any) -> bytes:
        return self.template.render(**html_safe_namespace(kwargs)).encode("utf-8")


class Jinja2TemplateLoader:
    def __init__(self, root_directory: str, **options: Any) -> None:
        import jinja2

        self.root = os.path.abspath(root_directory)
        self._inside: set[str] = set()
        opts = {k: v for k, v in options.items() if k not in _MAKO_ONLY}
        cache_directory = opts.pop("cache_directory", None)
        auto_reload = opts.pop("filesystem_checks", True)
        cache_size = opts.pop("cache_size", 400)
        autoescape = opts.pop("autoescape", True)
        bytecode_cache = None
        if cache_directory:
            if not os.path.isabs(cache_directory):
                cache_directory = os.path.join(self.root, cache_directory)
            os.makedirs(cache_directory, exist_ok=True)
            bytecode_cache = jinja2.FileSystemBytecodeCache(cache_directory)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.root),
            autoescape=autoescape,
            auto_reload=auto_reload,
            cache_size=cache_size,
            bytecode_cache=bytecode_cache,
            **opts,
        )
        self._jinja2 = jinja2

    def load(self, name: str, parent_path: str | None = None) -> _Template:
        if name not in self._inside:  # checked once per name (names are few)
            resolve_inside(self.root, name)
            self._inside.add(name)
        try:
            return _Template(self.env.get_template(name))
        except self._jinja2.TemplateNotFound:
            raise TemplateNotFound(f"template {name!r} not found in {self.root}") from None

    def reset(self) -> None:
        self._inside.clear()
        self.env.cache.clear() if self.env.cache is not None else None
