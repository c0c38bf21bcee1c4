"""What ``GET /sources`` reports per source: state, since when, how busy, how healthy.

Sources update a :class:`SourceStatus` from their own loop (plain attribute writes, cheap enough
for every message); readers take a :meth:`SourceStatus.snapshot`. Monotonic time drives ages and
rates so a wall-clock jump never shows a negative age.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from ascep.common.events import PriceUpdate
from ascep.common.timeutil import iso_utc, now_ms

Clock = Callable[[], float]

#: How a source hands over a record: ``emit(record, received_ns)`` with ``time.monotonic_ns()``
#: at receipt, so publish latency can be measured end to end.
Emit = Callable[[PriceUpdate, int], None]


class RateMeter:
    """Events per second over the last ``window`` whole seconds (ring of per-second buckets)."""

    def __init__(self, window: int = 10, clock: Clock = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._counts = [0] * window
        self._seconds = [-1] * window
        self._first: int | None = None

    def add(self, n: int = 1) -> None:
        second = int(self._clock())
        if self._first is None:
            self._first = second
        slot = second % self.window
        if self._seconds[slot] != second:
            self._seconds[slot] = second
            self._counts[slot] = 0
        self._counts[slot] += n

    def rate(self) -> float:
        """Average over the last ``window`` complete seconds (the current one is still filling).

        Right after the first event the window is shorter: divide by the seconds actually seen.
        """
        current = int(self._clock())
        if self._first is None or current <= self._first:
            return 0.0
        total = sum(
            count
            for second, count in zip(self._seconds, self._counts, strict=True)
            if current - self.window <= second < current
        )
        return total / min(self.window, current - self._first)


class SourceStatus:
    """Live status of one price source."""

    def __init__(self, name: str, clock: Clock = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self.state = "starting"
        self.connected_since_ms: int | None = None
        self.last_message_at: float | None = None
        self.messages = 0
        self.published = 0
        self.reconnects = 0
        self.errors: Counter[str] = Counter()
        self.last_error: str | None = None
        self.meter = RateMeter(clock=clock)
        self.extra: dict[str, Any] = {}

    def set_state(self, state: str) -> None:
        self.state = state

    def connected(self) -> None:
        self.state = "connected"
        self.connected_since_ms = now_ms()

    def disconnected(self, state: str = "disconnected") -> None:
        self.state = state
        self.connected_since_ms = None

    def message(self) -> None:
        self.messages += 1
        self.last_message_at = self._clock()
        self.meter.add()

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        self.last_error = f"{kind}: {detail}"[:300]

    def why_silent(self) -> str:
        """A short account of why this source delivers nothing, for health reasons: its state and,
        when it has one, the last error (``connecting``, ``backoff after ConnectionRefusedError:
        ...``)."""
        if self.last_error is None:
            return self.state
        return f"{self.state} after {self.last_error}"

    def last_message_age(self) -> float | None:
        if self.last_message_at is None:
            return None
        return self._clock() - self.last_message_at

    def snapshot(self) -> dict[str, Any]:
        age = self.last_message_age()
        return {
            "state": self.state,
            "connected_since": iso_utc(self.connected_since_ms) if self.connected_since_ms else None,
            "messages_per_second": round(self.meter.rate(), 2),
            "last_message_age_seconds": None if age is None else round(age, 3),
            "messages": self.messages,
            "published": self.published,
            "reconnects": self.reconnects,
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
            "last_error": self.last_error,
            **self.extra,
        }
