"""Build the ``GET /api/latency`` report: overall, per service and per endpoint."""

from __future__ import annotations

import time
from typing import Any

from ascep.common import channels
from ascep.common.errors import BadRequest, NotFound
from ascep.common.timeutil import iso_utc
from ascep.gateway.latency.stats import PERCENTILE_METHOD, summarize
from ascep.gateway.latency.store import LatencyStore
from ascep.gateway.registry import ServiceRegistry


def parse_window(raw: str | None, retention_seconds: int) -> int:
    """``?window=<seconds>``: a whole number from 1 to the retention (default: the retention)."""
    if raw is None or raw == "":
        return retention_seconds
    try:
        window = int(raw)
    except ValueError:
        raise BadRequest("window must be a whole number of seconds", {"window": raw}) from None
    if not 1 <= window <= retention_seconds:
        raise BadRequest(
            f"window must be between 1 and {retention_seconds} seconds (the retention)",
            {"window": window, "max": retention_seconds},
        )
    return window


def latency_report(
    registry: ServiceRegistry,
    store: LatencyStore,
    *,
    service: str | None,
    endpoint: str | None,
    window_seconds: int,
) -> dict[str, Any]:
    """Exact statistics of the samples retained in the window, cluster-wide (all gateways)."""
    if service is not None and registry.get(service) is None:
        raise NotFound(f"unknown service {service!r}", {"service": service})
    if endpoint is not None:
        endpoint = "/" + endpoint.strip("/")
        owner = registry.endpoint_owner(endpoint)
        if owner is None or (service is not None and owner.name != service):
            raise NotFound(f"unknown endpoint {endpoint!r}", {"endpoint": endpoint, "service": service})

    selected: list[tuple[str, str]] = [
        (definition.name, ep)
        for definition in registry
        if service is None or definition.name == service
        for ep in definition.endpoints
        if endpoint is None or ep == endpoint
    ]
    since_ms = int(time.time() * 1000) - window_seconds * 1000
    samples = store.read((channels.latency_key(s, e) for s, e in selected), since_ms)

    services: dict[str, dict[str, Any]] = {}
    everything: list[tuple[float, int]] = []
    for name, ep in selected:
        endpoint_samples = samples[channels.latency_key(name, ep)]
        everything.extend(endpoint_samples)
        entry = services.setdefault(name, {"summary": None, "endpoints": {}, "_samples": []})
        entry["endpoints"][ep] = summarize(endpoint_samples).as_dict()
        entry["_samples"].extend(endpoint_samples)
    for entry in services.values():
        entry["summary"] = summarize(entry.pop("_samples")).as_dict()

    return {
        "window_seconds": window_seconds,
        "percentile_method": PERCENTILE_METHOD,
        "generated_at": iso_utc(),
        "filters": {"service": service, "endpoint": endpoint},
        "overall": summarize(everything).as_dict(),
        "services": services,
    }
