"""Before timing a server: check it returns the same bytes as every other.

The reference is computed here, from :mod:`bench.common` and the same Jinja2
templates; each endpoint's check returns the request headers wrk should send
(``/full``: the session cookie, so every timed request reads and writes an
existing session).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from bench import common
from bench.server import http_get


class Mismatch(AssertionError):
    """A server's answer differs from the reference."""


@dataclass
class Checked:
    endpoint: str
    body_bytes: int
    headers: dict[str, str] = field(default_factory=dict)  # for wrk


def _ctype(headers: dict[str, list[str]]) -> str:
    return (headers.get("content-type") or [""])[0].split(";")[0].strip().lower()


def _cookies(headers: dict[str, list[str]]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for raw in headers.get("set-cookie", []):
        c: SimpleCookie = SimpleCookie()
        c.load(raw)
        jar.update({k: m.value for k, m in c.items()})
    return jar


def reference(endpoint: str, visits: int = 1) -> bytes:
    env = common.jinja_env()
    if endpoint == "/plaintext":
        return common.PLAINTEXT
    if endpoint == "/json":
        return json.dumps(common.JSON_PAYLOAD).encode()
    if endpoint == "/page":
        return env.get_template(common.PAGE_TEMPLATE).render(**common.page_context(visits)).encode()
    if endpoint == "/full":
        conn = sqlite3.connect(f"file:{common.sqlite_path()}?mode=ro", uri=True)
        try:
            rows = conn.execute(common.FULL_QUERY, (common.full_category(visits),)).fetchall()
        finally:
            conn.close()
        ctx = common.full_context(visits, rows)
        return env.get_template(common.FULL_TEMPLATE).render(**ctx).encode()
    raise ValueError(endpoint)


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise Mismatch(what)


def check(port: int, endpoint: str) -> Checked:
    """Raise :class:`Mismatch` unless the server's answer equals the reference."""
    if endpoint == "/plaintext":
        status, headers, body = http_get(port, endpoint)
        _expect(status == 200, f"{endpoint}: status {status}")
        _expect(_ctype(headers) == "text/plain", f"{endpoint}: content-type {_ctype(headers)}")
        _expect(body == reference(endpoint), f"{endpoint}: body {body[:80]!r}")
        return Checked(endpoint, len(body))
    if endpoint == "/json":
        status, headers, body = http_get(port, endpoint)
        _expect(status == 200, f"{endpoint}: status {status}")
        _expect(_ctype(headers) == "application/json", f"{endpoint}: {_ctype(headers)}")
        # Each framework's JSON helper picks its own separators; the value must agree.
        _expect(json.loads(body) == common.JSON_PAYLOAD, f"{endpoint}: body {body[:80]!r}")
        return Checked(endpoint, len(body))
    if endpoint == "/page":
        status, headers, body = http_get(port, endpoint, {"Cookie": f"{common.COOKIE_NAME}=3"})
        _expect(status == 200, f"{endpoint}: status {status}")
        _expect(_ctype(headers) == "text/html", f"{endpoint}: content-type {_ctype(headers)}")
        _expect(body == reference(endpoint, 4), f"{endpoint}: body differs ({len(body)} bytes)")
        cookie = _cookies(headers).get(common.COOKIE_NAME)
        _expect(cookie == "4", f"{endpoint}: Set-Cookie {common.COOKIE_NAME}={cookie!r}, want 4")
        return Checked(endpoint, len(body))
    if endpoint == "/full":
        status, headers, body = http_get(port, endpoint)
        _expect(status == 200, f"{endpoint}: status {status}")
        _expect(_ctype(headers) == "text/html", f"{endpoint}: content-type {_ctype(headers)}")
        _expect(body == reference(endpoint, 1), f"{endpoint}: first body differs: {body[:200]!r}")
        jar = _cookies(headers)
        _expect(bool(jar), f"{endpoint}: no session cookie set")
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        status, headers, body = http_get(port, endpoint, {"Cookie": cookie})
        _expect(status == 200, f"{endpoint}: status {status} with the session cookie")
        _expect(
            body == reference(endpoint, 2),
            f"{endpoint}: the session did not persist (second body {body[:200]!r})",
        )
        return Checked(endpoint, len(body), {"Cookie": cookie})
    raise ValueError(endpoint)
