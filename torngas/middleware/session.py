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

The store unreachable or too slow, on load or save: the request is answered
``503 Service Unavailable`` (JSON for ApiHandler), the cause is logged (once per
10 s while it lasts), and the next request tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from tornado.iostream import StreamClosedError

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

_PENDING: set[asyncio.Task[None]] = set()  # strong references to running saves


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
                "session store unavailable, answering 503 (%d failure(s) so far): %s",
                self.failures,
                exc,
            )

    def ok(self) -> None:
        if self.failures:
            log.warning("session store is answering again after %d failure(s)", self.failures)
            self.failures = 0


class SessionMiddleware(BaseMiddleware):
    """Gives every handler ``self.session`` and ``self.set_expire(seconds)``.

    ``store`` is the :class:`~torngas.sessions.SessionStore` (its ``backend`` is
    the cache instance holding the records).
    """

    def __init__(self) -> None:
        self.config = SessionConfig.from_settings()
        self.store = SessionStore(self.config)
        self.health = _StoreHealth()

    # ------------------------------------------------------------------ 1
    def process_init(self, application: Any) -> None:
        """Close the store's connections when the application shuts down."""
        shutdown = application.shutdown
        store = self.store

        async def shutdown_and_close_sessions() -> None:
            try:
                await store.aclose()
            except Exception:
                log.debug("closing the session store failed", exc_info=True)
            await shutdown()

        application.shutdown = shutdown_and_close_sessions

    # ------------------------------------------------------------------ 3
    def process_request(self, handler: RequestHandler, clear: Clear) -> Any:
        config = self.config
        ip = None if config.ignore_change_ip else client_ip(handler.request)
        cookie = handler.get_cookie(config.cookie_name)
        if not cookie:
            self._attach(handler, self.store.new_session(ip), ip)
            return None
        session_key = self.store.unsign(cookie)
        if session_key is None:
            self._attach(handler, self.store.reject("bad signature", ip=ip), ip)
            return None
        return self._load(handler, session_key, ip)

    async def _load(self, handler: RequestHandler, session_key: str, ip: str | None) -> Any:
        try:
            session = await self.store.load(session_key, ip)
        except SessionStoreError as exc:
            self.health.failed(exc)
            self._attach(handler, self.store.new_session(ip), ip)
            handler.send_error(503)
            return True
        self.health.ok()
        self._attach(handler, session, ip)
        return None

    def _attach(self, handler: Any, session: Session, ip: str | None) -> None:
        handler.session = session
        handler.set_expire = session.set_expire
        handler.finish = _FinishAfterSave(handler, self, session, ip)

    # ------------------------------------------------------------------ 5
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


def _add_vary_cookie(handler: Any) -> None:
    headers = handler._headers
    values = [v.strip() for value in headers.get_list("Vary") for v in value.split(",")]
    if not any(v.lower() == "cookie" or v == "*" for v in values):
        handler.set_header("Vary", ", ".join([v for v in values if v] + ["Cookie"]))


class _FinishAfterSave:
    """Stands in for ``handler.finish`` for one request: awaits the session save
    before the real ``finish()`` writes anything.

    While the save runs, the handler counts as finished (``write()`` raises, a
    second ``finish()`` returns the same pending future), as after Tornado's own
    ``finish()``. The returned awaitable resolves when the response was sent.
    """

    __slots__ = ("handler", "middleware", "session", "ip", "original", "task", "bypass")

    def __init__(
        self, handler: Any, middleware: SessionMiddleware, session: Session, ip: str | None
    ) -> None:
        self.handler = handler
        self.middleware = middleware
        self.session = session
        self.ip = ip
        self.original = handler.finish  # the class's (or another wrapper's) finish
        self.task: asyncio.Task[None] | None = None
        self.bypass = False

    def __call__(self, chunk: Any = None) -> Any:
        handler = self.handler
        if self.task is not None and not self.bypass:
            if chunk is not None:
                raise RuntimeError("finish() called twice")
            return self.task
        if self.bypass or handler._finished:
            return self.original(chunk)
        session = self.session
        if chunk is not None:
            handler.write(chunk)
        if handler._headers_written:  # streamed: too late for a cookie
            if session.modified:
                log.warning(
                    "session changed after the response headers were flushed; not saved (%s %s)",
                    handler.request.method,
                    handler.request.path,
                )
            return self._finish_now()
        if session.accessed:
            _add_vary_cookie(handler)
        if handler.get_status() >= 400:
            return self._finish_now()  # nothing is saved for an error response
        if not session.modified:
            if session.from_cookie and session.session_key is None:
                self.middleware.apply_cookie(handler, CookieAction("clear"))
            return self._finish_now()
        handler._finished = True  # as after finish(): no more writes
        task = asyncio.ensure_future(self._save_then_finish())
        self.task = task
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)
        return task

    def _finish_now(self) -> Any:
        self.bypass = True
        self._detach()
        return self.original()

    def _detach(self) -> None:
        if self.handler.__dict__.get("finish") is self:
            del self.handler.__dict__["finish"]  # break the handler <-> wrapper cycle

    async def _save_then_finish(self) -> None:
        handler = self.handler
        middleware = self.middleware
        try:
            try:
                action = await middleware.store.save(self.session, self.ip)
            except SessionStoreError as exc:
                middleware.health.failed(exc)
                self._fail(503)
                return
            except Exception:
                log.exception(
                    "saving the session failed (%s %s)",
                    handler.request.method,
                    handler.request.path,
                )
                self._fail(500)
                return
            middleware.health.ok()
            handler._finished = False
            if action is not None:
                middleware.apply_cookie(handler, action)
            sent = self._finish_now()
            if sent is not None:
                try:
                    await sent
                except StreamClosedError:
                    pass  # the client left; nothing to tell it
        except Exception:
            log.exception("finishing the response after the session save failed")

    def _fail(self, status: int) -> None:
        handler = self.handler
        handler._finished = False
        self.bypass = True
        self._detach()
        handler.send_error(status)
