"""HTTP API of the health monitor, under ``/monitor`` (how the gateway routes ``/api/monitor``).

``/history`` is also served at the top level, next to the ``/health`` ``/status`` ``/metrics``
every service has. Thin: parsing and the error envelope; the monitor does the work.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ascep.common.errors import NotFound
from ascep.common.lifecycle import current_runtime
from ascep.common.openapi import doc
from ascep.common.openapi.params import Param, int_param, path_param, text_param
from ascep.common.query import int_arg
from ascep.common.timeutil import iso_utc, now_ms
from ascep.health.api_schemas import FULL_REPORT, HISTORY, ONE_TARGET, SERVICES_REPORT, SYSTEM
from ascep.health.monitor import HealthMonitor
from ascep.health.runtime import HealthRuntime
from ascep.health.system import host_metrics, redis_metrics

monitor_blueprint = Blueprint("monitor", __name__)

_DEFAULT_LIMIT = 200
_MAX_LIMIT = 2000
_HOUR_MS = 3_600_000

_SERVICE = text_param("service", "One watched service (all when omitted); adds its recent checks.")
_SINCE = Param(
    "since",
    "Epoch milliseconds; default: one hour ago.",
    {"type": "integer", "minimum": 0, "maximum": 2**53},
    lambda: int_arg("since", now_ms() - _HOUR_MS, 0, 2**53),
)
_LIMIT = int_param("limit", _DEFAULT_LIMIT, 1, _MAX_LIMIT, "Most entries per list (the newest).")
_NAME = path_param(
    "name", "A watched service (its registry name, celery_worker, redis...)", example="gateway"
)
_UNKNOWN = {404: "No watched service by that name (details list the known ones)"}


def _monitor() -> HealthMonitor:
    return current_runtime(HealthRuntime).monitor


@monitor_blueprint.get("/monitor")
@monitor_blueprint.get("/monitor/status")
@doc("Status of every watched service, with host and Redis metrics", ok=FULL_REPORT)
def full_report() -> Response:
    report = _monitor().report()
    report["system"] = system_section()
    return jsonify(report)


@monitor_blueprint.get("/monitor/services")
@doc("Status of every watched service", ok=SERVICES_REPORT)
def services() -> Response:
    return jsonify(_monitor().report())


@monitor_blueprint.get("/monitor/services/<name>")
@doc("Status of one watched service", params={"name": _NAME}, ok=ONE_TARGET, errors=_UNKNOWN)
def one_service(name: str) -> Response:
    report = _monitor().target_report(name)
    if report is None:
        raise NotFound(f"no watched service {name!r}", {"service": name, "known": sorted(_monitor().states)})
    return jsonify({"service": name, **report})


@monitor_blueprint.get("/monitor/system")
@doc("Host (CPU, memory, disk, load) and Redis metrics", ok=SYSTEM)
def system() -> Response:
    return jsonify(system_section())


@monitor_blueprint.get("/history")
@monitor_blueprint.get("/monitor/history")
@doc(
    "Status changes (all services, or one) and one service's recent checks",
    query=(_SERVICE, _SINCE, _LIMIT),
    ok=HISTORY,
    errors=_UNKNOWN,
)
def history() -> Response:
    """Status changes (all services, or one) and, for one service, its recent checks."""
    monitor = _monitor()
    service, since, limit = _SERVICE.read(), _SINCE.read(), _LIMIT.read()
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
