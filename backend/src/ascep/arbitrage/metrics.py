"""Prometheus view of the detector, computed at scrape time from counters it keeps anyway
(the tick path pays nothing for metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ascep.arbitrage.engine import ArbitrageEngine
from ascep.arbitrage.listener import ArbitrageListener


class ArbitrageCollector(Collector):
    def __init__(self, engine: ArbitrageEngine, listener: ArbitrageListener) -> None:
        self.engine = engine
        self.listener = listener

    def collect(self) -> Iterator[Metric]:
        engine = self.engine
        yield CounterMetricFamily("arbitrage_ticks", "Price records processed", value=engine.ticks)
        yield CounterMetricFamily(
            "arbitrage_stale_quotes_skipped",
            "Quotes ignored or dropped as stale",
            value=engine.detector.stale_skipped,
        )
        rejected = CounterMetricFamily(
            "arbitrage_rejected_records", "Unusable records by reason", labels=["reason"]
        )
        for reason, count in engine.rejected.items():
            rejected.add_metric([reason], count)
        yield rejected
        events = CounterMetricFamily("arbitrage_signal_events", "Signal events by kind", labels=["kind"])
        events.add_metric(["open"], engine.tracker.opened)
        events.add_metric(["update"], engine.tracker.updated)
        events.add_metric(["close"], engine.tracker.closed)
        yield events
        yield GaugeMetricFamily(
            "arbitrage_open_signals", "Signals open in this process", value=len(engine.tracker.open)
        )
        yield GaugeMetricFamily("arbitrage_quotes", "Quotes in the graph", value=len(engine.detector.graph))
        yield GaugeMetricFamily(
            "arbitrage_subscription_up",
            "1 while the price subscription is connected",
            value=1.0 if self.listener.state == "connected" else 0.0,
        )
        yield GaugeMetricFamily(
            "arbitrage_pending_events", "Signal events waiting for Redis", value=len(self.listener.pending)
        )
        detection = GaugeMetricFamily(
            "arbitrage_detection_ms", "Detection time per tick (recent ticks)", labels=["quantile"]
        )
        for name, value in engine.detection_percentiles().items():
            if value is not None:
                detection.add_metric(["0.5" if name == "p50" else "0.99"], value)
        yield detection
