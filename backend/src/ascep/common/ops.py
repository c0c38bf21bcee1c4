"""The operational endpoints every ASCEP service exposes: /health, /ready, /status, /metrics.

A service registers small callables instead of writing these views again:

* health checks — cheap, in-memory ("is my price subscription alive?"); any ``unhealthy`` makes
  ``/health`` answer 503, any ``degraded`` reports degraded with 200; either way ``/health``
  carries a ``reason`` in words, made of the failing checks' own explanations (a check's
  ``detail`` when it is a sentence), so "degraded" never travels without its why;
* readiness checks — may touch dependencies ("does Redis answer?"); any failure makes ``/ready``
  answer 503 so a load balancer or supervisor stops sending traffic;
* status sections — extra detail for ``/status`` (buffer sizes, counters, connection state);
* Prometheus collectors — registered on :attr:`Ops.metrics`, a per-app registry so two apps in
  one process (tests) never clash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from flask import Blueprint, Flask, Response, current_app, jsonify
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from ascep import __version__
from ascep.common.config import Setting, public_summary
from ascep.common.errors import ServiceUnavailable
from ascep.common.health_status import HealthStatus, severity, worst
from ascep.common.openapi import Reply, doc
from ascep.common.openapi.schemas import NUMBER, OBJECT, STRING, TIMESTAMP, nullable, obj
from ascep.common.timeutil import iso_utc
from ascep.common.web import error_response

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one health or readiness check."""

    status: HealthStatus
    detail: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail}

    def explanation(self, name: str) -> str:
        """This check's why, in words: its detail when that is a sentence (or carries a ``reason``),
        else the check's name and status."""
        detail = self.detail
        if isinstance(detail, Mapping):
            detail = detail.get("reason")
        if isinstance(detail, str) and detail.strip():
            return detail.strip()
        return f"{name} {self.status}"


def health_reason(results: Mapping[str, CheckResult]) -> str | None:
    """Why a service is not healthy: its failing checks' explanations, worst first (``None`` when
    every check is healthy). Any check can contribute (a lost feed, an unreachable Redis, data
    lost by Redis...): the reason is built from the checks, never special-cased per service."""
    failing = [(name, r) for name, r in results.items() if r.status != "healthy"]
    failing.sort(key=lambda item: -severity(item[1].status))
    return "; ".join(r.explanation(name) for name, r in failing) or None


