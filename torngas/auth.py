"""Login helpers on top of sessions: ``@authenticated``, safe ``next`` URLs, login/logout.

    from torngas.auth import authenticated, login, logout, redirect_to_next

    class Base(WebHandler):
        def get_current_user(self):
            return self.session.get("user")

    class Account(Base):
        @authenticated                    # anonymous GET -> 302 login_url?next=/account
        def get(self):
            self.write(f"hello {self.current_user}")

    class Login(Base):
        def post(self):
            if check_password(...):
                login(self, user=name)    # new session id (fixation), then the data
                redirect_to_next(self)    # ?next=, checked; "/" otherwise

``authenticated`` is Tornado's decorator with one change: the ``next`` it adds is
always a path on this site (a request for ``//evil.example`` gets ``next=/``).
:func:`next_url` checks a ``next`` read back from the request with
:func:`torngas.security.is_safe_redirect`; hosts other than the request's own
must be listed in ``ALLOWED_REDIRECT_HOSTS``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from tornado.web import HTTPError

from torngas.security import is_safe_redirect

__all__ = ["authenticated", "next_url", "redirect_to_next", "login", "logout", "allowed_hosts"]


def allowed_hosts(handler: Any) -> set[str]:
    """The request's own host plus ``ALLOWED_REDIRECT_HOSTS``."""
    from torngas.conf import settings

    hosts = {str(h).lower() for h in settings.get("ALLOWED_REDIRECT_HOSTS", ()) or ()}
    host = handler.request.host
    if host:
        hosts.add(host.lower())
    return hosts


def next_url(handler: Any, default: str = "/", argument: str = "next") -> str:
    """The ``argument`` query/form value if it is a safe redirect target, else ``default``."""
    value = handler.get_argument(argument, None)
    if value and is_safe_redirect(value, allowed_hosts(handler)):
        return str(value)
    return default


def redirect_to_next(handler: Any, default: str = "/", argument: str = "next") -> None:
    """``handler.redirect(next_url(handler, default, argument))``."""
    handler.redirect(next_url(handler, default, argument))


def authenticated(
    method: Callable[..., Awaitable[None] | None],
) -> Callable[..., Awaitable[None] | None]:
    """Require ``handler.current_user``: anonymous GET/HEAD are redirected to
    ``login_url`` with ``next`` (always a safe URL), other methods get 403."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Awaitable[None] | None:
        if not self.current_user:
            if self.request.method in ("GET", "HEAD"):
                url = self.get_login_url()
                if "?" not in url:
                    if urlsplit(url).scheme:
                        target = self.request.full_url()
                        ok = is_safe_redirect(target, {self.request.host.lower()})
                    else:
                        target = self.request.uri or "/"
                        ok = is_safe_redirect(target)
                    url += "?" + urlencode({"next": target if ok else "/"})
                self.redirect(url)
                return None
            raise HTTPError(403)
        return method(self, *args, **kwargs)

    return wrapper


def login(handler: Any, **values: Any) -> None:
    """Start a logged-in session: rotate the id (the pre-login id dies), then store ``values``."""
    session = handler.session
    session.cycle_key()
    for key, value in values.items():
        session[key] = value


def logout(handler: Any) -> None:
    """End the session: its data, its stored record and its cookie are deleted."""
    handler.session.flush()
