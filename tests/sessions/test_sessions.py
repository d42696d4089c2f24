"""torngas.sessions without HTTP: signing, the Session object, the store (LocMem, file)."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import uuid

import pytest

from tests.sessions.conftest import SECRET
from torngas.conf import override_settings
from torngas.exceptions import ImproperlyConfigured
from torngas.sessions import (
    Session,
    SessionConfig,
    SessionSigner,
    SessionStore,
    SessionStoreError,
)


def run(coro):
    return asyncio.run(coro)


def locmem(name=None, **extra):
    return {
        "default": {
            "BACKEND": "torngas.cache.backends.localcache.LocMemCache",
            "LOCATION": name or f"t-{uuid.uuid4().hex}",
            **extra,
        }
    }


def config(**session):
    return SessionConfig.from_settings({"secret_key": SECRET, **session}, debug=False)


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


# ---------------------------------------------------------------- signing
def test_ids_are_256_bit_random_and_signed():
    signer = SessionSigner([b"k" * 32])
    ids = {signer.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    sid = ids.pop()
    assert len(sid) == 43  # 32 bytes, urlsafe base64
    value = signer.sign(sid)
    assert value.startswith(sid + ".")
    assert signer.unsign(value) == sid


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # signature changed
        lambda v: ("A" if v[0] != "A" else "B") + v[1:],  # id changed
        lambda v: v.split(".")[0],  # no signature
        lambda v: v + "x",
        lambda v: v.replace(".", "!"),
        lambda v: "",
        lambda v: v.split(".")[0] + "." + "A" * 43,
    ],
)
def test_tampered_values_do_not_verify(mutate):
    signer = SessionSigner([b"k" * 32])
    assert signer.unsign(mutate(signer.sign(signer.new_id()))) is None


def test_other_key_or_version_does_not_verify_and_rotation_works():
    old = SessionSigner([b"old" * 11])
    value = old.sign(old.new_id())
    assert SessionSigner([b"new" * 11]).unsign(value) is None
    assert SessionSigner([b"old" * 11], version="v2").unsign(value) is None
    rotated = SessionSigner([b"new" * 11, b"old" * 11])
    assert rotated.unsign(value) is not None
    assert SessionSigner([b"new" * 11]).unsign(rotated.sign("A" * 43)) is not None


# ---------------------------------------------------------------- config
def test_config_merges_over_defaults_and_validates():
    cfg = config(expires=60)
    assert (cfg.cookie_name, cfg.expires, cfg.samesite, cfg.httponly) == (
        "__TORNADOSSID",
        60,
        "Lax",
        True,
    )
    with pytest.raises(ImproperlyConfigured, match="samesite"):
        config(samesite="None")  # needs secure
    assert config(samesite="none", secure=True).samesite == "None"
    with pytest.raises(ImproperlyConfigured):
        config(expires=-1)
    with pytest.raises(ImproperlyConfigured):
        config(session_name="bad name;")


def test_config_secret_required_without_debug(caplog):
    with pytest.raises(ImproperlyConfigured, match="TORNGAS_SESSION_SECRET"):
        SessionConfig.from_settings({}, debug=False)
    with pytest.raises(ImproperlyConfigured, match="example value"):
        SessionConfig.from_settings({"secret_key": "fLjUfxqXtfNoIldA0A0J"}, debug=False)
    with caplog.at_level(logging.WARNING, logger="torngas.sessions"):
        a = SessionConfig.from_settings({}, debug=True)
        b = SessionConfig.from_settings({}, debug=True)
    assert a.secret_keys != b.secret_keys  # random per process in DEBUG
    assert any("random key" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- Session
def test_session_is_dict_like_and_tracks_changes():
    s = Session()
    assert not s.accessed and not s.modified
    assert s.get("x") is None and s.accessed and not s.modified
    s["a"] = 1
    s["b"] = [1, 2]
    assert s.modified and s["a"] == 1 and "b" in s and len(s) == 2
    assert sorted(s) == ["a", "b"]
    del s["a"]
    assert s.pop("b") == [1, 2]
    assert s.pop("missing", 7) == 7
    with pytest.raises(KeyError):
        s.pop("missing")
    with pytest.raises(KeyError):
        s["missing"]
    s.update(c=3)
    s.setdefault("d", 4)
    assert s.to_dict() == {"c": 3, "d": 4}
    s.clear()
    assert s.is_empty


def test_session_refuses_non_json_values():
    s = Session()
    with pytest.raises(TypeError, match="JSON"):
        s["obj"] = object()
    with pytest.raises(TypeError):
        s[1] = "x"  # type: ignore[index]
    s["when"] = datetime.datetime(2024, 1, 2, 3, 4, 5)
    s["id"] = uuid.UUID(int=1)
    assert not s.is_empty


def test_pop_and_clear_of_missing_keys_do_not_modify():
    s = Session()
    s.pop("nothing", None)
    s.clear()
    assert not s.modified


# ---------------------------------------------------------------- store
def test_new_session_does_no_io_and_save_round_trips():
    with override_settings(CACHES=locmem()):
        store = SessionStore(config())
        s = store.new_session("1.2.3.4")
        assert s.session_key is None
        assert run(store.save(s)) is None  # nothing changed: nothing stored
        s["user"] = "ann"
        s["when"] = datetime.date(2024, 5, 6)
        action = run(store.save(s, "1.2.3.4"))
        assert action.action == "set" and action.max_age is None
        assert store.unsign(action.value) == s.session_key
        loaded = run(store.load(s.session_key, "1.2.3.4"))
        assert loaded.to_dict() == {"user": "ann", "when": datetime.date(2024, 5, 6)}
        assert loaded.session_key == s.session_key and not loaded.modified


def test_unknown_id_gives_fresh_session_with_one_warning(session_log):
    with override_settings(CACHES=locmem()):
        store = SessionStore(config())
        s = run(store.load(SessionSigner.new_id(), "1.2.3.4"))
        assert s.session_key is None and s.is_empty and s.from_cookie
        assert len(session_log.messages(logging.WARNING)) == 1
        # the browser is told to drop the cookie; nothing is written
        assert run(store.save(s)).action == "clear"


def test_expiry_uses_the_injected_clock():
    clock = Clock()
    with override_settings(CACHES=locmem()):
        store = SessionStore(config(expires=60), clock=clock)
        s = store.new_session()
        s["a"] = 1
        action = run(store.save(s))
        assert action.max_age == 60
        clock.now += 59
        assert run(store.load(s.session_key)).get("a") == 1
        clock.now += 2
        assert run(store.load(s.session_key)).is_empty


def test_set_expire_is_kept_with_the_session():
    clock = Clock()
    with override_settings(CACHES=locmem()):
        store = SessionStore(config(expires=60), clock=clock)
        s = store.new_session()
        s["a"] = 1
        s.set_expire(3600)
        assert run(store.save(s)).max_age == 3600
        loaded = run(store.load(s.session_key))
        assert loaded.ttl == 3600
        loaded["b"] = 2
        assert run(store.save(loaded)).max_age == 3600
        clock.now += 3000
        assert run(store.load(s.session_key)).get("b") == 2
        loaded.set_expire(0)  # browser-session cookie, store keeps "lifetime"
        assert run(store.save(loaded)).max_age is None


def test_ip_binding():
    with override_settings(CACHES=locmem()):
        store = SessionStore(config())
        s = store.new_session("1.1.1.1")
        s["a"] = 1
        run(store.save(s, "1.1.1.1"))
        assert run(store.load(s.session_key, "1.1.1.1")).get("a") == 1
        assert run(store.load(s.session_key, "2.2.2.2")).is_empty
        free = SessionStore(config(ignore_change_ip=True))
        assert run(free.load(s.session_key, "2.2.2.2")).get("a") == 1


def test_cycle_key_and_flush_delete_old_records():
    with override_settings(CACHES=locmem()):
        store = SessionStore(config())
        s = store.new_session()
        s["a"] = 1
        run(store.save(s))
        old = s.session_key
        s.cycle_key()
        run(store.save(s))
        assert s.session_key != old
        assert not run(store.exists(old))
        assert run(store.load(s.session_key)).get("a") == 1
        current = s.session_key
        s.flush()
        assert run(store.save(s)).action == "clear"
        assert not run(store.exists(current))


def test_emptied_session_is_deleted():
    with override_settings(CACHES=locmem()):
        store = SessionStore(config())
        s = store.new_session()
        s["a"] = 1
        run(store.save(s))
        key = s.session_key
        loaded = run(store.load(key))
        del loaded["a"]
        assert run(store.save(loaded)).action == "clear"
        assert not run(store.exists(key))


def test_records_are_json_never_pickle():
    with override_settings(CACHES=locmem(OPTIONS={"SERIALIZER": "pickle"})):
        store = SessionStore(config())
        s = store.new_session()
        s["a"] = {"b": [1, 2]}
        run(store.save(s))
        from torngas.cache.backends import localcache

        payloads = [
            entry[1]
            for name, (data, _lock) in localcache._stores.items()
            if name.endswith("#torngas-session")
            for entry in data.values()
        ]
        assert payloads and all(p.startswith(b"J{") for p in payloads)
        assert all(b"\x80" not in p for p in payloads)  # no pickle opcode


def test_namespace_survives_cache_clear_and_app_keys():
    with override_settings(CACHES=locmem()):
        from torngas.cache import caches

        store = SessionStore(config())
        s = store.new_session()
        s["a"] = 1
        run(store.save(s))
        app = caches["default"]
        # the application cannot reach the record with its own keys...
        assert app.get(s.session_key) is None
        app.set(s.session_key, "overwritten")
        app.clear()
        # ...and clearing its cache leaves sessions alone
        assert run(store.load(s.session_key)).get("a") == 1


def test_file_cache_namespace(tmp_path):
    caches_conf = {
        "default": {
            "BACKEND": "torngas.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    with override_settings(CACHES=caches_conf):
        from torngas.cache import caches

        store = SessionStore(config())
        s = store.new_session()
        s["a"] = 1
        run(store.save(s))
        caches["default"].set("x", 1)
        caches["default"].clear()
        assert os.listdir(tmp_path / "cache" / "torngas-session")
        assert run(store.load(s.session_key)).get("a") == 1


def test_reserved_prefix_and_unknown_alias_are_refused():
    with (
        override_settings(CACHES=locmem(KEY_PREFIX="torngas-session")),
        pytest.raises(ImproperlyConfigured, match="reserved"),
    ):
        SessionStore(config()).backend  # noqa: B018
    with (
        override_settings(CACHES=locmem()),
        pytest.raises(ImproperlyConfigured, match="not in CACHES"),
    ):
        SessionStore(config(session_cache_alias="nope")).backend  # noqa: B018


def test_store_timeout_raises_session_store_error():
    class Hung:
        def describe(self):
            return "Hung"

        async def aget(self, key):
            await asyncio.sleep(10)

    store = SessionStore(config(store_timeout=0.2), backend=Hung())

    async def go():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(SessionStoreError, match="more than 0.2 s"):
            await store.load(SessionSigner.new_id())
        return loop.time() - t0

    assert run(go()) < 1.0


def test_a_bad_session_cache_alias_fails_at_start_up_not_at_the_first_save():
    from tests.sessions.conftest import app_settings
    from torngas.testing import serve

    bad = app_settings(CACHES=locmem(KEY_PREFIX="torngas-session.x"))
    with pytest.raises(ImproperlyConfigured, match="reserved"), serve(**bad):
        pass  # pragma: no cover - the application is never built
