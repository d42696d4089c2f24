"""SessionMiddleware, flash messages, auth and xsrf over real HTTP (LocMem store)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from tests.sessions.conftest import (
    app_settings,
    middleware,
    post,
    put_cookie,
    session_cookie,
)
from tests.test_security import SAFE, UNSAFE
from torngas.testing import serve

COOKIE = "__TORNADOSSID"


class Counting:
    """Wraps a real cache backend and records every async call the store makes."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.backend, name)
        if name.startswith("a") and callable(attr):

            async def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return await attr(*args, **kwargs)

            return counted
        return attr


def count_store(client: Any) -> Counting:
    store = middleware(client).store
    counting = Counting(store.backend)
    store.backend = counting
    return counting


def set_cookie_lines(response: Any, name: str = COOKIE) -> list[str]:
    return [v for v in response.headers.get_list("set-cookie") if v.startswith(name + "=")]


def login(client: Any, user: str = "ann", headers: Any = None, **extra: Any) -> Any:
    r = post(client, "/login", {"user": user, **extra}, headers=headers or {})
    assert r.status_code == 302, r.text
    return r


def whoami(client: Any, **kw: Any) -> dict[str, Any]:
    r = client.get("/whoami", **kw)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- basics
def test_anonymous_traffic_never_touches_the_store():
    with serve(**app_settings()) as client:
        counting = count_store(client)
        for _ in range(3):
            assert client.get("/public").text == "public"
            assert whoami(client) == {"user": None, "data": {}, "key": None}
            assert client.get("/messages").status_code == 200
            r = client.get("/private")
            assert r.status_code == 302
            assert not set_cookie_lines(r)
        assert counting.calls == []
        assert session_cookie(client) is None
        # A response that read the session varies on the cookie; one that did not, does not.
        assert "Cookie" in client.get("/whoami").headers["Vary"]
        assert "Vary" not in client.get("/public").headers


def test_login_read_logout_and_cookie_attributes():
    with serve(**app_settings()) as client:
        counting = count_store(client)
        r = login(client)
        (line,) = set_cookie_lines(r)
        attrs = {a.strip().split("=")[0].lower() for a in line.split(";")[1:]}
        assert {"httponly", "path", "samesite"} <= attrs
        assert "secure" not in attrs and "max-age" not in attrs  # expires=0: browser session
        assert "SameSite=Lax" in line
        assert whoami(client)["user"] == "ann"
        assert counting.calls == ["aset", "aget"]  # one write at login, one read after
        r = post(client, "/logout")
        (line,) = set_cookie_lines(r)
        assert line.startswith(f'{COOKIE}="";') or line.startswith(f"{COOKIE}=;")
        assert "expires=" in line.lower()
        assert whoami(client)["user"] is None


def test_secure_domain_samesite_and_expiry_settings():
    session = {"secure": True, "samesite": "Strict", "cookie_domain": "127.0.0.1", "expires": 600}
    with serve(**app_settings(session=session)) as client:
        r = post(client, "/set", {"a": "1"})
        (line,) = set_cookie_lines(r)
        assert "Secure" in line and "SameSite=Strict" in line and "Domain=127.0.0.1" in line
        assert re.search(r"Max-Age=600\b", line)
        r = login(client, remember="86400")  # set_expire(86400) at login
        (line,) = set_cookie_lines(r)
        assert re.search(r"Max-Age=86400\b", line)


def test_dict_api_over_http_and_next_request_sees_each_change():
    with serve(**app_settings()) as client:
        for i in range(20):
            r = post(client, "/set", {"n": str(i), f"k{i}": "x"})
            assert r.status_code == 200
            assert whoami(client)["data"]["n"] == str(i)
        r = client.request(
            "DELETE", "/set?k=n&k=k0", headers={"X-XSRFToken": client.cookies["_xsrf"]}
        )
        assert r.status_code == 200
        data = whoami(client)["data"]
        assert "n" not in data and "k0" not in data and data["k19"] == "x"


