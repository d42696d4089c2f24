"""``WebSocketHandler``: Tornado's WebSocket handler with the torngas request hooks
and safe defaults (docs/websocket.md).

Lifecycle of a connection:

1. Before the upgrade, ``prepare()`` runs the middleware ``process_request``
   hooks (so ``SessionMiddleware`` gives the handler ``self.session``, and an
   auth middleware or HTTP module can refuse the connection with a status code),
   then ``on_prepare()``. A session whose store is unreachable refuses the
   upgrade with 503.
2. ``Origin`` is checked against ``WEBSOCKET['ALLOWED_ORIGINS']`` (same-origin
   only when empty); a refused origin gets 403, is logged, and is never upgraded.
3. ``open()`` runs with ``self.session`` loaded and ``self.current_user``
   available (by default ``self.session.get("user")``, what
   :func:`torngas.auth.login` stores; override :meth:`get_current_user`).
4. ``on_message()`` receives text (``str``), binary (``bytes``) or, with
   ``message_format = "json"``, the parsed JSON value.
5. ``on_close()``, then the ``process_endcall`` hooks (once, when the socket
   closes); :mod:`torngas.broadcast` subscriptions of the socket are dropped.

Junk and failures close the connection politely, with a close code:
a message over ``MAX_MESSAGE_SIZE`` → 1009, invalid UTF-8 in a text message →
1007, non-JSON text under ``message_format = "json"`` → 1007, a binary message
there → 1003, an exception in ``open``/``on_message`` → 1011 (logged with the
handler's name; the server keeps serving). The server pings every
``PING_INTERVAL`` seconds and drops a client that does not answer within
``PING_TIMEOUT``.

``self.torngas_settings`` is the torngas settings object (``self.settings`` stays
Tornado's application settings). ``process_render``/``process_response`` do not
apply after the upgrade: a session changed in a socket is not saved.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import tornado.websocket
from tornado.web import HTTPError

from torngas.conf import settings as _settings
from torngas.exceptions import ImproperlyConfigured
from torngas.handler import HandlerHooksMixin
from torngas.logger import escape_log_value
from torngas.signal import got_request_exception

__all__ = ["WebSocketConfig", "WebSocketHandler"]

log = logging.getLogger("torngas.websocket")

_KNOWN_KEYS = frozenset({"ALLOWED_ORIGINS", "PING_INTERVAL", "PING_TIMEOUT", "MAX_MESSAGE_SIZE"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_MESSAGE_FORMATS = ("text", "json")


def normalize_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or None
    when ``origin`` is not an origin (``"null"``, a path, garbage)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except (ValueError, AttributeError):
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host or parts.path not in ("", "/") or parts.query or parts.username:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class WebSocketConfig:
    """The ``WEBSOCKET`` setting, validated (one per handler class and application)."""

    allowed_origins: frozenset[str] = frozenset()
    allow_any_origin: bool = False
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    max_message_size: int = 64 * 1024

    @classmethod
    def from_settings(
        cls,
        websocket: Mapping[str, Any] | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
        tornado_settings: Mapping[str, Any] | None = None,
    ) -> WebSocketConfig:
        """Merge ``websocket`` (default ``settings.WEBSOCKET``) over the defaults,
        then Tornado's ``websocket_*`` application settings, then ``overrides``
        (a handler's ``websocket_options``)."""
        from torngas.conf import global_settings

        if websocket is None:
            websocket = _settings.get("WEBSOCKET", None) or {}
        merged: dict[str, Any] = {**global_settings.WEBSOCKET, **dict(websocket)}
        tornado_settings = tornado_settings or {}
        for key, name in (
            ("PING_INTERVAL", "websocket_ping_interval"),
            ("PING_TIMEOUT", "websocket_ping_timeout"),
            ("MAX_MESSAGE_SIZE", "websocket_max_message_size"),
        ):
            if tornado_settings.get(name) is not None:
                merged[key] = tornado_settings[name]
        merged.update(overrides or {})
        unknown = sorted(set(merged) - _KNOWN_KEYS)
        if unknown:
            raise ImproperlyConfigured(
                f"WEBSOCKET: unknown keys {', '.join(unknown)} "
                f"(known: {', '.join(sorted(_KNOWN_KEYS))})"
            )
        origins = merged["ALLOWED_ORIGINS"] or ()
        if isinstance(origins, str):
            origins = [origins]
        allowed: set[str] = set()
        any_origin = False
        for entry in origins:
            if entry == "*":
                any_origin = True
                continue
            norm = normalize_origin(str(entry)) if isinstance(entry, str) else None
            if norm is None:
                raise ImproperlyConfigured(
                    f"WEBSOCKET['ALLOWED_ORIGINS']: {entry!r} is not an origin; "
                    "write scheme://host[:port], e.g. 'https://example.com'"
                )
            allowed.add(norm)
        interval = _number(merged["PING_INTERVAL"], "PING_INTERVAL")
        timeout = _number(merged["PING_TIMEOUT"], "PING_TIMEOUT")
        if interval and timeout > interval:
            timeout = interval  # Tornado >= 6.5 caps it too (with a warning per handler)
        size = _number(merged["MAX_MESSAGE_SIZE"], "MAX_MESSAGE_SIZE")
        if size <= 0:
            raise ImproperlyConfigured("WEBSOCKET['MAX_MESSAGE_SIZE'] must be > 0 bytes")
        return cls(
            allowed_origins=frozenset(allowed),
            allow_any_origin=any_origin,
            ping_interval=interval,
            ping_timeout=timeout,
            max_message_size=int(size),
        )


def _number(value: Any, name: str) -> float:
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"WEBSOCKET[{name!r}] must be a number") from None
    if number < 0:
        raise ImproperlyConfigured(f"WEBSOCKET[{name!r}] must be >= 0, not {value!r}")
    return number


