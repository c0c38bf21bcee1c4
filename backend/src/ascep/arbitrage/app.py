"""Assemble the arbitrage app: settings, engine, store, listener, views, checks and metrics.

The listener is *not* started here — the runtime's ``start()`` does that (the entry point calls
it) — so tests can build the app and drive it by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from ascep.arbitrage.engine import ArbitrageEngine
from ascep.arbitrage.leadership import LeaderLease
from ascep.arbitrage.listener import ArbitrageListener
from ascep.arbitrage.metrics import ArbitrageCollector
from ascep.arbitrage.runtime import ArbitrageRuntime
from ascep.arbitrage.settings import SERVICE_NAME, ArbitrageSettings
from ascep.arbitrage.store import SignalStore
from ascep.arbitrage.views import arbitrage_blueprint, register_views
from ascep.common.app_factory import create_service_app, data_epoch
from ascep.common.lifecycle import install_runtime
from ascep.common.ops import CheckResult, get_ops, redis_check

logger = logging.getLogger(__name__)

#: No price for this long (while subscribed) is reported as degraded: the feed, not us, is quiet.
PRICE_SILENCE_DEGRADED_S = 30.0


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = ArbitrageSettings.load(config)
    app = create_service_app(SERVICE_NAME, settings, config)
    client = settings.redis.client(retries=0)
    store = SignalStore(
        client, history_max=settings.arbitrage_history_max, ttl_s=settings.arbitrage_history_ttl_s
    )
    engine = ArbitrageEngine()
    listener = ArbitrageListener(
        settings.redis_url,
        engine,
        store,
        lease=LeaderLease(client, settings.arbitrage_leader_lease_s),
        sweep_interval=settings.arbitrage_sweep_interval_s,
    )
    install_runtime(app, ArbitrageRuntime(settings, engine, store, listener))
    register_views(app, arbitrage_blueprint)
    _install_ops(app, engine, listener, store)
    data_epoch(app).on_loss(lambda _loss: _restore_config(engine, store))
    return app


def _restore_config(engine: ArbitrageEngine, store: SignalStore) -> None:
    """Redis lost its data: write the live configuration back, or the next start would revert it."""
    if store.restore_config(engine.config.as_dict()):
        logger.warning("wrote the live arbitrage configuration back after Redis lost its data")


def _install_ops(
    app: Flask, engine: ArbitrageEngine, listener: ArbitrageListener, store: SignalStore
) -> None:
    ops = get_ops(app)

    def subscription_check() -> CheckResult:
        if listener.state != "connected":
            return CheckResult(
                "unhealthy", f"price subscription {listener.state}: {listener.last_error or 'not connected'}"
            )
        detail = {"ticks_processed": engine.ticks, "quotes": len(engine.detector.graph)}
        since = engine.last_tick_at or listener.connected_since
        if since is not None and ops.uptime_seconds() > PRICE_SILENCE_DEGRADED_S:
            silent = time.time() - since
            if silent > PRICE_SILENCE_DEGRADED_S:
                return CheckResult("degraded", f"subscribed, but no price for {silent:.0f}s")
        return CheckResult("healthy", detail)

    ops.health_checks["price_subscription"] = subscription_check
    ops.readiness_checks["redis"] = redis_check(store.client)
    ops.status_sections["listener"] = listener.status
    ops.status_sections["detection"] = engine.stats
    ops.status_sections["detector_config"] = lambda: engine.config.as_dict()
    ops.metrics.register(ArbitrageCollector(engine, listener))
