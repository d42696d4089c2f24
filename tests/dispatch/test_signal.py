"""torngas.signal: the built-in signals exist, cache per sender, and are sent robustly."""

from __future__ import annotations

from typing import Any

import pytest

from torngas import signal as signals
from torngas.dispatch import Signal

BUILTINS = [
    "call_started",
    "handler_started",
    "handler_render",
    "handler_response",
    "call_finished",
    "before_render_template",
    "template_rendered",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "setting_changed",
]


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_signal(name: str) -> None:
    sig = getattr(signals, name)
    assert isinstance(sig, Signal)
    assert sig.use_caching and sig.name == name
    assert name in signals.__all__
    assert name in (signals.__doc__ or "")  # documented: when it is sent, what it carries


def test_builtin_signals_are_distinct() -> None:
    assert len({id(getattr(signals, n)) for n in BUILTINS}) == len(BUILTINS)


def test_override_settings_sends_setting_changed(dispatch_log: Any) -> None:
    from torngas.conf import override_settings, settings

    seen: list[tuple[str, Any, bool]] = []

    def on_change(setting: str, value: Any, enter: bool, **kw: Any) -> None:
        seen.append((setting, value, enter))

    def broken(**kw: Any) -> None:
        raise RuntimeError("receiver bug")

    with (
        signals.setting_changed.connected_to(on_change),
        signals.setting_changed.connected_to(broken),
    ):
        connected = len(signals.setting_changed.receivers)
        before = settings.THREADS_NUM
        with override_settings(THREADS_NUM=3):
            assert settings.THREADS_NUM == 3
        assert before == settings.THREADS_NUM
    assert seen == [("THREADS_NUM", 3, True), ("THREADS_NUM", before, False)]
    assert sum("receiver bug" in r.getMessage() for r in dispatch_log.records) == 2
    assert len(signals.setting_changed.receivers) == connected - 2  # both removed
