"""Signal dispatching (Django's API): ``from torngas.dispatch import Signal, receiver``."""

from torngas.dispatch.dispatcher import Signal, receiver

__all__ = ["Signal", "receiver"]
