"""Assemble the gateway: registry, proxy pipeline, latency recording, health, Socket.IO."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask_socketio import SocketIO

from ascep.common.app_factory import ServiceApp, create_service_app
from ascep.common.asyncmode import blocking_call_runner
from ascep.common.errors import ConfigError
from ascep.common.lifecycle import install_runtime
from ascep.common.openapi.views import service_spec
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.common.redis_client import is_reachable
from ascep.gateway.access_views import bp as access_bp
from ascep.gateway.auth.step import split_identity
from ascep.gateway.auth.wiring import Auth
from ascep.gateway.auth_views import bp as auth_bp
from ascep.gateway.bundle import Gateway
from ascep.gateway.cors import CorsMiddleware, CorsPolicy, SocketIOOriginGuard, local_mode
from ascep.gateway.dashboard import install_dashboard, resolve_dist_dir
from ascep.gateway.health_aggregator import HealthAggregator
from ascep.gateway.latency.recorder import LatencyRecorder
from ascep.gateway.latency.store import LatencyStore
from ascep.gateway.metrics import GatewayMetrics
from ascep.gateway.openapi.catalog import SpecCatalog
from ascep.gateway.openapi.views import bp as api_docs_bp
from ascep.gateway.proxy import steps
from ascep.gateway.proxy.bulkhead import Bulkhead, BulkheadCollector
from ascep.gateway.proxy.deadlines import set_deadline
from ascep.gateway.proxy.forward import Forwarder
from ascep.gateway.proxy.pipeline import build_pipeline
from ascep.gateway.proxy.retries import RetryMetrics, report_attempts, retry
from ascep.gateway.proxy.wsgi import API_PREFIX, ApiDispatcher, ProxyApp
from ascep.gateway.rate_limit_views import bp as rate_limits_bp
from ascep.gateway.ratelimit.wiring import RateLimits
from ascep.gateway.realtime import Realtime, RealtimeOptions
from ascep.gateway.realtime.access import SocketAccess
from ascep.gateway.realtime.inbound import engineio_options
from ascep.gateway.realtime.polling_limit import PollingBodyLimit
from ascep.gateway.routing import RESERVED_ENDPOINTS, ServiceDefinition, ServiceRegistry
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.split_views import bp as splits_bp
from ascep.gateway.upstreams.assembly import build_breakers, build_health_routing
from ascep.gateway.upstreams.discovery import DiscoveryListener
from ascep.gateway.upstreams.instances import Upstreams, build_upstreams
from ascep.gateway.upstreams.retry_wiring import build_retries, has_untried
from ascep.gateway.upstreams.routing_metrics import RoutingCollector
from ascep.gateway.upstreams.selection import select_upstream
from ascep.gateway.upstreams.split_wiring import Splits
from ascep.gateway.views import bp

logger = logging.getLogger(__name__)


def build_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    registry: ServiceRegistry = config.pop("SERVICE_REGISTRY", None) or _default_registry()
    with_upstream_steps = bool(config.pop("PROXY_UPSTREAM_STEPS", True))
    settings = GatewaySettings.load(config)
    app = create_service_app("gateway", settings, config, import_name="ascep.gateway")
    ops = get_ops(app)

    redis_client = settings.redis.client()
    store = LatencyStore(redis_client, settings.latency_retention_seconds, settings.latency_max_samples)
    metrics = GatewayMetrics(ops.metrics)
    recorder = LatencyRecorder(
        store,
        buffer_max=settings.latency_buffer_max,
        flush_interval=settings.latency_flush_interval,
        observe=metrics.observe,
    )
    bulkhead = Bulkhead({d.name: d.max_concurrency or settings.proxy_max_concurrency for d in registry})
    upstreams = build_upstreams(registry, max_discovered=settings.discovery_max_instances)
    forwarder = Forwarder(
        upstreams,
        connect_timeout=settings.proxy_connect_timeout,
        read_timeout=settings.proxy_read_timeout,
        pool_sizes={d.name: bulkhead.limit(d.name) for d in registry},
        trust_env=settings.proxy_trust_env,
    )
    upstreams.on_address_gone = forwarder.discard
    auth = Auth(settings, blocking_call_runner(settings.async_mode))
    # PROXY_UPSTREAM_STEPS=False (a config key, not a setting) is the pre-instances pipeline:
    # every call to a service's first static address. Only benchmarks use it, as a baseline.
    splits = Splits(settings, principal_of=split_identity)
    upstream_steps = [splits.step(), select_upstream(upstreams)] if with_upstream_steps else []
    cors = _cors_policy(settings, app)
    breakers = build_breakers(registry, upstreams, settings)
    # socketio exists below; the loops only sleep once started
    routing = build_health_routing(registry, upstreams, redis_client, settings, lambda s: socketio.sleep(s))
    static_instances = {d.name: urlsplit(forwarder.base_url(d)).netloc for d in registry}
    outcome_steps = [steps.observe_outcome(routing.observe)] if with_upstream_steps else []
    instance_key = partial(steps.upstream_key, static_instances=static_instances)
    retries = build_retries(registry, redis_client, settings)
    rate_limits = RateLimits(settings, registry)
    pipeline = build_pipeline(
        [
            steps.apply_cors(cors),
            report_attempts,
            steps.render_errors,
            steps.reject_dot_segments,
            steps.resolve_route(registry),
            auth.step(),  # sets exchange.principal; 401/403
            rate_limits.step(),  # after authenticate (issue 17): reads exchange.principal
            steps.limit_body(settings.max_body_bytes),
            set_deadline(settings.proxy_request_timeout),
            steps.record_latency(recorder),  # one sample per client request, retries included
            retry(
                retries.options,
                retries.budget,
                RetryMetrics(ops.metrics),
                max_attempts=retries.max_attempts,
                sleep=lambda s: socketio.sleep(s),
                has_untried=partial(has_untried, upstreams),
            ),
            *upstream_steps,
            steps.circuit_breaker(breakers.board, instance_key),
            steps.limit_concurrency(bulkhead),
            *outcome_steps,
            steps.rewrite_locations(
                registry,
                {d.name: urlsplit(forwarder.base_url(d)).netloc for d in registry},
                API_PREFIX,
            ),
        ],
        forwarder,
    )
    proxy = ProxyApp(pipeline, settings.max_body_bytes)
    app.wsgi_app = ApiDispatcher(  # type: ignore[method-assign]
        proxy,
        # the gateway's own routes: the proxy's CORS policy, then authentication (a 401 carries
        # CORS), then the ``gateway`` rate limit (which counts by the principal auth found)
        CorsMiddleware(auth.middleware(rate_limits.own_routes(app.wsgi_app)), cors),
        owned_paths={f"/api{endpoint}" for endpoint in RESERVED_ENDPOINTS},
        owned_prefixes=("/api/gateway/", "/api/auth/", "/api/users/"),
    )
    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        cors_allowed_origins=cors.allows_socketio,
        **engineio_options(settings.socketio_max_message_bytes),
    )
    app.wsgi_app = PollingBodyLimit(app.wsgi_app, settings.socketio_max_message_bytes)  # type: ignore[method-assign]
    app.wsgi_app = rate_limits.socketio(app.wsgi_app)  # type: ignore[method-assign,assignment]
    app.wsgi_app = SocketIOOriginGuard(app.wsgi_app, cors)  # type: ignore[method-assign]
    realtime = Realtime(
        socketio,
        settings.redis_url,
        RealtimeOptions.from_settings(settings),
        ops.metrics,
        access=SocketAccess(auth.authenticator),
    )
    auth.sync.on_change.append(lambda _table: realtime.end_lapsed())
    health = HealthAggregator(
        registry,
        {d.name: forwarder.base_url(d) for d in registry},
        redis_client,
        timeout=settings.health_check_timeout,
        async_mode=settings.async_mode,
        active_connections=lambda: realtime.active_connections,
        bridge_status=realtime.bridge.status,
    )
    dist_dir = resolve_dist_dir(settings.dashboard_dist)
    openapi = SpecCatalog(
        registry,
        lambda: service_spec(app),
        lambda d: _spec_source(upstreams, forwarder, d),
        auth_required=settings.auth_mode == "required",
        refresh_s=settings.openapi_refresh_seconds,
        fetch_timeout_s=settings.openapi_fetch_timeout,
        max_bytes=settings.openapi_max_spec_bytes,
        async_mode=settings.async_mode,
        trust_env=settings.proxy_trust_env,
    )
    gateway = Gateway(
        app=app,
        settings=settings,
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
        retention_seconds=settings.latency_retention_seconds,
        upstreams=upstreams,
        discovery=DiscoveryListener(
            settings.redis_url,
            upstreams,
            sleep=socketio.sleep,
            resync_s=settings.discovery_resync_s,
            retain_pools=forwarder.retain,
        ),
        breakers=breakers,
        routing=routing,
        retry_budget=retries.sync,
        splits=splits,
        auth=auth,
        openapi=openapi,
        dashboard_dist=dist_dir,
        rate_limits=rate_limits,
    )
    install_runtime(app, gateway)
    install_dashboard(app, dist_dir)
    app.register_blueprint(bp)
    app.register_blueprint(splits_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(access_bp)
    app.register_blueprint(api_docs_bp)
    app.register_blueprint(rate_limits_bp)
    _register_ops(gateway, metrics)
    return app


def _cors_policy(settings: GatewaySettings, app: ServiceApp) -> CorsPolicy:
    """``CORS_ORIGINS``, plus any page on this machine in local mode (see :mod:`.cors`)."""
    local = local_mode(settings.auth_mode, settings.host)
    try:
        policy = CorsPolicy.from_origins(settings.cors_origins, app.allowed_hosts, local_origins=local)
    except ValueError as exc:
        raise ConfigError("CORS_ORIGINS", str(exc)) from exc
    if local:
        logger.info("CORS: pages on this machine (localhost, 127.0.0.1, [::1], any port) may call the API "
                    "(AUTH_MODE=off, listening on %s only)", settings.host)  # fmt: skip
    else:
        logger.info("CORS: only CORS_ORIGINS may call the API from a browser: %s",
                    ", ".join(sorted(policy.origins)) or "none (same-origin only)")  # fmt: skip
    return policy


def _spec_source(upstreams: Upstreams, forwarder: Forwarder, definition: ServiceDefinition) -> str:
    """Where to fetch a service's ``/openapi.json``: a routable instance, else its first address."""
    routable = upstreams[definition.name].routable()
    return routable[0].base_url if routable else forwarder.base_url(definition)


def _default_registry() -> ServiceRegistry:
    from ascep.service_registry import service_registry

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
    ops.status_sections["upstreams"] = lambda: {
        "discovery": gateway.discovery.status(),
        "connection_pools": gateway.forwarder.pool_addresses(),
    }
    ops.metrics.register(BulkheadCollector(gateway.bulkhead))
    ops.status_sections["circuit_breakers"] = gateway.breakers.status
    ops.metrics.register(gateway.breakers.collector)
    ops.status_sections["health_routing"] = gateway.routing.status
    if gateway.retry_budget is not None:
        ops.status_sections["retry_budgets"] = gateway.retry_budget.budget.status
    ops.metrics.register(RoutingCollector(gateway.routing))
    ops.status_sections["splits"] = gateway.splits.status
    ops.status_sections["auth"] = gateway.auth.status
    ops.status_sections["openapi"] = gateway.openapi.status
    ops.metrics.register(gateway.splits.collector)
    ops.status_sections["rate_limits"] = gateway.rate_limits.status
    ops.metrics.register(gateway.rate_limits.collector)
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
