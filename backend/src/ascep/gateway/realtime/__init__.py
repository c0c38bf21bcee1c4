"""Real-time push: Redis bus → Socket.IO clients, with subscriptions, batches and backpressure.

Each gateway process bridges the bus to its *own* clients; no Socket.IO message queue is involved,
so with several gateways on one Redis every client still receives each event exactly once.
Other processes reach browsers by publishing on the bus (:func:`ascep.common.bus.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_socketio import SocketIO
from prometheus_client import CollectorRegistry

from ascep.gateway.realtime.bridge import RedisBridge
from ascep.gateway.realtime.emitter import SocketIOEmitter
from ascep.gateway.realtime.fanout import Fanout
from ascep.gateway.realtime.handlers import register_handlers
from ascep.gateway.realtime.inbound import InboundGuard
from ascep.gateway.realtime.metrics import RealtimeCollector

if TYPE_CHECKING:
    from ascep.gateway.settings import GatewaySettings


@dataclass(frozen=True)
class RealtimeOptions:
    """Batching, backpressure and inbound limits of the Socket.IO side (the ``SOCKETIO_*`` settings)."""

    batch_interval: float = 0.05
    batch_max: int = 500
    queue_high: int = 200
    queue_low: int = 20
    backlog_max: int = 500
    max_message_bytes: int = 16 * 1024
    client_rate: float = 20.0
    client_burst: int = 50
    max_symbols: int = 200

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RealtimeOptions:
        return cls(
            batch_interval=settings.socketio_batch_interval,
            batch_max=settings.socketio_batch_max,
            queue_high=settings.socketio_queue_high,
            queue_low=settings.socketio_queue_low,
            backlog_max=settings.socketio_backlog_max,
            max_message_bytes=settings.socketio_max_message_bytes,
            client_rate=settings.socketio_client_rate,
            client_burst=settings.socketio_client_burst,
            max_symbols=settings.socketio_max_symbols,
        )


class Realtime:
    """The gateway's Socket.IO side: handlers, fan-out and the bus bridge."""

    def __init__(
        self, socketio: SocketIO, redis_url: str, options: RealtimeOptions, metrics: CollectorRegistry
    ) -> None:
        self.socketio = socketio
        self.active_connections = 0
        self.fanout = Fanout(
            SocketIOEmitter(socketio.server),
            batch_max=options.batch_max,
            backlog_max=options.backlog_max,
            queue_high=options.queue_high,
            queue_low=options.queue_low,
        )
        self.bridge = RedisBridge(
            redis_url, self.fanout, sleep=socketio.sleep, tick_interval=options.batch_interval
        )
        register_handlers(socketio, self.fanout, self._count, max_symbols=options.max_symbols)
        self.inbound = InboundGuard(socketio.server, rate=options.client_rate, burst=options.client_burst)
        self.inbound.install()
        self.limits = {"max_message_bytes": options.max_message_bytes, "max_symbols": options.max_symbols}
        metrics.register(RealtimeCollector(self))

    def _count(self, connected: int) -> None:
        self.active_connections = connected

    def start(self) -> None:
        self.socketio.start_background_task(self.bridge.run)

    def status(self) -> dict[str, Any]:
        return {
            "active_connections": self.active_connections,
            "bridge": self.bridge.status(),
            "fanout": self.fanout.status(),
            "inbound": {**self.limits, **self.inbound.status()},
        }
