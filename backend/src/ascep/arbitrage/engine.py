"""The detector's working loop minus I/O: records in, signal events out, with the numbers /stats
and /metrics report (ticks, rejected records, detection time per tick).

One thread (the listener) drives an engine; configuration changes requested from another thread
(an HTTP request) are handed over with :meth:`request_config` and applied by the driving thread at
its next step, so detection state is never touched concurrently.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.detector import Detector
from ascep.arbitrage.lifecycle import SignalEvent, SignalTracker
from ascep.arbitrage.quotes import QuoteRejected, quote_from_record
from ascep.common.stats import nearest_rank


class ArbitrageEngine:
    def __init__(self, config: DetectorConfig | None = None, *, samples: int = 10_000) -> None:
        config = config or DetectorConfig()
        self.detector = Detector(config)
        self.tracker = SignalTracker(config)
        self.detector.keep_open = self.tracker.open  # hysteresis: open signals close lower
        self.config = config
        self._pending_config: DetectorConfig | None = None
        self._config_lock = threading.Lock()
        self.ticks = 0
        self.rejected: Counter[str] = Counter()
        self.detection_ms: deque[float] = deque(maxlen=samples)
        self.last_tick_at: float | None = None

    # --- configuration ---
    def request_config(self, config: DetectorConfig) -> None:
        """Ask the driving thread to apply ``config`` (``config`` reports it at once)."""
        with self._config_lock:
            self._pending_config = config
            self.config = config

    def apply_pending(self, now_ms: int) -> list[SignalEvent]:
        """Apply a requested config: rebuild, rescan the market, reconcile the open signals."""
        with self._config_lock:
            config, self._pending_config = self._pending_config, None
        if config is None or config == self.detector.config:
            return []
        self.detector.reconfigure(config)
        self.tracker.config = config
        return self.tracker.reconcile(self.detector.scan_all(now_ms), now_ms)

    # --- ticks ---
    def on_record(self, record: Mapping[str, Any], now_ms: int) -> list[SignalEvent]:
        """One ``price_update`` record: detection through its pair, then the signal lifecycle."""
        started = time.perf_counter()
        try:
            quote = quote_from_record(record)
        except QuoteRejected as exc:
            self.rejected[exc.reason] += 1
            return []
        result = self.detector.on_quote(quote, now_ms)
        events = [] if result is None else self.tracker.observe(result[0], result[1], now_ms)
        self.detection_ms.append((time.perf_counter() - started) * 1000.0)
        self.ticks += 1
        self.last_tick_at = time.time()
        return events

    def sweep(self, now_ms: int) -> list[SignalEvent]:
        """Forget stale quotes, close signals built on them, flag re-confirmed ones for storage."""
        self.detector.evict_stale(now_ms)
        return self.tracker.sweep(now_ms)

    def takeover(self, stored_open: Mapping[str, Mapping[str, Any]], now_ms: int) -> list[SignalEvent]:
        """Start writing signals: reconcile with the open ones stored in Redis."""
        return self.tracker.takeover(stored_open, now_ms)

    # --- reporting ---
    def detection_percentiles(self) -> dict[str, float | None]:
        ordered = sorted(self.detection_ms)
        return {"p50": nearest_rank(ordered, 50), "p99": nearest_rank(ordered, 99)}

    def stats(self) -> dict[str, Any]:
        times = self.detection_percentiles()
        return {
            "ticks_processed": self.ticks,
            "detection_ms_p50": times["p50"],
            "detection_ms_p99": times["p99"],
            "stale_quotes_skipped": self.detector.stale_skipped,
            "out_of_order_ticks": self.detector.out_of_order,
            "rejected_records": dict(self.rejected),
            "quotes": len(self.detector.graph),
            "currencies": len(self.detector.graph.currencies()),
            "open_in_process": len(self.tracker.open),
            "events": {
                "opened": self.tracker.opened,
                "updated": self.tracker.updated,
                "closed": self.tracker.closed,
                "deferred": self.tracker.deferred,
            },
        }
