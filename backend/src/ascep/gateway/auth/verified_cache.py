"""Tokens already verified, remembered until they expire: the hot path's dict lookup.

Why this is safe:

* only a token that passed full verification (signature, algorithm, claims) enters, under its
  exact bytes: a different token — even one byte — is a miss and is verified in full;
* what is remembered is exactly what verification derived from those bytes, and an entry is used
  only while ``now < exp + leeway``, the bound verification itself applies (a ``nbf`` in the
  future never enters: that token failed);
* the keys are loaded once at start-up, so a token valid once stays valid until ``exp`` (a key
  reload would have to clear this cache); JWTs cannot be revoked anyway, and the grants the
  gateway *can* revoke (API keys and users behind its own tokens) are checked after this cache,
  on every request;
* the size is bounded (FIFO eviction), and only a correctly signed token can take a slot.

A hit takes no lock (one dict probe); inserts and removals take one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class VerifiedCache(Generic[V]):
    """``token -> value`` until ``expires_at`` (epoch seconds), at most ``capacity`` entries."""

    def __init__(self, capacity: int, clock: Callable[[], float]) -> None:
        self.capacity = capacity
        self.clock = clock
        self._entries: dict[str, tuple[V, float]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, token: str) -> V | None:
        entry = self._entries.get(token)
        if entry is None:
            self.misses += 1
            return None
        value, expires_at = entry
        if self.clock() >= expires_at:
            with self._lock:
                self._entries.pop(token, None)
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, token: str, value: V, expires_at: float) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            entries = self._entries
            while len(entries) >= self.capacity:
                entries.pop(next(iter(entries)))  # the oldest insertion
            entries[token] = (value, expires_at)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
