"""Prometheus view of the rate limiter, read at scrape time (the request path only adds to ints)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from ascep.gateway.ratelimit.limiter import DECISION_BUCKETS, RateLimiter

Family = CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily


class RateLimitCollector(Collector):
    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    def collect(self) -> Iterable[Family]:
        return list(self._families())

    def _families(self) -> Iterator[Family]:
        limiter, outage = self._limiter, self._limiter.outage
        decisions = CounterMetricFamily(
            "ascep_gateway_rate_limit_decisions",
            "Rate-limit decisions by target and outcome: allowed, limited (429), failed_open / "
            "failed_closed (decided without Redis).",
            labels=["target", "outcome"],
        )
        for (target, outcome), count in sorted(limiter.counts.items()):
            decisions.add_metric([target, outcome], count)
        yield decisions
        up = GaugeMetricFamily(
            "ascep_gateway_rate_limit_redis_up", "1 while rate limits are checked in Redis."
        )
        up.add_metric([], 1 if outage.up else 0)
        yield up
        outages = CounterMetricFamily(
            "ascep_gateway_rate_limit_redis_outages", "Times the rate limiter lost Redis (each logged once)."
        )
        outages.add_metric([], outage.outages)
        yield outages
        local = CounterMetricFamily(
            "ascep_gateway_rate_limit_decided_without_redis",
            "Requests decided by RATE_LIMIT_FAIL while Redis was unreachable.",
        )
        local.add_metric([], outage.decided_without_redis)
        yield local
        cumulative, buckets = 0, []
        for bound, count in zip((*map(str, DECISION_BUCKETS), "+Inf"), limiter.decision_buckets, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        histogram = HistogramMetricFamily(
            "ascep_gateway_rate_limit_decision_seconds",
            "Time to decide one request (the Redis round trip, or the local decision during an outage).",
        )
        histogram.add_metric([], buckets, limiter.decision_sum)
        yield histogram
