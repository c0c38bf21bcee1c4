"""Aggregate the health of every registered service, Redis and the gateway itself.

When the health monitor (registry name ``health``) answers, its view is used: it has hysteresis,
availability and the Celery workers, and asking it costs one request instead of one per service.
When it does not, the gateway falls back to polling every service itself; ``source`` in the
report says which view it is.

Each service's health endpoint is polled concurrently with a short timeout, so one hung service
costs ``HEALTH_CHECK_TIMEOUT`` rather than the sum of all. Either way every service that is not
healthy has a ``reason`` in words (its own, from its ``/health``, when it gave one). The overall
status follows :func:`ascep.common.health_status.overall_status`, the rule the monitor uses too.

The Celery workers are ``celery_worker`` among the services, as in the monitor's own report (the
top-level ``workers`` entry is the same object, kept for older clients).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import redis
import requests

from ascep.common import channels
from ascep.common.concurrency import parallel_map
from ascep.common.health_status import overall_status
from ascep.common.healthcheck import check_http, health_session
from ascep.common.redis_client import is_reachable
from ascep.common.timeutil import iso_utc
from ascep.gateway.routing import ServiceDefinition, ServiceRegistry

logger = logging.getLogger(__name__)

_VALID = ("healthy", "starting", "degraded", "unhealthy")

#: Registry name of the health monitor and the path of its per-service view.
MONITOR_SERVICE = "health"
MONITOR_VIEW_PATH = "/monitor/services"


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    status: str
    response_time_ms: float | None
    http_status: int | None
    error: str | None
    checked_at: str
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "response_time_ms": self.response_time_ms,
            "http_status": self.http_status,
            "error": self.error,
            "checked_at": self.checked_at,
        }


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
        self.session = health_session()
        self.last_known: dict[str, ServiceHealth] = {}

    def check_service(self, definition: ServiceDefinition) -> ServiceHealth:
        result = check_http(
            self.session, self.base_urls[definition.name] + definition.health_endpoint, self.timeout
        )
        health = ServiceHealth(
            definition.name,
            result.status,
            result.response_time_ms,
            result.http_status,
            result.error,
            iso_utc(),
            result.reason,
        )
        self.last_known[definition.name] = health
        return health

    def check_redis(self) -> dict[str, Any]:
        started = time.perf_counter()
        ok = is_reachable(self.redis)
        return {
            "status": "healthy" if ok else "unhealthy",
            "response_time_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    def monitor_view(self) -> dict[str, Any] | None:
        """The health monitor's per-target view, or ``None`` when it is not registered or not up."""
        base = self.base_urls.get(MONITOR_SERVICE)
        if base is None:
            return None
        try:
            response = self.session.get(base + MONITOR_VIEW_PATH, timeout=self.timeout)
            view = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None
        if not isinstance(view, dict) or not isinstance(view.get("services"), dict) or not view.get("rounds"):
            return None  # not a monitor, or one that has not finished a round yet
        return view

    def poll(self) -> dict[str, Any]:
        """Build the ``/api/health`` report from the monitor's view, else by polling every service."""
        view = self.monitor_view()
        if view is not None:
            return self._report_from_monitor(view)
        return self._report_from_polling()

    def _report_from_monitor(self, view: dict[str, Any]) -> dict[str, Any]:
        monitored: dict[str, Any] = view["services"]
        services: dict[str, Any] = {}
        for definition in self.registry:
            entry = monitored.get(definition.name)
            if not isinstance(entry, dict) or entry.get("status") not in _VALID:
                entry = {
                    "status": "unhealthy" if entry else "unknown",
                    "error": "not yet checked by the monitor",
                    "reason": "not yet checked by the monitor",
                }
            services[definition.name] = {**entry, "checked_at": entry.get("last_checked")}
            self.last_known[definition.name] = ServiceHealth(
                definition.name,
                services[definition.name]["status"],
                entry.get("response_time_ms"),
                entry.get("http_status"),
                entry.get("error"),
                entry.get("last_checked") or iso_utc(),
                entry.get("reason"),
            )
        workers = monitored.get(channels.WORKER_SERVICE)
        if isinstance(workers, dict) and workers.get("status") in _VALID:
            services[channels.WORKER_SERVICE] = {**workers, "checked_at": workers.get("last_checked")}
        else:
            workers = None
        redis_health = self.check_redis()
        counted = [s["status"] for s in services.values() if s["status"] in _VALID]
        return self._assemble(services, counted, redis_health, source="health_service", workers=workers)

    def _report_from_polling(self) -> dict[str, Any]:
        definitions = list(self.registry)
        checks: list[Callable[[], Any]] = [self.check_redis]
        checks += [partial(self.check_service, d) for d in definitions]
        redis_health, *service_health = parallel_map(lambda check: check(), checks, self.async_mode)
        services = {h.name: h.as_dict() for h in service_health}
        statuses = [h.status for h in service_health]
        return self._assemble(services, statuses, redis_health, source="gateway", workers=None)

    def _assemble(
        self,
        services: dict[str, Any],
        statuses: list[str],
        redis_health: dict[str, Any],
        *,
        source: str,
        workers: dict[str, Any] | None,
    ) -> dict[str, Any]:
        bridge = self.bridge_status()
        status = overall_status(statuses, redis_ok=redis_health["status"] == "healthy")
        if status == "healthy" and bridge["state"] != "connected":
            status = "degraded"  # events are not reaching browsers
        report: dict[str, Any] = {
            "status": status,
            "overall_status": status,
            "source": source,
            "timestamp": iso_utc(),
            "services": services,
            "redis": redis_health,
            "active_connections": self.active_connections(),
            "realtime": bridge,
            "summary": {s: statuses.count(s) for s in _VALID} | {"total": len(statuses)},
        }
        if workers is not None:
            report["workers"] = workers  # deprecated alias of services.celery_worker
        return report
