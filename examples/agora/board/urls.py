from torngas import Url, route

u = Url("board.handlers")
urls = route(
    u(r"/", "Index", name="board.index"),
    u(r"/posts/new", "NewPost", name="board.new_post"),
)