# ---------------------------------------------------------------- ids
def test_fixation_id_changes_at_login_and_old_id_is_dead():
    with serve(**app_settings()) as client:
        post(client, "/set", {"cart": "3 apples"})  # an anonymous session with an id
        planted = session_cookie(client)
        assert planted
        store = middleware(client).store
        old_key = store.unsign(planted)
        login(client)  # the victim logs in with the planted cookie
        fresh = session_cookie(client)
        assert fresh != planted
        assert whoami(client)["data"] == {
            "cart": "3 apples",
            "user": "ann",
            "_flashes": [["success", "Welcome back, ann"]],
        }
        assert not client.server.call(lambda: store.exists(old_key))
        # the attacker, holding the planted id, gets nothing
        put_cookie(client, planted)
        assert whoami(client) == {"user": None, "data": {}, "key": None}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),
        lambda v: v.split(".")[0],
        lambda v: "A" * 43 + "." + v.split(".")[1],
        lambda v: "../../etc/passwd",
        lambda v: "x" * 4000,
    ],
)
def test_tampered_cookie_gives_fresh_session_without_a_lookup(tamper, session_log):
    with serve(**app_settings()) as client:
        login(client)
        good = session_cookie(client)
        counting = count_store(client)
        put_cookie(client, tamper(good))
        r = client.get("/whoami")
        assert r.status_code == 200 and r.json() == {"user": None, "data": {}, "key": None}
        assert counting.calls == []  # a forged id is never looked up
        (line,) = set_cookie_lines(r)  # the bad cookie is cleared
        assert "expires=" in line.lower()
        warnings = session_log.messages(logging.WARNING)
        assert len(warnings) == 1 and "bad signature" in warnings[0]
        # the real session is untouched
        put_cookie(client, good)
        assert whoami(client)["user"] == "ann"


def test_signed_but_unknown_id_is_never_adopted(session_log):
    with serve(**app_settings()) as client:
        store = middleware(client).store
        chosen = store.signer.new_id()  # a well-formed id nobody issued
        put_cookie(client, store.signer.sign(chosen))
        assert whoami(client)["key"] is None
        assert sum("unknown" in m for m in session_log.messages(logging.WARNING)) == 1
        post(client, "/set", {"a": "1"})
        assert store.unsign(session_cookie(client)) != chosen
        assert not client.server.call(lambda: store.exists(chosen))


def test_expired_session_is_fresh_and_warned(session_log):
    with serve(**app_settings(session={"expires": 60})) as client:
        login(client)
        assert whoami(client)["user"] == "ann"
        store = middleware(client).store
        real_clock = store.clock
        store.clock = lambda: real_clock() + 61  # the record is still in the cache
        r = client.get("/whoami")
        assert r.json()["user"] is None
        assert any("expired" in m for m in session_log.messages(logging.WARNING))
        assert set_cookie_lines(r)  # cleared


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("status", ["500", "403", "404", "400"])
def test_error_responses_save_nothing(status):
    with serve(**app_settings()) as client:
        login(client)
        counting = count_store(client)
        r = post(client, "/fail", {"status": status})
        assert r.status_code == int(status)
        assert not set_cookie_lines(r)
        assert "poisoned" not in whoami(client)["data"]
        assert "aset" not in counting.calls
        body = r.text
        for leak in ("hunter2", "Traceback", "RuntimeError", "secret", "SESSION", "cookie_secret"):
            assert leak not in body


def test_error_page_for_anonymous_request_writes_nothing():
    with serve(**app_settings()) as client:
        counting = count_store(client)
        assert post(client, "/fail", {"status": "500"}).status_code == 500
        assert counting.calls == [] and session_cookie(client) is None


def test_change_after_flush_is_not_saved_and_is_logged(session_log):
    with serve(**app_settings()) as client:
        login(client)
        r = client.get("/stream")
        assert r.status_code == 200 and "part1" in r.text
        assert "late" not in whoami(client)["data"]
        assert any("after the response headers" in m for m in session_log.messages())


# ---------------------------------------------------------------- IP binding
def test_session_bound_to_client_ip_and_headers_only_from_trusted_proxies(session_log):
    settings = app_settings(XHEADERS=True, TRUSTED_PROXIES=("127.0.0.1",))
    with serve(**settings) as client:
        login(client, headers={"X-Forwarded-For": "198.51.100.1"})
        assert whoami(client, headers={"X-Forwarded-For": "198.51.100.1"})["user"] == "ann"
        assert whoami(client, headers={"X-Forwarded-For": "203.0.113.9"})["user"] is None
        assert any("client IP changed" in m for m in session_log.messages(logging.WARNING))
    # The peer is not a trusted proxy: the header is ignored, the session keeps working.
    settings = app_settings(XHEADERS=True, TRUSTED_PROXIES=("10.0.0.1",))
    with serve(**settings) as client:
        login(client, headers={"X-Forwarded-For": "198.51.100.1"})
        assert whoami(client, headers={"X-Forwarded-For": "203.0.113.9"})["user"] == "ann"


def test_ignore_change_ip():
    settings = app_settings(
        session={"ignore_change_ip": True}, XHEADERS=True, TRUSTED_PROXIES=("127.0.0.1",)
    )
    with serve(**settings) as client:
        login(client, headers={"X-Forwarded-For": "198.51.100.1"})
        assert whoami(client, headers={"X-Forwarded-For": "203.0.113.9"})["user"] == "ann"


