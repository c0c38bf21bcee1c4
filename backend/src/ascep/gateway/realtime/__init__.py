"""Real-time push: Redis bus → Socket.IO clients, with subscriptions, batches and backpressure.

Each gateway process bridges the bus to its *own* clients; no Socket.IO message queue is involved,
so with several gateways on one Redis every client still receives each event exactly once.
Other processes reach browsers by publishing on the bus (:func:`ascep.common.bus.publish`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_socketio import SocketIO
from prometheus_client import CollectorRegistry

from ascep.common import channels
from ascep.common.errors import Unauthorized
from ascep.common.request_id import new_request_id
from ascep.gateway.realtime.access import SocketAccess
from ascep.gateway.realtime.bridge import RedisBridge
from ascep.gateway.realtime.emitter import SocketIOEmitter
from ascep.gateway.realtime.fanout import Fanout
from ascep.gateway.realtime.handlers import register_handlers
from ascep.gateway.realtime.inbound import InboundGuard
from ascep.gateway.realtime.metrics import RealtimeCollector

if TYPE_CHECKING:
    from ascep.gateway.settings import GatewaySettings

logger = logging.getLogger(__name__)


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

    #: Seconds between checks for connections whose token expired (revocations act at once).
    SWEEP_INTERVAL_S = 1.0

    def __init__(
        self,
        socketio: SocketIO,
        redis_url: str,
        options: RealtimeOptions,
        metrics: CollectorRegistry,
        access: SocketAccess | None = None,
    ) -> None:
        self.socketio = socketio
        self.access = access
        self.ended_connections = 0
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
        register_handlers(socketio, self.fanout, self._count, max_symbols=options.max_symbols, access=access)
        self.inbound = InboundGuard(socketio.server, rate=options.client_rate, burst=options.client_burst)
        self.inbound.install()
        self.limits = {"max_message_bytes": options.max_message_bytes, "max_symbols": options.max_symbols}
        metrics.register(RealtimeCollector(self))

    def _count(self, connected: int) -> None:
        self.active_connections = connected

    def start(self) -> None:
        self.socketio.start_background_task(self.bridge.run)
        if self.access is not None and self.access.required:
            self.socketio.start_background_task(self._sweep_forever)

    def end_lapsed(self) -> None:
        """Disconnect clients whose credential expired or was revoked (an ``error`` event first)."""
        if self.access is None:
            return
        for sid in self.access.ended():
            error = Unauthorized(
                "the connection's credential has expired or was revoked", {"reason": "ended"}
            )
            try:
                self.socketio.server.emit(channels.EVENT_ERROR, error.envelope(new_request_id()), to=sid)
                self.socketio.server.disconnect(sid)
            except Exception:
                logger.exception("could not disconnect Socket.IO client %s", sid)
            self.access.disconnect(sid)
            self.ended_connections += 1

    def _sweep_forever(self) -> None:
        while True:
            try:
                self.end_lapsed()
            except Exception:
                logger.exception("Socket.IO credential sweep failed")
            self.socketio.sleep(self.SWEEP_INTERVAL_S)

    def status(self) -> dict[str, Any]:
        return {
            "active_connections": self.active_connections,
            "bridge": self.bridge.status(),
            "fanout": self.fanout.status(),
            "inbound": {**self.limits, **self.inbound.status()},
            "access": {**self.access.status(), "ended_connections": self.ended_connections}
            if self.access is not None
            else None,
        }
