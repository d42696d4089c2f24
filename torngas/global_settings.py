"""Legacy alias of :mod:`torngas.conf.global_settings`."""

from torngas.conf.global_settings import *  # noqa: F403
