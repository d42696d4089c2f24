from bench import common
from torngas import Url, route

u = Url("bench.apps.torngas_app.benchapp.handlers")
urls = route(
    *[
        u(common.filler_tornado_pattern(p, d), "Filler")
        for p, d in common.filler_routes(common.route_count())
    ],
    u(r"/json", "Json", name="json"),
    u(r"/page", "Page", name="page"),
    u(r"/full", "Full", name="full"),
    u(r"/plaintext", "Plaintext", name="plaintext"),  # last: the routes suite times it
)
