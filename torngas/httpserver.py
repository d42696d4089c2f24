"""``TorngasHTTPServer``: Tornado's ``HTTPServer`` with proxy headers believed
only from trusted proxies.

Tornado's ``HTTPServer(xheaders=True)`` takes ``X-Real-Ip``/``X-Forwarded-For``
and ``X-Scheme``/``X-Forwarded-Proto`` from *any* peer, so a client that reaches
the process directly could choose its ``request.remote_ip`` (what access logs,
session IP binding and rate limits see). Here ``xheaders`` (the ``XHEADERS``
setting) applies :func:`torngas.security.resolve_forwarded`: the headers count
only when the TCP peer is in ``trusted_proxies`` (``TRUSTED_PROXIES``:
addresses or networks). The ASGI transport follows the same rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any

from tornado import httputil
from tornado.httpserver import HTTPServer

from torngas.security import resolve_forwarded, trusted_networks

__all__ = ["TorngasHTTPServer"]


class TorngasHTTPServer(HTTPServer):
    """``HTTPServer`` taking ``xheaders`` and ``trusted_proxies`` (default: the
    ``TRUSTED_PROXIES`` setting); every other argument is Tornado's."""

    def initialize(  # type: ignore[override]
        self,
        request_callback: Any,
        *args: Any,
        xheaders: bool = False,
        trusted_proxies: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().initialize(request_callback, *args, xheaders=False, **kwargs)
        self.torngas_xheaders = bool(xheaders)
        if trusted_proxies is None:
            from torngas.conf import settings

            trusted_proxies = settings.get("TRUSTED_PROXIES", ()) or ()
        self.trusted_networks = trusted_networks(trusted_proxies)

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        if self.torngas_xheaders:
            return _TrustedProxyAdapter(delegate, request_conn, self.trusted_networks)
        return delegate


class _TrustedProxyAdapter(httputil.HTTPMessageDelegate):
    """Sets the connection context's ``remote_ip``/``protocol`` for one request
    (restored afterwards: the next request on a kept-alive connection starts
    from the peer again)."""

    def __init__(
        self,
        delegate: httputil.HTTPMessageDelegate,
        request_conn: httputil.HTTPConnection,
        networks: tuple[Any, ...],
    ) -> None:
        self.connection = request_conn
        self.delegate = delegate
        self.networks = networks

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        context = getattr(self.connection, "context", None)
        peer = getattr(context, "_orig_remote_ip", None)
        if peer:
            ip, scheme = resolve_forwarded(peer, headers, self.networks)
            context.remote_ip = ip  # type: ignore[union-attr]
            if scheme:
                context.protocol = scheme  # type: ignore[union-attr]
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()
        self._cleanup()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()
        self._cleanup()

    def _cleanup(self) -> None:
        context = getattr(self.connection, "context", None)
        if context is not None and hasattr(context, "_orig_remote_ip"):
            context.remote_ip = context._orig_remote_ip
            context.protocol = context._orig_protocol
