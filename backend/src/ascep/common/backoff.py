"""Capped exponential backoff with jitter, reset on success.

Every long-running loop in ASCEP (pub/sub listeners, flushers, feed clients) has the same shape:
catch, log with context, wait ``backoff.next_delay()``, try again, and ``backoff.reset()`` after a
success so one old outage does not slow the next recovery.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays ``initial, initial*factor, ...`` up to ``cap``, each with up to ``jitter`` spread."""

    def __init__(
        self, initial: float = 0.1, cap: float = 5.0, factor: float = 2.0, jitter: float = 0.1
    ) -> None:
        if initial <= 0 or cap < initial or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("need 0 < initial <= cap, factor >= 1 and 0 <= jitter < 1")
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.failures = 0

    def next_delay(self) -> float:
        """Record one more failure and return how long to wait before retrying."""
        base = min(self.cap, self.initial * self.factor**self.failures)
        self.failures += 1
        spread = base * self.jitter
        return max(0.0, min(self.cap, base + random.uniform(-spread, spread)))

    def reset(self) -> None:
        self.failures = 0
