import json

from tornado.web import HTTPError

from torngas.auth import authenticated, login, logout, next_url, redirect_to_next
from torngas.handler import ApiHandler, WebHandler
from torngas.mixins.flash_message import FlashMessageMixIn
from torngas.websocket import WebSocketHandler


class Base(FlashMessageMixIn, WebHandler):
    def get_current_user(self):
        return self.session.get("user")


class Public(WebHandler):
    """Never touches the session."""

    def get(self):
        self.write("public")


class WhoAmI(Base):
    def get(self):
        self.write(
            {
                "user": self.session.get("user"),
                "data": self.session.to_dict(),
                "key": self.session.session_key,
            }
        )


class ApiWhoAmI(ApiHandler):
    def get(self):
        self.write_json({"user": self.session.get("user")})


class Form(WebHandler):
    """A page with a form: sets the _xsrf cookie."""

    def get(self):
        self.write(f'<form method="post">{self.xsrf_form_html()}</form>')


class Set(Base):
    def post(self):
        for key, value in self.request.body_arguments.items():
            if key != "_xsrf":
                self.session[key] = value[-1].decode()
        self.write({"key": self.session.session_key})

    def delete(self):
        for key in self.get_arguments("k"):
            self.session.pop(key, None)
        self.write("deleted")


class Login(Base):
    def get(self):
        self.write({"next": next_url(self, default="")})

    def post(self):
        user = self.get_body_argument("user")
        login(self, user=user)
        if self.get_body_argument("remember", None):
            self.set_expire(int(self.get_body_argument("remember")))
        self.flash(f"Welcome back, {user}", "success")
        redirect_to_next(self)


class Logout(Base):
    def post(self):
        logout(self)
        self.redirect("/whoami")


class Expire(Base):
    def post(self):
        self.set_expire(int(self.get_body_argument("seconds")))
        self.session["expiring"] = True
        self.write("ok")


class Fail(Base):
    def post(self):
        self.session["poisoned"] = True
        status = int(self.get_body_argument("status", "500"))
        if status == 500:
            raise RuntimeError("secret internal detail: password=hunter2")
        raise HTTPError(status)


class Messages(Base):
    def get(self):
        self.render("messages.html")

    def post(self):
        self.flash(self.get_body_argument("msg"), self.get_body_argument("cat", "info"))
        self.redirect("/messages")


class Private(Base):
    @authenticated
    def get(self, *args):
        self.write(f"private for {self.current_user}")

    @authenticated
    def post(self, *args):
        self.write(f"posted by {self.current_user}")


class Go(Base):
    def get(self):
        redirect_to_next(self, default="/fallback")


class Stream(Base):
    async def get(self):
        self.write("part1")
        await self.flush()
        self.session["late"] = True
        self.write(json.dumps({"late": True}))


class Socket(WebSocketHandler):
    def open(self):
        self.write_message(json.dumps({"user": self.session.get("user")}))
