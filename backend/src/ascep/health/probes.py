"""One check of one target, returning what happened rather than raising.

HTTP targets are checked exactly as the gateway checks services (:mod:`ascep.common.healthcheck`);
``unhealthy`` there is a failed check here, and the service's own ``reason`` is kept. Redis is a
PING.
Workers are healthy while at least one Celery worker's heartbeat is fresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from ascep.common.healthcheck import check_http, health_session
from ascep.common.heartbeats import live_workers
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.health.hysteresis import Outcome
from ascep.health.targets import Target


@dataclass(frozen=True)
class ProbeResult:
    outcome: Outcome
    response_time_ms: float
    error: str | None = None
    http_status: int | None = None
    #: Why the target is not healthy, in words (its own ``reason`` when it gave one).
    reason: str | None = None


class Prober:
    """Checks targets with bounded timeouts; one session so connections are reused."""

    def __init__(self, redis_client: redis.Redis, timeout: float, worker_max_age_s: float) -> None:
        self.redis = redis_client
        self.timeout = timeout
        self.worker_max_age_ms = worker_max_age_s * 1000
        self.session = health_session()

    def probe(self, target: Target) -> ProbeResult:
        if target.kind == "http":
            checked = check_http(self.session, target.url, self.timeout)
            outcome: Outcome = "failed" if checked.status == "unhealthy" else checked.status
            return ProbeResult(
                outcome, checked.response_time_ms, checked.error, checked.http_status, checked.reason
            )
        started = time.perf_counter()
        if target.kind == "redis":
            outcome, error, http_status = self._redis()
        else:
            outcome, error, http_status = self._workers()
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        return ProbeResult(outcome, elapsed, error, http_status, error)

    def _redis(self) -> tuple[Outcome, str | None, int | None]:
        try:
            self.redis.ping()
        except REDIS_UNAVAILABLE_ERRORS as exc:
            return "failed", f"unreachable: {type(exc).__name__}", None
        except redis.RedisError as exc:
            return "failed", str(exc), None
        return "healthy", None, None

    def _workers(self) -> tuple[Outcome, str | None, int | None]:
        try:
            fresh = live_workers(self.redis, self.worker_max_age_ms)
        except REDIS_UNAVAILABLE_ERRORS:
            return "failed", "Redis unreachable: worker heartbeats unknown", None
        if not fresh:
            return "failed", "no worker heartbeat", None
        return "healthy", None, None
