"""Server-side sessions stored on a cache alias (no web-layer imports).

The pieces, each usable without HTTP (a script, a worker, a test):

* :class:`SessionConfig` — the ``SESSION`` setting, merged over the defaults and
  checked once.
* :class:`SessionSigner` — session ids are 256 random bits from :mod:`secrets`;
  the cookie carries ``<id>.<HMAC-SHA256(secret_key, session_version, id)>`` and a
  cookie whose signature does not verify (checked in constant time) is never
  looked up in the store.
* :class:`Session` — the dict-like object handlers see as ``handler.session``.
* :class:`SessionStore` — loads and saves sessions with the alias's ``a*``
  coroutines (never blocking the event loop), under a time limit, in a key
  namespace of its own.

What is guaranteed:

* **Ids are never adopted.** A cookie with a bad signature, an id the store does
  not know, an expired one or one bound to another client IP gives a fresh, empty
  session with no id (one warning on the ``torngas.sessions`` logger). An id
  exists only once the server has stored data under it.
* **JSON, never pickle.** Values go through the cache's JSON serializer
  (``str``, numbers, ``bool``, ``None``, lists, dicts, tuples, sets, bytes,
  ``datetime``/``date``/``time``/``timedelta``, ``Decimal``, ``UUID``); anything
  else is refused with :class:`TypeError` when it is assigned.
* **Own namespace.** The store uses its own backend instance built from the
  alias's settings with the key prefix ``torngas-session[.<KEY_PREFIX>]`` (and, for
  the in-process and file caches, its own store / sub-directory), so the alias's
  ``clear()`` and the application's keys never reach a session. (memcached's
  ``clear()`` is ``flush_all``, which empties the whole server: give sessions a
  memcached or Redis of their own if you clear that cache.)
* **Bounded.** Every store call is limited to ``SESSION['store_timeout']`` seconds
  and any failure raises :class:`SessionStoreError`; the backend's
  ``IGNORE_EXCEPTIONS`` is turned off for sessions (a lost login must not look
  like a logout).
* **Expiry** is checked against the store's clock (``clock``, injectable) as well
  as the backend's own TTL; it counts from the last save.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torngas.exceptions import ImproperlyConfigured, TorngasError

__all__ = [
    "SESSION_KEY_PREFIX",
    "Session",
    "SessionConfig",
    "SessionSigner",
    "SessionStore",
    "SessionStoreError",
    "CookieAction",
]

log = logging.getLogger("torngas.sessions")

#: Key prefix of every session record (the alias's own KEY_PREFIX is appended).
SESSION_KEY_PREFIX = "torngas-session"

_ID_BYTES = 32  # 256 bits
_B64_LEN = 43  # len(urlsafe_b64encode(32 bytes)) without padding
_COOKIE_RE = re.compile(rf"^([A-Za-z0-9_-]{{{_B64_LEN}}})\.([A-Za-z0-9_-]{{{_B64_LEN}}})$")
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 6265 cookie-name token
_RECORD_FORMAT = 1
_KNOWN_KEYS = frozenset(
    {
        "session_cache_alias",
        "session_name",
        "cookie_domain",
        "cookie_path",
        "expires",
        "lifetime",
        "ignore_change_ip",
        "httponly",
        "secure",
        "samesite",
        "secret_key",
        "session_version",
        "store_timeout",
    }
)


class SessionStoreError(TorngasError):
    """The session store failed or did not answer in time (the request gets a 503)."""


# ---------------------------------------------------------------- config
@dataclass(frozen=True)
class SessionConfig:
    """The ``SESSION`` setting, validated. Build it with :meth:`from_settings`."""

    cache_alias: str = "default"
    cookie_name: str = "__TORNADOSSID"
    cookie_domain: str | None = None
    cookie_path: str = "/"
    expires: int = 0
    lifetime: int = 14 * 24 * 3600
    ignore_change_ip: bool = False
    httponly: bool = True
    secure: bool = False
    samesite: str | None = "Lax"
    secret_keys: tuple[bytes, ...] = field(default=(), repr=False)
    version: str = "v1"
    store_timeout: float = 3.0

    @classmethod
    def from_settings(
        cls, session: Mapping[str, Any] | None = None, *, debug: bool | None = None
    ) -> SessionConfig:
        """Merge ``session`` (default: ``settings.SESSION``) over the defaults.

        A missing or example ``secret_key`` raises :class:`ImproperlyConfigured`
        unless ``debug`` (default: ``settings.DEBUG``) is on; then a random key is
        made for this process (sessions do not survive a restart) and a warning
        is logged.
        """
        from torngas.conf import global_settings

        if session is None or debug is None:
            from torngas.conf import settings

            if session is None:
                session = settings.get("SESSION", None) or {}
            if debug is None:
                debug = bool(settings.get("DEBUG", False))
        merged: dict[str, Any] = {**global_settings.SESSION, **dict(session)}
        unknown = sorted(set(merged) - _KNOWN_KEYS)
        if unknown:
            log.warning("SESSION: unknown keys ignored: %s", ", ".join(unknown))

        name = str(merged["session_name"] or "")
        if not _TOKEN_RE.match(name):
            raise ImproperlyConfigured(f"SESSION['session_name'] {name!r} is not a cookie name")
        samesite = merged.get("samesite")
        if samesite is not None:
            samesite = str(samesite).capitalize()
            if samesite not in ("Strict", "Lax", "None"):
                raise ImproperlyConfigured(
                    f"SESSION['samesite'] must be 'Strict', 'Lax', 'None' or None, not {samesite!r}"
                )
        secure = bool(merged["secure"])
        if samesite == "None" and not secure:
            raise ImproperlyConfigured(
                "SESSION['samesite'] = 'None' needs SESSION['secure'] = True "
                "(browsers drop SameSite=None cookies that are not Secure)"
            )
        expires = _non_negative_int(merged["expires"], "expires")
        lifetime = _non_negative_int(merged.get("lifetime"), "lifetime") or cls.lifetime
        try:
            store_timeout = float(merged.get("store_timeout") or cls.store_timeout)
        except (TypeError, ValueError):
            raise ImproperlyConfigured("SESSION['store_timeout'] must be a number") from None
        return cls(
            cache_alias=str(merged["session_cache_alias"] or "default"),
            cookie_name=name,
            cookie_domain=merged.get("cookie_domain") or None,
            cookie_path=merged.get("cookie_path") or "/",
            expires=expires,
            lifetime=lifetime,
            ignore_change_ip=bool(merged["ignore_change_ip"]),
            httponly=bool(merged["httponly"]),
            secure=secure,
            samesite=samesite,
            secret_keys=_secret_keys(merged.get("secret_key"), debug=bool(debug)),
            version=str(merged.get("session_version") or "v1"),
            store_timeout=store_timeout,
        )


def _non_negative_int(value: Any, name: str) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"SESSION[{name!r}] must be seconds (an int)") from None
    if number < 0:
        raise ImproperlyConfigured(f"SESSION[{name!r}] must be >= 0, not {number}")
    return number


def _secret_keys(value: Any, *, debug: bool) -> tuple[bytes, ...]:
    """The signing keys: the first signs, all verify (rotate by prepending a new one)."""
    from torngas.security import secret_problem

    problem = secret_problem(value)
    if problem is not None:
        if not debug:
            raise ImproperlyConfigured(
                f"SESSION['secret_key'] {problem}: set it from an environment variable in "
                "your settings module, e.g. SESSION['secret_key'] = "
                "os.environ['TORNGAS_SESSION_SECRET'], and generate a value with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if value in (None, "") or (isinstance(value, list | tuple) and not value):
            log.warning(
                "SESSION['secret_key'] is not set; DEBUG is on, so a random key is used: "
                "sessions end when this process stops and are not shared between processes"
            )
            return (secrets.token_bytes(32),)
        log.warning("SESSION['secret_key'] %s; accepted only because DEBUG is on", problem)
    values = list(value) if isinstance(value, list | tuple) else [value]
    return tuple(v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values)


# ---------------------------------------------------------------- signing
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SessionSigner:
    """Makes session ids and signs/verifies the cookie value that carries them."""

    def __init__(self, secret_keys: Sequence[bytes], version: str = "v1") -> None:
        if not secret_keys:
            raise ImproperlyConfigured("SessionSigner needs at least one secret key")
        # Derive a key for this purpose only, so reusing cookie_secret as the
        # session secret cannot turn one signature into the other.
        self._keys = [
            hmac.new(k, b"torngas.sessions.signer", hashlib.sha256).digest() for k in secret_keys
        ]
        self._version = version.encode("utf-8")

    @staticmethod
    def new_id() -> str:
        """A new session id: 256 bits from :func:`secrets.token_bytes`."""
        return _b64(secrets.token_bytes(_ID_BYTES))

    def _mac(self, key: bytes, session_id: str) -> str:
        msg = self._version + b"|" + session_id.encode("ascii")
        return _b64(hmac.new(key, msg, hashlib.sha256).digest())

    def sign(self, session_id: str) -> str:
        """The cookie value for ``session_id``."""
        return f"{session_id}.{self._mac(self._keys[0], session_id)}"

    def unsign(self, value: str | None) -> str | None:
        """The session id in cookie ``value``, or None unless its signature verifies."""
        if not value or len(value) != 2 * _B64_LEN + 1:
            return None
        m = _COOKIE_RE.match(value)
        if m is None:
            return None
        session_id, mac = m.groups()
        ok = False
        for key in self._keys:  # every key is tried: no early exit on a match
            ok |= hmac.compare_digest(mac, self._mac(key, session_id))
        return session_id if ok else None


# ---------------------------------------------------------------- the session
_json_check: Callable[[Any], bytes] | None = None


def _check_json(key: str, value: Any) -> None:
    global _json_check
    if _json_check is None:
        from torngas.cache.serializers import JSONSerializer

        _json_check = JSONSerializer().dumps
    try:
        _json_check(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"session[{key!r}]: {type(value).__module__}.{type(value).__qualname__} cannot be "
            "stored in a session (sessions hold JSON data: str, numbers, bool, None, lists, "
            "dicts, tuples, sets, bytes, datetimes, Decimal, UUID)"
        ) from exc


class Session(MutableMapping[str, Any]):
    """A dict of JSON data for one browser (``handler.session``).

    Reading marks the session *accessed* (the response then gets
    ``Vary: Cookie``); ``[]=``, ``del``, ``pop``, ``clear``, ``update``,
    :meth:`set_expire`, :meth:`cycle_key` and :meth:`flush` mark it *modified*
    (it is saved before the response is sent). Changing a mutable value in place
    (``session['cart'].append(x)``) is not seen: assign it again or set
    ``session.modified = True``.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        session_key: str | None = None,
        ttl: int | None = None,
        ip: str | None = None,
        created: float | None = None,
        from_cookie: bool = False,
    ) -> None:
        self._data: dict[str, Any] = dict(data or {})
        #: The id under which the data is stored (None: not stored yet).
        self.session_key = session_key
        #: Seconds the session lives (None: ``SESSION['expires']``); see set_expire.
        self.ttl = ttl
        #: The client IP the session is bound to (None: not bound).
        self.ip = ip
        self.created = created
        self.modified = False
        self.accessed = False
        #: The request carried a cookie for this session (or a rejected one), so a
        #: response that ends the session must clear it.
        self.from_cookie = from_cookie
        #: Ids whose records must be deleted when the session is saved.
        self.stale_keys: list[str] = []

    # -- mapping ----------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"session keys are str, not {type(key).__name__}")
        _check_json(key, value)
        self.accessed = True
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        self.accessed = True
        del self._data[key]
        self.modified = True

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return self._data.get(key, default)

    _MISSING: Any = object()

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        self.accessed = True
        if key in self._data:
            self.modified = True
            return self._data.pop(key)
        if default is Session._MISSING:
            raise KeyError(key)
        return default

    def clear(self) -> None:
        self.accessed = True
        if self._data:
            self._data.clear()
            self.modified = True

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy of the data."""
        return dict(self._data)

    # -- life cycle -------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not self._data

    def set_expire(self, seconds: int) -> None:
        """Make this session last ``seconds`` from now (and from each later save).

        ``0`` makes the cookie a browser-session cookie (the store keeps the data
        for ``SESSION['lifetime']``). Kept with the session for later requests.
        """
        seconds = int(seconds)
        if seconds < 0:
            raise ValueError("set_expire: seconds must be >= 0")
        self.ttl = seconds
        self.accessed = True
        self.modified = True

    def cycle_key(self) -> None:
        """Give the session a new id, keeping its data; the old id stops working.

        Call it when the user logs in (or gains privileges): a session id an
        attacker planted before the login is then worthless (session fixation).
        """
        if self.session_key is not None:
            self.stale_keys.append(self.session_key)
            self.session_key = None
        self.accessed = True
        self.modified = True

    def flush(self) -> None:
        """Delete the data, the stored record and the cookie (log out)."""
        if self.session_key is not None:
            self.stale_keys.append(self.session_key)
            self.session_key = None
        self._data.clear()
        self.ttl = None
        self.accessed = True
        self.modified = True

    def __repr__(self) -> str:
        key = f"{self.session_key[:6]}…" if self.session_key else None
        return f"<Session {key} {sorted(self._data)}{' modified' if self.modified else ''}>"


# ---------------------------------------------------------------- the store
@dataclass(frozen=True)
class CookieAction:
    """What the response must do with the session cookie after a save."""

    #: "set" or "clear".
    action: str
    value: str = ""
    #: Seconds for Max-Age, None for a browser-session cookie.
    max_age: int | None = None


def _build_backend(alias: str) -> tuple[Any, Any]:
    """A backend instance for ``alias`` with the session namespace (and its source)."""
    from torngas._utils import import_object
    from torngas.cache import caches
    from torngas.cache.backends.filebased import FileBasedCache
    from torngas.cache.backends.localcache import LocMemCache

    configured = caches.settings
    if alias not in configured:
        raise ImproperlyConfigured(
            f"SESSION['session_cache_alias'] = {alias!r} is not in CACHES "
            f"(defined: {', '.join(sorted(configured)) or 'none'})"
        )
    params = dict(configured[alias])
    prefix = str(params.get("KEY_PREFIX") or "")
    if prefix == SESSION_KEY_PREFIX or prefix.startswith(SESSION_KEY_PREFIX + "."):
        raise ImproperlyConfigured(
            f"CACHES[{alias!r}]['KEY_PREFIX'] must not start with {SESSION_KEY_PREFIX!r} "
            "(reserved for sessions)"
        )
    params["KEY_PREFIX"] = SESSION_KEY_PREFIX + (f".{prefix}" if prefix else "")
    params.pop("KEY_FUNCTION", None)
    params["VERSION"] = 1
    options = dict(params.get("OPTIONS") or {})
    options["SERIALIZER"] = "json"
    options.pop("SERIALIZER_OPTIONS", None)
    options["IGNORE_EXCEPTIONS"] = False
    params["OPTIONS"] = options
    backend_cls = import_object(params.get("BACKEND"), what="cache backend")
    location = params.get("LOCATION") or ""
    if isinstance(backend_cls, type) and issubclass(backend_cls, LocMemCache):
        params["LOCATION"] = f"{location}#{SESSION_KEY_PREFIX}"
    elif isinstance(backend_cls, type) and issubclass(backend_cls, FileBasedCache):
        params["LOCATION"] = os.path.join(str(location), SESSION_KEY_PREFIX)
    return caches.create_connection(alias, {alias: params}), configured


class SessionStore:
    """Loads and saves :class:`Session` objects on a cache alias.

    ``backend`` defaults to a private instance built from
    ``CACHES[config.cache_alias]`` (rebuilt when ``CACHES`` changes). ``clock``
    returns the current time in seconds (``time.time``); tests replace it.
    """

    #: A failure that took at least this many seconds means "hung"...
    slow_failure = 0.25
    #: ...and the store is not tried again for this many seconds (fail fast).
    retry_after = 1.0

    def __init__(
        self,
        config: SessionConfig,
        *,
        backend: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.signer = SessionSigner(config.secret_keys, config.version)
        self.clock = clock
        self._backend = backend
        self._fixed_backend = backend is not None
        self._source: Any = None
        self._hung_since = 0.0
        self._hung_until = 0.0

    # -- backend ----------------------------------------------------------
    @property
    def backend(self) -> Any:
        """The cache backend holding the records (built on first use)."""
        if self._fixed_backend:
            return self._backend
        from torngas.cache import caches

        if self._backend is None or caches.settings is not self._source:
            old = self._backend
            self._backend, self._source = _build_backend(self.config.cache_alias)
            if old is not None:
                try:
                    old.disconnect()
                except Exception:  # best effort: it is being replaced
                    log.debug("disconnecting the old session backend failed", exc_info=True)
        return self._backend

    @backend.setter
    def backend(self, value: Any) -> None:
        """Use ``value`` (a cache backend) from now on, whatever ``CACHES`` says."""
        self._backend = value
        self._fixed_backend = True

    async def aclose(self) -> None:
        """Close this event loop's connections of the private backend."""
        if self._backend is not None and not self._fixed_backend:
            await self._backend.adisconnect()

    async def _call(self, op: str, coro: Any) -> Any:
        """Await a backend coroutine under ``store_timeout``; failures become
        :class:`SessionStoreError`. After a *slow* failure (a hung store) calls fail
        at once for :attr:`retry_after` seconds instead of each waiting again."""
        now = time.monotonic()
        if now < self._hung_until:
            coro.close()
            raise SessionStoreError(
                f"session store {self._describe()}: not tried, it hung "
                f"{now - self._hung_since:.1f} s ago (next try in {self._hung_until - now:.1f} s)"
            )
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for wraps the call in a
            # new Task (twice per request with a session: load and save).
            async with asyncio.timeout(self.config.store_timeout):
                return await coro
        except TimeoutError as exc:
            self._slow_failure(now)
            raise SessionStoreError(
                f"session store {self._describe()}: {op} took more than "
                f"{self.config.store_timeout:g} s"
            ) from exc
        except (TorngasError, OSError) as exc:
            self._slow_failure(now)
            raise SessionStoreError(
                f"session store {self._describe()}: {op} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _slow_failure(self, started: float) -> None:
        end = time.monotonic()
        if end - started >= self.slow_failure:
            self._hung_since = end
            self._hung_until = end + self.retry_after

    def _describe(self) -> str:
        backend = self._backend
        return backend.describe() if backend is not None else repr(self.config.cache_alias)

    # -- cookies ----------------------------------------------------------
    def unsign(self, cookie_value: str | None) -> str | None:
        """The session id carried by a cookie value, or None if it is not ours."""
        return self.signer.unsign(cookie_value)

    def new_session(self, ip: str | None = None) -> Session:
        """An empty session with no id (no I/O): the id is made when it is saved."""
        return Session(ip=ip)

    def reject(self, reason: str, *, ip: str | None = None, detail: str = "") -> Session:
        """Log one warning and return a fresh session whose cookie will be cleared."""
        log.warning(
            "session cookie rejected (%s) from %s%s; starting a new session",
            reason,
            ip or "unknown client",
            f": {detail}" if detail else "",
        )
        return Session(ip=ip, from_cookie=True)

    # -- load / save -------------------------------------------------------
    async def load(self, session_key: str, ip: str | None = None) -> Session:
        """The stored session ``session_key`` (an id from :meth:`unsign`).

        Unknown, expired or (with ``ignore_change_ip`` off) bound to another IP:
        a fresh session (see :meth:`reject`). Raises :class:`SessionStoreError`
        when the store fails or does not answer in time.
        """
        backend = self.backend
        record = await self._call("load", backend.aget(session_key))
        if record is None:
            return self.reject("unknown or expired id", ip=ip)
        if (
            not isinstance(record, dict)
            or record.get("f") != _RECORD_FORMAT
            or not isinstance(record.get("data"), dict)
        ):
            return self.reject("unreadable record", ip=ip)
        exp = record.get("exp")
        if not isinstance(exp, int | float) or exp <= self.clock():
            return self.reject("expired", ip=ip)
        bound = record.get("ip")
        if not self.config.ignore_change_ip and bound and ip and bound != ip:
            return self.reject("client IP changed", ip=ip, detail=f"session bound to {bound}")
        ttl = record.get("ttl")
        return Session(
            record["data"],
            session_key=session_key,
            ttl=ttl if isinstance(ttl, int) else None,
            ip=bound or None,
            created=record.get("created"),
            from_cookie=True,
        )

    def lifetimes(self, session: Session) -> tuple[int | None, int]:
        """``(cookie Max-Age or None, seconds the store keeps the record)``."""
        ttl = self.config.expires if session.ttl is None else session.ttl
        if ttl > 0:
            return ttl, ttl
        return None, self.config.lifetime

    async def save(self, session: Session, ip: str | None = None) -> CookieAction | None:
        """Write a modified session (and delete the records of rotated ids).

        Returns what to do with the cookie: set it (a new id or a new expiry),
        clear it (the session ended, or the request's cookie was rejected), or
        nothing. Raises :class:`SessionStoreError` when the store fails.
        """
        backend = self.backend
        action: CookieAction | None = None
        if session.modified:
            if session.is_empty:
                if session.session_key is not None:
                    session.stale_keys.append(session.session_key)
                    session.session_key = None
                if session.from_cookie or session.stale_keys:
                    action = CookieAction("clear")
            else:
                if session.session_key is None:
                    session.session_key = self.signer.new_id()
                if session.ip is None and not self.config.ignore_change_ip:
                    session.ip = ip
                if session.created is None:
                    session.created = self.clock()
                cookie_age, store_age = self.lifetimes(session)
                record = {
                    "f": _RECORD_FORMAT,
                    "data": session._data,
                    "exp": self.clock() + store_age,
                    "ttl": session.ttl,
                    "ip": None if self.config.ignore_change_ip else session.ip,
                    "created": session.created,
                }
                await self._call("save", backend.aset(session.session_key, record, store_age))
                action = CookieAction("set", self.signer.sign(session.session_key), cookie_age)
        elif session.from_cookie and session.session_key is None:
            action = CookieAction("clear")  # a rejected cookie: stop the browser sending it
        while session.stale_keys:
            await self._call("delete", backend.adelete(session.stale_keys[0]))
            session.stale_keys.pop(0)
        session.modified = False
        return action

    async def delete(self, session_key: str) -> None:
        """Delete one stored session by id (e.g. to log a user out everywhere)."""
        await self._call("delete", self.backend.adelete(session_key))

    async def exists(self, session_key: str) -> bool:
        """True when a record for ``session_key`` is stored (expired or not)."""
        return bool(await self._call("exists", self.backend.ahas_key(session_key)))
