import json
import os

from torngas.auth import login
from torngas.broadcast import Broadcast
from torngas.handler import WebHandler
from torngas.websocket import WebSocketHandler

chat = Broadcast("chat")
partners = Broadcast("partners")
RECEIVED: list = []  # what the callback subscriber of "partners" got (per process)


class Index(WebHandler):
    def get(self):
        self.write(f"pid={os.getpid()}")


class Login(WebHandler):
    xsrf_exempt = True

    def post(self):
        login(self, user=self.get_body_argument("user"))
        self.write("ok")


class Me(WebSocketHandler):
    """Needs a logged-in user; tells who it sees in open()."""

    async def open(self):
        if not self.current_user:
            self.close(4401, "login required")
            return
        self.write_message({"user": self.current_user, "session_user": self.session["user"]})


class Echo(WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class Small(Echo):
    websocket_options = {"MAX_MESSAGE_SIZE": 1024}


class JsonEcho(WebSocketHandler):
    message_format = "json"

    def on_message(self, message):
        self.write_message(json.dumps({"got": message, "type": type(message).__name__}))


class Boom(WebSocketHandler):
    async def on_message(self, message):
        if message == "boom":
            raise RuntimeError("boom in on_message")
        self.write_message("fine:" + message)


class OpenBoom(WebSocketHandler):
    def open(self):
        raise RuntimeError("boom in open")


class ChatSocket(WebSocketHandler):
    """The API contract of issue #8: subscribe in open, publish in on_message."""

    async def open(self):
        await chat.subscribe(self)
        self.write_message({"ready": os.getpid()})

    async def on_message(self, message):
        await chat.publish({"pid": os.getpid(), "text": message})


class PartnerSocket(WebSocketHandler):
    async def open(self):
        await partners.subscribe(self)
        await partners.subscribe(RECEIVED.append)  # a sync callable; same one each time

    async def on_message(self, message):
        await partners.publish(message)  # a plain str


class Publish(WebHandler):
    """POST text=... publishes on "chat" and answers whether the backend took it."""

    xsrf_exempt = True

    async def post(self):
        ok = await chat.publish(self.get_body_argument("text"))
        self.write({"ok": ok})
