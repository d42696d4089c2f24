"""Serve a torngas project on any ASGI server (uvicorn, granian, hypercorn).

    uvicorn torngas.asgi:application                 # settings from TORNGAS_APP_SETTINGS
    # or, in the project's own asgi.py:
    from torngas.asgi import get_asgi_application
    application = get_asgi_application("settings.setting")

The application is built from settings exactly as :class:`torngas.webserver.Server`
builds it (``INSTALLED_APPS`` routes, ``APPLICATION_CLASS``, logging, the
production checks); the ASGI lifespan runs what ``Server`` runs around serving
(``Application.startup()``: ``process_init`` hooks; ``Application.shutdown()``:
``process_shutdown`` hooks, the thread pool, cache clients). Handlers are
unchanged: the bridge implements Tornado's ``HTTPConnection`` on ASGI messages
(see :mod:`torngas.asgi._http`) and Tornado's WebSocket protocol on ASGI
WebSocket (:mod:`torngas.asgi._websocket`). See docs/asgi.md.
"""

from __future__ import annotations

from typing import Any

from torngas.asgi.app import ASGIApplication

__all__ = ["ASGIApplication", "get_asgi_application", "application"]


def build_application(settings_module: str | None = None, application: Any = None) -> Any:
    """The torngas application as ``Server`` builds it, without parsing ``sys.argv``
    (the ASGI server owns the command line)."""
    from torngas.webserver import Server

    server = Server()
    server.configure(settings_module)
    server.load_urls()
    return server.load_application(application)


def get_asgi_application(
    settings_module: str | None = None, application: Any = None, **options: Any
) -> ASGIApplication:
    """An ASGI application for the project whose settings are ``settings_module``
    (default: ``TORNGAS_APP_SETTINGS``, or settings already configured).

    ``application`` is what :meth:`Server.load_application` takes: None
    (``APPLICATION_CLASS``), an Application subclass or an instance. It is built
    now, so a configuration error stops the import with its cause. ``options``
    go to :class:`ASGIApplication` (``xheaders``, ``trusted_proxies``,
    ``max_body_size``; default: the settings).
    """
    return ASGIApplication(build_application(settings_module, application), **options)


#: ``torngas.asgi:application``: the project of ``TORNGAS_APP_SETTINGS``, built
#: on first use (the lifespan start-up, or the first request when the server
#: runs no lifespan). Creating it here costs nothing.
application = ASGIApplication(factory=build_application)
