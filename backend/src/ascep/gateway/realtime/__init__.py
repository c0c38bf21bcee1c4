"""Real-time push: Redis bus → Socket.IO clients, with subscriptions, batches and backpressure.

Each gateway process bridges the bus to its *own* clients; no Socket.IO message queue is involved,
so with several gateways on one Redis every client still receives each event exactly once.
Other processes reach browsers by publishing on the bus (:func:`ascep.common.bus.publish`).
"""

from __future__ import annotations

from typing import Any

from flask_socketio import SocketIO
from prometheus_client import CollectorRegistry

from ascep.gateway.realtime.bridge import RedisBridge
from ascep.gateway.realtime.emitter import SocketIOEmitter
from ascep.gateway.realtime.fanout import Fanout
from ascep.gateway.realtime.handlers import register_handlers
from ascep.gateway.realtime.inbound import InboundGuard
from ascep.gateway.realtime.metrics import RealtimeCollector


class Realtime:
    """The gateway's Socket.IO side: handlers, fan-out and the bus bridge."""

    def __init__(self, socketio: SocketIO, redis_url: str, config: Any, metrics: CollectorRegistry) -> None:
        self.socketio = socketio
        self.active_connections = 0
        self.fanout = Fanout(
            SocketIOEmitter(socketio.server),
            batch_max=config["SOCKETIO_BATCH_MAX"],
            backlog_max=config["SOCKETIO_BACKLOG_MAX"],
            queue_high=config["SOCKETIO_QUEUE_HIGH"],
            queue_low=config["SOCKETIO_QUEUE_LOW"],
        )
        self.bridge = RedisBridge(
            redis_url, self.fanout, sleep=socketio.sleep, tick_interval=config["SOCKETIO_BATCH_INTERVAL"]
        )
        register_handlers(socketio, self.fanout, self._count, max_symbols=config["SOCKETIO_MAX_SYMBOLS"])
        self.inbound = InboundGuard(
            socketio.server, rate=config["SOCKETIO_CLIENT_RATE"], burst=config["SOCKETIO_CLIENT_BURST"]
        )
        self.inbound.install()
        self.limits = {
            "max_message_bytes": config["SOCKETIO_MAX_MESSAGE_BYTES"],
            "max_symbols": config["SOCKETIO_MAX_SYMBOLS"],
        }
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
