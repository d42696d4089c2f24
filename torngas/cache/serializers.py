"""How cache values become bytes (``OPTIONS['SERIALIZER']``).

Every serializer writes a signed 64-bit integer as its plain ASCII digits
(``b"42"``, ``b"-7"``) so that the server's own ``INCRBY``/``incr`` works on it;
any other value gets a one-byte marker:

``S`` + UTF-8 text (``str``) · ``B`` + raw bytes (``bytes``) ·
``J`` + tagged JSON (everything else) · ``P`` + HMAC-SHA256 + pickle (``pickle`` only).

``"json"`` (the default) round-trips ``str``, ``bytes``, ``int`` (any size),
``float``, ``bool``, ``None``, ``list``, ``tuple``, ``dict`` (any hashable keys
it can itself encode), ``set``, ``datetime``/``date``/``time``/``timedelta``,
``Decimal`` and ``UUID``. It never executes code when loading, so a shared cache
that someone else can write to cannot attack the process.

``"pickle"`` stores any picklable object, but only loads payloads whose
HMAC-SHA256 (key ``SERIALIZER_OPTIONS['signing_key']``) verifies. Without a key
a random one is made per process: values then cannot be read by other processes
or after a restart (they are misses). Share a key between the processes that
share the cache, and keep it secret.

A dotted path (or a class) names a custom serializer: an object with
``dumps(value) -> bytes`` and ``loads(bytes) -> value`` built with
``SERIALIZER_OPTIONS`` as keyword arguments.

A payload that fails to load is reported by the backend as a miss plus a
logged warning, never as an exception.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import hmac
import json
import pickle
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from torngas._utils import import_object
from torngas.exceptions import ImproperlyConfigured

__all__ = [
    "Serializer",
    "JSONSerializer",
    "PickleSerializer",
    "SerializationError",
    "get_serializer",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_DIGIT_START = frozenset(b"-0123456789")


class SerializationError(ValueError):
    """A payload cannot be decoded (corrupt, foreign, or not signed by us)."""


class Serializer(Protocol):
    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


def _load_int(data: bytes) -> int:
    try:
        return int(data)
    except ValueError:
        raise SerializationError(f"not an integer payload: {data[:20]!r}") from None


# ----------------------------------------------------------------- tagged JSON
_T = "\x00"  # tag keys start with NUL, which str keys from users are escaped around


def _encode(obj: Any) -> Any:
    t = type(obj)
    if t is str or t is int or t is float or t is bool or obj is None:
        return obj
    if t is list:
        return [_encode(v) for v in obj]
    if t is dict:
        if all(type(k) is str and not k.startswith(_T) for k in obj):
            return {k: _encode(v) for k, v in obj.items()}
        return {_T + "d": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if t is tuple:
        return {_T + "t": [_encode(v) for v in obj]}
    if t is bytes or t is bytearray:
        return {_T + "b": base64.b64encode(obj).decode("ascii")}
    if t is datetime.datetime:
        return {_T + "dt": obj.isoformat()}
    if t is datetime.date:
        return {_T + "date": obj.isoformat()}
    if t is datetime.time:
        return {_T + "time": obj.isoformat()}
    if t is datetime.timedelta:
        return {_T + "td": [obj.days, obj.seconds, obj.microseconds]}
    if t is decimal.Decimal:
        return {_T + "dec": str(obj)}
    if t is uuid.UUID:
        return {_T + "uuid": str(obj)}
    if t is set or t is frozenset:
        return {_T + "set": [_encode(v) for v in obj]}
    # subclasses of the supported types (IntEnum, OrderedDict, …)
    if isinstance(obj, datetime.datetime):
        return {_T + "dt": obj.isoformat()}
    if isinstance(obj, datetime.date):
        return {_T + "date": obj.isoformat()}
    for base in (int, float, str, list, dict, tuple, bytes):
        if isinstance(obj, base):
            return _encode(base(obj))
    raise TypeError(
        f"the json cache serializer cannot store {t.__module__}.{t.__qualname__}; "
        "store plain data, or choose OPTIONS['SERIALIZER'] = 'pickle' (signed)"
    )


def _decode_tag(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    ((tag, val),) = obj.items()
    if not tag.startswith(_T):
        return obj
    tag = tag[1:]
    if tag == "d":
        return {_hashable(k): v for k, v in val}
    if tag == "t":
        return tuple(val)
    if tag == "b":
        return base64.b64decode(val)
    if tag == "dt":
        return datetime.datetime.fromisoformat(val)
    if tag == "date":
        return datetime.date.fromisoformat(val)
    if tag == "time":
        return datetime.time.fromisoformat(val)
    if tag == "td":
        return datetime.timedelta(days=val[0], seconds=val[1], microseconds=val[2])
    if tag == "dec":
        return decimal.Decimal(val)
    if tag == "uuid":
        return uuid.UUID(val)
    if tag == "set":
        return {_hashable(v) for v in val}
    raise SerializationError(f"unknown tag {tag!r} in cached JSON")


def _hashable(v: Any) -> Any:
    return tuple(v) if type(v) is list else v


class JSONSerializer:
    """The default: plain data as tagged JSON; never runs code when loading."""

    def dumps(self, value: Any) -> bytes:
        t = type(value)
        if t is int and _INT64_MIN <= value <= _INT64_MAX:
            return str(value).encode("ascii")
        if t is str:
            return b"S" + value.encode("utf-8", "surrogatepass")
        if t is bytes:
            return b"B" + value
        return b"J" + json.dumps(_encode(value), separators=(",", ":")).encode("utf-8")

    def loads(self, data: bytes) -> Any:
        if not data:
            raise SerializationError("empty payload")
        first = data[0]
        if first in _DIGIT_START:
            return _load_int(data)
        if first == 0x53:  # S
            return data[1:].decode("utf-8", "surrogatepass")
        if first == 0x42:  # B
            return bytes(data[1:])
        if first == 0x4A:  # J
            try:
                return json.loads(data[1:], object_hook=_decode_tag)
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                raise SerializationError(f"corrupt JSON payload: {exc}") from exc
        raise SerializationError(f"unknown payload marker {bytes(data[:1])!r}")


class PickleSerializer(JSONSerializer):
    """Any picklable value, signed with HMAC-SHA256; unsigned bytes are never unpickled."""

    _DIGEST = 32

    def __init__(self, signing_key: str | bytes | None = None, protocol: int | None = None):
        if signing_key is None:
            signing_key = secrets.token_bytes(32)
        if isinstance(signing_key, str):
            signing_key = signing_key.encode("utf-8")
        if len(signing_key) < 16:
            raise ImproperlyConfigured("pickle cache serializer: signing_key is too short")
        self._key = bytes(signing_key)
        self._protocol = pickle.HIGHEST_PROTOCOL if protocol is None else protocol

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def dumps(self, value: Any) -> bytes:
        t = type(value)
        if (t is int and _INT64_MIN <= value <= _INT64_MAX) or t is str or t is bytes:
            return super().dumps(value)
        payload = pickle.dumps(value, self._protocol)
        return b"P" + self._sign(payload) + payload

    def loads(self, data: bytes) -> Any:
        if data[:1] != b"P":
            return super().loads(data)
        sig, payload = data[1 : 1 + self._DIGEST], data[1 + self._DIGEST :]
        if len(sig) != self._DIGEST or not hmac.compare_digest(sig, self._sign(payload)):
            raise SerializationError("pickle payload signature does not verify; not loaded")
        return pickle.loads(payload)  # noqa: S301 - HMAC-verified: written by a key holder


_BUILTIN = {"json": JSONSerializer, "pickle": PickleSerializer}


def get_serializer(spec: Any = "json", options: Mapping[str, Any] | None = None) -> Serializer:
    """Build the serializer ``OPTIONS['SERIALIZER']`` names (see the module doc)."""
    if spec is None:
        spec = "json"
    if hasattr(spec, "dumps") and hasattr(spec, "loads") and not isinstance(spec, type):
        return spec  # type: ignore[no-any-return]
    if isinstance(spec, str):
        spec = _BUILTIN.get(spec.lower(), spec)
    cls = import_object(spec, what="cache serializer")
    try:
        return cls(**dict(options or {}))  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ImproperlyConfigured(f"cannot build cache serializer {spec!r}: {exc}") from exc
