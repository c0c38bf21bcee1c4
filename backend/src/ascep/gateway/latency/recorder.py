"""Buffer latency samples in memory and flush them to Redis off the request path.

``record`` is what the proxy calls on every response: an append to a deque, no I/O. A
background loop drains the buffer every ``flush_interval``: it feeds the Prometheus histogram
and writes the batch to Redis in one transaction. While Redis is unreachable the samples wait
(up to ``buffer_max``; beyond that the oldest are dropped and counted) and the loop backs off;
when Redis answers again everything waiting is written, so the statistics catch up.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ascep.common.backoff import Backoff
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)

WRITE_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Sample:
    """One finished proxied call."""

    service: str
    endpoint: str
    method: str
    status: int
    duration: float  # seconds
    ts_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    retries: int = 0  # attempts beyond the first (the retry step)


class SampleWriter(Protocol):
    def write(self, samples: list[Sample]) -> None: ...


class LatencyRecorder:
    """In-memory buffer plus the flush loop that empties it into a :class:`SampleWriter`."""

    def __init__(
        self,
        writer: SampleWriter,
        *,
        buffer_max: int,
        flush_interval: float,
        observe: Callable[[Sample], None] = lambda sample: None,
    ) -> None:
        self.writer = writer
        self.buffer_max = buffer_max
        self.flush_interval = flush_interval
        self.observe = observe
        self._incoming: deque[Sample] = deque()
        self._unsaved: deque[Sample] = deque()
        self.recorded = 0
        self.flushed = 0
        self.dropped = 0
        self.last_flush_error: str | None = None
        self.redis_ok = True
        self._backoff = Backoff(initial=flush_interval, cap=max(5.0, flush_interval))
        self._stopping = False

    def record(self, sample: Sample) -> None:
        """Hot path: keep the sample for the next flush."""
        self._incoming.append(sample)
        self.recorded += 1

    @property
    def pending(self) -> int:
        return len(self._incoming) + len(self._unsaved)

    def flush(self) -> int:
        """Write everything buffered; return how many samples reached Redis.

        Raises the Redis error after keeping the unsaved samples for the next attempt.
        """
        incoming, unsaved = self._incoming, self._unsaved
        while incoming:
            sample = incoming.popleft()
            self.observe(sample)
            unsaved.append(sample)
        overflow = len(unsaved) - self.buffer_max
        if overflow > 0:
            for _ in range(overflow):
                unsaved.popleft()
            self.dropped += overflow
            logger.warning("latency buffer full: dropped %d oldest samples", overflow)
        written = 0
        while unsaved:
            chunk = [unsaved[i] for i in range(min(WRITE_CHUNK, len(unsaved)))]
            self.writer.write(chunk)
            for _ in chunk:
                unsaved.popleft()
            written += len(chunk)
            self.flushed += len(chunk)
        return written

    def run(self, sleep: Callable[[float], Any]) -> None:
        """Flush every ``flush_interval`` until :meth:`stop`; back off while Redis is down."""
        delay = self.flush_interval
        while not self._stopping:
            sleep(delay)
            try:
                self.flush()
            except REDIS_UNAVAILABLE_ERRORS as exc:
                delay = self._backoff.next_delay()
                if self.redis_ok:
                    logger.warning("Redis unreachable, keeping %d latency samples: %s", self.pending, exc)
                self.redis_ok = False
                self.last_flush_error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                delay = self._backoff.next_delay()
                self.last_flush_error = f"{type(exc).__name__}: {exc}"
                logger.exception("latency flush failed; %d samples kept", self.pending)
            else:
                if not self.redis_ok:
                    logger.info("Redis reachable again, latency samples flushed")
                self.redis_ok = True
                self._backoff.reset()
                delay = self.flush_interval

    def stop(self) -> None:
        self._stopping = True

    def status(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "buffer_max": self.buffer_max,
            "recorded": self.recorded,
            "flushed": self.flushed,
            "dropped": self.dropped,
            "redis_ok": self.redis_ok,
            "last_flush_error": self.last_flush_error,
        }
