"""Worker heartbeats in Redis: a Celery worker beats, the health monitor and the tasks API read.

One sorted set (``channels.WORKER_HEARTBEATS_KEY``): member = worker hostname, score = epoch ms of
its latest beat, so "who is alive" is one ``ZRANGEBYSCORE`` and a dead worker simply ages out.
"""

from __future__ import annotations

import redis

from ascep.common import channels
from ascep.common.timeutil import now_ms


def beat(client: redis.Redis, worker: str) -> None:
    client.zadd(channels.WORKER_HEARTBEATS_KEY, {worker: now_ms()})


def forget(client: redis.Redis, worker: str) -> None:
    client.zrem(channels.WORKER_HEARTBEATS_KEY, worker)


def live_workers(client: redis.Redis, max_age_ms: float) -> list[str]:
    """Workers whose latest beat is at most ``max_age_ms`` old."""
    return client.zrangebyscore(channels.WORKER_HEARTBEATS_KEY, now_ms() - max_age_ms, "+inf")
