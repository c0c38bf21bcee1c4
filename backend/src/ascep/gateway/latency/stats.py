"""Latency statistics over a set of samples: exact, with nearest-rank percentiles
(:mod:`ascep.common.stats`: a latency that was actually observed, exact for the samples retained).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ascep.common.stats import nearest_rank


def is_error(status: int) -> bool:
    """A call counts as an error when the service or the gateway failed it (5xx).

    4xx answers are the client's mistake and say nothing about the service's health.
    """
    return status >= 500


@dataclass(frozen=True)
class LatencySummary:
    count: int
    error_count: int
    avg_ms: float | None
    min_ms: float | None
    max_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float | None:
        """``None`` without requests: "no traffic" must not read as "no errors" on a chart."""
        return round(self.error_count / self.count, 6) if self.count else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "error_count": self.error_count,
            "error_rate": self.error_rate,
            "avg_ms": self.avg_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
        }


def summarize(samples: Iterable[tuple[float, int]]) -> LatencySummary:
    """Summarise ``(duration_ms, status)`` pairs."""
    durations: list[float] = []
    errors = 0
    for duration_ms, status in samples:
        durations.append(duration_ms)
        if is_error(status):
            errors += 1
    if not durations:
        return LatencySummary(0, 0, None, None, None, None, None, None)
    durations.sort()

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return LatencySummary(
        count=len(durations),
        error_count=errors,
        avg_ms=r(math.fsum(durations) / len(durations)),
        min_ms=r(durations[0]),
        max_ms=r(durations[-1]),
        p50_ms=r(nearest_rank(durations, 50)),
        p95_ms=r(nearest_rank(durations, 95)),
        p99_ms=r(nearest_rank(durations, 99)),
    )
