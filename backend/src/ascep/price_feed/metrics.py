"""Prometheus view of the feed, computed at scrape time from counters the feed keeps anyway.

A custom collector instead of ``Counter.inc()`` per record: the hot path (thousands of records a
second) pays nothing for metrics.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ascep.common.stats import nearest_rank
from ascep.price_feed.feed import PriceFeed


class PriceFeedCollector(Collector):
    def __init__(self, feed: PriceFeed) -> None:
        self.feed = feed

    def collect(self) -> Iterator[Metric]:
        messages = CounterMetricFamily(
            "price_feed_source_messages", "Messages/ticks per source", labels=["source"]
        )
        emitted = CounterMetricFamily(
            "price_feed_source_records", "Records emitted per source", labels=["source"]
        )
        reconnects = CounterMetricFamily(
            "price_feed_source_reconnects", "Reconnects per source", labels=["source"]
        )
        errors = CounterMetricFamily(
            "price_feed_source_errors", "Errors per source and kind", labels=["source", "kind"]
        )
        age = GaugeMetricFamily(
            "price_feed_source_last_message_age_seconds", "Seconds since the last message", labels=["source"]
        )
        statuses = [(source.name, source.status) for source in self.feed.sources()]
        for name, status in statuses + self.feed.push.status_list():
            messages.add_metric([name], status.messages)
            emitted.add_metric([name], status.published)
            reconnects.add_metric([name], status.reconnects)
            for kind, count in status.errors.items():
                errors.add_metric([name, kind], count)
            last = status.last_message_age()
            if last is not None:
                age.add_metric([name], last)
        yield from (messages, emitted, reconnects, errors, age)

        pub = self.feed.publisher
        yield CounterMetricFamily(
            "price_feed_published_records", "Records written to Redis", value=pub.published
        )
        yield CounterMetricFamily(
            "price_feed_dropped_records", "Records dropped (buffer full)", value=pub.dropped
        )
        yield CounterMetricFamily(
            "price_feed_redis_errors", "Failed Redis round trips", value=pub.redis_errors
        )
        yield GaugeMetricFamily(
            "price_feed_buffered_records", "Records waiting for Redis", value=pub.pending()
        )
        latency = GaugeMetricFamily(
            "price_feed_publish_latency_ms",
            "Receipt-to-publish latency (recent records)",
            labels=["quantile"],
        )
        samples = sorted(pub.latencies_ms)
        for q in (0.5, 0.99):
            value = nearest_rank(samples, q * 100)
            if value is not None:
                latency.add_metric([str(q)], value)
        yield latency
