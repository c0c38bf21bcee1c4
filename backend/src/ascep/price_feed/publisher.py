"""Writes price records to Redis without ever making a source wait for Redis.

Sources call :meth:`RedisPublisher.submit`, which only appends to a bounded in-memory buffer (the
oldest record is dropped and counted when it is full). One flusher thread drains the buffer in
batches, each batch one pipelined round trip:

* ``HSET ascep:prices:latest`` with the newest record per symbol (the value is exactly
  ``PriceUpdate.to_dict()`` as JSON; the hash doubles as the index of known symbols, so nobody
  needs ``KEYS``);
* ``XADD ascep:prices:history:<symbol> MAXLEN ~ N`` per record (capped history);
* ``PUBLISH price_updates`` per record.

When Redis is down the batch goes back to the front of the buffer and the flusher backs off
(capped, reset after a success); the WebSocket reader keeps reading, and publication resumes by
itself. Delivery is at-least-once: a batch cut by a dying connection may be written twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from ascep.common.backoff import Backoff
from ascep.common.channels import PRICE_HISTORY_FIELD, PRICE_UPDATES, PRICES_LATEST_KEY, price_history_key
from ascep.common.events import PriceUpdate, encode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, LazyClient
from ascep.common.stats import nearest_rank

logger = logging.getLogger(__name__)

#: Field of each history stream entry holding the record's JSON.


class RedisPublisher:
    """Bounded buffer + one pipelining flusher thread (see the module docstring)."""

    def __init__(
        self,
        client_factory: Callable[[], redis.Redis],
        *,
        history_maxlen: int,
        capacity: int,
        batch_size: int,
        backoff: Backoff | None = None,
    ) -> None:
        self._redis = LazyClient(client_factory)
        self.history_maxlen = history_maxlen
        self.capacity = capacity
        self.batch_size = batch_size
        self.backoff = backoff or Backoff(initial=0.1, cap=5.0)
        self._buffer: deque[tuple[PriceUpdate, int]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.submitted = 0
        self.published = 0
        self.dropped = 0
        self.batches = 0
        self.redis_errors = 0
        self.redis_up: bool | None = None
        self.last_error: str | None = None
        self.latencies_ms: deque[float] = deque(maxlen=20_000)

    # --- producer side (any source thread) ---
    def submit(self, record: PriceUpdate, received_ns: int) -> None:
        """Queue ``record``; never blocks. ``received_ns`` is ``time.monotonic_ns()`` at receipt."""
        with self._lock:
            if len(self._buffer) >= self.capacity:
                self._buffer.popleft()
                self.dropped += 1
            self._buffer.append((record, received_ns))
            self.submitted += 1
            first = len(self._buffer) == 1
        if first:
            self._wake.set()

    def pending(self) -> int:
        return len(self._buffer)

    # --- lifecycle ---
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="price-publisher", daemon=True)
        self._thread.start()

    def stop(self, flush_timeout: float = 3.0) -> None:
        """Stop the flusher, then try to write what is still buffered (best effort, bounded)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=flush_timeout + 1)
        deadline = time.monotonic() + flush_timeout
        while self._buffer and time.monotonic() < deadline:
            batch = self._take()
            try:
                self._write(batch)
            except (redis.RedisError, OSError) as exc:  # any Redis error: REDIS_UNAVAILABLE_ERRORS and more
                logger.warning("could not flush %d records on shutdown: %s", len(batch) + self.pending(), exc)
                break

    # --- flusher ---
    def _take(self) -> list[tuple[PriceUpdate, int]]:
        with self._lock:
            count = min(self.batch_size, len(self._buffer))
            return [self._buffer.popleft() for _ in range(count)]

    def _requeue(self, batch: list[tuple[PriceUpdate, int]]) -> None:
        """Put a failed batch back in front, keeping the newest ``capacity`` records."""
        with self._lock:
            room = self.capacity - len(self._buffer)
            keep = batch[-room:] if room > 0 else []
            self.dropped += len(batch) - len(keep)
            self._buffer.extendleft(reversed(keep))

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            batch = self._take()
            if not batch:
                self._wake.wait(0.5)
                continue
            try:
                self._write(batch)
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._failed(batch, exc, requeue=True)
            except redis.RedisError as exc:
                # A rejected command (not an outage): retrying the same batch would fail again.
                self._failed(batch, exc, requeue=False)
            else:
                if self.redis_up is False:
                    logger.info("Redis is back: publication resumed (%d records buffered)", self.pending())
                self.redis_up = True
                self.backoff.reset()

    def _failed(self, batch: list[tuple[PriceUpdate, int]], exc: BaseException, *, requeue: bool) -> None:
        self.redis_errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if requeue:
            self._requeue(batch)
            if self.redis_up is not False:
                logger.warning("Redis unavailable, buffering price records: %s", exc)
            self.redis_up = False
        else:
            self.dropped += len(batch)
            logger.error("Redis rejected a batch of %d records: %s", len(batch), exc)
        self._redis.reset()  # reconnect from scratch next time
        self._stopping.wait(self.backoff.next_delay())

    def _write(self, batch: list[tuple[PriceUpdate, int]]) -> None:
        pipe = self._redis.get().pipeline(transaction=False)
        latest: dict[FieldT, EncodableT] = {}
        payloads = []
        for record, _ in batch:
            payload = encode(record.to_dict())
            latest[record.symbol] = payload
            payloads.append((record.symbol, payload))
        pipe.hset(PRICES_LATEST_KEY, mapping=latest)
        for symbol, payload in payloads:
            pipe.xadd(
                price_history_key(symbol),
                {PRICE_HISTORY_FIELD: payload},
                maxlen=self.history_maxlen,
                approximate=True,
            )
            pipe.publish(PRICE_UPDATES, payload)
        pipe.execute()
        done = time.monotonic_ns()
        self.latencies_ms.extend((done - received) / 1e6 for _, received in batch)
        self.published += len(batch)
        self.batches += 1

    def status(self) -> dict[str, Any]:
        samples = sorted(self.latencies_ms)
        p50, p99 = nearest_rank(samples, 50), nearest_rank(samples, 99)
        return {
            "redis_up": self.redis_up,
            "buffered": self.pending(),
            "capacity": self.capacity,
            "submitted": self.submitted,
            "published": self.published,
            "dropped": self.dropped,
            "batches": self.batches,
            "redis_errors": self.redis_errors,
            "last_error": self.last_error,
            "publish_latency_ms": {
                "p50": None if p50 is None else round(p50, 3),
                "p99": None if p99 is None else round(p99, 3),
                "samples": len(samples),
            },
        }