def _protocol_class() -> Any:
    """WebSocketProtocol13 that closes with 1007 on invalid UTF-8 and hands data
    frames to ``handler._torngas_receive`` (None if Tornado's internals moved)."""
    try:
        from tornado.websocket import (  # type: ignore[attr-defined]
            WebSocketProtocol13,
            _DecompressTooLargeError,
            _WebSocketParams,
        )
    except ImportError:  # pragma: no cover - a future Tornado
        return None

    class TorngasProtocol(WebSocketProtocol13):  # type: ignore[misc, valid-type]
        params_class = _WebSocketParams

        def _handle_message(self, opcode: int, data: bytes) -> Any:
            if opcode not in (0x1, 0x2):
                return super()._handle_message(opcode, data)
            if self.client_terminated or self.server_terminated:
                return None  # closing: data frames are dropped
            if self._frame_compressed:
                try:
                    data = self._decompressor.decompress(data)
                except _DecompressTooLargeError:
                    self.close(1009, "message too big after decompression")
                    self._abort()
                    return None
            self._message_bytes_in += len(data)
            if opcode == 0x1:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    self.handler._refuse(1007, "invalid UTF-8 in a text message")
                    return None
                return self._run_callback(self.handler._torngas_receive, text)
            return self._run_callback(self.handler._torngas_receive, data)

    return TorngasProtocol


_PROTOCOL: Any = _protocol_class()


