from datetime import UTC, datetime

from torngas.broadcast import Broadcast
from torngas.websocket import WebSocketHandler

from common.handlers import BaseHandler

#: Every socket of every process subscribes here. With BROADCAST on Redis a
#: message published by one process reaches the sockets of all of them.
chat = Broadcast("chat")

MAX_LENGTH = 500


class Room(BaseHandler):
    """The chat page (login required: ROUTE_MODULES)."""

    def get(self):
        self.render("chat/room.html")


class Socket(WebSocketHandler):
    """The chat socket. The upgrade request went through the middleware and the
    LoginRequired module like any request: anonymous upgrades were refused (403),
    ``self.session`` is loaded, and ``self.current_user`` is ``session["user"]``
    (torngas's default, what ``torngas.auth.login(handler, user=...)`` stored)."""

    async def open(self):
        self.user_name = self.current_user["name"]
        await chat.subscribe(self)  # unsubscribed automatically when the socket closes
        await chat.publish({"kind": "join", "user": self.user_name, "at": _now()})

    async def on_message(self, message):
        text = message.strip()[:MAX_LENGTH] if isinstance(message, str) else ""
        if text:
            # The browser shows it with textContent: no HTML from one user runs for another.
            await chat.publish({"kind": "say", "user": self.user_name, "text": text, "at": _now()})


def _now() -> str:
    """The time shown next to a message (UTC, like the server's logs)."""
    return datetime.now(UTC).strftime("%H:%M")
