"""The 1.8 README's SESSION block copied verbatim (a shipped example secret), DEBUG off."""

import os

INSTALLED_APPS = ("tests.test_apps.sessionapp",)
MIDDLEWARE_CLASSES = ("torngas.middleware.session.SessionMiddleware",)
TORNADO_CONF = {"cookie_secret": os.environ.get("TORNGAS_COOKIE_SECRET")}
SESSION = {
    "session_cache_alias": "default",  # 'session_loccache',对应cache配置名
    "session_name": "__TORNADOSSID",
    "cookie_domain": "",
    "cookie_path": "/",
    "expires": 0,  # 24 * 60 * 60, # 24 hours in seconds,0代表浏览器会话过期
    "ignore_change_ip": False,
    "httponly": True,
    "secure": False,
    "secret_key": "fLjUfxqXtfNoIldA0A0J",
    "session_version": "EtdHjDO1",
}
