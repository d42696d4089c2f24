from urllib.parse import urlencode

from tornado.web import HTTPError
from torngas.httpmodule import BaseHttpModule
from torngas.security import is_safe_redirect


class LoginRequired(BaseHttpModule):
    """Only logged-in users reach the routes this module is attached to.

    An anonymous page view is sent to the login page with ``?next=`` (back here
    after login); anything else (a form post, a WebSocket upgrade) gets 403.
    Runs after SessionMiddleware, in ``prepare()`` and so before the handler.
    """

    def begin_request(self, handler, clear):
        if handler.current_user:
            return None
        is_upgrade = handler.request.headers.get("Upgrade", "").lower() == "websocket"
        if handler.request.method not in ("GET", "HEAD") or is_upgrade:
            raise HTTPError(403)
        target = handler.request.uri or "/"
        nxt = target if is_safe_redirect(target) else "/"
        handler.redirect(handler.get_login_url() + "?" + urlencode({"next": nxt}))
        return True  # handled: the handler does not run
