from torngas.handler import WebHandler
from torngas.mixins.flash_message import FlashMessageMixIn


class CurrentUserMixin:
    """``current_user`` from the session: ``{"id": 1, "name": "ann"}`` or None.

    ``torngas.auth.login(handler, user=...)`` puts it there at login.
    """

    def get_current_user(self):
        return self.session.get("user")


class BaseHandler(CurrentUserMixin, FlashMessageMixIn, WebHandler):
    """Base of every page: the logged-in user and flash messages."""
