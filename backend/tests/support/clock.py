"""A clock that moves only when the test says so (for code that takes ``clock=`` callables)."""

from __future__ import annotations


class FakeClock:
    """Epoch seconds, advanced explicitly."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
