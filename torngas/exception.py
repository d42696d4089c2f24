"""Legacy alias of :mod:`torngas.exceptions` (the 1.8 module name)."""

from torngas.exceptions import *  # noqa: F403
from torngas.exceptions import __all__  # noqa: F401
