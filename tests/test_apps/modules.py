"""HTTP modules that record their calls (for tests/httpmodule)."""

import asyncio

from torngas.httpmodule import BaseHttpModule

CALLS: list = []
ACTIONS: dict = {}


class _Rec(BaseHttpModule):
    tag = "?"

    def begin_request(self, handler, clear):
        CALLS.append((self.tag, "request", handler.request.path))
        action = ACTIONS.get((self.tag, "request"))
        if action == "deny":
            handler.set_status(401)
            handler.finish(f"denied by {self.tag}")
            return True
        return action == "stop"

    def begin_render(self, handler, clear, template_name, **kwargs):
        CALLS.append((self.tag, "render", template_name))

    def begin_response(self, handler, clear, chunk):
        CALLS.append((self.tag, "response"))
        handler.add_header("X-Modules", self.tag)

    def complete_response(self, handler, clear):
        CALLS.append((self.tag, "complete"))


class Auth(_Rec):
    tag = "Auth"


class IpBlack(_Rec):
    tag = "IpBlack"


class Login(_Rec):
    tag = "Login"


class Extra(_Rec):
    tag = "Extra"


class AsyncCheck(BaseHttpModule):
    async def begin_request(self, handler, clear):
        await asyncio.sleep(0.02)
        CALLS.append(("AsyncCheck", "request", handler.request.path))
        if ACTIONS.get(("AsyncCheck", "request")) == "deny":
            handler.set_status(401)
            handler.finish("async denied")
            return True
