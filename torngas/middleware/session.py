"""``SessionMiddleware``: ``handler.session`` backed by a cache alias.

Add ``"torngas.middleware.session.SessionMiddleware"`` to ``MIDDLEWARE_CLASSES``
and configure ``SESSION`` (docs/sessions.md). Per request (see the lifecycle in
:mod:`torngas.middleware`):

3. ``process_request`` — no session cookie: ``handler.session`` is an empty
   :class:`~torngas.sessions.Session` and the store is not touched. A cookie whose
   signature verifies: the record is loaded (awaited, bounded by
   ``SESSION['store_timeout']``). A cookie that does not verify is never looked up.
   The handler also gets ``handler.set_expire(seconds)``.
5. before the response leaves (``finish()``) — a modified session is written
   and the store's answer is *awaited* before any byte of the response is
   sent, so the next request (on any process sharing the store) sees the change.
   Nothing is written for a 4xx/5xx response, nor when the session was not
   modified. A response that read the session gets ``Vary: Cookie``.

The store unreachable or too slow: a request whose handler uses the session
(or that has a change to save) is answered ``503 Service Unavailable`` (JSON for
ApiHandler); a page that never touches the session is still served. The cause is
logged (once per 10 s while it lasts) and the next request tries the store again.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from torngas.exceptions import ServiceUnavailable
from torngas.logger import escape_log_value
from torngas.middleware import BaseMiddleware, Clear
from torngas.security import client_ip
from torngas.sessions import (
    CookieAction,
    Session,
    SessionConfig,
    SessionStore,
    SessionStoreError,
)

if TYPE_CHECKING:
    from tornado.web import RequestHandler

__all__ = ["SessionMiddleware"]

log = logging.getLogger("torngas.sessions")


class _StoreHealth:
    """Logs store failures once per ``interval`` seconds, and the recovery."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.failures = 0
        self._last_log = 0.0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        now = time.monotonic()
        if self.failures == 1 or now - self._last_log >= self.interval:
            self._last_log = now
            log.error(
                "session store unavailable; requests using the session get 503 "
                "(%d failure(s) so far): %s",
                self.failures,
                exc,
            )

    def ok(self) -> None:
        if self.failures:
            log.warning("session store is answering again after %d failure(s)", self.failures)
            self.failures = 0


