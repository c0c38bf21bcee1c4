"""One check of one target, returning what happened rather than raising.

HTTP targets are healthy on a 2xx whose ``status`` field (if any) says so, degraded when they say
``degraded``, failed otherwise (error status, timeout, refused connection). Redis is a PING.
Workers are healthy while at least one Celery worker's heartbeat is fresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
import requests

from ascep.common import channels
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import now_ms
from ascep.health.hysteresis import Outcome
from ascep.health.targets import Target


@dataclass(frozen=True)
class ProbeResult:
    outcome: Outcome
    response_time_ms: float
    error: str | None = None
    http_status: int | None = None


class Prober:
    """Checks targets with bounded timeouts; one session so connections are reused."""

    def __init__(self, redis_client: redis.Redis, timeout: float, worker_max_age_s: float) -> None:
        self.redis = redis_client
        self.timeout = timeout
        self.worker_max_age_ms = worker_max_age_s * 1000
        self.session = requests.Session()
        self.session.trust_env = False  # health checks never go through an HTTP proxy

    def probe(self, target: Target) -> ProbeResult:
        started = time.perf_counter()
        if target.kind == "http":
            outcome, error, http_status = self._http(target.url)
        elif target.kind == "redis":
            outcome, error, http_status = self._redis()
        else:
            outcome, error, http_status = self._workers()
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        return ProbeResult(outcome, elapsed, error, http_status)

    def _http(self, url: str) -> tuple[Outcome, str | None, int | None]:
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.Timeout:
            return "failed", f"no answer within {self.timeout}s", None
        except requests.ConnectionError:
            return "failed", "unreachable", None
        except requests.RequestException as exc:
            return "failed", type(exc).__name__, None
        if response.status_code >= 400:
            return "failed", f"HTTP {response.status_code}", response.status_code
        try:
            reported = response.json().get("status")
        except (ValueError, AttributeError):
            reported = None
        if reported == "degraded":
            return "degraded", "reports degraded", response.status_code
        if reported == "unhealthy":
            return "failed", "reports unhealthy", response.status_code
        return "healthy", None, response.status_code

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
            fresh = self.redis.zcount(
                channels.WORKER_HEARTBEATS_KEY, now_ms() - self.worker_max_age_ms, "+inf"
            )
        except REDIS_UNAVAILABLE_ERRORS:
            return "failed", "Redis unreachable: worker heartbeats unknown", None
        if not fresh:
            return "failed", "no worker heartbeat", None
        return "healthy", None, None
