"""Freezing the start-up heap (``settings.GC_FREEZE``; see docs/server.md)."""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("torngas.server")


def freeze_startup_heap(enabled: bool | None = None) -> bool:
    """``gc.collect()`` then ``gc.freeze()`` when ``enabled`` (default:
    ``settings.GC_FREEZE``). Called once per serving process, after the
    application's start-up and before the first request. Returns whether it froze."""
    if enabled is None:
        from torngas.conf import settings

        enabled = bool(settings.get("GC_FREEZE", True))
    if not enabled:
        return False
    gc.collect()
    gc.freeze()
    log.debug(
        "gc.freeze(): %d start-up objects left out of cyclic collections", gc.get_freeze_count()
    )
    return True
