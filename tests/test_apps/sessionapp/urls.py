from torngas import Url, route

u = Url("tests.test_apps.sessionapp.handlers")
urls = route(
    u(r"/public", "Public", name="Public"),
    u(r"/whoami", "WhoAmI", name="WhoAmI"),
    u(r"/api/whoami", "ApiWhoAmI", name="ApiWhoAmI"),
    u(r"/form", "Form", name="Form"),
    u(r"/set", "Set", name="Set"),
    u(r"/login", "Login", name="Login"),
    u(r"/logout", "Logout", name="Logout"),
    u(r"/expire", "Expire", name="Expire"),
    u(r"/fail", "Fail", name="Fail"),
    u(r"/messages", "Messages", name="Messages"),
    u(r"/private", "Private", name="Private"),
    u(r"/go", "Go", name="Go"),
    u(r"/stream", "Stream", name="Stream"),
    u(r"/ws", "Socket", name="Socket"),
    u(r"/(/.*)", "Private", name="Catch"),
)
