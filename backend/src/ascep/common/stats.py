"""Percentiles, computed one way everywhere: the nearest-rank method.

The value at rank ⌈p/100·n⌉ (1-based) of the ascending samples. Nearest-rank always returns a
value that was actually observed, is exact for the samples retained and needs no interpolation
choice, so the gateway's latency report, the CEP, arbitrage and price-feed statistics and the
benchmarks all quote the same figure for the same samples (they used to differ by one rank).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

#: How ``percentile_method`` names this method in reports.
PERCENTILE_METHOD = "nearest-rank"

V = TypeVar("V", int, float)


def nearest_rank(sorted_values: Sequence[V], percentile: float) -> V | None:
    """The ``percentile`` (0-100] of ascending ``sorted_values``; ``None`` when there are none.

    Sort once and ask for several percentiles: sorting is the caller's job so that a p50 and a
    p99 of the same samples cost one sort.
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    if not sorted_values:
        return None
    # p·n/100 is a whole number exactly when float rounding may push it just above one (0.07·100
    # is 7.000000000000001): the tolerance keeps that rank where the definition puts it.
    rank = math.ceil(percentile * len(sorted_values) / 100 - 1e-9)
    return sorted_values[max(rank, 1) - 1]
