"""Per-service concurrency limits (bulkheads): one hung service can hold only its own slots.

Without a limit, every request to a service that accepts connections but never answers keeps a
gateway worker (a green thread and a client connection) for the whole read timeout; ~1 000 of
them exhaust the server and every other service becomes unreachable too. With a bulkhead a
service holds at most ``limit`` calls; the next one fails at once with 503
``SERVICE_OVERLOADED`` and ``Retry-After``, and the rest of the gateway is untouched.

A slot is taken before the call and given back when the answer has been fully streamed to the
client (or abandoned), never earlier: a slow download counts as a call in progress.

Counting is in-process and lock-protected (``threading.Lock`` is green under eventlet/gevent),
so the proxy's hot path gains no I/O; ``/metrics`` reads the counters at scrape time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

#: Refusals are logged at most this often per service: a flood must not become a log flood.
REPORT_INTERVAL_S = 5.0


@dataclass
class _Compartment:
    limit: int
    in_flight: int = 0
    peak: int = 0
    rejected: int = 0
    reported_rejected: int = 0
    reported_at: float = float("-inf")


class Bulkhead:
    """In-flight call counts per service, each capped by that service's limit."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self._compartments = {name: _Compartment(limit) for name, limit in limits.items()}
        self._lock = threading.Lock()

    def limit(self, service: str) -> int:
        return self._compartments[service].limit

    def try_acquire(self, service: str) -> bool:
        """Take a slot for ``service``; ``False`` (and counted as rejected) when all are taken."""
        compartment = self._compartments[service]
        with self._lock:
            if compartment.in_flight < compartment.limit:
                compartment.in_flight += 1
                compartment.peak = max(compartment.peak, compartment.in_flight)
                return True
            compartment.rejected += 1
            now = time.monotonic()
            report = now - compartment.reported_at >= REPORT_INTERVAL_S
            if report:
                refused = compartment.rejected - compartment.reported_rejected
                compartment.reported_at, compartment.reported_rejected = now, compartment.rejected
        if report:
            logger.warning(
                "service %r has %d calls in progress (its limit): refused %d call(s) with 503 "
                "SERVICE_OVERLOADED since the last report",
                service,
                compartment.limit,
                refused,
            )
        return False

    def release(self, service: str) -> None:
        compartment = self._compartments[service]
        with self._lock:
            compartment.in_flight = max(0, compartment.in_flight - 1)

    def in_flight(self, service: str) -> int:
        return self._compartments[service].in_flight

    def rejected(self, service: str) -> int:
        return self._compartments[service].rejected

    def status(self) -> dict[str, dict[str, int]]:
        """For ``/status``: limit, calls in progress, highest concurrency seen, rejections."""
        return {
            name: {"limit": c.limit, "in_flight": c.in_flight, "peak": c.peak, "rejected": c.rejected}
            for name, c in self._compartments.items()
        }


class BulkheadCollector(Collector):
    """Prometheus view of a :class:`Bulkhead`, read at scrape time."""

    def __init__(self, bulkhead: Bulkhead) -> None:
        self._bulkhead = bulkhead

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        return list(self._families())

    def _families(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        status = self._bulkhead.status()
        in_flight = GaugeMetricFamily(
            "ascep_gateway_service_in_flight", "Proxied calls in progress per service.", labels=["service"]
        )
        limit = GaugeMetricFamily(
            "ascep_gateway_service_concurrency_limit",
            "Most proxied calls a service may have in progress (its bulkhead).",
            labels=["service"],
        )
        rejected = CounterMetricFamily(
            "ascep_gateway_service_overloaded",
            "Calls refused with 503 SERVICE_OVERLOADED because the service's limit was full.",
            labels=["service"],
        )
        for name, counts in status.items():
            in_flight.add_metric([name], counts["in_flight"])
            limit.add_metric([name], counts["limit"])
            rejected.add_metric([name], counts["rejected"])
        yield in_flight
        yield limit
        yield rejected
