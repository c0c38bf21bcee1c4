"""Garbage-collector settings for a process that runs the engine.

The engine keeps many small long-lived objects (window items that reference events) and creates
many short-lived ones per event. With CPython's default thresholds (700, 10, 10) the collector
re-scans the long-lived ones over and over: measured in ``python -m ascep.bench cep``, 20 rules
ran at ~40 000 events/s with the defaults and ~58 000 with these settings. The engine creates
almost no reference cycles, so collecting less often costs little memory. Process-wide, so only
entry points call it (``python -m ascep.cep``, the benchmark), never ``create_app``.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    """Freeze what start-up allocated and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, max(gen1, 50), max(gen2, 100))
