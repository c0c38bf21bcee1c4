"""Build the ``GET /api/latency`` report: overall, per service and per endpoint."""

from __future__ import annotations

import time
from typing import Any

from ascep.common import channels
from ascep.common.errors import NotFound
from ascep.common.stats import PERCENTILE_METHOD
from ascep.common.timeutil import iso_utc
from ascep.gateway.latency.stats import summarize
from ascep.gateway.latency.store import LatencyStore
from ascep.gateway.routing import ServiceRegistry

#: Most buckets a ``?buckets=`` series may ask for.
MAX_BUCKETS = 360


def bucket_bounds(now_ms: int, window_seconds: int, buckets: int) -> tuple[int, int]:
    """``(start_ms, step_ms)`` of ``buckets`` buckets covering the window up to now.

    Boundaries are aligned to multiples of the step, so two polls a few seconds apart share their
    buckets (a chart shifts by whole buckets instead of redrawing every point); the newest bucket
    is the one still filling, so the series covers the window to within one bucket.
    """
    step = max(1, -(-window_seconds * 1000 // buckets))
    end = -(-now_ms // step) * step
    return end - buckets * step, step


def time_series(
    timed: dict[str, list[tuple[int, float, int]]],
    services_of: dict[str, str],
    start_ms: int,
    step_ms: int,
    buckets: int,
) -> list[dict[str, Any]]:
    """Per bucket: the summary of everything selected and of each service (pure, unit-tested)."""
    overall: list[list[tuple[float, int]]] = [[] for _ in range(buckets)]
    per_service: dict[str, list[list[tuple[float, int]]]] = {}
    for key, samples in timed.items():
        service_buckets = per_service.setdefault(services_of[key], [[] for _ in range(buckets)])
        for ts, duration, status in samples:
            index = (ts - start_ms) // step_ms
            if 0 <= index < buckets:
                overall[index].append((duration, status))
                service_buckets[index].append((duration, status))
    return [
        {
            "start_ts": start_ms + i * step_ms,
            "end_ts": start_ms + (i + 1) * step_ms,
            "start": iso_utc(start_ms + i * step_ms),
            "overall": summarize(overall[i]).as_dict(),
            "services": {name: summarize(b[i]).as_dict() for name, b in sorted(per_service.items())},
        }
        for i in range(buckets)
    ]


def latency_report(
    registry: ServiceRegistry,
    store: LatencyStore,
    *,
    service: str | None,
    endpoint: str | None,
    window_seconds: int,
    buckets: int | None = None,
) -> dict[str, Any]:
    """Exact statistics of the samples retained in the window, cluster-wide (all gateways);
    with ``buckets``, also the same statistics per time bucket (``series``) for charts."""
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
    now_ms = int(time.time() * 1000)
    since_ms = now_ms - window_seconds * 1000
    series: list[dict[str, Any]] | None = None
    if buckets is None:
        samples = store.read((channels.latency_key(s, e) for s, e in selected), since_ms)
    else:
        start_ms, step_ms = bucket_bounds(now_ms, window_seconds, buckets)
        timed = store.read_timed((channels.latency_key(s, e) for s, e in selected), min(since_ms, start_ms))
        samples = {key: [(d, st) for ts, d, st in found if ts >= since_ms] for key, found in timed.items()}
        services_of = {channels.latency_key(s, e): s for s, e in selected}
        series = time_series(timed, services_of, start_ms, step_ms, buckets)

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

    report: dict[str, Any] = {
        "window_seconds": window_seconds,
        "percentile_method": PERCENTILE_METHOD,
        "generated_at": iso_utc(),
        "filters": {"service": service, "endpoint": endpoint},
        "overall": summarize(everything).as_dict(),
        "services": services,
    }
    # Since when anything is kept for this selection (within retention): a quiet page can say so.
    oldest = store.oldest_ms(channels.latency_key(s, e) for s, e in selected)
    report["data_since_ts"] = oldest
    report["data_since"] = iso_utc(oldest) if oldest is not None else None
    if series is not None:
        report["bucket_seconds"] = (step_ms / 1000) if series else None
        report["series"] = series
    return report
