"""Counters the engine keeps per rule and for itself, cheap enough for the hot path.

Evaluation times go into a fixed ring of recent samples (mean and p99 from it), so memory stays
constant however long the service runs.
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from typing import Any

from ascep.common.stats import nearest_rank
from ascep.common.timeutil import iso_utc

RING = 2048


class RuleStats:
    __slots__ = ("_ring", "_ring_len", "_ring_pos", "evaluated", "last_triggered", "late", "matches",
                 "suppressed", "time_ns_total", "timed")  # fmt: skip

    def __init__(self) -> None:
        self.evaluated = 0
        self.matches = 0
        self.suppressed = 0  # matches swallowed by the cooldown
        self.late = 0  # events older than the disorder tolerance
        self.last_triggered: float | None = None  # wall clock, seconds
        self.time_ns_total = 0
        self.timed = 0
        self._ring = array("q", bytes(8 * RING))
        self._ring_pos = 0
        self._ring_len = 0

    def record_time(self, ns: int) -> None:
        self.time_ns_total += ns
        self.timed += 1
        self._ring[self._ring_pos] = ns
        self._ring_pos = (self._ring_pos + 1) % RING
        if self._ring_len < RING:
            self._ring_len += 1

    def as_dict(self) -> dict[str, Any]:
        p99 = nearest_rank(sorted(self._ring[: self._ring_len]), 99)
        return {
            "events_evaluated": self.evaluated,
            "matches": self.matches,
            "suppressed_by_cooldown": self.suppressed,
            "late_events": self.late,
            "last_triggered": iso_utc(self.last_triggered * 1000) if self.last_triggered else None,
            "eval_mean_us": round(self.time_ns_total / self.timed / 1000, 3) if self.timed else None,
            "eval_p99_us": round(p99 / 1000, 3) if p99 is not None else None,
        }


class EngineStats:
    """Whole-engine counters; events/s from snapshots taken on the engine's ticks.

    The hot path only increments ``events``; the live loop calls :meth:`snapshot` a few times a
    second (``Engine.advance``), which keeps the rate out of the per-event cost.
    """

    WINDOW_S = 10.0

    def __init__(self) -> None:
        self.events = 0
        self.malformed = 0
        self.loops_dropped = 0
        self.alerts = 0
        self.rule_errors = 0
        self._snapshots: deque[tuple[float, int]] = deque([(time.monotonic(), 0)])

    def snapshot(self) -> None:
        now = time.monotonic()
        snaps = self._snapshots
        snaps.append((now, self.events))
        while len(snaps) > 2 and now - snaps[1][0] >= self.WINDOW_S:
            snaps.popleft()

    def rate(self) -> float:
        """Events/s over the last ``WINDOW_S`` seconds of snapshots."""
        snaps = self._snapshots
        if len(snaps) < 2:
            return 0.0
        (t0, n0), (t1, n1) = snaps[0], snaps[-1]
        return round((n1 - n0) / (t1 - t0), 1) if t1 > t0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "events_per_second": self.rate(),
            "malformed_events": self.malformed,
            "alert_loops_dropped": self.loops_dropped,
            "alerts": self.alerts,
            "rule_errors": self.rule_errors,
        }
