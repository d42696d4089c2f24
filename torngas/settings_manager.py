"""Legacy alias: ``torngas.settings_manager.settings`` is :data:`torngas.conf.settings`."""

from torngas.conf import settings

__all__ = ["settings"]
