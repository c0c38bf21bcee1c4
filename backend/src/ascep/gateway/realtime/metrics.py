"""Prometheus view of the real-time side, read at scrape time from the live objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ascep.gateway.realtime.bridge import RedisBridge
from ascep.gateway.realtime.fanout import Fanout
from ascep.gateway.realtime.inbound import InboundGuard


class RealtimeParts(Protocol):
    """What the collector reads (``ascep.gateway.realtime.Realtime``, without importing it back)."""

    active_connections: int
    bridge: RedisBridge
    fanout: Fanout
    inbound: InboundGuard


class RealtimeCollector(Collector):
    def __init__(self, realtime: RealtimeParts) -> None:
        self.realtime = realtime

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        bridge, fanout = self.realtime.bridge, self.realtime.fanout
        yield GaugeMetricFamily(
            "ascep_gateway_socketio_connections",
            "Connected Socket.IO clients.",
            self.realtime.active_connections,
        )
        yield GaugeMetricFamily(
            "ascep_gateway_bus_connected",
            "1 while the Redis bus bridge is subscribed.",
            1 if bridge.state == "connected" else 0,
        )
        forwarded = CounterMetricFamily(
            "ascep_gateway_bus_events", "Bus events forwarded to the fan-out.", labels=["channel"]
        )
        for channel, count in bridge.forwarded.items():
            forwarded.add_metric([channel], count)
        yield forwarded
        yield CounterMetricFamily(
            "ascep_gateway_bus_reconnects", "Bus bridge reconnections.", bridge.reconnects
        )
        yield CounterMetricFamily(
            "ascep_gateway_bus_malformed", "Malformed bus messages skipped.", bridge.malformed
        )
        yield GaugeMetricFamily(
            "ascep_gateway_socketio_lagging_clients",
            "Clients currently behind (conflated).",
            len(fanout.backpressure.lagging),
        )
        yield CounterMetricFamily(
            "ascep_gateway_socketio_conflated_updates",
            "Price updates superseded for lagging clients.",
            fanout.backpressure.conflated_total,
        )
        yield CounterMetricFamily(
            "ascep_gateway_socketio_dropped_events",
            "Events dropped from full backlogs of lagging clients.",
            fanout.backpressure.dropped_total,
        )
        inbound = self.realtime.inbound
        expelled = CounterMetricFamily(
            "ascep_gateway_socketio_clients_disconnected",
            "Socket.IO clients disconnected for breaking a limit on what they send.",
            labels=["reason"],
        )
        for reason, count in inbound.expelled.items():
            expelled.add_metric([reason], count)
        yield expelled
        yield CounterMetricFamily(
            "ascep_gateway_socketio_messages_dropped",
            "Client messages dropped unread (over the rate limit, or sent before the disconnect).",
            inbound.dropped,
        )
