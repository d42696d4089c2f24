from torngas import Url, route

u = Url("accounts.handlers")
urls = route(
    u(r"/signup", "Signup", name="accounts.signup"),
    u(r"/login", "Login", name="accounts.login"),
    u(r"/logout", "Logout", name="accounts.logout"),
)
