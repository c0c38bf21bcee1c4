"""Assemble the price feed app: settings, feed, publisher, views, checks and metrics.

The sources are *not* started here — the entry point does that after the app is built — so tests
can build the app and drive the feed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ascep.common.backoff import Backoff
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.common.redis_client import connect
from ascep.common.service import create_service_app
from ascep.price_feed.feed import SILENCE_UNHEALTHY_S, PriceFeed
from ascep.price_feed.metrics import PriceFeedCollector
from ascep.price_feed.publisher import RedisPublisher
from ascep.price_feed.settings import SERVICE_NAME, SETTINGS
from ascep.price_feed.source_status import SourceStatus
from ascep.price_feed.views import prices_blueprint


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app(SERVICE_NAME, SETTINGS, config)
    url = app.config["REDIS_URL"]
    publisher = RedisPublisher(
        lambda: connect(url, socket_timeout=2.0, connect_timeout=1.0),
        history_maxlen=app.config["PRICE_HISTORY_MAXLEN"],
        capacity=app.config["PUBLISH_BUFFER_SIZE"],
        batch_size=app.config["PUBLISH_BATCH_SIZE"],
        backoff=Backoff(initial=0.1, cap=2.0),
    )
    feed = PriceFeed(app.config, publisher)
    reader = connect(url, socket_timeout=2.0, connect_timeout=1.0)
    app.extensions["price_feed"] = feed
    app.extensions["price_feed.redis"] = reader
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
