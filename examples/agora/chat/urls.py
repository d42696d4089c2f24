from torngas import Url, route

u = Url("chat.handlers")
urls = route(
    u(r"/chat", "Room", name="chat.room"),
    u(r"/chat/ws", "Socket", name="chat.socket"),
)
