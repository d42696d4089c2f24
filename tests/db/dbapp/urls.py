from torngas import Url, route

u = Url("tests.db.dbapp.handlers")
urls = route(
    u(r"/sync/users", "SyncUsers", name="SyncUsers"),
    u(r"/sync/boom", "SyncBoom", name="SyncBoom"),
    u(r"/async/users", "AsyncUsers", name="AsyncUsers"),
    u(r"/async/boom", "AsyncBoom", name="AsyncBoom"),
    u(r"/page", "Page", name="Page"),
    u(r"/session-id", "SessionId", name="SessionId"),
)
