from torngas import Url, route

u = Url("tests.test_apps.hello.handlers")
urls = route(u(r"/x", "main.DoesNotExist", name="Broken"))
