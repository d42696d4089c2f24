"""Legacy path: ``torngas.httpmodule.httpmodule.HttpModuleMiddleware``."""

from torngas.httpmodule.middleware import HttpModuleMiddleware

__all__ = ["HttpModuleMiddleware"]
