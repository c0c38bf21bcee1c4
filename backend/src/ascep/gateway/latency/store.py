"""Latency samples in Redis sorted sets, shared by every gateway process.

One sorted set per (service, endpoint), scored by the sample's epoch milliseconds, so a time
window is one ``ZRANGEBYSCORE`` and retention is one ``ZREMRANGEBYSCORE``. A member encodes the
duration in microseconds, the status, and a per-process sequence (``<us>:<status>:<node>:<seq>``)
so samples from different gateways never collide; a retried call appends its retry count
(``...:<seq>:<retries>``), which readers of the first two fields never see. Memory is bounded twice: by age
(``retention``) and by count per key (``max_samples``, oldest trimmed first). The keys are listed
in an index set, so readers never scan the keyspace.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

import redis

from ascep.common import channels
from ascep.gateway.latency.recorder import Sample


class LatencyStore:
    """Write and read latency samples; every write is one MULTI/EXEC transaction."""

    def __init__(self, client: redis.Redis, retention_seconds: int, max_samples: int) -> None:
        self.client = client
        self.retention_ms = retention_seconds * 1000
        self.max_samples = max_samples
        self._node = f"{os.getpid():x}{os.urandom(3).hex()}"
        self._sequence = itertools.count()

    def write(self, samples: Sequence[Sample]) -> None:
        """Store ``samples`` and trim what fell out of retention or over the per-key cap."""
        if not samples:
            return
        by_key: dict[str, dict[str, int]] = defaultdict(dict)
        for sample in samples:
            member = f"{round(sample.duration * 1e6)}:{sample.status}:{self._node}:{next(self._sequence)}"
            if sample.retries:
                member = f"{member}:{sample.retries}"
            by_key[channels.latency_key(sample.service, sample.endpoint)][member] = sample.ts_ms
        oldest_kept = int(time.time() * 1000) - self.retention_ms
        pipe = self.client.pipeline(transaction=True)
        for key, members in by_key.items():
            pipe.zadd(key, members)
            pipe.zremrangebyscore(key, "-inf", f"({oldest_kept}")
            pipe.zremrangebyrank(key, 0, -(self.max_samples + 1))
            pipe.pexpire(key, self.retention_ms)
        pipe.sadd(channels.LATENCY_INDEX_KEY, *by_key)
        pipe.execute()

    def read(self, keys: Iterable[str], since_ms: int) -> dict[str, list[tuple[float, int]]]:
        """``(duration_ms, status)`` samples per key, recorded at or after ``since_ms``."""
        timed = self.read_timed(keys, since_ms)
        return {
            key: [(duration, status) for _, duration, status in samples] for key, samples in timed.items()
        }

    def read_timed(self, keys: Iterable[str], since_ms: int) -> dict[str, list[tuple[int, float, int]]]:
        """``(ts_ms, duration_ms, status)`` samples per key, oldest first, from ``since_ms`` on."""
        keys = list(keys)
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.zrangebyscore(key, since_ms, "+inf", withscores=True)
        result: dict[str, list[tuple[int, float, int]]] = {}
        for key, members in zip(keys, pipe.execute(), strict=True):
            parsed: list[tuple[int, float, int]] = []
            for member, score in members:
                micros, status, _ = member.split(":", 2)
                parsed.append((int(score), int(micros) / 1000.0, int(status)))
            result[key] = parsed
        return result

    def oldest_ms(self, keys: Iterable[str]) -> int | None:
        """Epoch ms of the oldest sample kept under any of ``keys`` (one pipelined round trip).

        What a chart of a quiet system needs to say since when it has data at all.
        """
        keys = list(keys)
        if not keys:
            return None
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.zrange(key, 0, 0, withscores=True)
        found = [int(members[0][1]) for members in pipe.execute() if members]
        return min(found) if found else None
