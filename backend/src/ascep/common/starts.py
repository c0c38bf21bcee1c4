"""Process starts recorded in Redis, so a crash shorter than a health check is still seen.

Every service process records its start (pid, host, time) once, at start-up: the common entry
point does it for every service, the gateway's entry point for the gateway, and a Celery worker's
first heartbeat for the worker. A start of a service that had started before (its name already
in ``SERVICE_STARTS_KEY``: ``HSET`` says so atomically) is a restart: it goes into the service's
sorted set of restarts, kept a day. The health monitor counts them over 1 h and 24 h.

Recording never holds a service up: :func:`announce_start` tries in a daemon thread, retrying with
backoff while Redis is unreachable, so a restart during a Redis outage is counted once it is back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from ascep.common import channels
from ascep.common.backoff import Backoff
from ascep.common.events import decode, encode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, RedisOptions
from ascep.common.timeutil import iso_utc, now_ms

logger = logging.getLogger(__name__)

_HOUR_MS = 3_600_000
#: Restarts are kept this long (the 24 h count plus a margin) and at most this many per service.
KEEP_MS = 25 * _HOUR_MS
MAX_KEPT = 1_000


def record_start(client: redis.Redis, service: str, pid: int | None = None, ts: int | None = None) -> bool:
    """Record that ``service`` started now in process ``pid``; ``True`` when it is a restart."""
    pid = os.getpid() if pid is None else pid
    ts = now_ms() if ts is None else ts
    start = {"pid": pid, "host": socket.gethostname(), "ts": ts, "at": iso_utc(ts)}
    if client.hset(channels.SERVICE_STARTS_KEY, service, encode(start)):
        return False  # the first start ever recorded for this service
    key = channels.service_restarts_key(service)
    pipe = client.pipeline(transaction=True)
    pipe.zadd(key, {f"{pid}@{ts}": ts})
    pipe.zremrangebyscore(key, "-inf", ts - KEEP_MS)
    pipe.zremrangebyrank(key, 0, -MAX_KEPT - 1)
    pipe.pexpire(key, KEEP_MS)
    pipe.execute()
    return True


def announce_start(options: RedisOptions, service: str) -> threading.Thread:
    """Record this process's start in the background, retrying until Redis takes it."""
    pid = os.getpid()
    ts = now_ms()

    def run() -> None:
        client = options.client(retries=0)
        backoff = Backoff(initial=0.5, cap=30.0)
        while True:
            try:
                restarted = record_start(client, service, pid, ts)
            except REDIS_UNAVAILABLE_ERRORS:
                delay = backoff.next_delay()
                logger.debug("start of %s not recorded (Redis unreachable); retry in %.1fs", service, delay)
                time.sleep(delay)
                continue
            logger.info("%s %s (pid %d)", service, "restarted" if restarted else "started", pid)
            client.close()
            return

    thread = threading.Thread(target=run, name="record-start", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class Restarts:
    """What the monitor shows of one service's starts."""

    last_hour: int
    last_day: int
    last_restart_ts: int | None
    last_start: dict[str, Any] | None

    def as_dict(self, now: int, recent_ms: float) -> dict[str, Any]:
        last = self.last_restart_ts
        return {
            "restarts": {"1h": self.last_hour, "24h": self.last_day},
            "last_restart": iso_utc(last) if last is not None else None,
            "restarted_recently": last is not None and now - last <= recent_ms,
            "last_start": self.last_start,
        }


def restarts_of(client: redis.Redis, services: Iterable[str], now: int) -> dict[str, Restarts]:
    """Restart counts of ``services`` over the last hour and day (one round trip for all)."""
    names = list(services)
    if not names:
        return {}
    pipe = client.pipeline(transaction=False)
    pipe.hmget(channels.SERVICE_STARTS_KEY, names)
    for name in names:
        key = channels.service_restarts_key(name)
        pipe.zcount(key, now - _HOUR_MS, "+inf")
        pipe.zcount(key, now - 24 * _HOUR_MS, "+inf")
        pipe.zrevrange(key, 0, 0, withscores=True)
    starts, *counts = pipe.execute()
    found = {}
    for i, name in enumerate(names):
        hour, day, latest = counts[3 * i : 3 * i + 3]
        found[name] = Restarts(hour, day, int(latest[0][1]) if latest else None, _start(starts[i]))
    return found


def _start(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        start = decode(raw)
    except ValueError:
        return None
    return {"pid": start.get("pid"), "host": start.get("host"), "at": start.get("at")}
