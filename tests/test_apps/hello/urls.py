from torngas import Url, include, route

u = Url("tests.test_apps.hello.handlers", abc="abc", shared="url")
urls = route(
    u(name="Index", pattern=r"/", handler="main.Index"),
    u(r"/kw/?", "main.Kwargs", kwargs={"abc": "other"}, name="Kw"),
    u(r"/kw2/?", "main.Kwargs", name="Kw2"),
    u(name="Page", pattern=r"/page", handler="main.Page"),
    u(name="Boom", pattern=r"/boom", handler="main.Boom"),
    u(name="Slow", pattern=r"/slow", handler="main.Slow"),
    u(name="Echo", pattern=r"/api/echo", handler="main.Echo"),
    u(name="Reverse", pattern=r"/reverse", handler="main.Reverse"),
    u(name="Hooks", pattern=r"/hooks", handler="main.Hooks"),
    u(name="User", pattern=r"/user/(\d+)", handler="main.User"),
    u(name="AsyncSeen", pattern=r"/async-seen", handler="main.AsyncSeen"),
    u(name="Pid", pattern=r"/pid", handler="main.Pid"),
    u(name="Cookie", pattern=r"/cookie", handler="main.Cookie"),
    u(name="Tpl", pattern=r"/tpl", handler="main.Tpl"),
    u(name="WS", pattern=r"/ws", handler="main.Echo_WS"),
    u(name="Inflight", pattern=r"/inflight", handler="main.Inflight"),
    u(name="Blocking", pattern=r"/blocking", handler="main.Blocking"),
    u(name="GcFrozen", pattern=r"/gc-frozen", handler="main.GcFrozen"),
    include("/sub", "tests.test_apps.hello.suburls.URLS"),
)
