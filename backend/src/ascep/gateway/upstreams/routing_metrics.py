"""``/metrics`` view of health routing: per-instance state gauges and a transitions counter.

Read at scrape time from :class:`~ascep.gateway.upstreams.health_routing.HealthRouting` (like
:class:`~ascep.gateway.proxy.bulkhead.BulkheadCollector`), so the hot path pays nothing. Labels
name the service *and* the instance: "which backend is out?" has an answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ascep.gateway.upstreams.health_routing import HealthRouting


class RoutingCollector(Collector):
    """Register with ``registry.register(RoutingCollector(routing))``."""

    def __init__(self, routing: HealthRouting) -> None:
        self._routing = routing

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        labels = ["service", "instance"]
        healthy = GaugeMetricFamily(
            "ascep_gateway_upstream_healthy",
            "1 while active health checks find the instance healthy (rise/fall), else 0.",
            labels=labels,
        )
        ejected = GaugeMetricFamily(
            "ascep_gateway_upstream_ejected",
            "1 while outlier detection keeps the instance out of rotation, else 0.",
            labels=labels,
        )
        times = GaugeMetricFamily(
            "ascep_gateway_upstream_times_ejected",
            "How many times the instance was ejected (sets the length of the next ejection).",
            labels=labels,
        )
        now = time.monotonic()
        for upstream in self._routing.instances():
            names = [upstream.service, upstream.instance_id]
            healthy.add_metric(names, 1 if upstream.healthy else 0)
            ejected.add_metric(names, 1 if upstream.ejected_until > now else 0)
            times.add_metric(names, upstream.times_ejected)
        transitions = CounterMetricFamily(
            "ascep_gateway_upstream_transitions",
            "Health and ejection transitions this process applied (decided here or shared).",
            labels=[*labels, "to"],
        )
        for (service, instance, change), count in sorted(self._routing.transitions.items()):
            transitions.add_metric([service, instance, change], count)
        return [healthy, ejected, times, transitions]
