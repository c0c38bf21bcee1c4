"""HTTP API of the health monitor, under ``/monitor`` (how the gateway routes ``/api/monitor``).

``/history`` is also served at the top level, next to the ``/health`` ``/status`` ``/metrics``
every service has. Thin: parsing and the error envelope; the monitor does the work.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ascep.common.errors import NotFound
from ascep.common.lifecycle import current_runtime
from ascep.common.query import int_arg, text_arg
from ascep.common.timeutil import iso_utc, now_ms
from ascep.health.monitor import HealthMonitor
from ascep.health.runtime import HealthRuntime
from ascep.health.system import host_metrics, redis_metrics

monitor_blueprint = Blueprint("monitor", __name__)

_DEFAULT_LIMIT = 200
_MAX_LIMIT = 2000


def _monitor() -> HealthMonitor:
    return current_runtime(HealthRuntime).monitor


@monitor_blueprint.get("/monitor")
@monitor_blueprint.get("/monitor/status")
def full_report() -> Response:
    report = _monitor().report()
    report["system"] = system_section()
    return jsonify(report)


@monitor_blueprint.get("/monitor/services")
def services() -> Response:
    return jsonify(_monitor().report())


@monitor_blueprint.get("/monitor/services/<name>")
def one_service(name: str) -> Response:
    report = _monitor().target_report(name)
    if report is None:
        raise NotFound(f"no watched service {name!r}", {"service": name, "known": sorted(_monitor().states)})
    return jsonify({"service": name, **report})


@monitor_blueprint.get("/monitor/system")
def system() -> Response:
    return jsonify(system_section())


@monitor_blueprint.get("/history")
@monitor_blueprint.get("/monitor/history")
def history() -> Response:
    """Status changes (all services, or one) and, for one service, its recent checks."""
    monitor = _monitor()
    service = text_arg("service")
    since = int_arg("since", now_ms() - 3_600_000, 0, 2**53)
    limit = int_arg("limit", _DEFAULT_LIMIT, 1, _MAX_LIMIT)
    if service is not None and service not in monitor.states:
        raise NotFound(
            f"no watched service {service!r}", {"service": service, "known": sorted(monitor.states)}
        )
    body: dict = {
        "service": service,
        "since": iso_utc(since),
        "changes": monitor.history.changes(since, service, limit),
    }
    if service is not None:
        body["checks"] = monitor.history.checks(service, since, limit)
    return jsonify(body)


def system_section() -> dict:
    return {"host": host_metrics(), "redis": redis_metrics(current_runtime(HealthRuntime).redis)}