class UnavailableSession(Session):
    """Stands in for a session the store could not load: any use of it raises
    :class:`~torngas.exceptions.ServiceUnavailable` (the request is answered 503)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    @property  # type: ignore[override]
    def _data(self) -> dict[str, Any]:
        raise ServiceUnavailable()

    @_data.setter
    def _data(self, value: dict[str, Any]) -> None:
        pass

    def set_expire(self, seconds: int) -> None:
        raise ServiceUnavailable()

    def cycle_key(self) -> None:
        raise ServiceUnavailable()

    def __repr__(self) -> str:
        return "<UnavailableSession>"


class SessionMiddleware(BaseMiddleware):
    """Gives every handler ``self.session`` and ``self.set_expire(seconds)``.

    ``store`` is the :class:`~torngas.sessions.SessionStore` (its ``backend`` is
    the cache instance holding the records).
    """

    def __init__(self) -> None:
        self.config = SessionConfig.from_settings()
        self.store = SessionStore(self.config)
        self.health = _StoreHealth()
        # Build the store's backend now (no I/O): an unknown cache alias, a
        # reserved KEY_PREFIX or a backend that does not import fails at start-up
        # with ImproperlyConfigured, not at the first request that saves.
        _ = self.store.backend
        from torngas.conf import settings

        # Read once: client_ip() would look both up in the settings per call.
        self._xheaders = bool(settings.get("XHEADERS", False))
        self._trusted_proxies = tuple(settings.get("TRUSTED_PROXIES", ()) or ())

    def _client_ip(self, request: Any) -> str:
        return client_ip(request, self._trusted_proxies, self._xheaders)

    # ------------------------------------------------------------------ 3
    def process_request(self, handler: RequestHandler, clear: Clear) -> Any:
        """Attach the session: no I/O without a cookie or with a forged one;
        otherwise returns a coroutine that loads it (503 if the store fails)."""
        config = self.config
        cookie = handler.get_cookie(config.cookie_name)
        if not cookie:
            # The common anonymous request: no I/O, and the client's IP (needed
            # only to bind a session that gets saved) is worked out in _save.
            self._attach(handler, self.store.new_session(None), None)
            return None
        ip = None if config.ignore_change_ip else self._client_ip(handler.request)
        session_key = self.store.unsign(cookie)
        if session_key is None:
            self._attach(handler, self.store.reject("bad signature", ip=ip), ip)
            return None
        return self._load(handler, session_key, ip)

    async def _load(self, handler: RequestHandler, session_key: str, ip: str | None) -> None:
        try:
            session = await self.store.load(session_key, ip)
        except SessionStoreError as exc:
            self.health.failed(exc)
            # Pages that never touch the session are still served; the first
            # access raises ServiceUnavailable, which Tornado answers with a 503.
            self._attach(handler, UnavailableSession(exc), ip)
            return
        self.health.ok()
        self._attach(handler, session, ip)

    @staticmethod
    def _attach(handler: Any, session: Session, ip: str | None) -> None:
        handler.session = session
        handler.set_expire = session.set_expire
        handler._torngas_session_ip = ip

    # ------------------------------------------------------------------ 5
    def process_response(self, handler: RequestHandler, clear: Clear, chunk: list[bytes]) -> Any:
        """Before the response is written: ``Vary: Cookie`` if the session was
        read; for a modified session and a status below 400, a coroutine that saves
        it and sets the cookie (the response waits for it)."""
        session: Session | None = getattr(handler, "session", None)
        if session is None or isinstance(session, UnavailableSession):
            return None
        if handler._headers_written:  # type: ignore[attr-defined]  # streamed: too late
            if session.modified:
                log.warning(
                    "session changed after the response headers were flushed; not saved (%s %s)",
                    handler.request.method,
                    escape_log_value(handler.request.path or ""),
                )
            return None
        if session.accessed:
            _add_vary_cookie(handler)
        if handler.get_status() >= 400:
            return None  # nothing is saved for an error response
        if not session.modified:
            if session.from_cookie and session.session_key is None:
                self.apply_cookie(handler, CookieAction("clear"))  # a rejected cookie
            return None
        return self._save(handler, session)

    async def _save(self, handler: Any, session: Session) -> None:
        ip = handler._torngas_session_ip
        if ip is None and not self.config.ignore_change_ip:
            ip = handler._torngas_session_ip = self._client_ip(handler.request)
        try:
            action = await self.store.save(session, ip)
        except SessionStoreError as exc:
            self.health.failed(exc)
            raise ServiceUnavailable() from exc
        self.health.ok()
        if action is not None:
            self.apply_cookie(handler, action)

    def apply_cookie(self, handler: Any, action: CookieAction) -> None:
        """Set or clear the session cookie with the configured attributes."""
        config = self.config
        attrs: dict[str, Any] = {
            "path": config.cookie_path,
            "httponly": config.httponly,
            "secure": config.secure,
            "samesite": config.samesite,
        }
        if config.cookie_domain:
            attrs["domain"] = config.cookie_domain
        if action.action == "clear":
            handler.clear_cookie(config.cookie_name, **attrs)
            return
        if action.max_age is not None:
            attrs["max_age"] = action.max_age
            attrs["expires"] = time.time() + action.max_age
        handler.set_cookie(config.cookie_name, action.value, **attrs)

    # ------------------------------------------------------------------ 8
    async def process_shutdown(self, application: Any) -> None:
        """Close the store's connections (this event loop's)."""
        await self.store.aclose()


def _add_vary_cookie(handler: Any) -> None:
    headers = handler._headers
    values = [v.strip() for value in headers.get_list("Vary") for v in value.split(",")]
    if not any(v.lower() == "cookie" or v == "*" for v in values):
        handler.set_header("Vary", ", ".join([v for v in values if v] + ["Cookie"]))


def __getattr__(name: str) -> Any:
    # The 1.8 README lists "torngas.middleware.session.SignalMiddleware"; its home
    # is torngas.middleware.signal. Resolved lazily, same object.
    if name == "SignalMiddleware":
        from torngas.middleware.signal import SignalMiddleware

        return SignalMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
