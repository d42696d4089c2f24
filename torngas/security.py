"""Web-security helpers: redirect checks, the client's IP, production secrets.

Pure functions (no handler imports), usable from handlers, middleware and start-up code:

* :func:`is_safe_redirect` — may a redirect go to this URL taken from user input
  (``?next=``, a form field, a header)? Relative paths on this site are; other
  hosts only when listed.
* :func:`client_ip` — the client's address, believing ``X-Forwarded-For`` /
  ``X-Real-Ip`` only when they come from a configured proxy.
* :func:`check_production_settings` — refuse to run with ``DEBUG`` off while a
  secret is missing or is an example value copied from documentation.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from torngas.exceptions import ImproperlyConfigured

__all__ = [
    "EXAMPLE_SECRETS",
    "check_production_settings",
    "client_ip",
    "is_safe_redirect",
    "peer_ip",
    "resolve_forwarded",
    "safe_redirect_url",
    "trusted_networks",
]

log = logging.getLogger("torngas.security")

#: Secrets published in documentation and demos. A deployment using one of them
#: has no secret at all: anyone can forge its cookies.
EXAMPLE_SECRETS = frozenset(
    {
        "fLjUfxqXtfNoIldA0A0J",  # the torngas 1.8 README's SESSION secret_key
        "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__",  # Tornado's docs
        "bXZ/gDAbQA+zaTxdqJwxKa8OZTbuZE/ok3doaow9N4Q=",  # Tornado's demos
        "demo-only-not-secret",  # torngas's demo project
        "xsseffekrjewkhwy",  # the Tornado tutorial's cookie_secret
        "sssseertdfcvcvd",  # the Tornado tutorial's cookie_secret
    }
)

#: A secret shorter than this is accepted but logged as weak.
MIN_SECRET_LENGTH = 32

_SESSION_MIDDLEWARE = "torngas.middleware.session.SessionMiddleware"


# ---------------------------------------------------------------- redirects
def is_safe_redirect(
    url: str | None, allowed_hosts: Iterable[str] = (), *, require_https: bool = False
) -> bool:
    """True when redirecting to ``url`` cannot send the user to another site.

    Accepted: a path on this site (``/account``, ``/a?b=c#d``, ``page2``), or an
    ``http``/``https`` URL whose host (``host`` or ``host:port``, compared without
    case) is in ``allowed_hosts``. Rejected, among others: ``//evil.example``,
    ``///evil.example``, ``/\\evil.example`` and any backslash (browsers read
    ``\\`` as ``/``), ``https://evil.example``, ``https:evil.example``,
    ``javascript:…``, ``data:…``, ``http://allowed@evil.example``, and any URL
    holding whitespace or control characters (browsers drop tabs and newlines,
    which turns ``/\\t/evil.example`` into ``//evil.example``). With
    ``require_https``, an absolute ``http://`` URL is rejected too.
    """
    if not url or not isinstance(url, str):
        return False
    if "\\" in url:
        return False
    for ch in url:
        if ch.isspace() or unicodedata.category(ch)[0] == "C":
            return False
    if url.startswith("///"):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if not parts.netloc:
        # No host: a path on this site, unless there is a scheme ("https:evil",
        # "javascript:alert(1)"), which browsers may resolve elsewhere.
        return not scheme
    if scheme not in ("", "http", "https"):
        return False
    if require_https and scheme != "https":
        return False
    if parts.username is not None or parts.password is not None:
        return False  # "http://good.example@evil.example" reads as good to humans only
    if not parts.hostname:
        return False
    allowed = {h.lower() for h in allowed_hosts if h}
    return parts.netloc.lower() in allowed


def safe_redirect_url(
    url: str | None, allowed_hosts: Iterable[str] = (), default: str = "/"
) -> str:
    """``url`` when :func:`is_safe_redirect` accepts it, else ``default``."""
    return url if url is not None and is_safe_redirect(url, allowed_hosts) else default


# ---------------------------------------------------------------- client IP
def _as_network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        log.warning("TRUSTED_PROXIES: %r is not an IP address or network; ignored", entry)
        return None


@functools.lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(n for n in (_as_network(e) for e in entries) if n is not None)


def _parse_ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "1.2.3.4:5678"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _trusted(ip: str, networks: tuple[Any, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in networks)


def peer_ip(request: Any) -> str:
    """The address of the TCP peer (the proxy, if there is one), never a header."""
    context = getattr(getattr(request, "connection", None), "context", None)
    address = getattr(context, "address", None)
    if isinstance(address, tuple | list) and address:
        return str(address[0])
    # Tornado replaces remote_ip from headers when xheaders=True; its untouched
    # value is kept on the context.
    orig = getattr(context, "_orig_remote_ip", None)
    return str(orig or getattr(request, "remote_ip", None) or "0.0.0.0")


def trusted_networks(entries: Iterable[str]) -> tuple[Any, ...]:
    """``TRUSTED_PROXIES`` entries (addresses or networks) as parsed networks
    (cached; an entry that does not parse is logged once and ignored)."""
    return _networks(tuple(str(e) for e in entries or ()))


def resolve_forwarded(
    peer: str, headers: Any, networks: tuple[Any, ...]
) -> tuple[str, str | None]:
    """``(client IP, scheme or None)`` for a request from the TCP peer ``peer``.

    The forwarding headers are believed only when ``peer`` is in ``networks``
    (see :func:`trusted_networks`): ``X-Forwarded-For`` walked from the right,
    skipping trusted proxies, then ``X-Real-Ip``; the scheme from ``X-Scheme``
    or ``X-Forwarded-Proto`` (``http``/``https`` only). From any other peer the
    answer is ``(peer, None)``: a client cannot choose its IP or scheme by
    sending a header. Both transports (Tornado's server and ASGI) use this.
    """
    if not _trusted(peer, networks):
        return peer, None
    proto = headers.get("X-Scheme") or headers.get("X-Forwarded-Proto")
    scheme = None
    if proto:
        proto = proto.split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            scheme = proto
    forwarded = headers.get_list("X-Forwarded-For") if hasattr(headers, "get_list") else []
    hops = [h for value in forwarded for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _parse_ip(hop)
        if ip is None:
            return peer, scheme  # garbage from a proxy we trust: believe nobody
        if not _trusted(ip, networks):
            return ip, scheme
    real = headers.get("X-Real-Ip")
    if real:
        ip = _parse_ip(real)
        if ip is not None:
            return ip, scheme
    if hops:
        ip = _parse_ip(hops[0])
        if ip is not None:
            return ip, scheme
    return peer, scheme


def client_ip(
    request: Any, trusted_proxies: Iterable[str] | None = None, xheaders: bool | None = None
) -> str:
    """The client's IP address for ``request`` (a Tornado ``HTTPServerRequest``).

    ``X-Forwarded-For`` (walked from the right, skipping trusted proxies) and
    ``X-Real-Ip`` are believed only when ``xheaders`` is on (default: the
    ``XHEADERS`` setting) *and* the TCP peer is in ``trusted_proxies`` (default:
    ``TRUSTED_PROXIES``; addresses or networks such as ``10.0.0.0/8``). Otherwise
    the TCP peer's address is the answer: a client cannot choose its IP by
    sending a header. (With ``XHEADERS`` on, both transports already put this
    answer in ``request.remote_ip``.)
    """
    peer = peer_ip(request)
    if xheaders is None or trusted_proxies is None:
        from torngas.conf import settings

        if xheaders is None:
            xheaders = bool(settings.get("XHEADERS", False))
        if trusted_proxies is None:
            trusted_proxies = settings.get("TRUSTED_PROXIES", ()) or ()
    if not xheaders:
        return peer
    return resolve_forwarded(peer, request.headers, trusted_networks(trusted_proxies))[0]


# ---------------------------------------------------------------- secrets
def _get(settings: Any, name: str, default: Any = None) -> Any:
    if isinstance(settings, dict):
        return settings.get(name, default)
    getter = getattr(settings, "get", None)
    if callable(getter):
        return getter(name, default)
    return getattr(settings, name, default)


def uses_session_middleware(classes: Iterable[Any]) -> bool:
    """True when ``MIDDLEWARE_CLASSES`` lists SessionMiddleware (or a subclass)."""
    for entry in classes or ():
        if isinstance(entry, str):
            if entry == _SESSION_MIDDLEWARE:
                return True
            continue
        if isinstance(entry, type):
            from torngas.middleware.session import SessionMiddleware

            if issubclass(entry, SessionMiddleware):
                return True
    return False


def secret_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a production secret, or None when it can."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values or any(v in (None, "") for v in values):
        return "is not set"
    for v in values:
        if not isinstance(v, str | bytes):
            return f"must be a string, not {type(v).__name__}"
        text = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
        if text in EXAMPLE_SECRETS:
            return "is an example value published in documentation (anyone can forge cookies)"
    return None


def _how(setting: str, env: str) -> str:
    return (
        f"set {setting} from an environment variable in your settings module, e.g. "
        f"{setting} = os.environ['{env}'], and generate a value with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    )


def check_production_settings(settings: Any) -> None:
    """Raise :class:`ImproperlyConfigured` when ``DEBUG`` is off and a secret is unsafe.

    Checked: ``TORNADO_CONF['cookie_secret']`` (signs secure cookies) and, when
    ``MIDDLEWARE_CLASSES`` has SessionMiddleware, ``SESSION['secret_key']`` (signs
    session ids). Each must be set and must not be an example value copied from
    documentation (:data:`EXAMPLE_SECRETS`). A secret shorter than
    :data:`MIN_SECRET_LENGTH` characters is logged as weak but accepted. The
    message says how to set it from an environment variable. ``settings`` is the
    torngas settings object, a module or a dict. With ``DEBUG`` on nothing is checked.
    """
    if _get(settings, "DEBUG", False):
        return
    problems: list[str] = []
    checks: list[tuple[str, str, Any]] = []
    tornado_conf = _get(settings, "TORNADO_CONF", None) or {}
    checks.append(
        (
            "TORNADO_CONF['cookie_secret']",
            "TORNGAS_COOKIE_SECRET",
            tornado_conf.get("cookie_secret"),
        )
    )
    if uses_session_middleware(_get(settings, "MIDDLEWARE_CLASSES", ()) or ()):
        session_conf = _get(settings, "SESSION", None) or {}
        checks.append(
            ("SESSION['secret_key']", "TORNGAS_SESSION_SECRET", session_conf.get("secret_key"))
        )
    for setting, env, value in checks:
        problem = secret_problem(value)
        if problem is not None:
            problems.append(f"{setting} {problem}: {_how(setting, env)}")
            continue
        values = value if isinstance(value, list | tuple) else [value]
        if any(len(v) < MIN_SECRET_LENGTH for v in values):
            log.warning(
                "%s is shorter than %d characters; use a longer random value",
                setting,
                MIN_SECRET_LENGTH,
            )
    if problems:
        raise ImproperlyConfigured("refusing to start with DEBUG off: " + "; ".join(problems))
