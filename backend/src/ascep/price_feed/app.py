"""Assemble the price feed app: settings, feed, publisher, views, checks and metrics.

The sources are *not* started here — the runtime's ``start()`` does that (the entry point calls
it) — so tests can build the app and drive the feed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ascep.common.app_factory import create_service_app
from ascep.common.backoff import Backoff
from ascep.common.lifecycle import install_runtime
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.price_feed.feed import SILENCE_UNHEALTHY_S, PriceFeed
from ascep.price_feed.metrics import PriceFeedCollector
from ascep.price_feed.publisher import RedisPublisher
from ascep.price_feed.runtime import PriceFeedRuntime
from ascep.price_feed.settings import SERVICE_NAME, PriceFeedSettings
from ascep.price_feed.source_status import SourceStatus
from ascep.price_feed.views import prices_blueprint


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = PriceFeedSettings.load(config)
    app = create_service_app(SERVICE_NAME, settings, config)
    publisher = RedisPublisher(
        settings.redis.client,
        history_maxlen=settings.price_history_maxlen,
        capacity=settings.publish_buffer_size,
        batch_size=settings.publish_batch_size,
        backoff=Backoff(initial=0.1, cap=2.0),
    )
    feed = PriceFeed(settings, publisher)
    reader = settings.redis.client()
    install_runtime(app, PriceFeedRuntime(settings, feed, reader))
    app.register_blueprint(prices_blueprint)
    _install_ops(app, feed, reader)
    return app


def _install_ops(app: Flask, feed: PriceFeed, reader: Any) -> None:
    ops = get_ops(app)

    def feed_check() -> CheckResult:
        silent = feed.seconds_since_emit()
        running_for = ops.uptime_seconds()
        if running_for > SILENCE_UNHEALTHY_S and (silent is None or silent > SILENCE_UNHEALTHY_S):
            return CheckResult("unhealthy", f"no price emitted for {SILENCE_UNHEALTHY_S:.0f}s")
        active = feed.active_crypto_source()
        if feed.binance is not None and active != "binance":
            return CheckResult("degraded", _binance_reason(feed.binance.status, active))
        return CheckResult("healthy", {"symbols": len(feed.latest)})

    def publisher_check() -> CheckResult:
        pub = feed.publisher
        if pub.redis_up is False:
            return CheckResult(
                "degraded", f"Redis unavailable; {pub.pending()} buffered, {pub.dropped} dropped"
            )
        return CheckResult("healthy", {"buffered": pub.pending()})

    ops.health_checks["feed"] = feed_check
    ops.health_checks["publisher"] = publisher_check
    ops.readiness_checks["redis"] = redis_check(reader)
    ops.status_sections["sources"] = lambda: feed.sources_report()["sources"]
    ops.status_sections["publisher"] = feed.publisher.status
    ops.status_sections["prices"] = lambda: {"symbols": len(feed.latest), "known": len(feed.index)}
    ops.metrics.register(PriceFeedCollector(feed))


def _binance_reason(binance: SourceStatus, active: str | None) -> str:
    """Why crypto is not live from Binance and what serves it instead, in one human sentence
    (shown as the service's health ``reason`` all the way up to the dashboard)."""
    instead = f"crypto from {active}" if active else "no crypto prices yet"
    return f"Binance not delivering ({binance.why_silent()}); {instead}"
