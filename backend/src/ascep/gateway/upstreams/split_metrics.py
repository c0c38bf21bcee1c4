"""Prometheus view of the splits, read at scrape time from the local counters (not per request)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ascep.gateway.upstreams.split_step import SplitCounters, SplitTable


class SplitCollector(Collector):
    def __init__(self, table: SplitTable, counters: SplitCounters) -> None:
        self._table = table
        self._counters = counters

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        counters = self._counters
        weight = GaugeMetricFamily(
            "ascep_gateway_split_basis_points",
            "Share of each split arm in basis points (10 000 = all), as this process applies it.",
            labels=["service", "arm", "version"],
        )
        for split in list(self._table.splits.values()):
            weight.add_metric([split.service, "stable", split.stable], split.stable_bp)
            weight.add_metric([split.service, "canary", split.canary], split.canary_bp)
        requests = CounterMetricFamily(
            "ascep_gateway_split_requests",
            "Requests of services with a split, by the arm whose version served them "
            "(`other`: an instance of neither version) and outcome (error: 5xx, timeout, connection).",
            labels=["service", "arm", "version", "outcome"],
        )
        for (service, arm, version, outcome), count in list(counters.requests.items()):
            requests.add_metric([service, arm, version, outcome], count)
        fallbacks = CounterMetricFamily(
            "ascep_gateway_split_fallbacks",
            "Requests assigned to an arm whose version had no routable instance (served elsewhere).",
            labels=["service", "arm", "version"],
        )
        for (service, arm, version), count in list(counters.fallbacks.items()):
            fallbacks.add_metric([service, arm, version], count)
        rollbacks = CounterMetricFamily(
            "ascep_gateway_split_rollbacks",
            "Canaries rolled back automatically by this process (the sum over processes is the true count).",
            labels=["service"],
        )
        for service, count in list(counters.rollbacks.items()):
            rollbacks.add_metric([service], count)
        return [weight, requests, fallbacks, rollbacks]
