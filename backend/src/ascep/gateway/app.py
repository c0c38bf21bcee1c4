"""Assemble the gateway: registry, proxy pipeline, latency recording, health, Socket.IO."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Flask
from flask_cors import CORS
from flask_socketio import SocketIO

from ascep.common import channels
from ascep.common.events import encode
from ascep.common.ops import CheckResult, Ops, get_ops, redis_check
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect, is_reachable
from ascep.common.service import create_service_app
from ascep.gateway.dashboard import install_dashboard, resolve_dist_dir
from ascep.gateway.health import HealthAggregator
from ascep.gateway.latency.recorder import LatencyRecorder
from ascep.gateway.latency.store import LatencyStore
from ascep.gateway.metrics import GatewayMetrics
from ascep.gateway.proxy import steps
from ascep.gateway.proxy.bulkhead import Bulkhead, BulkheadCollector
from ascep.gateway.proxy.cors import CorsPolicy, SocketIOOriginGuard
from ascep.gateway.proxy.forward import Forwarder
from ascep.gateway.proxy.pipeline import build_pipeline
from ascep.gateway.proxy.wsgi import API_PREFIX, ApiDispatcher, ProxyApp
from ascep.gateway.realtime import Realtime
from ascep.gateway.realtime.inbound import engineio_options
from ascep.gateway.realtime.polling_limit import PollingBodyLimit
from ascep.gateway.registry import RESERVED_ENDPOINTS, ServiceRegistry
from ascep.gateway.settings import SETTINGS
from ascep.gateway.upstreams.breaker_wiring import Breakers
from ascep.gateway.views import bp

logger = logging.getLogger(__name__)


@dataclass
class Gateway:
    """Everything one gateway process holds; kept in ``app.extensions["ascep.gateway"]``."""

    app: Flask
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
    breakers: Breakers

    def start_background(self) -> None:
        """Start the flush loop and the health poller (the entry point calls this once)."""
        sleep = self.realtime.socketio.sleep
        self.realtime.socketio.start_background_task(self.recorder.run, sleep)
        self.realtime.socketio.start_background_task(self._poll_health_forever, sleep)
        self.realtime.start()
        self.breakers.start(self.realtime.socketio.start_background_task, sleep)

    def _poll_health_forever(self, sleep: Any) -> None:
        interval = self.app.config["HEALTH_POLL_INTERVAL"]
        while True:
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

    def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Let calls in flight finish (up to ``grace_seconds``), then write what is buffered."""
        sleep = self.realtime.socketio.sleep
        deadline = time.monotonic() + grace_seconds
        while self.proxy.in_flight > 0 and time.monotonic() < deadline:
            sleep(0.01)
        if self.proxy.in_flight:
            logger.warning("shutdown: %d proxied calls still in flight", self.proxy.in_flight)
        self.recorder.stop()
        self.realtime.bridge.stop()
        self.breakers.stop()
        try:
            written = self.recorder.flush()
            logger.info("shutdown: flushed %d latency samples", written)
        except REDIS_UNAVAILABLE_ERRORS:
            logger.warning("shutdown: Redis unreachable, %d latency samples lost", self.recorder.pending)


