"""The gateway bundle: everything one gateway process holds, in ``app.extensions["ascep.gateway"]``.

Its own module so that the views (which read it) and the factory (which builds it,
:func:`ascep.gateway.app.build_app`) both import it without importing each other.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from flask import Flask

from ascep.common import channels
from ascep.common.events import encode
from ascep.common.ops import Ops
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.gateway.auth.wiring import Auth
from ascep.gateway.health_aggregator import HealthAggregator
from ascep.gateway.latency.recorder import LatencyRecorder
from ascep.gateway.latency.store import LatencyStore
from ascep.gateway.openapi.catalog import SpecCatalog
from ascep.gateway.proxy.bulkhead import Bulkhead
from ascep.gateway.proxy.forward import Forwarder
from ascep.gateway.proxy.wsgi import ProxyApp
from ascep.gateway.ratelimit.wiring import RateLimits
from ascep.gateway.realtime import Realtime
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.upstreams.breaker_wiring import Breakers
from ascep.gateway.upstreams.discovery import DiscoveryListener
from ascep.gateway.upstreams.health_routing import HealthRouting
from ascep.gateway.upstreams.instances import Upstreams
from ascep.gateway.upstreams.retry_budget import BudgetSync
from ascep.gateway.upstreams.split_wiring import Splits

logger = logging.getLogger(__name__)


@dataclass
class Gateway:
    """Everything one gateway process holds; kept in ``app.extensions["ascep.gateway"]``."""

    app: Flask
    settings: GatewaySettings
    ops: Ops
    registry: ServiceRegistry
    redis: redis.Redis
    latency_store: LatencyStore
    recorder: LatencyRecorder
    forwarder: Forwarder
    bulkhead: Bulkhead
    health: HealthAggregator
    realtime: Realtime
    proxy: ProxyApp
    retention_seconds: int
    upstreams: Upstreams
    discovery: DiscoveryListener
    breakers: Breakers
    routing: HealthRouting
    splits: Splits
    auth: Auth
    openapi: SpecCatalog
    dashboard_dist: Path
    rate_limits: RateLimits
    retry_budget: BudgetSync | None = None
    _stopping: bool = field(default=False, init=False, repr=False)

    def start(self) -> None:
        """Start the flush loop, the health poller and the bus bridge (the entry point calls this once)."""
        sleep = self.realtime.socketio.sleep
        self.realtime.socketio.start_background_task(self.recorder.run, sleep)
        self.realtime.socketio.start_background_task(self._poll_health_forever, sleep)
        self.realtime.socketio.start_background_task(self.discovery.run)
        self.breakers.start(self.realtime.socketio.start_background_task, sleep)
        self.routing.start(self.realtime.socketio.start_background_task)
        if self.retry_budget is not None:
            self.realtime.socketio.start_background_task(self.retry_budget.run, sleep)
        self.splits.start(self.realtime.socketio.start_background_task, sleep)
        self.auth.start(self.realtime.socketio.start_background_task, sleep)
        self.realtime.socketio.start_background_task(self.openapi.run, sleep)
        self.rate_limits.start(self.realtime.socketio.start_background_task, sleep)
        self.realtime.start()

    def _poll_health_forever(self, sleep: Any) -> None:
        interval = self.settings.health_poll_interval
        while not self._stopping:
            try:
                self.mirror_registry()
                self.health.poll()
            except Exception:
                logger.exception("background health poll failed; retrying in %ss", interval)
            sleep(interval)

    def mirror_registry(self) -> None:
        """Publish the registry to Redis so other processes (health monitor) discover services."""
        try:
            self.redis.hset(
                channels.REGISTRY_KEY,
                mapping={
                    d.name: encode({**d.describe(), "url": self.forwarder.base_url(d)}) for d in self.registry
                },
            )
        except REDIS_UNAVAILABLE_ERRORS:
            logger.debug("Redis unreachable; registry not mirrored this round")

    def stop(self, grace_seconds: float = 5.0) -> None:
        """Let calls in flight finish (up to ``grace_seconds``), then write what is buffered."""
        self._stopping = True
        sleep = self.realtime.socketio.sleep
        deadline = time.monotonic() + grace_seconds
        while self.proxy.in_flight > 0 and time.monotonic() < deadline:
            sleep(0.01)
        if self.proxy.in_flight:
            logger.warning("shutdown: %d proxied calls still in flight", self.proxy.in_flight)
        self.recorder.stop()
        self.discovery.stop()
        self.breakers.stop()
        self.routing.stop()
        if self.retry_budget is not None:
            self.retry_budget.stop()
        self.splits.stop()
        self.auth.stop()
        self.openapi.stop()
        self.rate_limits.stop()
        self.realtime.bridge.stop()
        try:
            written = self.recorder.flush()
            logger.info("shutdown: flushed %d latency samples", written)
        except REDIS_UNAVAILABLE_ERRORS:
            logger.warning("shutdown: Redis unreachable, %d latency samples lost", self.recorder.pending)
