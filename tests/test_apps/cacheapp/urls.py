from torngas import Url, route

u = Url("tests.test_apps.cacheapp.handlers")
urls = route(u(name="Counter", pattern=r"/count", handler="Counter"))
