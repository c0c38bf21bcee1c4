"""Bounds on the engine's memory, shared by the engine and every pattern."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Every piece of per-rule state is bounded; these are the bounds.

    ``max_disorder_ms``: an event up to this much older than the newest one seen in its partition
    is still evaluated (windows keep it until it expires); older ones are dropped as late.
    Timers (``absence``) fire once the newest event time minus this tolerance passes them.
    """

    max_window_events: int = 10_000
    max_partitions: int = 10_000
    max_pending: int = 1_000
    max_disorder_ms: int = 2_000
    max_alert_depth: int = 3