class WebSocketHandler(HandlerHooksMixin, tornado.websocket.WebSocketHandler):
    """Base for WebSocket endpoints (see the module docstring for the lifecycle).

    Class attributes:

    ``message_format``
        ``"text"`` (default: ``on_message`` gets ``str`` or ``bytes``) or
        ``"json"`` (``on_message`` gets the parsed value; non-JSON text closes
        with 1007, a binary message with 1003).
    ``websocket_options``
        Keys of ``WEBSOCKET`` for this handler only, e.g.
        ``{"MAX_MESSAGE_SIZE": 1 << 20, "ALLOWED_ORIGINS": ["https://app.example"]}``.
    ``session_user_key``
        The session key :meth:`get_current_user` reads (``"user"``).
    """

    torngas_settings = _settings
    message_format: ClassVar[str] = "text"
    websocket_options: ClassVar[Mapping[str, Any] | None] = None
    session_user_key: ClassVar[str] = "user"

    # ------------------------------------------------------------ config
    @property
    def websocket_config(self) -> WebSocketConfig:
        """This handler class's :class:`WebSocketConfig` (built once per application)."""
        app = self.application
        cache: dict[type, WebSocketConfig] | None = app.__dict__.get("_torngas_ws_configs")
        if cache is None:
            cache = app._torngas_ws_configs = {}
        cls = type(self)
        config = cache.get(cls)
        if config is None:
            if cls.message_format not in _MESSAGE_FORMATS:
                raise ImproperlyConfigured(
                    f"{cls.__qualname__}.message_format must be one of {_MESSAGE_FORMATS}, "
                    f"not {cls.message_format!r}"
                )
            config = cache[cls] = WebSocketConfig.from_settings(
                overrides=cls.websocket_options, tornado_settings=app.settings
            )
        return config

    @property
    def ping_interval(self) -> float | None:
        """``WEBSOCKET['PING_INTERVAL']`` (Tornado's ``websocket_ping_interval``)."""
        return self.websocket_config.ping_interval

    @property
    def ping_timeout(self) -> float | None:
        """``WEBSOCKET['PING_TIMEOUT']`` (Tornado's ``websocket_ping_timeout``)."""
        return self.websocket_config.ping_timeout

    @property
    def max_message_size(self) -> int:
        """``WEBSOCKET['MAX_MESSAGE_SIZE']`` (Tornado's ``websocket_max_message_size``)."""
        return self.websocket_config.max_message_size

    def get_websocket_protocol(self) -> Any:
        if _PROTOCOL is None or self.request.headers.get("Sec-WebSocket-Version") != "13":
            return super().get_websocket_protocol()
        params = _PROTOCOL.params_class(
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            max_message_size=self.max_message_size,
            compression_options=self.get_compression_options(),
        )
        return _PROTOCOL(self, False, params)

    # ------------------------------------------------------------ before the upgrade
    async def get(self, *args: Any, **kwargs: Any) -> None:
        session = self.__dict__.get("session")
        if session is not None and getattr(session, "error", None) is not None:
            from torngas.middleware.session import UnavailableSession

            if isinstance(session, UnavailableSession):
                # The store is down: refuse now rather than fail inside open().
                raise HTTPError(503)
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        """Allow the page's own origin and ``ALLOWED_ORIGINS``; log and refuse others.

        Called before the upgrade, after ``prepare()``, for requests that carry an
        ``Origin`` header. A refusal is answered 403 and the socket never opens.
        """
        config = self.websocket_config
        if config.allow_any_origin:
            return True
        norm = normalize_origin(origin)
        if norm is not None:
            if norm in config.allowed_origins:
                return True
            host = (self.request.host or "").lower()
            if urlsplit(norm).netloc == host or norm.split("://", 1)[1] == host:
                return True
        if not config.allowed_origins and super().check_origin(origin):
            return True  # Tornado's own rule (same host, trusted_origins)
        log.warning(
            "WebSocket %s refused: Origin %s is not allowed (WEBSOCKET['ALLOWED_ORIGINS']) for %s",
            type(self).__qualname__,
            escape_log_value(origin),
            escape_log_value(self.request.path or ""),
        )
        return False

    # ------------------------------------------------------------ the user
    def get_current_user(self) -> Any:
        """``self.session.get(self.session_user_key)`` (None without a session).

        Matches :func:`torngas.auth.login` (``login(handler, user=...)``).
        Override for another scheme; not a coroutine.
        """
        session = self.__dict__.get("session")
        if session is None:
            return None
        return session.get(self.session_user_key)

    # ------------------------------------------------------------ messages
    def _torngas_receive(self, message: str | bytes) -> Awaitable[None] | None:
        if self.message_format == "json":
            if isinstance(message, bytes):
                self._refuse(1003, "binary messages are not accepted (JSON text expected)")
                return None
            try:
                value = json.loads(message)
            except ValueError:
                self._refuse(1007, "invalid JSON")
                return None
            return self.on_message(value)  # type: ignore[arg-type]
        return self.on_message(message)

    def _refuse(self, code: int, reason: str) -> None:
        """Close politely because the client sent something unacceptable."""
        log.info(
            "WebSocket %s from %s closed with %d: %s",
            type(self).__qualname__,
            self.request.remote_ip,
            code,
            reason,
        )
        self.close(code, reason)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """After the upgrade: log the error with the handler's name and close the
        socket with 1011 (the other connections are unaffected)."""
        if self.ws_connection is None or self.get_status() != 101:
            super().log_exception(typ, value, tb)
            return
        if got_request_exception.receivers:
            got_request_exception.send_robust(type(self), handler=self, exception=value)
        log.error(
            "WebSocket %s.%s (%s %s): uncaught exception; closing with 1011",
            type(self).__module__,
            type(self).__qualname__,
            escape_log_value(self.request.path or ""),
            self.request.remote_ip,
            exc_info=(typ, value, tb),
        )
        self.close(1011, "internal error")

    # ------------------------------------------------------------ closing
    def on_finish(self) -> None:
        # finish() runs at the 101 response too: the endcall hooks wait for the close.
        if self.get_status() == 101 and not self.__dict__.get("_torngas_closed"):
            return
        super().on_finish()

    def on_connection_close(self) -> None:
        subs: Iterable[Any] = self.__dict__.pop("_torngas_subscriptions", ())
        for sub in list(subs):
            sub.drop(self)
        super().on_connection_close()
        if not self.__dict__.get("_torngas_closed"):
            self._torngas_closed = True
            self.on_finish()