# ---------------------------------------------------------------- flash
def test_flash_survives_one_redirect_and_is_shown_once():
    with serve(**app_settings()) as client:
        r = post(client, "/messages", {"msg": "<b>saved</b>", "cat": "success"})
        assert r.status_code == 302 and r.headers["Location"] == "/messages"
        page = client.get("/messages").text
        assert '<span class="flash-success">&lt;b&gt;saved&lt;/b&gt;</span>' in page
        assert "count=1" in page
        page = client.get("/messages").text
        assert "flash-" not in page and "count=0" in page


def test_flash_order_and_signal():
    from torngas.signal import message_flashed

    seen: list[tuple[str, str]] = []

    def receiver(sender: Any, **kw: Any) -> None:
        seen.append((kw["category"], kw["message"]))

    message_flashed.connect(receiver, weak=False)
    try:
        with serve(**app_settings()) as client:
            post(client, "/messages", {"msg": "one", "cat": "info"})
            post(client, "/messages", {"msg": "two", "cat": "error"})
            page = client.get("/messages").text
            assert page.index("flash-info") < page.index("flash-error")
    finally:
        message_flashed.disconnect(receiver)
    assert seen == [("info", "one"), ("error", "two")]


# ---------------------------------------------------------------- xsrf
def test_xsrf_forms_and_ajax():
    with serve(**app_settings()) as client:
        assert client.post("/set", data={"a": "1"}).status_code == 403  # no token
        token = client.cookies.get("_xsrf") or (client.get("/form") and client.cookies["_xsrf"])
        assert client.post("/set", data={"a": "1", "_xsrf": "wrong"}).status_code == 403
        assert client.post("/set", data={"a": "1", "_xsrf": token}).status_code == 200
        assert (
            client.post("/set", data={"b": "2"}, headers={"X-XSRFToken": token}).status_code == 200
        )
        assert whoami(client)["data"] == {"a": "1", "b": "2"}


# ---------------------------------------------------------------- auth / redirects
def test_authenticated_redirects_with_next_and_back():
    with serve(**app_settings()) as client:
        r = client.get("/private?tab=2")
        assert r.status_code == 302
        assert r.headers["Location"] == "/login?next=%2Fprivate%3Ftab%3D2"
        r = post(client, "/private")  # not GET: no redirect, 403
        assert r.status_code == 403 and "Location" not in r.headers
        r = post(client, "/login?next=%2Fprivate%3Ftab%3D2", {"user": "bob"})
        assert r.headers["Location"] == "/private?tab=2"
        assert client.get("/private").text == "private for bob"
        assert post(client, "/private").text == "posted by bob"


def test_authenticated_never_puts_another_host_in_next():
    with serve(**app_settings()) as client:
        r = client.get(client.server.url + "//evil.example/x")
        assert r.status_code == 302
        assert r.headers["Location"] == "/login?next=%2F"


@pytest.mark.parametrize("url", [u for u in UNSAFE if u])
def test_open_redirects_are_refused(url):
    with serve(**app_settings()) as client:
        r = client.get("/go", params={"next": url})
        assert r.status_code == 302 and r.headers["Location"] == "/fallback"
        r = post(client, "/login", {"user": "eve", "next": url})
        assert r.headers["Location"] == "/"


def test_safe_redirects_are_followed():
    with serve(**app_settings()) as client:
        host = client.server.url.split("://", 1)[1]
        for url in [u for u in SAFE if "testserver" not in u.lower()] + [f"http://{host}/ok"]:
            r = client.get("/go", params={"next": url})
            assert r.headers["Location"] == url, url


def test_allowed_redirect_hosts_setting():
    with serve(**app_settings(ALLOWED_REDIRECT_HOSTS=("accounts.example",))) as client:
        r = client.get("/go", params={"next": "https://accounts.example/sso"})
        assert r.headers["Location"] == "https://accounts.example/sso"
        r = client.get("/go", params={"next": "https://other.example/sso"})
        assert r.headers["Location"] == "/fallback"


def test_readme_dotted_path_of_signal_middleware():
    from torngas._utils import import_object
    from torngas.middleware.signal import SignalMiddleware

    assert import_object("torngas.middleware.session.SignalMiddleware") is SignalMiddleware


def test_websocket_reads_the_session():
    import asyncio
    import json

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    async def user_seen(url: str, cookie: str | None) -> Any:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        conn = await websocket_connect(HTTPRequest(url, headers=headers))
        try:
            return json.loads(await conn.read_message())["user"]
        finally:
            conn.close()

    with serve(**app_settings()) as client:
        login(client)
        url = client.server.url.replace("http", "ws", 1) + "/ws"
        assert asyncio.run(user_seen(url, session_cookie(client))) == "ann"
        assert asyncio.run(user_seen(url, None)) is None
