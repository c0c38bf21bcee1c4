"""Offline: the price feed cannot reach Binance. Its own reason must reach every layer — its
``/health``, the monitor (report and ``service_status`` event), ``/api/health`` from the monitor's
view and from the gateway's fallback — instead of a bare "reports degraded"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from support.monitor import monitor_env, watched
from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService
from support.sio import RecordingClient
from support.stack import gateway_env

pytestmark = pytest.mark.integration

OFFLINE = "Binance not delivering"


def offline_price_feed(start_service: Callable[..., HttpService], redis_url: str) -> HttpService:
    """A real price feed whose Binance URL is a loopback port nothing listens on."""
    return start_service(
        "price_feed",
        "ascep.price_feed",
        {
            "REDIS_URL": redis_url,
            "PRICE_SOURCES": "auto",
            "CRYPTO_SYMBOLS": "BTCUSDT,ETHUSDT,ETHBTC",
            "BINANCE_WS_URL": f"ws://127.0.0.1:{free_port()}",
            "BINANCE_CONNECT_TIMEOUT_S": "0.5",
            "BINANCE_BACKOFF_INITIAL_S": "0.1",
            "BINANCE_BACKOFF_CAP_S": "0.3",
            "FAILOVER_DELAY_S": "0.5",
            "SIMULATED_TICK_RATE": "5",
            "FOREX_TICK_RATE": "1",
        },
    )


def is_offline_reason(reason: Any) -> bool:
    return isinstance(reason, str) and reason.startswith(OFFLINE) and "crypto from simulated" in reason


@pytest.mark.timeout(90)
def test_the_price_feeds_own_reason_reaches_every_layer(
    start_service: Callable[..., HttpService], redis_url: str
) -> None:
    feed = offline_price_feed(start_service, redis_url)
    own = wait_for(
        lambda: (
            (h := requests.get(f"{feed.url}/health", timeout=2).json())["status"] == "degraded"
            and is_offline_reason(h["reason"])
            and h
        ),
        timeout=15,
        message="the price feed's /health says why it is degraded",
    )
    assert "refused" in own["reason"].lower(), own["reason"]  # and what Binance's connection hit

    gateway_port = free_port()
    monitor = start_service("health", "ascep.health", monitor_env(redis_url, gateway_port))
    gateway = start_service(
        "gateway", "ascep.gateway", gateway_env(redis_url, feed, HEALTH_URL=monitor.url), port=gateway_port
    )
    client = RecordingClient(gateway.url)
    try:
        seen = wait_for(
            lambda: (w := watched(monitor, "price_feed")) and is_offline_reason(w["reason"]) and w,
            timeout=20,
            message="the monitor keeps the price feed's reason",
        )
        assert seen["status"] == "degraded"

        def from_monitor() -> dict[str, Any]:
            report = requests.get(f"{gateway.url}/api/health", timeout=5).json()
            return report if report["source"] == "health_service" else {}

        report = wait_for(from_monitor, timeout=20, message="/api/health from the monitor's view")
        assert is_offline_reason(report["services"]["price_feed"]["reason"])
        assert report["services"]["arbitrage"]["reason"] == "unreachable"  # nothing listens there
        full = requests.get(f"{gateway.url}/api/monitor", timeout=5).json()
        assert is_offline_reason(full["services"]["price_feed"]["reason"])

        event = wait_for(
            lambda: [e for e in client.events("service_status") if e["service"] == "price_feed"],
            timeout=20,
            message="a service_status event for price_feed",
        )[-1]
        assert event["status"] == "degraded"
        assert is_offline_reason(event["reason"])

        monitor.stop()
        fallback = wait_for(
            lambda: (
                (h := requests.get(f"{gateway.url}/api/health", timeout=5).json())["source"] == "gateway"
                and h
            ),
            timeout=15,
            message="the gateway's own polling",
        )
        assert fallback["services"]["price_feed"]["status"] == "degraded"
        assert is_offline_reason(fallback["services"]["price_feed"]["reason"])
        assert fallback["services"]["health"]["reason"] == "unreachable"
    finally:
        client.close()


@pytest.mark.timeout(60)
def test_the_celery_workers_have_one_name_in_the_monitor_and_api_health(
    start_service: Callable[..., HttpService], redis_url: str, upstream: HttpService
) -> None:
    gateway_port = free_port()
    monitor = start_service("health", "ascep.health", monitor_env(redis_url, gateway_port))
    gateway = start_service(
        "gateway",
        "ascep.gateway",
        gateway_env(redis_url, upstream, HEALTH_URL=monitor.url),
        port=gateway_port,
    )
    wait_for(
        lambda: requests.get(f"{gateway.url}/api/health", timeout=5).json()["source"] == "health_service",
        timeout=20,
        message="/api/health from the monitor's view",
    )
    health = requests.get(f"{gateway.url}/api/health", timeout=5).json()
    monitor_view = requests.get(f"{gateway.url}/api/monitor", timeout=5).json()
    worker = health["services"]["celery_worker"]
    assert worker["kind"] == monitor_view["services"]["celery_worker"]["kind"] == "workers"
    assert worker["reason"] == "no worker heartbeat"
    assert health["workers"] == {k: v for k, v in worker.items() if k != "checked_at"}  # deprecated alias
