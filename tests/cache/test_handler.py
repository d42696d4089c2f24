"""caches / cache / close_caches: lazy per-alias instances that follow settings.CACHES."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from torngas.cache import (
    BaseCache,
    InvalidCacheBackendError,
    cache,
    caches,
    close_caches,
)
from torngas.cache.backends.localcache import LocMemCache
from torngas.conf import override_settings, settings

LOCMEM = "torngas.cache.backends.localcache.LocMemCache"


class Recorder(LocMemCache):
    """A LocMemCache that counts close()/disconnect() calls."""

    closed = 0
    disconnected = 0

    def close(self, **kwargs: Any) -> None:
        type(self).closed += 1

    def disconnect(self) -> None:
        type(self).disconnected += 1


TWO = {
    "default": {"BACKEND": LOCMEM, "LOCATION": "h-default"},
    "other": {
        "BACKEND": "tests.cache.test_handler.Recorder",
        "LOCATION": "h-other",
        "TIMEOUT": 10,
        "KEY_PREFIX": "o",
    },
}


def test_one_lazy_instance_per_alias() -> None:
    with override_settings(CACHES=TWO):
        assert caches.all(initialized_only=True) == []
        a = caches["other"]
        assert a is caches["other"]
        assert isinstance(a, Recorder) and a.alias == "other"
        assert a.default_timeout == 10 and a.key_prefix == "o"
        assert caches.all(initialized_only=True) == [a]
        assert caches["default"] is not a
        assert set(caches) == {"default", "other"} and "other" in caches


def test_default_proxy_follows_the_default_alias() -> None:
    with override_settings(CACHES=TWO):
        cache.set("k", "v")
        assert caches["default"].get("k") == "v"
        assert cache.get("k") == "v" and "k" in cache
        assert cache == caches["default"]
        assert isinstance(caches["default"], BaseCache)
        cache.delete("k")


def test_changing_caches_rebuilds_and_disconnects_the_old_instances() -> None:
    Recorder.disconnected = 0
    with override_settings(CACHES=TWO):
        first = caches["other"]
        with override_settings(CACHES={**TWO, "other": {**TWO["other"], "TIMEOUT": 20}}):
            second = caches["other"]
            assert second is not first and second.default_timeout == 20
        assert Recorder.disconnected >= 1
        third = caches["other"]
        assert third is not second and third.default_timeout == 10


def test_reset_by_hand() -> None:
    with override_settings(CACHES=TWO):
        first = caches["default"]
        caches.reset()
        assert caches["default"] is not first


def test_close_caches_closes_only_built_instances() -> None:
    Recorder.closed = 0
    with override_settings(CACHES=TWO):
        close_caches()
        assert Recorder.closed == 0  # nothing built, nothing built by closing
        caches["other"]
        close_caches()
        assert Recorder.closed == 1


def test_setting_changed_is_connected_and_requests_cost_nothing() -> None:
    signal = pytest.importorskip("torngas.signal")
    Recorder.closed = 0
    with override_settings(CACHES=TWO):
        caches["other"]
        # pooled backends need no per-request close: nothing hangs on request_finished
        signal.request_finished.send(sender=object)
        assert Recorder.closed == 0
        assert not signal.request_finished.has_listeners(object)
        built = caches["other"]
        signal.setting_changed.send(sender=object, setting="CACHES", value=TWO, enter=True)
        assert caches["other"] is not built


def test_unknown_alias_and_bad_backend_are_clear_errors() -> None:
    with (
        override_settings(CACHES=TWO),
        pytest.raises(InvalidCacheBackendError, match="'nope'.*default, other"),
    ):
        caches["nope"]
    bad = {"default": {"BACKEND": "torngas.cache.backends.nosuch.Cache"}}
    with override_settings(CACHES=bad), pytest.raises(InvalidCacheBackendError, match="nosuch"):
        caches["default"]
    with (
        override_settings(CACHES={"default": {"LOCATION": "x"}}),
        pytest.raises(InvalidCacheBackendError, match="no BACKEND"),
    ):
        caches["default"]


def test_defaults_give_a_local_cache() -> None:
    assert settings.CACHES["default"]["BACKEND"].endswith("localcache.LocMemCache")
    assert isinstance(caches["default"], LocMemCache)


def test_import_is_light_and_works_without_an_application() -> None:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, torngas.cache as c\n"
        "assert 'redis' not in sys.modules and 'pymemcache' not in sys.modules\n"
        "assert 'torngas.application' not in sys.modules\n"
        "c.cache.set('k', [1]); assert c.cache.get('k') == [1]\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
