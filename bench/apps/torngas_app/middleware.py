"""No-op middlewares: each defines ``process_request`` and ``process_response``
(the two hooks a typical middleware uses) and does nothing in them, so the
bench measures the framework's per-hook cost and nothing else."""

from __future__ import annotations

from typing import Any


class _Noop:
    def process_request(self, handler: Any, clear: Any) -> None:
        return None

    def process_response(self, handler: Any, clear: Any, chunk: list[bytes]) -> None:
        return None


# Distinct classes, as a project's middlewares are (names show up in profiles).
Noop0 = type("Noop0", (_Noop,), {})
Noop1 = type("Noop1", (_Noop,), {})
Noop2 = type("Noop2", (_Noop,), {})
Noop3 = type("Noop3", (_Noop,), {})
Noop4 = type("Noop4", (_Noop,), {})
Noop5 = type("Noop5", (_Noop,), {})
Noop6 = type("Noop6", (_Noop,), {})
Noop7 = type("Noop7", (_Noop,), {})
Noop8 = type("Noop8", (_Noop,), {})
Noop9 = type("Noop9", (_Noop,), {})
