"""Building Tornado request objects from an ASGI scope, cheaply.

:func:`new_request` makes a :class:`tornado.httputil.HTTPServerRequest` (that
class, not a subclass) from already-parsed parts (the ASGI server parsed the
request line and the headers) and skips the work a fresh request never needs:
no deprecation checks, no deep copy of an empty argument dict, no query parsing
when there is no query. Every attribute a handler reads has the value Tornado's
own ``__init__`` would give it.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tornado import httputil
from tornado.httputil import HTTPHeaders, HTTPServerRequest, parse_qs_bytes, split_host_and_port

__all__ = ["Context", "headers_from_scope", "host_name", "new_request", "uri_from_scope"]

_ABNF_HOST = httputil._ABNF.host  # noqa: SLF001 - the regex Tornado validates Host with
_MAX_ARGS = httputil._DEFAULT_PARSE_BODY_CONFIG.urlencoded.max_arguments  # noqa: SLF001

# Header names as the ASGI server gives them (lower-case bytes) -> Tornado's
# normalised form. Bounded: a client inventing names cannot grow it forever.
_NAMES: dict[bytes, str] = {}
_NAMES_MAX = 2048
# Host values already validated (one regex per distinct Host, not per request).
_HOSTS: dict[str, str] = {}
_HOSTS_MAX = 256


def _normal_name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        name = "-".join(w.capitalize() for w in raw.decode("latin-1").split("-"))
        if len(_NAMES) < _NAMES_MAX:
            _NAMES[raw] = name
    return name


def headers_from_scope(raw_headers: Any) -> HTTPHeaders:
    """An :class:`HTTPHeaders` from ASGI ``[(name, value), ...]`` byte pairs.

    The ASGI server has parsed and validated the header block; this only
    builds Tornado's structure (repeated names keep every value, as Tornado's
    parser does).
    """
    as_list: dict[str, list[str]] = {}
    for raw_name, raw_value in raw_headers:
        name = _NAMES.get(raw_name) or _normal_name(raw_name)
        values = as_list.get(name)
        if values is None:
            as_list[name] = [raw_value.decode("latin-1")]
        else:
            values.append(raw_value.decode("latin-1"))
    headers = HTTPHeaders.__new__(HTTPHeaders)
    headers._as_list = as_list  # noqa: SLF001
    headers._combined_cache = {}  # noqa: SLF001
    return headers


def uri_from_scope(scope: dict[str, Any]) -> str:
    """The request target as the client sent it (percent-encoded path + query)."""
    raw = scope.get("raw_path")
    if raw:
        path = raw.decode("latin-1")
    else:
        from urllib.parse import quote

        path = quote(scope.get("root_path", "") + scope["path"])
    query = scope.get("query_string")
    if query:
        return path + "?" + query.decode("latin-1")
    return path


class Context:
    """What Tornado's HTTP server keeps per connection: peer address, scheme.

    ``address`` is the TCP peer (the proxy, when there is one), as on Tornado's
    own connection context; ``remote_ip``/``protocol`` may come from trusted
    proxy headers.
    """

    __slots__ = ("address", "remote_ip", "protocol", "_orig_remote_ip", "_orig_protocol")

    def __init__(self, address: tuple[str, int] | None, remote_ip: str, protocol: str) -> None:
        self.address = address
        self.remote_ip = self._orig_remote_ip = remote_ip
        self.protocol = self._orig_protocol = protocol

    def __str__(self) -> str:
        return self.remote_ip


def host_name(host: str) -> str:
    """``request.host_name`` for a ``Host`` value, after the checks
    ``HTTPServerRequest.__init__`` makes (:class:`~tornado.httputil.HTTPInputError`
    for a Host Tornado refuses). A valid value is remembered (bounded)."""
    name = _HOSTS.get(host)
    if name is None:
        if not _ABNF_HOST.fullmatch(host):
            raise httputil.HTTPInputError(f"Invalid Host header: {host!r}")
        if "," in host:
            raise httputil.HTTPInputError(f"Multiple host headers not allowed: {host!r}")
        name = split_host_and_port(host.lower())[0]
        if len(_HOSTS) < _HOSTS_MAX:
            _HOSTS[host] = name
    return name


def new_request(  # noqa: PLR0913 - the parts of a request
    method: str,
    uri: str,
    version: str,
    headers: HTTPHeaders,
    connection: Any,
    remote_ip: str | None,
    protocol: str,
    host: str,
    server_connection: Any = None,
) -> HTTPServerRequest:
    """An ``HTTPServerRequest`` (that very class) built from parts the server
    parsed, with the attributes its ``__init__`` sets.

    Raises :class:`tornado.httputil.HTTPInputError` for a Host header or a
    query string Tornado would refuse, exactly as ``__init__`` does.
    """
    name = _HOSTS.get(host) or host_name(host)
    path, _, query = uri.partition("?")
    if query:
        try:
            arguments = parse_qs_bytes(query, keep_blank_values=True, max_num_fields=_MAX_ARGS)
        except Exception as e:
            raise httputil.HTTPInputError(f"Invalid query string: {e}") from e
        query_arguments = copy.deepcopy(arguments)
    else:
        arguments = {}
        query_arguments = {}
    # The attributes in the order __init__ sets them (instances then share
    # their key table with Tornado's own requests).
    request = _new(HTTPServerRequest)
    request.method = method
    request.uri = uri
    request.version = version
    request.headers = headers
    request.body = b""
    request.remote_ip = remote_ip  # type: ignore[assignment]
    request.protocol = protocol
    request.host = host
    request.host_name = name
    request.files = {}
    request.connection = connection
    request.server_connection = server_connection
    request._start_time = _time()  # noqa: SLF001
    request._finish_time = None  # noqa: SLF001
    request.path = path
    request.query = query
    request.arguments = arguments
    request.query_arguments = query_arguments
    request.body_arguments = {}
    return request


_new = object.__new__
_time = time.time
