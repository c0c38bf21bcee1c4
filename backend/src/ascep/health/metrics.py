"""Prometheus view of the monitor's findings, computed at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ascep.health.monitor import HealthMonitor

_STATUS_VALUE = {"unknown": -1, "starting": -1, "healthy": 0, "degraded": 1, "unhealthy": 2}


class HealthCollector(Collector):
    def __init__(self, monitor: HealthMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "ascep_target_status",
            "0 healthy, 1 degraded, 2 unhealthy, -1 unknown or starting",
            labels=["target"],
        )
        up = GaugeMetricFamily("ascep_target_up", "1 when the last check succeeded", labels=["target"])
        latency = GaugeMetricFamily(
            "ascep_target_response_seconds", "Duration of the last check", labels=["target"]
        )
        for name, state in sorted(self.monitor.states.items()):
            status.add_metric([name], _STATUS_VALUE[state.tracker.status])
            if state.last is not None:
                up.add_metric([name], 0 if state.last.outcome == "failed" else 1)
                latency.add_metric([name], state.last.response_time_ms / 1000)
        yield status
        yield up
        yield latency
        yield CounterMetricFamily("ascep_health_rounds", "Check rounds completed", value=self.monitor.rounds)
        yield CounterMetricFamily(
            "ascep_health_status_events",
            "service_status events published",
            value=self.monitor.events_published,
        )
