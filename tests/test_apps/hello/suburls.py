from torngas import Url, route

url = Url("tests.test_apps.hello.handlers")
URLS = route(
    url(r"photo/?", "main.Index", name="Photo"),
)
