"""Worker heartbeats in Redis: a Celery worker beats, the health monitor and the tasks API read.

One sorted set (``channels.WORKER_HEARTBEATS_KEY``): member = worker hostname, score = epoch ms of
its latest beat, so "who is alive" is one ``ZRANGEBYSCORE`` and a dead worker simply ages out.

A worker process's first successful beat also records its start (:mod:`ascep.common.starts`,
under ``channels.WORKER_SERVICE``), so a worker killed and restarted between two health checks
still shows up as a restart.
"""

from __future__ import annotations

import os

import redis

from ascep.common import channels
from ascep.common.redis_replies import texts
from ascep.common.starts import record_start
from ascep.common.timeutil import now_ms

#: (pid, worker) pairs whose start this process has recorded.
_recorded: set[tuple[int, str]] = set()


def beat(client: redis.Redis, worker: str) -> None:
    client.zadd(channels.WORKER_HEARTBEATS_KEY, {worker: now_ms()})
    started = (os.getpid(), worker)
    if started not in _recorded:
        record_start(client, channels.WORKER_SERVICE)
        _recorded.add(started)


def forget(client: redis.Redis, worker: str) -> None:
    client.zrem(channels.WORKER_HEARTBEATS_KEY, worker)


def live_workers(client: redis.Redis, max_age_ms: float) -> list[str]:
    """Workers whose latest beat is at most ``max_age_ms`` old."""
    return texts(client.zrangebyscore(channels.WORKER_HEARTBEATS_KEY, now_ms() - max_age_ms, "+inf"))