@dataclass
class Ops:
    """Per-app registry of checks, status sections and metrics."""

    service: str
    settings: tuple[Setting, ...]
    config: Mapping[str, Any]
    started_monotonic: float = field(default_factory=time.monotonic)
    metrics: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    health_checks: dict[str, Callable[[], CheckResult]] = field(default_factory=dict)
    readiness_checks: dict[str, Callable[[], CheckResult]] = field(default_factory=dict)
    status_sections: dict[str, Callable[[], Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ProcessCollector(registry=self.metrics)
        PlatformCollector(registry=self.metrics)

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self.started_monotonic, 3)

    def run_checks(self, checks: Mapping[str, Callable[[], CheckResult]]) -> dict[str, CheckResult]:
        """Run ``checks``; a check that raises counts as unhealthy instead of breaking the view."""
        results: dict[str, CheckResult] = {}
        for name, check in checks.items():
            try:
                results[name] = check()
            except Exception as exc:
                logger.exception("check %r raised", name)
                results[name] = CheckResult("unhealthy", f"check failed: {type(exc).__name__}")
        return results

    def status_report(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "service": self.service,
            "version": __version__,
            "uptime_seconds": self.uptime_seconds(),
            "timestamp": iso_utc(),
            "config": public_summary(self.settings, self.config),
        }
        for name, section in self.status_sections.items():
            try:
                report[name] = section()
            except Exception as exc:
                logger.exception("status section %r raised", name)
                report[name] = {"error": type(exc).__name__}
        return report


def redis_check(client: Any, when_down: HealthStatus = "unhealthy") -> Callable[[], CheckResult]:
    """A check that PINGs Redis: ``healthy``, or ``when_down`` (readiness: unhealthy; a service that
    keeps working without Redis reports ``degraded`` in its health)."""
    from ascep.common.redis_client import is_reachable

    def check() -> CheckResult:
        return (
            CheckResult("healthy")
            if is_reachable(client)
            else CheckResult(when_down, "Redis does not answer")
        )

    return check


def get_ops(app: Flask | None = None) -> Ops:
    """The :class:`Ops` of ``app`` (default: the current app)."""
    return (app or current_app).extensions["ascep.ops"]


ops_blueprint = Blueprint("ops", __name__)

_STATUSES = list(get_args(HealthStatus))
_CHECK = obj({"status": {"enum": _STATUSES}, "detail": {}})
HEALTH_REPORT = obj(
    {
        "status": {"enum": _STATUSES},
        "reason": nullable(STRING),
        "service": STRING,
        "version": STRING,
        "uptime_seconds": NUMBER,
        "timestamp": TIMESTAMP,
        "checks": {"type": "object", "additionalProperties": _CHECK},
    }
)
READY_REPORT = obj({"ready": {"type": "boolean"}, "service": STRING, "checks": {"type": "object"}})


@ops_blueprint.get("/health")
@doc(
    "Liveness of this process",
    description="`status` and, when it is not healthy, `reason` in words; 503 (envelope plus the "
    "same report) while unhealthy.",
    ok=HEALTH_REPORT,
    errors={503: "Unhealthy: the envelope next to the report"},
    public=True,
)
def health() -> Response:
    ops = get_ops()
    results = ops.run_checks(ops.health_checks)
    status = worst(r.status for r in results.values())
    reason = health_reason(results)
    body = {
        "status": status,
        "reason": reason,
        "service": ops.service,
        "version": __version__,
        "uptime_seconds": ops.uptime_seconds(),
        "timestamp": iso_utc(),
        "checks": {name: r.as_dict() for name, r in results.items()},
    }
    if status == "unhealthy":
        failing = sorted(n for n, r in results.items() if r.status == "unhealthy")
        return error_response(
            ServiceUnavailable(f"{ops.service} is unhealthy: {reason}", {"failing": failing}), body
        )
    return jsonify(body)


@ops_blueprint.get("/ready")
@doc(
    "Readiness: may this process take traffic?",
    ok=READY_REPORT,
    errors={503: "Not ready: the envelope next to the report"},
    public=True,
)
def ready() -> Response:
    ops = get_ops()
    results = ops.run_checks(ops.readiness_checks)
    body = {
        "ready": all(r.status != "unhealthy" for r in results.values()),
        "service": ops.service,
        "checks": {name: r.as_dict() for name, r in results.items()},
    }
    if not body["ready"]:
        failing = sorted(n for n, r in results.items() if r.status == "unhealthy")
        return error_response(ServiceUnavailable(f"{ops.service} is not ready", {"failing": failing}), body)
    return jsonify(body)


@ops_blueprint.get("/status")
@doc(
    "Uptime, configuration (secrets masked) and the service's own status sections",
    ok=obj(
        {
            "service": STRING,
            "version": STRING,
            "uptime_seconds": NUMBER,
            "timestamp": TIMESTAMP,
            "config": OBJECT,
        }
    ),
)
def status() -> Response:
    return jsonify(get_ops().status_report())


@ops_blueprint.get("/metrics")
@doc(
    "Prometheus metrics",
    ok=Reply("Prometheus text exposition format", STRING, media="text/plain"),
    public=True,
)
def metrics() -> Response:
    # ``content_type``, not ``mimetype``: Prometheus' type already names its charset, and Flask
    # would append a second one to a mimetype.
    return Response(generate_latest(get_ops().metrics), content_type=CONTENT_TYPE_LATEST)
