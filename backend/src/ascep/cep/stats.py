"""Counters the engine keeps per rule and for itself, cheap enough for the hot path.

Evaluation times go into a fixed ring of recent samples (mean and p99 from it), so memory stays
constant however long the service runs.
"""

from __future__ import annotations

import time
from array import array
from typing import Any

from ascep.common.timeutil import iso_utc

RING = 2048


def percentile(samples: list[int], q: float) -> int | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
        recent = list(self._ring[: self._ring_len])
        p99 = percentile(recent, 0.99)
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
    """Whole-engine counters and an events/s rate over the last few seconds."""

    WINDOW_S = 10

    def __init__(self) -> None:
        self.events = 0
        self.malformed = 0
        self.loops_dropped = 0
        self.alerts = 0
        self.rule_errors = 0
        self._buckets: dict[int, int] = {}

    def count_event(self) -> None:
        self.events += 1
        second = int(time.monotonic())
        buckets = self._buckets
        buckets[second] = buckets.get(second, 0) + 1
        if len(buckets) > self.WINDOW_S + 2:
            for old in sorted(buckets)[: -self.WINDOW_S - 1]:
                del buckets[old]

    def rate(self) -> float:
        """Events/s over the last complete seconds (up to ``WINDOW_S``)."""
        now = int(time.monotonic())
        done = [count for second, count in self._buckets.items() if now - self.WINDOW_S <= second < now]
        return round(sum(done) / self.WINDOW_S, 1) if done else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "events_per_second": self.rate(),
            "malformed_events": self.malformed,
            "alert_loops_dropped": self.loops_dropped,
            "alerts": self.alerts,
            "rule_errors": self.rule_errors,
        }
