from torngas import Url, route

u = Url("tests.test_apps.hello.handlers")
urls = route(u(r"/dup", "main.Index", name="Index"))
