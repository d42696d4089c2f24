from tornado.web import RequestHandler

from torngas import Url, route


class Plain(RequestHandler):
    def get(self):
        self.write("upper")


u = Url()
URLS = route(u(r"/upper", Plain, name="Upper"))
