"""HTTP modules: per-route hooks (``COMMON_MODULES``, ``ROUTE_MODULES``)."""

from torngas.httpmodule.base import BaseHttpModule

__all__ = ["BaseHttpModule"]
