import tornado

import torngas
from torngas.handler import WebHandler


class Main(WebHandler):
    def get(self):
        self.render(
            "index.html",
            torngas_version=torngas.__version__,
            tornado_version=tornado.version,
        )


class Hello(WebHandler):
    def get(self, who):
        self.write({"hello": who})
