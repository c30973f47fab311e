"""Start-up's objects leave the collector's sight, and start-up's garbage is not kept."""

from __future__ import annotations

import gc
import weakref

from shared.gc_freeze import freeze_startup_objects


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_startup_objects_are_frozen_and_startup_garbage_collected_first() -> None:
    kept = _Node()
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    try:
        freeze_startup_objects()
        assert gone() is None  # collected before the freeze, not frozen for good
        assert gc.get_freeze_count() > 0
        assert gc.is_tracked(kept)
        assert all(tracked is not kept for tracked in gc.get_objects())  # out of sight
    finally:
        gc.unfreeze()
