from torngas import Url, route

u = Url("tests.websocket.wsapp.handlers")
urls = route(
    u(r"/", "Index", name="Index"),
    u(r"/login", "Login", name="Login"),
    u(r"/ws/me", "Me", name="Me"),
    u(r"/ws/echo", "Echo", name="Echo"),
    u(r"/ws/small", "Small", name="Small"),
    u(r"/ws/json", "JsonEcho", name="JsonEcho"),
    u(r"/ws/boom", "Boom", name="Boom"),
    u(r"/ws/openboom", "OpenBoom", name="OpenBoom"),
    u(r"/ws/chat", "ChatSocket", name="Chat"),
    u(r"/ws/partners", "PartnerSocket", name="Partners"),
    u(r"/publish", "Publish", name="Publish"),
)
