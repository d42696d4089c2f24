"""Agora (examples/agora) over real HTTP and WebSocket, on its embedded defaults."""

from __future__ import annotations

import asyncio
import json
import re

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.examples.conftest import post_form, signup, xsrf_from

PASSWORD = "correct horse battery"


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', page)


def titles(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", page)


def test_signup_validation_flash_shown_once_logout_login(agora):
    # Errors are shown next to the fields, nothing is created.
    r = post_form(agora, "/signup", username="a!", password="short", confirm="other")
    assert r.status_code == 400
    assert "Letters, digits and _ only." in r.text
    assert "Field must be at least 8 characters long." in r.text
    assert "Passwords differ." in r.text
    assert 'value="a!"' in r.text  # what the user typed is kept

    r = signup(agora, "ann")
    assert r.headers["Location"] == "/"
    home = agora.get("/").text
    assert flashes(home) == ["Welcome to Agora, ann!"]
    assert '<span class="me">ann</span>' in home
    assert flashes(agora.get("/").text) == []  # shown once

    # The name is taken now.
    other = agora.__class__(base_url=agora.base_url)
    with other:
        r = post_form(other, "/signup", username="ann", password=PASSWORD, confirm=PASSWORD)
        assert r.status_code == 400 and "This name is taken." in r.text

    r = agora.post("/logout", data={"_xsrf": xsrf_from(home)})
    assert r.status_code == 302
    home = agora.get("/").text
    assert flashes(home) == ["You are logged out. See you soon!"]
    assert "Log in" in home and '<span class="me">' not in home

    r = post_form(agora, "/login", username="ann", password="wrong password")
    assert r.status_code == 400
    assert flashes(r.text) == ["Wrong user name or password."]
    r = post_form(agora, "/login", username="nobody", password="wrong password")
    assert flashes(r.text) == ["Wrong user name or password."]
    assert flashes(agora.get("/").text) == []  # shown with the form, not kept for later

    # Login from a protected page comes back to it (?next=).
    r = agora.get("/posts/new")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=%2Fposts%2Fnew"
    r = post_form(agora, "/login?next=%2Fposts%2Fnew", username="ann", password=PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/posts/new"
    page = agora.get("/posts/new").text
    assert flashes(page) == ["Welcome back, ann!"]

    # An off-site next is ignored.
    agora.post("/logout", data={"_xsrf": xsrf_from(page)})
    r = post_form(agora, "/login?next=//evil.example/x", username="ann", password=PASSWORD)
    assert r.headers["Location"] == "/"


def test_forms_need_the_xsrf_token(agora):
    agora.get("/signup")  # the _xsrf cookie, but no token in the body
    r = agora.post("/signup", data={"username": "ann", "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 403


def test_new_post_validation_pagination_and_cached_sidebar(agora):
    signup(agora, "ann")
    r = post_form(agora, "/posts/new", title="", body="")
    assert r.status_code == 400
    assert r.text.count("This field is required.") == 2
    r = post_form(agora, "/posts/new", title="Hi", body="x")
    assert "Field must be between 3 and 120 characters long." in r.text

    for i in range(1, 13):
        r = post_form(agora, "/posts/new", title=f"Post {i}", body=f"body <b>{i}</b>")
        assert r.status_code == 302, r.text
    page1 = agora.get("/").text
    assert titles(page1) == [f"Post {i}" for i in range(12, 2, -1)]  # newest first, 10 a page
    assert "page 1 of 2" in page1 and 'href="?page=2"' in page1
    assert "body &lt;b&gt;12&lt;/b&gt;" in page1  # escaped
    page2 = agora.get("/?page=2").text
    assert titles(page2) == ["Post 2", "Post 1"]
    for bad in ("3", "0", "abc", "-1"):
        assert agora.get(f"/?page={bad}").status_code == 404

    # The sidebar is served from the cache: what the cache holds is what the page shows ...
    assert re.search(r"<b>ann</b> <span>12</span>", page1)

    def plant():
        from torngas.cache import cache

        cache.set("board:top-posters", '<aside id="top-posters">planted</aside>')

    agora.server.call(plant)
    assert "planted" in agora.get("/").text
    # ... until a new post sends post_created, whose receiver deletes it.
    with agora.__class__(base_url=agora.base_url) as bob:
        signup(bob, "bob")
        assert post_form(bob, "/posts/new", title="From bob", body="hello").status_code == 302
    page = agora.get("/").text
    assert "planted" not in page
    assert re.search(r"<b>ann</b> <span>12</span></li><li><b>bob</b> <span>1</span>", page)


def test_login_required_routes(agora):
    assert agora.get("/chat").headers["Location"] == "/login?next=%2Fchat"
    page = agora.get("/signup").text
    r = agora.post("/posts/new", data={"_xsrf": xsrf_from(page), "title": "abc", "body": "x"})
    assert r.status_code == 403
    code = asyncio.run(_ws_refused(agora, cookies=""))
    assert code == 403


async def _ws_refused(client, cookies, origin=None):
    url = client.server.url.replace("http", "ws") + "/chat/ws"
    headers = {"Cookie": cookies, "Origin": origin or client.server.url}
    try:
        conn = await websocket_connect(HTTPRequest(url, headers=headers))
    except HTTPClientError as exc:
        return exc.code
    conn.close()
    await conn.read_message()  # the closing handshake
    return 101


def cookie_header(client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def test_chat_between_two_users(agora):
    with agora.__class__(base_url=agora.base_url) as bob:
        signup(agora, "ann")
        signup(bob, "bob")
        assert agora.get("/chat").status_code == 200
        url = agora.server.url.replace("http", "ws") + "/chat/ws"

        async def talk():
            def connect(client):
                headers = {"Cookie": cookie_header(client), "Origin": agora.server.url}
                return websocket_connect(HTTPRequest(url, headers=headers))

            ann = await connect(agora)
            assert json.loads(await ann.read_message())["user"] == "ann"  # ann joined
            bobs = await connect(bob)
            joined = [json.loads(await ann.read_message()), json.loads(await bobs.read_message())]
            assert [m["kind"] for m in joined] == ["join", "join"]
            await ann.write_message("  hello <b>bob</b>  ")
            got = [json.loads(await ann.read_message()), json.loads(await bobs.read_message())]
            ann.close()
            bobs.close()
            while await ann.read_message() is not None:  # until the closing handshake
                pass
            assert await bobs.read_message() is None
            return got

        got = asyncio.run(asyncio.wait_for(talk(), 10))
        for message in got:
            assert message["kind"] == "say"
            assert message["user"] == "ann" and message["text"] == "hello <b>bob</b>"
        # A page on another site cannot open the socket with the user's cookies.
        code = asyncio.run(_ws_refused(agora, cookie_header(bob), origin="http://evil.example"))
        assert code == 403
