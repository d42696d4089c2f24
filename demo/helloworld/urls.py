from torngas import Url, route

u = Url("helloworld.handlers")
urls = route(
    u(name="Index", pattern=r"/", handler="main_handler.Main"),
    u(name="Hello", pattern=r"/hello/(\w+)", handler="main_handler.Hello"),
)
