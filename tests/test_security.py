"""torngas.security: redirect checks, the client's IP, production secrets."""

from __future__ import annotations

import logging
import types

import pytest
from tornado.httputil import HTTPHeaders

from torngas.exceptions import ImproperlyConfigured
from torngas.security import (
    EXAMPLE_SECRETS,
    check_production_settings,
    client_ip,
    is_safe_redirect,
    safe_redirect_url,
)

SAFE = [
    "/",
    "/account",
    "/a/b?c=d&e=//f#g",
    "page2",
    "?tab=1",
    "/%2F%2Fevil.example",  # an encoded slash stays a path on this site
    "http://testserver/x",
    "https://TestServer/x",
    "https://testserver:8443/x",
]

UNSAFE = [
    "",
    None,
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:///evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://testserver/x",
    "http://testserver@evil.example/",
    "http://user:pw@testserver/",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/\u2028/evil.example",
    "//evil.example\\@testserver",
    "http://testserver:99999/",
    "https://testserver.evil.example/",
    "https://testserver:8443@evil.example/",
]


@pytest.mark.parametrize("url", SAFE)
def test_safe_redirects(url):
    assert is_safe_redirect(url, {"testserver", "testserver:8443"})


@pytest.mark.parametrize("url", UNSAFE)
def test_unsafe_redirects(url):
    assert not is_safe_redirect(url, {"testserver", "testserver:8443"})


def test_other_host_only_when_allowed():
    assert not is_safe_redirect("https://accounts.example/x")
    assert is_safe_redirect("https://accounts.example/x", ["accounts.example"])
    assert not is_safe_redirect("https://accounts.example:444/x", ["accounts.example"])


def test_require_https():
    assert is_safe_redirect("https://h/x", ["h"], require_https=True)
    assert not is_safe_redirect("http://h/x", ["h"], require_https=True)
    assert is_safe_redirect("/x", require_https=True)


def test_safe_redirect_url_falls_back():
    assert safe_redirect_url("//evil.example", default="/home") == "/home"
    assert safe_redirect_url("/ok", default="/home") == "/ok"
    assert safe_redirect_url(None) == "/"


# ---------------------------------------------------------------- client IP
def _request(peer: str, headers: dict[str, str] | None = None) -> types.SimpleNamespace:
    h = HTTPHeaders()
    for k, v in (headers or {}).items():
        h.add(k, v)
    context = types.SimpleNamespace(address=(peer, 55555))
    return types.SimpleNamespace(
        connection=types.SimpleNamespace(context=context), headers=h, remote_ip="9.9.9.9"
    )


def test_client_ip_ignores_headers_from_untrusted_peer():
    req = _request("203.0.113.5", {"X-Forwarded-For": "1.2.3.4", "X-Real-Ip": "1.2.3.4"})
    assert client_ip(req, ["127.0.0.1"], xheaders=True) == "203.0.113.5"


def test_client_ip_ignores_headers_without_xheaders():
    req = _request("127.0.0.1", {"X-Forwarded-For": "1.2.3.4"})
    assert client_ip(req, ["127.0.0.1"], xheaders=False) == "127.0.0.1"


def test_client_ip_walks_forwarded_for_from_the_right():
    req = _request("10.0.0.2", {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.0.0.1"})
    # 6.6.6.6 was written by the client itself; the first untrusted hop from the
    # right is the address our proxy saw.
    assert client_ip(req, ["10.0.0.0/8"], xheaders=True) == "198.51.100.7"


def test_client_ip_real_ip_and_garbage():
    assert client_ip(_request("::1", {"X-Real-Ip": "2001:db8::1"}), ["::1"], True) == "2001:db8::1"
    assert client_ip(_request("::1", {"X-Forwarded-For": "nonsense"}), ["::1"], True) == "::1"
    req = _request("127.0.0.1", {"X-Forwarded-For": "198.51.100.7:4711"})
    assert client_ip(req, ["127.0.0.1"], True) == "198.51.100.7"


# ---------------------------------------------------------------- secrets
GOOD = "k" * 48
SESSION_MW = "torngas.middleware.session.SessionMiddleware"


def _settings(**kw):
    base = {
        "DEBUG": False,
        "TORNADO_CONF": {"cookie_secret": GOOD},
        "MIDDLEWARE_CLASSES": [SESSION_MW],
        "SESSION": {"secret_key": GOOD},
    }
    base.update(kw)
    return base


def test_production_settings_accepts_real_secrets():
    check_production_settings(_settings())


@pytest.mark.parametrize("bad", [None, "", *sorted(EXAMPLE_SECRETS)])
def test_production_refuses_bad_cookie_secret(bad):
    with pytest.raises(ImproperlyConfigured) as info:
        check_production_settings(_settings(TORNADO_CONF={"cookie_secret": bad}))
    msg = str(info.value)
    assert "TORNADO_CONF['cookie_secret']" in msg
    assert "os.environ['TORNGAS_COOKIE_SECRET']" in msg
    assert "secrets.token_urlsafe" in msg
    if bad:
        assert bad not in msg  # the message never repeats a secret


@pytest.mark.parametrize("bad", [None, "fLjUfxqXtfNoIldA0A0J", "demo-only-not-secret"])
def test_production_refuses_bad_session_secret(bad):
    with pytest.raises(ImproperlyConfigured) as info:
        check_production_settings(_settings(SESSION={"secret_key": bad}))
    assert "SESSION['secret_key']" in str(info.value)
    assert "TORNGAS_SESSION_SECRET" in str(info.value)


def test_session_secret_only_checked_with_session_middleware():
    check_production_settings(_settings(MIDDLEWARE_CLASSES=[], SESSION={"secret_key": None}))
    from torngas.middleware.session import SessionMiddleware

    class Mine(SessionMiddleware):
        pass

    with pytest.raises(ImproperlyConfigured):
        check_production_settings(_settings(MIDDLEWARE_CLASSES=[Mine], SESSION={}))


def test_debug_skips_the_check_and_short_secret_warns(caplog):
    check_production_settings(_settings(DEBUG=True, TORNADO_CONF={}))
    with caplog.at_level(logging.WARNING, logger="torngas.security"):
        check_production_settings(_settings(TORNADO_CONF={"cookie_secret": "short-but-real"}))
    assert any("shorter than" in r.getMessage() for r in caplog.records)


def test_check_reads_torngas_settings_object():
    from torngas.conf import override_settings, settings

    with (
        override_settings(DEBUG=False, TORNADO_CONF={"cookie_secret": None}),
        pytest.raises(ImproperlyConfigured),
    ):
        check_production_settings(settings)
