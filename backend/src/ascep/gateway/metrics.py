"""The gateway's Prometheus metrics, observed from the latency flush loop (not per request)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge, Histogram

from ascep.gateway.latency.recorder import Sample

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.request_duration = Histogram(
            "ascep_gateway_request_duration_seconds",
            "Duration of proxied requests, from arrival to last byte sent.",
            ["service", "endpoint", "method", "status_class"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._registry = registry

    def observe(self, sample: Sample) -> None:
        self.request_duration.labels(
            sample.service, sample.endpoint, sample.method, f"{sample.status // 100}xx"
        ).observe(sample.duration)

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge whose value is read at scrape time."""
        Gauge(name, documentation, registry=self._registry).set_function(read)
