"""A bounded window of numbers with O(1) sum and amortised O(1) min/max.

Shared by the patterns that need "the values of the last N events" or "of the last T ms":
items leave in arrival order (time eviction stops at the first item still inside), so a slightly
late event stays until it expires like the rest. Min/max use monotonic deques (the classic
sliding-window-extremum trick); an item leaves them when the very same tuple leaves the window.
Only what a pattern asks for is maintained: this is the engine's hottest code.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

Item = tuple[int, float, Mapping[str, Any]]  # (ts, value, event)


class Window:
    __slots__ = ("_max", "_min", "capacity", "extrema", "items", "size_ms", "sum", "sumsq", "variance")

    def __init__(
        self,
        capacity: int,
        size_ms: int | None = None,
        track_extrema: bool = False,
        track_variance: bool = False,
    ) -> None:
        self.capacity = capacity
        self.size_ms = size_ms
        self.extrema = track_extrema
        self.variance = track_variance
        self.items: deque[Item] = deque()
        self._min: deque[Item] = deque()
        self._max: deque[Item] = deque()
        self.sum = 0.0
        self.sumsq = 0.0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, ts: int, value: float, event: Mapping[str, Any]) -> None:
        item = (ts, value, event)
        items = self.items
        items.append(item)
        self.sum += value
        if self.variance:
            self.sumsq += value * value
        if self.extrema:
            low, high = self._min, self._max
            while low and low[-1][1] >= value:
                low.pop()
            low.append(item)
            while high and high[-1][1] <= value:
                high.pop()
            high.append(item)
        if len(items) > self.capacity:
            self._pop()

    def expire(self, now_ts: int) -> None:
        """Drop items older than ``now_ts - size_ms`` (time windows only)."""
        if self.size_ms is None:
            return
        cutoff = now_ts - self.size_ms
        items = self.items
        while items and items[0][0] < cutoff:
            self._pop()

    def _pop(self) -> None:
        item = self.items.popleft()
        value = item[1]
        self.sum -= value
        if self.variance:
            self.sumsq -= value * value
        if self.extrema:
            if self._min and self._min[0] is item:
                self._min.popleft()
            if self._max and self._max[0] is item:
                self._max.popleft()
        if not self.items:
            self.sum = self.sumsq = 0.0  # stop float drift from accumulating across windows

    def clear(self) -> None:
        self.items.clear()
        self._min.clear()
        self._max.clear()
        self.sum = self.sumsq = 0.0

    def min_item(self) -> Item | None:
        return self._min[0] if self._min else None

    def max_item(self) -> Item | None:
        return self._max[0] if self._max else None

    def mean(self) -> float | None:
        return self.sum / len(self.items) if self.items else None

    def stddev(self) -> float | None:
        """Sample standard deviation (n-1), ``None`` under two items (needs ``track_variance``)."""
        n = len(self.items)
        if n < 2:
            return None
        variance = (self.sumsq - self.sum * self.sum / n) / (n - 1)
        return max(variance, 0.0) ** 0.5
