"""Check results, status changes and availability, kept in Redis so they outlive a restart.

Availability counts checks in per-minute buckets (for the last hour) and per-hour buckets (for
the last 24 hours) with ``HINCRBY`` inside one ``MULTI``, so a report reads a few dozen hash fields
instead of thousands of samples, and two monitors writing at once never lose a count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import encode
from ascep.common.redis_replies import texts

_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000
#: Buckets kept beyond the window they serve, so a read at a bucket boundary still finds them.
_KEEP = {"m": (_MINUTE_MS, 62), "h": (_HOUR_MS, 26)}
MAX_CHANGES = 5_000


class HealthHistory:
    def __init__(self, client: redis.Redis, max_checks: int) -> None:
        self.redis = client
        self.max_checks = max_checks

    def record(
        self,
        target: str,
        ts: int,
        check: dict[str, Any],
        up: bool,
        change: dict[str, Any] | None,
        *,
        counted: bool = True,
    ) -> None:
        """Store one check (and the status change it caused, if any) atomically.

        ``counted=False`` (a target still starting) keeps the check out of availability.
        """
        pipe = self.redis.pipeline(transaction=True)
        key = channels.health_checks_key(target)
        pipe.zadd(key, {encode({"ts": ts, **check}): ts})
        pipe.zremrangebyrank(key, 0, -self.max_checks - 1)
        for granularity, (size, _keep) in _KEEP.items() if counted else ():
            bucket = ts // size
            avail = channels.health_availability_key(target, granularity)
            pipe.hincrby(avail, f"{bucket}:n", 1)
            if up:
                pipe.hincrby(avail, f"{bucket}:up", 1)
            pipe.expire(avail, 2 * 86_400)
        if change is not None:
            pipe.zadd(channels.HEALTH_CHANGES_KEY, {encode(change): ts})
            pipe.zremrangebyrank(channels.HEALTH_CHANGES_KEY, 0, -MAX_CHANGES - 1)
            pipe.hset(channels.HEALTH_CURRENT_KEY, target, encode(change))
        pipe.execute()

    def prune(self, targets: Iterable[str], now: int) -> None:
        """Drop availability buckets older than the windows they serve (cheap; run now and then)."""
        for target in targets:
            for granularity, (size, keep) in _KEEP.items():
                key = channels.health_availability_key(target, granularity)
                oldest = now // size - keep
                stale = [f for f in texts(self.redis.hkeys(key)) if int(f.split(":", 1)[0]) < oldest]
                if stale:
                    self.redis.hdel(key, *stale)

    def availability(self, targets: list[str], now: int) -> dict[str, dict[str, float | None]]:
        """Percent of successful checks over the last hour and the last 24 hours, per target
        (one round trip for all of them)."""
        pipe = self.redis.pipeline(transaction=False)
        for target in targets:
            pipe.hgetall(channels.health_availability_key(target, "m"))
            pipe.hgetall(channels.health_availability_key(target, "h"))
        counters = pipe.execute()
        return {
            target: {
                "1h": _ratio(counters[2 * i], now // _MINUTE_MS, 60),
                "24h": _ratio(counters[2 * i + 1], now // _HOUR_MS, 24),
            }
            for i, target in enumerate(targets)
        }

    def checks(self, target: str, since: int, limit: int) -> list[dict[str, Any]]:
        raw = texts(self.redis.zrangebyscore(channels.health_checks_key(target), since, "+inf"))
        return [json.loads(item) for item in raw[-limit:]]

    def changes(self, since: int, target: str | None, limit: int) -> list[dict[str, Any]]:
        raw = texts(self.redis.zrangebyscore(channels.HEALTH_CHANGES_KEY, since, "+inf"))
        found = [json.loads(item) for item in raw]
        if target is not None:
            found = [c for c in found if c.get("service") == target]
        return found[-limit:]


def _ratio(counters: dict[str, str], current_bucket: int, buckets: int) -> float | None:
    """Availability % over the ``buckets`` most recent buckets, ``None`` when nothing was checked."""
    up = total = 0
    for bucket in range(current_bucket - buckets + 1, current_bucket + 1):
        total += int(counters.get(f"{bucket}:n", 0))
        up += int(counters.get(f"{bucket}:up", 0))
    return round(100.0 * up / total, 3) if total else None
