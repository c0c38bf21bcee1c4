"""Aggregate the health of every registered service, Redis and the gateway itself.

Each service's health endpoint is polled concurrently with a short timeout, so one hung service
costs ``HEALTH_CHECK_TIMEOUT`` rather than the sum of all. The rule for the overall status:

* ``healthy``   — every service healthy and Redis reachable;
* ``unhealthy`` — no service is usable (all unhealthy), or there are none and Redis is down;
* ``degraded``  — anything in between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
import requests

from ascep.common.concurrency import parallel_map
from ascep.common.redis_client import is_reachable
from ascep.common.timeutil import iso_utc
from ascep.gateway.registry import ServiceDefinition, ServiceRegistry

logger = logging.getLogger(__name__)

_VALID = ("healthy", "degraded", "unhealthy")


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    status: str
    response_time_ms: float | None
    http_status: int | None
    error: str | None
    checked_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "response_time_ms": self.response_time_ms,
            "http_status": self.http_status,
            "error": self.error,
            "checked_at": self.checked_at,
        }


def overall_status(service_statuses: list[str], redis_ok: bool) -> str:
    if not service_statuses:
        return "healthy" if redis_ok else "unhealthy"
    if all(s == "unhealthy" for s in service_statuses):
        return "unhealthy"
    if redis_ok and all(s == "healthy" for s in service_statuses):
        return "healthy"
    return "degraded"


class HealthAggregator:
    """Polls services' health endpoints and remembers the last result of each."""

    def __init__(
        self,
        registry: ServiceRegistry,
        base_urls: Mapping[str, str],
        redis_client: redis.Redis,
        *,
        timeout: float,
        async_mode: str,
        active_connections: Callable[[], int],
        bridge_status: Callable[[], dict[str, Any]] = lambda: {"state": "connected"},
    ) -> None:
        self.registry = registry
        self.base_urls = dict(base_urls)
        self.redis = redis_client
        self.timeout = timeout
        self.async_mode = async_mode
        self.active_connections = active_connections
        self.bridge_status = bridge_status
        self.session = requests.Session()
        self.session.trust_env = False
        self.last_known: dict[str, ServiceHealth] = {}

    def check_service(self, definition: ServiceDefinition) -> ServiceHealth:
        url = self.base_urls[definition.name] + definition.health_endpoint
        started = time.perf_counter()
        http_status: int | None = None
        try:
            response = self.session.get(url, timeout=self.timeout)
            http_status = response.status_code
            status, error = _interpret(response)
        except requests.Timeout:
            status, error = "unhealthy", f"no answer within {self.timeout}s"
        except requests.ConnectionError:
            status, error = "unhealthy", "unreachable"
        except requests.RequestException as exc:
            status, error = "unhealthy", type(exc).__name__
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        health = ServiceHealth(definition.name, status, elapsed, http_status, error, iso_utc())
        self.last_known[definition.name] = health
        return health

    def check_redis(self) -> dict[str, Any]:
        started = time.perf_counter()
        ok = is_reachable(self.redis)
        return {
            "status": "healthy" if ok else "unhealthy",
            "response_time_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    def poll(self) -> dict[str, Any]:
        """Check everything now, concurrently, and build the ``/api/health`` report."""
        definitions = list(self.registry)
        checks: list[Callable[[], Any]] = [self.check_redis]
        checks += [lambda d=d: self.check_service(d) for d in definitions]
        redis_health, *service_health = parallel_map(lambda check: check(), checks, self.async_mode)
        statuses = [h.status for h in service_health]
        bridge = self.bridge_status()
        status = overall_status(statuses, redis_health["status"] == "healthy")
        if status == "healthy" and bridge["state"] != "connected":
            status = "degraded"  # events are not reaching browsers
        return {
            "status": status,
            "overall_status": status,
            "timestamp": iso_utc(),
            "services": {h.name: h.as_dict() for h in service_health},
            "redis": redis_health,
            "active_connections": self.active_connections(),
            "realtime": bridge,
            "summary": {s: statuses.count(s) for s in _VALID} | {"total": len(statuses)},
        }


def _interpret(response: requests.Response) -> tuple[str, str | None]:
    """Map a health endpoint's answer to a status; a 2xx without a status field is healthy."""
    if response.status_code >= 400:
        return "unhealthy", f"HTTP {response.status_code}"
    try:
        reported = response.json().get("status")
    except (ValueError, AttributeError):
        reported = None
    if reported in _VALID:
        return reported, None
    return "healthy", None
