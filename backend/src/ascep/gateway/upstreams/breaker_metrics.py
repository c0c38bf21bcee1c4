"""Prometheus view of the breakers, read at scrape time: "which backend tripped?" answered."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from ascep.gateway.upstreams.breaker import STATE_VALUES
from ascep.gateway.upstreams.breakers import REFUSAL_BUCKETS, BreakerBoard

Family = GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily


class BreakerCollector(Collector):
    def __init__(self, board: BreakerBoard) -> None:
        self._board = board

    def collect(self) -> Iterable[Family]:
        board = self._board
        state = GaugeMetricFamily(
            "ascep_gateway_circuit_state",
            "Circuit breaker state per instance as this process sees it: 0 closed, 1 half-open, 2 open.",
            labels=["service", "instance"],
        )
        for key, breaker in board.items():
            state.add_metric([key.service, key.instance_id], STATE_VALUES[breaker.state])
        transitions = CounterMetricFamily(
            "ascep_gateway_circuit_transitions",
            "Breaker transitions decided by this process (the sum over processes is the true count).",
            labels=["service", "instance", "from", "to"],
        )
        for (key, previous, new), count in list(board.transitions.items()):
            transitions.add_metric([key.service, key.instance_id, previous, new], count)
        refused = CounterMetricFamily(
            "ascep_gateway_circuit_refused",
            "Calls answered 503 CIRCUIT_OPEN without reaching the instance.",
            labels=["service", "instance"],
        )
        for key, count in list(board.refused.items()):
            refused.add_metric([key.service, key.instance_id], count)
        cumulative, buckets = 0, []
        for bound, count in zip(REFUSAL_BUCKETS, board.refusal_buckets, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        timing = HistogramMetricFamily(
            "ascep_gateway_circuit_refusal_seconds",
            "Time from a call's arrival to its CIRCUIT_OPEN refusal, measured in the gateway.",
            buckets=buckets,
            sum_value=board.refusal_seconds_sum,
        )
        return [state, transitions, refused, timing]