def build_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    registry: ServiceRegistry = config.pop("SERVICE_REGISTRY", None) or _default_registry()
    app = create_service_app("gateway", SETTINGS, config, import_name="ascep.gateway")
    ops = get_ops(app)
    cfg = app.config

    redis_client = connect(cfg["REDIS_URL"])
    store = LatencyStore(redis_client, cfg["LATENCY_RETENTION_SECONDS"], cfg["LATENCY_MAX_SAMPLES"])
    metrics = GatewayMetrics(ops.metrics)
    recorder = LatencyRecorder(
        store,
        buffer_max=cfg["LATENCY_BUFFER_MAX"],
        flush_interval=cfg["LATENCY_FLUSH_INTERVAL"],
        observe=metrics.observe,
    )
    bulkhead = Bulkhead({d.name: d.max_concurrency or cfg["PROXY_MAX_CONCURRENCY"] for d in registry})
    forwarder = Forwarder(
        registry,
        connect_timeout=cfg["PROXY_CONNECT_TIMEOUT"],
        read_timeout=cfg["PROXY_READ_TIMEOUT"],
        pool_sizes={d.name: bulkhead.limit(d.name) for d in registry},
        trust_env=cfg["PROXY_TRUST_ENV"],
    )
    cors = CorsPolicy.from_origins(cfg["CORS_ORIGINS"], app.allowed_hosts)
    breakers = Breakers(cfg)
    # until select_upstream lands, each service's one static instance is its host:port
    static_instances = {d.name: urlsplit(forwarder.base_url(d)).netloc for d in registry}
    instance_of = partial(steps.upstream_key, static_instances=static_instances)
    pipeline = build_pipeline(
        [
            steps.apply_cors(cors),
            steps.render_errors,
            steps.reject_dot_segments,
            steps.resolve_route(registry),
            steps.limit_body(cfg["MAX_BODY_BYTES"]),
            steps.circuit_breaker(breakers.board, instance_of),
            steps.limit_concurrency(bulkhead),
            steps.rewrite_locations(
                registry,
                {d.name: urlsplit(forwarder.base_url(d)).netloc for d in registry},
                API_PREFIX,
            ),
            steps.record_latency(recorder),
        ],
        forwarder,
    )
    proxy = ProxyApp(pipeline, cfg["MAX_BODY_BYTES"])
    app.wsgi_app = ApiDispatcher(  # type: ignore[method-assign]
        proxy,
        app.wsgi_app,
        owned_paths={f"/api{endpoint}" for endpoint in RESERVED_ENDPOINTS},
    )
    CORS(
        app,
        origins=sorted(cors.origins),
        supports_credentials=cors.allow_credentials,
        expose_headers=["X-Request-ID"],
        always_send=False,  # no Origin, no CORS headers (flask-cors would list every origin)
    )
    socketio = SocketIO(
        app,
        async_mode=cfg["ASYNC_MODE"],
        cors_allowed_origins=cors.allows_socketio,
        **engineio_options(cfg["SOCKETIO_MAX_MESSAGE_BYTES"]),
    )
    app.wsgi_app = PollingBodyLimit(app.wsgi_app, cfg["SOCKETIO_MAX_MESSAGE_BYTES"])  # type: ignore[method-assign]
    app.wsgi_app = SocketIOOriginGuard(app.wsgi_app, cors)  # type: ignore[method-assign]
    realtime = Realtime(socketio, cfg["REDIS_URL"], cfg, ops.metrics)
    health = HealthAggregator(
        registry,
        {d.name: forwarder.base_url(d) for d in registry},
        redis_client,
        timeout=cfg["HEALTH_CHECK_TIMEOUT"],
        async_mode=cfg["ASYNC_MODE"],
        active_connections=lambda: realtime.active_connections,
        bridge_status=realtime.bridge.status,
    )
    gateway = Gateway(
        app=app,
        ops=ops,
        registry=registry,
        redis=redis_client,
        latency_store=store,
        recorder=recorder,
        forwarder=forwarder,
        bulkhead=bulkhead,
        health=health,
        realtime=realtime,
        proxy=proxy,
        retention_seconds=cfg["LATENCY_RETENTION_SECONDS"],
        breakers=breakers,
    )
    app.extensions["ascep.gateway"] = gateway
    install_dashboard(app, resolve_dist_dir(cfg["DASHBOARD_DIST"]))
    app.register_blueprint(bp)
    _register_ops(gateway, metrics)
    return app


def _default_registry() -> ServiceRegistry:
    from ascep.gateway.service_registry import service_registry

    return service_registry


def _register_ops(gateway: Gateway, metrics: GatewayMetrics) -> None:
    ops = gateway.ops
    ops.readiness_checks["redis"] = redis_check(gateway.redis)
    ops.readiness_checks["registry"] = lambda: (
        CheckResult("healthy", f"{len(gateway.registry)} services")
        if len(gateway.registry)
        else CheckResult("unhealthy", "no services registered")
    )
    ops.status_sections["latency_recorder"] = gateway.recorder.status
    ops.status_sections["redis"] = lambda: {"reachable": is_reachable(gateway.redis)}
    ops.status_sections["services"] = lambda: {
        d.name: {"url_variable": d.url_variable, "endpoints": list(d.endpoints)} for d in gateway.registry
    }
    ops.status_sections["realtime"] = gateway.realtime.status
    ops.status_sections["bulkheads"] = gateway.bulkhead.status
    ops.metrics.register(BulkheadCollector(gateway.bulkhead))
    ops.status_sections["circuit_breakers"] = gateway.breakers.status
    ops.metrics.register(gateway.breakers.collector)
    metrics.gauge(
        "ascep_gateway_latency_buffer_pending",
        "Latency samples waiting for Redis.",
        lambda: gateway.recorder.pending,
    )
    metrics.gauge(
        "ascep_gateway_latency_samples_dropped",
        "Latency samples dropped (buffer full).",
        lambda: gateway.recorder.dropped,
    )
