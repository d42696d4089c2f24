from __future__ import annotations

import pickle
from typing import Any

import pytest

from tests.cache.conftest import build_cache
from torngas.cache.serializers import (
    JSONSerializer,
    PickleSerializer,
    SerializationError,
    get_serializer,
)
from torngas.exceptions import ImproperlyConfigured


class Boom:
    def __reduce__(self) -> Any:
        return (exec, ("raise SystemExit('pickle ran code')",))


def test_json_never_runs_code_and_rejects_foreign_payloads() -> None:
    s = JSONSerializer()
    for junk in (b"", b"P" + pickle.dumps(Boom()), b'J{"\\u0000evil": 1}', b"J[", b"12x"):
        with pytest.raises(SerializationError):
            s.loads(junk)


def test_ints_are_digits_and_tags_are_escaped() -> None:
    s = JSONSerializer()
    assert s.dumps(-42) == b"-42" and s.loads(b"-42") == -42
    assert s.dumps(True) == b"Jtrue" and s.loads(s.dumps(True)) is True
    tricky = {"\x00b": "not bytes", "\x00d": [[1, 2]]}
    assert s.loads(s.dumps(tricky)) == tricky
    assert s.loads(s.dumps({(1, 2): {3}})) == {(1, 2): {3}}


def test_pickle_requires_a_valid_signature() -> None:
    a = PickleSerializer(signing_key="a" * 32)
    b = PickleSerializer(signing_key="b" * 32)
    payload = a.dumps({"x": {1}})
    assert a.loads(payload) == {"x": {1}}
    with pytest.raises(SerializationError):
        b.loads(payload)
    forged = b"P" + b"\x00" * 32 + pickle.dumps(Boom())
    with pytest.raises(SerializationError):
        a.loads(forged)  # never unpickled: Boom would raise SystemExit
    per_process = PickleSerializer()
    with pytest.raises(SerializationError):
        PickleSerializer().loads(per_process.dumps([1]))
    with pytest.raises(ImproperlyConfigured):
        PickleSerializer(signing_key="short")


class Upper:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix.encode()

    def dumps(self, value: Any) -> bytes:
        return self.prefix + str(value).upper().encode()

    def loads(self, data: bytes) -> Any:
        return data[len(self.prefix) :].decode()


def test_custom_serializer_by_dotted_path() -> None:
    c = build_cache(
        "torngas.cache.backends.localcache.LocMemCache",
        "ser",
        OPTIONS={
            "SERIALIZER": "tests.cache.test_serializers.Upper",
            "SERIALIZER_OPTIONS": {"prefix": "u:"},
        },
    )
    c.set("k", "abc")
    assert c.get("k") == "ABC"
    assert isinstance(get_serializer("json"), JSONSerializer)
    with pytest.raises(ImproperlyConfigured):
        get_serializer("no.such.Serializer")
