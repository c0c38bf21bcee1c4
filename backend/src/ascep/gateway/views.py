"""The endpoints the gateway answers itself (everything else under ``/api`` is proxied)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify

from ascep import __version__
from ascep.common.errors import ServiceUnavailable
from ascep.common.query import int_arg, text_arg
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.web import error_response
from ascep.gateway.bundle import Gateway
from ascep.gateway.latency.report import MAX_BUCKETS, latency_report
from ascep.gateway.upstreams.instances import describe_upstream

bp = Blueprint("gateway", __name__)


def gateway() -> Gateway:
    return current_app.extensions["ascep.gateway"]


@bp.get("/")
def index() -> Response:
    gw = gateway()
    return jsonify(
        {
            "name": "ASCEP API Gateway",
            "version": __version__,
            "uptime_seconds": gw.ops.uptime_seconds(),
            "services": [
                {"name": d.name, "endpoints": list(d.endpoints), "description": d.description}
                for d in gw.registry
            ],
            "routes": {f"/api{ep}": d.name for d in gw.registry for ep in d.endpoints},
            "links": {
                "health": "/api/health",
                "latency": "/api/latency",
                "services": "/api/services",
                "splits": "/api/gateway/splits",
                "liveness": "/health",
                "readiness": "/ready",
                "status": "/status",
                "metrics": "/metrics",
                "socketio": "/socket.io",
            },
        }
    )


@bp.get("/api/health")
def aggregated_health() -> Response:
    report = gateway().health.poll()
    if report["status"] == "unhealthy":
        return error_response(ServiceUnavailable("the platform is unhealthy", report["summary"]), report)
    return jsonify(report)


@bp.get("/api/latency")
def latency() -> Response:
    gw = gateway()
    window = int_arg("window", gw.retention_seconds, 1, gw.retention_seconds)
    buckets = int_arg("buckets", None, 1, MAX_BUCKETS)
    report = latency_report(
        gw.registry,
        gw.latency_store,
        service=text_arg("service"),
        endpoint=text_arg("endpoint"),
        window_seconds=window,
        buckets=buckets,
    )
    report["retention_seconds"] = gw.retention_seconds
    report["max_samples_per_endpoint"] = gw.latency_store.max_samples
    return jsonify(report)


@bp.get("/api/services")
def services() -> Response:
    gw = gateway()
    latency: dict[str, Any] | None
    try:
        report = latency_report(
            gw.registry, gw.latency_store, service=None, endpoint=None, window_seconds=gw.retention_seconds
        )
        latency = {name: entry["summary"] for name, entry in report["services"].items()}
    except REDIS_UNAVAILABLE_ERRORS:
        latency = None  # on purpose, not the global 503: the listing is still true without latency
    listing = []
    for definition in gw.registry:
        address = urlsplit(gw.forwarder.base_url(definition))
        entry = definition.describe()
        entry["host"] = address.hostname
        entry["port"] = address.port or (443 if address.scheme == "https" else 80)
        entry["routes"] = [f"/api{ep}" for ep in definition.endpoints]
        entry["max_concurrency"] = gw.bulkhead.limit(definition.name)
        last = gw.health.last_known.get(definition.name)
        entry["health"] = last.as_dict() if last else {"status": "unknown"}
        entry["latency"] = latency.get(definition.name) if latency is not None else None
        instances = gw.upstreams[definition.name]
        entry["policy"] = definition.policy.describe()
        entry["routable_instances"] = len(instances.routable())
        now = time.monotonic()
        entry["instances"] = [
            {**describe_upstream(u, now), **gw.routing.report(u)}
            for u in instances.members  # one snapshot
        ]
        listing.append(entry)
    return jsonify({"services": listing, "count": len(listing), "latency_available": latency is not None})
