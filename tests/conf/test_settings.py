import os
import subprocess
import sys

import pytest

from torngas.conf import override_settings, settings
from torngas.exceptions import ImproperlyConfigured, SettingNotFound

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_py(code, env=None):
    e = dict(os.environ, PYTHONPATH=ROOT)
    e.pop("TORNGAS_APP_SETTINGS", None)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_import_reads_no_settings():
    # Importing the whole public surface must not set settings up.
    code = (
        "import torngas, torngas.webserver, torngas.handler, torngas.application, "
        "torngas.urlhelper, torngas.middleware.manager, torngas.testing\n"
        "from torngas import settings\n"
        "print(settings.configured)"
    )
    r = run_py(code, {"TORNGAS_APP_SETTINGS": "no.such.module"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_defaults_without_module():
    assert settings.DEBUG is False
    assert settings.SETTINGS_MODULE is None
    assert settings.INSTALLED_APPS == ()


def test_environment_variable_then_configure_wins():
    code = (
        "from torngas import settings\n"
        "print(settings.MY_SETTING, settings.DEBUG)\n"
        "settings.configure(None, MY_SETTING='explicit')\n"
        "print(settings.MY_SETTING)\n"
    )
    r = run_py(code, {"TORNGAS_APP_SETTINGS": "tests.test_apps.settings_mods.good"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["from-module", "True", "explicit"]


def test_command_line_settings_beat_environment():
    code = (
        "from torngas.webserver import Server\n"
        "from torngas import settings\n"
        "Server().parse_command(['x', '--settings=tests.test_apps.settings_mods.good'])\n"
        "print(settings.SETTINGS_MODULE, settings.MY_SETTING)\n"
    )
    r = run_py(code, {"TORNGAS_APP_SETTINGS": "tests.test_apps.settings_mods.broken"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["tests.test_apps.settings_mods.good", "from-module"]


def test_lowercase_names_are_not_settings():
    settings.configure("tests.test_apps.settings_mods.good")
    with pytest.raises(SettingNotFound):
        settings.lowercase_ignored  # noqa: B018


def test_missing_setting_names_it_and_the_module():
    settings.configure("tests.test_apps.settings_mods.good")
    with pytest.raises(SettingNotFound) as info:
        settings.NOT_THERE  # noqa: B018
    assert "'NOT_THERE'" in str(info.value)
    assert "tests.test_apps.settings_mods.good" in str(info.value)
    # still an AttributeError, so getattr with a default works
    assert getattr(settings, "NOT_THERE", 42) == 42
    assert settings.get("NOT_THERE", 7) == 7


def test_broken_settings_module_names_module_and_cause():
    with pytest.raises(ImproperlyConfigured) as info:
        settings.configure("tests.test_apps.settings_mods.broken")
    msg = str(info.value)
    assert "tests.test_apps.settings_mods.broken" in msg
    assert "does_not_exist_anywhere" in msg


def test_missing_settings_module():
    with pytest.raises(ImproperlyConfigured) as info:
        settings.configure("settings.nope_not_here")
    assert "settings.nope_not_here" in str(info.value)
    assert "sys.path" in str(info.value)


def test_wrong_type_installed_apps():
    with pytest.raises(ImproperlyConfigured, match="INSTALLED_APPS must be a list or tuple"):
        settings.configure(None, INSTALLED_APPS="myapp")


def test_override_settings_restores_and_nests():
    settings.configure("tests.test_apps.settings_mods.good")
    assert settings.MY_SETTING == "from-module"
    with override_settings(MY_SETTING="a", NEW_ONE=1):
        assert settings.MY_SETTING == "a"
        assert settings.NEW_ONE == 1
        with override_settings(MY_SETTING="b"):
            assert settings.MY_SETTING == "b"
            assert settings.NEW_ONE == 1
        assert settings.MY_SETTING == "a"
    assert settings.MY_SETTING == "from-module"
    with pytest.raises(SettingNotFound):
        settings.NEW_ONE  # noqa: B018


@override_settings(DEBUG=True)
def test_override_as_decorator():
    assert settings.DEBUG is True


def test_override_sends_setting_changed():
    from torngas.signal import setting_changed

    seen = []

    def receiver(sender, setting, value, enter, **kw):
        seen.append((setting, value, enter))

    setting_changed.connect(receiver)
    try:
        with override_settings(DEBUG=True):
            pass
    finally:
        setting_changed.disconnect(receiver)
    assert seen == [("DEBUG", True, True), ("DEBUG", False, False)]


def test_legacy_aliases():
    from torngas import global_settings as legacy_defaults
    from torngas.conf import global_settings
    from torngas.settings_manager import settings as legacy

    assert legacy is settings
    assert legacy_defaults.TORNADO_CONF == global_settings.TORNADO_CONF
